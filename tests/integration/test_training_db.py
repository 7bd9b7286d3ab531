"""Job training against the real database: the race for the last place, sign-ups held before
linking, capacity changes, broadcast audiences and the CSV export (also from the CLI)."""

from __future__ import annotations

import asyncio
import csv
import io
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import migrate
from bot.cli import main
from bot.clock import Clock
from bot.config import ConfigError, Settings
from bot.core import Core
from bot.models import Delivery, Enrollment, EnrollmentStatus, Resident
from bot.services import audiences, linking, residents, training, training_forms
from bot.services import training_notices as notices
from tests.conftest import ROME
from tests.support import course, intake, staff


async def person(core: Core, user_id: int, name: str) -> int:
    """A linked resident, as the service sees them."""
    now = core.clock.now()
    async with core.db.session.begin() as session:
        resident = Resident(
            telegram_user_id=user_id,
            chat_id=user_id,
            full_name=name,
            locale="it",
            consent_at=now,
            tenant_code=f"T{user_id}",
            building="B",
            linked_at=now,
            created_at=now,
        )
        session.add(resident)
    return resident.id


async def statuses(core: Core, course_id: int) -> list[tuple[str, str]]:
    async with core.db.session() as session:
        rows = await session.execute(
            select(Enrollment.name, Enrollment.status)
            .where(Enrollment.course_id == course_id)
            .order_by(Enrollment.id)
        )
        return [(name, EnrollmentStatus(status).value) for name, status in rows]


async def test_two_people_taking_the_last_place_at_once_one_gets_it(core: Core):
    for round_ in range(5):
        last_place = await course(core, f"Corso {round_}", capacity=1)
        a = await person(core, 100 + 2 * round_, "Anna")
        b = await person(core, 101 + 2 * round_, "Bilal")
        placed = await asyncio.gather(
            training.sign_up(core, a, last_place.id, intake("Anna")),
            training.sign_up(core, b, last_place.id, intake("Bilal")),
        )
        assert sorted(p.position or 0 for p in placed) == [0, 1], round_
        assert sorted(status for _, status in await statuses(core, last_place.id)) == [
            "enrolled",
            "waiting",
        ]


async def test_a_double_sign_up_at_once_is_refused(core: Core):
    cooking = await course(core, capacity=5)
    a = await person(core, 200, "Anna")
    results = await asyncio.gather(
        training.sign_up(core, a, cooking.id, intake("Anna")),
        training.sign_up(core, a, cooking.id, intake("Anna")),
        return_exceptions=True,
    )
    assert sum(isinstance(r, training.AlreadySignedUp) for r in results) == 1
    assert await statuses(core, cooking.id) == [("Anna", "enrolled")]


async def test_capacity_raised_offers_places_lowered_removes_nobody(core: Core):
    cooking = await course(core, capacity=1)
    ids = [await person(core, 300 + i, f"P{i}") for i in range(4)]
    for i, resident_id in enumerate(ids):
        await training.sign_up(core, resident_id, cooking.id, intake(f"P{i}"))
    await training.update_course(core, cooking.id, operator_id=(await staff(core)).id, capacity=3)
    assert await statuses(core, cooking.id) == [
        ("P0", "enrolled"),
        ("P1", "offered"),
        ("P2", "offered"),
        ("P3", "waiting"),
    ]
    async with core.db.session() as session:
        offers = list(await session.scalars(select(Delivery.kind).order_by(Delivery.id)))
    assert offers == [training.OFFER, training.OFFER]
    await training.update_course(core, cooking.id, operator_id=(await staff(core)).id, capacity=1)
    assert [s for _, s in await statuses(core, cooking.id)] == [
        "enrolled",
        "offered",
        "offered",
        "waiting",
    ]
    # a closed course takes no sign-ups and offers nothing; reopening it does
    await training.update_course(
        core, cooking.id, operator_id=(await staff(core)).id, status="closed"
    )
    late = await person(core, 399, "Late")
    with pytest.raises(training.CourseClosed):
        await training.sign_up(core, late, cooking.id, intake("Late"))
    await training.update_course(core, cooking.id, operator_id=(await staff(core)).id, capacity=5)
    first = (await training.mine(core, ids[0]))[0].enrollment.id
    await training.withdraw(core, ids[0], first)
    assert [s for _, s in await statuses(core, cooking.id)] == [
        "withdrawn",
        "offered",
        "offered",
        "waiting",  # closed: no offer, though places are free
    ]
    await training.update_course(
        core, cooking.id, operator_id=(await staff(core)).id, status="open"
    )
    assert [s for _, s in await statuses(core, cooking.id)][-1] == "offered"


async def test_a_sign_up_held_by_the_chat_and_by_the_record_keeps_the_earlier(core: Core, clock):
    open_course = await course(core, capacity=1, allow_unlinked=True)
    other = await course(core, "Altro corso", capacity=5, allow_unlinked=True)
    record = await residents.add_record(core, "A101", "Amina Haddad", "A")
    await residents.give_consent(core, record.id, None)  # linked before, on an older phone
    await training.sign_up(core, record.id, open_course.id, intake("Amina (record)"))
    chat = await residents.touch(core, 8001, 8001, "ar")
    await residents.give_consent(core, chat.id, "Amina")
    waiting = await person(core, 8002, "Next")
    clock.set(datetime(2026, 11, 25, 11, 0, tzinfo=ROME))
    await training.sign_up(core, chat.id, open_course.id, intake("Amina (chat)"))
    await training.sign_up(core, waiting, open_course.id, intake("Next"))
    await training.sign_up(core, chat.id, other.id, intake("Amina (chat)"))
    issued = await linking.issue(core, "A101")

    result = await linking.redeem(core, chat.id, 8001, issued.code)

    assert result.outcome == linking.Outcome.LINKED
    async with core.db.session() as session:
        rows = await session.execute(
            select(Enrollment.course_id, Enrollment.name, Enrollment.status).where(
                Enrollment.resident_id == record.id
            )
        )
        kept = {(c, n, EnrollmentStatus(s).value) for c, n, s in rows}
    assert kept == {
        (open_course.id, "Amina (record)", "enrolled"),
        (other.id, "Amina (chat)", "enrolled"),
    }
    assert await statuses(core, open_course.id) == [
        ("Amina (record)", "enrolled"),
        ("Next", "waiting"),
    ]


async def test_a_merge_that_frees_a_place_offers_it(core: Core, clock):
    cooking = await course(core, capacity=2, allow_unlinked=True)
    record = await residents.add_record(core, "A102", "Omar Saleh", "A")
    await residents.give_consent(core, record.id, None)
    await training.sign_up(core, record.id, cooking.id, intake("Omar (record)"))
    chat = await residents.touch(core, 8101, 8101, "ar")
    await residents.give_consent(core, chat.id, "Omar")
    await training.sign_up(core, chat.id, cooking.id, intake("Omar (chat)"))
    waiting = await person(core, 8102, "Next")
    await training.sign_up(core, waiting, cooking.id, intake("Next"))
    issued = await linking.issue(core, "A102")
    await linking.redeem(core, chat.id, 8101, issued.code)
    assert await statuses(core, cooking.id) == [("Omar (record)", "enrolled"), ("Next", "offered")]


async def test_a_merge_keeps_the_place_over_an_old_withdrawal(core: Core, clock):
    """The record withdrew long ago (older phone); the new chat has the place: it stays."""
    cooking = await course(core, capacity=1, allow_unlinked=True)
    record = await residents.add_record(core, "A103", "Amina Haddad", "A")
    await residents.give_consent(core, record.id, None)
    old = await training.sign_up(core, record.id, cooking.id, intake("Amina (record)"))
    await training.withdraw(core, record.id, old.enrollment.id)
    clock.set(datetime(2026, 11, 26, 10, 0, tzinfo=ROME))
    chat = await residents.touch(core, 8201, 8201, "ar")
    await residents.give_consent(core, chat.id, "Amina")
    await training.sign_up(core, chat.id, cooking.id, intake("Amina (chat)"))
    waiting = await person(core, 8202, "Next")
    await training.sign_up(core, waiting, cooking.id, intake("Next"))
    issued = await linking.issue(core, "A103")

    await linking.redeem(core, chat.id, 8201, issued.code)

    assert await statuses(core, cooking.id) == [("Amina (chat)", "enrolled"), ("Next", "waiting")]
    assert [m.enrollment.name for m in await training.mine(core, record.id)] == ["Amina (chat)"]


async def test_a_chat_in_the_middle_of_a_form_links_to_a_record_with_an_old_form(core: Core):
    cooking = await course(core, capacity=1, allow_unlinked=True)
    record = await residents.add_record(core, "A104", "Amina Haddad", "A")
    await residents.give_consent(core, record.id, None)
    await training_forms.save(core, record.id, "signup", "phone", course_id=cooking.id, name="Old")
    chat = await residents.touch(core, 8301, 8301, "ar")
    await residents.give_consent(core, chat.id, "Amina")
    await training_forms.save(core, chat.id, "signup", "work", course_id=cooking.id, name="New")
    issued = await linking.issue(core, "A104")

    result = await linking.redeem(core, chat.id, 8301, issued.code)

    assert result.outcome == linking.Outcome.LINKED
    draft = await training_forms.draft(core, record.id, "signup")
    assert draft is not None and (draft.step, draft.data["name"]) == ("work", "New")


async def test_broadcast_audiences_per_course(core: Core):
    cooking = await course(core, capacity=1)
    a, b = await person(core, 400, "Anna"), await person(core, 401, "Bilal")
    await training.sign_up(core, a, cooking.id, intake("Anna"))
    await training.sign_up(core, b, cooking.id, intake("Bilal"))
    async with core.db.session() as session:
        enrolled = list(await session.scalars(audiences.members(core, f"course:{cooking.id}")))
        waiting = list(await session.scalars(audiences.members(core, f"waitlist:{cooking.id}")))
        forged = list(await session.scalars(audiences.members(core, "course:x")))
    assert (enrolled, waiting, forged) == ([a], [b], [])
    t = core.catalogs.translator("it")
    assert await audiences.options(core, "course", t) == [(str(cooking.id), "Cucina professionale")]


def rows_of(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM: Excel then reads UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


async def test_the_csv_export_opens_in_italian_excel(core: Core):
    cooking = await course(core, "Cucina; base", capacity=1)
    a, b = await person(core, 500, "Anna"), await person(core, 501, "Bilal")
    await training.sign_up(core, a, cooking.id, intake("Anna"))
    await training.sign_up(
        core,
        b,
        cooking.id,
        training.Form(
            '=HYPERLINK("http://x.example";"Bilal")',  # typed by a resident as their name
            "+212612345678",
            ["evening"],
            "none",
            "any",
            "@SUM(1+1) anni in cucina",
        ),
    )
    rows = rows_of(await notices.export_csv(core, cooking.id, operator_id=(await staff(core)).id))
    it = core.catalogs.translator("it")
    assert rows[0] == [it._(column) for column in notices.COLUMNS]
    assert rows[1] == [
        "Cucina; base",
        it._("enrolled"),
        "",
        "Anna",
        "'+393331234567",  # text for Excel: not 3,93E+11, not a formula
        "T500",
        "B",
        it._("Mornings"),
        it._("Middle school"),
        it._("Kitchens and restaurants"),
        "",
        "25/11/2026 10:00",
        "25/11/2026 10:00",
    ]
    assert rows[2][:5] == [
        "Cucina; base",
        it._("waiting"),
        "1",
        """'=HYPERLINK("http://x.example";"Bilal")""",  # shown as typed, never run
        "'+212612345678",
    ]
    assert rows[2][10] == "'@SUM(1+1) anni in cucina"
    assert rows[2][-1] == ""


def test_export_enrollments_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
):
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("QMONDO_DATABASE_URL", url)

    async def seed() -> None:
        await migrate.upgrade(url)
        core = Core.create(Settings(database_url=url))
        cooking = await course(core, capacity=1)
        await training.sign_up(core, await person(core, 600, "Anna"), cooking.id, intake("Anna"))
        await core.close()

    asyncio.run(seed())
    assert main(["export", "enrollments", "-o", str(tmp_path / "out.csv")]) == 0
    rows = rows_of((tmp_path / "out.csv").read_bytes())
    assert [row[3] for row in rows[1:]] == ["Anna"]
    capsysbinary.readouterr()
    assert main(["export", "enrollments", "--course", "1"]) == 0
    assert rows_of(capsysbinary.readouterr().out) == rows


async def test_forty_at_once_for_ten_places_with_a_running_clock(core: Core):
    core.clock = Clock()  # real time: each sign-up's time is taken under the lock
    ten_places = await course(core, capacity=10)
    ids = [await person(core, 700 + i, f"P{i}") for i in range(40)]
    placed = await asyncio.gather(
        *(training.sign_up(core, i, ten_places.id, intake(f"P{i}")) for i in ids)
    )
    assert sum(p.position is None for p in placed) == 10
    assert sorted(p.position for p in placed if p.position) == list(range(1, 31))
    # the positions told are the list's order
    mine = [(await training.mine(core, i))[0] for i in ids]
    assert sorted((m.position, m.enrollment.id) for m in mine if m.position) == sorted(
        (p.position, p.enrollment.id) for p in placed if p.position
    )


async def test_the_offer_lasts_as_configured(core: Core):
    assert Settings.from_env({"QMONDO_OFFER_HOURS": "24"}).offer_hours == 24
    assert Settings.from_env({}).offer_hours == 48
    with pytest.raises(ConfigError, match="QMONDO_OFFER_HOURS"):
        Settings.from_env({"QMONDO_OFFER_HOURS": "two days"})
    core.settings = replace(core.settings, offer_hours=24)
    cooking = await course(core, capacity=1)
    a, b = await person(core, 800, "Anna"), await person(core, 801, "Bilal")
    first = await training.sign_up(core, a, cooking.id, intake("Anna"))
    await training.sign_up(core, b, cooking.id, intake("Bilal"))
    await training.withdraw(core, a, first.enrollment.id)
    offered = (await training.mine(core, b))[0].enrollment
    assert offered.offer_expires_at == core.clock.now() + timedelta(hours=24)


async def test_an_unfinished_form_lasts_as_long_as_its_conversation(core: Core, clock):
    resident = await residents.add_record(core, "A101", "Amina Haddad", "A", "1", "3")
    await training_forms.save(core, resident.id, "signup", "phone", name="Amina Haddad")
    clock.advance(core.settings.conversation_ttl)
    kept = await training_forms.draft(core, resident.id, "signup")
    assert kept is not None and kept.data == {"name": "Amina Haddad"}
    clock.advance(timedelta(seconds=1))  # the conversation is dropped now: its answers go too
    assert await training_forms.draft(core, resident.id, "signup") is None
    clock.advance(-core.settings.conversation_ttl)
    assert await training_forms.draft(core, resident.id, "signup") is None  # deleted, not hidden


async def test_operator_services_refuse_anyone_but_an_operator(core: Core):
    """The handlers check the role, and so do the services (callback data is forgeable, a role
    can be taken away between two presses): a resident's id changes and reads nothing."""
    cooking = await course(core)
    baking = await course(core, "Panificazione")
    anna = await person(core, 501, "Anna")
    placed = await training.sign_up(core, anna, cooking.id, intake("Anna"))
    enrollment_id = placed.enrollment.id
    refused = [
        training.create_course(core, {"title": "X"}, operator_id=anna),
        training.update_course(core, cooking.id, operator_id=anna, capacity=9),
        training.change_capacity(core, cooking.id, 1, operator_id=anna),
        training.set_outcome(core, enrollment_id, EnrollmentStatus.DROPPED, operator_id=anna),
        training.move(core, enrollment_id, baking.id, operator_id=anna),
        training.roster(core, cooking.id, operator_id=anna),  # personal data
        training.enrollment(core, enrollment_id, operator_id=anna),  # contact details
        training.history(core, cooking.id, operator_id=anna),
        notices.export_csv(core, cooking.id, operator_id=anna),
    ]
    for call in refused:
        with pytest.raises(residents.NotAllowed):
            await call
    mine = await training.own(core, anna, enrollment_id)  # their own sign-up stays theirs
    assert mine.enrollment.status == EnrollmentStatus.ENROLLED
    found = await training.view(core, cooking.id)
    assert found.course.capacity == 2
    assert await statuses(core, cooking.id) == [("Anna", "enrolled")]
    office = (await staff(core)).id
    assert [r.name for r in await training.roster(core, cooking.id, operator_id=office)] == [
        "Anna"
    ]
