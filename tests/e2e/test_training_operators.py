"""Operators and job training: /newcourse, /courses with the programme's figures, capacity,
closing, lists with contact details, outcomes, moves, the CSV in chat; and what residents
may not do (operator actions, someone else's sign-up through forged callback data)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime

import pytest

from bot.core import Core
from bot.fakeapi import FakeBotAPI
from bot.models import Role
from bot.services import residents, training
from tests.conftest import ROME
from tests.support import (
    COURSE_START as START,
)
from tests.support import (
    Harness,
    course,
    enrollment_statuses,
    eventually,
    filled,
    intake,
    linked,
    read,
    seen,
    texts,
)

NOT_ACTIVE = "This button is no longer active."


@pytest.fixture(autouse=True)
def every_press_answered(fake: FakeBotAPI) -> Iterator[None]:
    """No button press may leave the resident's or operator's client spinning."""
    yield
    assert fake.unanswered_callback_queries == []


async def operator(core: Core, fake: FakeBotAPI, user_id: int = 9001):
    user = await linked(core, fake, user_id, "it", name="Giulia Operatrice", building="Z")
    await residents.set_role(core, user_id, Role.OPERATOR)
    return user


async def resident_id(core: Core, telegram_id: int) -> int:
    resident = await residents.find(core, telegram_id)
    assert resident is not None
    return resident.id


async def test_an_operator_creates_a_course_that_residents_then_see(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    op = await operator(core, fake)
    it = core.catalogs.translator("it")
    await op.send("/newcourse")
    for answer in ("Cucina professionale", "Corso base di cucina", "AFOL Metropolitana"):
        await op.send(answer)
    place = op.last
    await op.press(it._("⬅️ Back"), place.message_id)  # the provider again; a second tap on
    await op.press(it._("⬅️ Back"), place.message_id)  # a slow phone goes back only once
    assert op.last.text == seen(it, "Who runs it?")
    assert seen(it, "A short description, in simple words?") not in texts(op)[-3:]
    await op.send("AFOL Metropolitana")
    await op.send("Via Rizzoli 8, Milano")
    await op.send("31 febbraio 9:30")
    assert texts(op)[-2] == seen(
        it, "I could not read a future date. Write it like this: 12/01 9:30."
    )
    await op.send("01/12/2026 9:30")
    await op.send("lunedì e mercoledì 9-12")
    await op.send("tanti")
    assert texts(op)[-2] == seen(it, "Please write a whole number from 1 to {max}.", max=500)
    await op.send("12")
    await op.send("no")  # a button is expected here
    assert texts(op)[-2] == seen(it, "Please answer with the buttons.")
    await op.press(it._("No"))
    assert seen(it, "Course created. Residents see it now under Training.") in texts(op)
    detail = op.last.text or ""
    assert "Cucina professionale" in detail and it.moment(START) in detail
    assert read(it._("Sign-up without a linked chat: {answer}", answer=it._("No"))) in detail

    # edit one field
    await op.press(it._("✏️ Edit"))
    await op.press(it._("Title"))
    await op.send("Cucina e pasticceria")
    assert seen(it, "Saved.") in texts(op)
    resident = await linked(core, fake, 5001, "it", "Marco Rossi")
    await resident.send(it._("📚 Training"))
    assert "Cucina e pasticceria" in (resident.last.text or "")
    assert resident.buttons == ["Cucina e pasticceria"]


async def test_the_figures_capacity_closing_and_the_lists(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    op = await operator(core, fake)
    it = core.catalogs.translator("it")
    cooking = await course(core, capacity=1)
    await course(core, "Magazzino", capacity=5)
    people = [await linked(core, fake, 5100 + i, "it", f"Persona {i}") for i in range(3)]
    for i in range(3):
        await training.sign_up(
            core, await resident_id(core, 5100 + i), cooking.id, intake(f"Persona {i}")
        )
    await op.send("/courses")
    assert read(
        it._(
            "Enrolled: {enrolled} of the target {target} · Waiting list: {waiting}",
            enrolled=1,
            target=30,
            waiting=2,
        )
    ) in (op.last.text or "")
    await op.press("Cucina professionale")
    await op.press(it._("➕ 1 place"))
    # the first on the list is offered the place at once
    await eventually(lambda: it._("✅ Yes, I take it") in people[1].buttons)
    assert "Magazzino" not in texts(op)[-1]
    assert read(
        it._(
            "Places: {capacity} · enrolled {enrolled} · offered {offered} · waiting {waiting}",
            capacity=2,
            enrolled=1,
            offered=1,
            waiting=1,
        )
    ) in (op.last.text or "")
    assert read(
        it._(
            "{when} · {name}: {event}",
            when=it.datetime(core.clock.now(), "short"),
            name="Persona 1",
            event=it._("place offered"),
        )
    ) in (op.last.text or "")

    await op.press(it._("➖ 1 place"))  # back to one place: nobody loses theirs
    assert fake.calls_to("answerCallbackQuery")[-1].get("text") == it._("Places: {n}", n=1)
    await op.press(it._("➖ 1 place"))
    answer = fake.calls_to("answerCallbackQuery")[-1].get("text")
    assert answer == it._("A course needs at least one place.")
    assert (await training.view(core, cooking.id)).course.capacity == 1
    assert await enrollment_statuses(core) == {
        "Persona 0": "enrolled",
        "Persona 1": "offered",
        "Persona 2": "waiting",
    }
    await op.press(it._("➕ 1 place"))

    # the list with contact details, a participant completed, one removed, one moved
    await op.press(it._("👥 People"))
    listing = op.last.text or ""
    assert "1. Persona 0 · +393331234567 · " + it._("enrolled") in listing
    assert "3. Persona 2 · +393331234567 · " + it._("waiting") in listing
    await op.press("1. Persona 0")
    card = op.last.text or ""
    assert "T5100" in card and it._("Kitchens and restaurants") in card
    await op.press(it._("🎓 Completed"))
    await op.send("/courses")
    await op.press("Cucina professionale")
    await op.press(it._("👥 People"))
    await op.press("2. Persona 2")  # the places first, then the list, then the finished
    await op.press(it._("↪️ Move"))
    await op.press("Magazzino")
    assert op.last.text == seen(it, "Moved to {course}: enrolled.", course="Magazzino")
    await op.send("/courses")
    await op.press("Cucina professionale")
    await op.press(it._("👥 People"))
    await op.press("1. Persona 1")
    await op.press(it._("✖️ Remove"))
    await op.press(it._("Yes, remove"))
    assert await enrollment_statuses(core) == {
        "Persona 0": "completed",
        "Persona 1": "dropped",
        "Persona 2": "enrolled",
    }
    # both are told, in their language, through the delivery path
    moved = seen(
        it,
        "📋 The QMondo office moved your sign-up to the course <b>{course}</b>. Send /training "
        "to see your place.",
        course="Magazzino",
    )
    removed = seen(
        it,
        "The QMondo office has taken you off the course <b>{course}</b>. If you have questions, "
        "ask the office.",
        course="Cucina professionale",
    )
    await eventually(lambda: moved in texts(people[2]) and removed in texts(people[1]))
    # the removed person's old offer button is dead
    await people[1].press(it._("✅ Yes, I take it"))
    assert people[1].last.text == seen(it, "This offer is no longer valid.")

    # closing hides the course from residents; reopening shows it again
    await op.send("/courses")
    await op.press("Cucina professionale")
    await op.press(it._("🔒 Close"))
    await people[2].send(it._("📚 Training"))
    assert people[2].buttons == ["Magazzino", it._("📋 My sign-ups")]
    await op.press(it._("🔓 Reopen"))
    await people[2].send(it._("📚 Training"))
    assert "Cucina professionale" in people[2].buttons


async def test_the_csv_comes_as_a_file_in_chat(harness: Harness, core: Core, fake: FakeBotAPI):
    op = await operator(core, fake)
    it = core.catalogs.translator("it")
    cooking = await course(core, capacity=1)
    for i in range(2):
        await linked(core, fake, 5200 + i, "it", f"Persona {i}")
        await training.sign_up(
            core, await resident_id(core, 5200 + i), cooking.id, intake(f"Persona {i}")
        )
    await op.send("/courses")
    await op.press("Cucina professionale")
    await op.press(it._("📄 CSV"))
    document = op.last.document
    assert document is not None and document[0] == f"enrollments-{cooking.id}.csv"
    assert op.last.caption == seen(it, "Sign-ups (CSV for Excel)")
    content = document[1] or b""
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    assert content.startswith(b"\xef\xbb\xbf")
    assert [row[:5] for row in rows[1:]] == [
        ["Cucina professionale", it._("enrolled"), "", "Persona 0", "'+393331234567"],
        ["Cucina professionale", it._("waiting"), "1", "Persona 1", "'+393331234567"],
    ]
    await op.send("/courses")
    await op.press(it._("📄 Export all (CSV)"))
    assert op.last.document is not None and op.last.document[0] == "enrollments.csv"


async def test_residents_cannot_act_as_operators_or_on_someone_elses_sign_up(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    it = core.catalogs.translator("it")
    cooking = await course(core, capacity=1)
    anna = await linked(core, fake, 5301, "it", "Anna Bianchi")
    bilal = await linked(core, fake, 5302, "it", "Bilal Khan")
    await filled(core, anna, it, "Cucina professionale")
    await anna.press(it._("✅ Confirm"))
    anna_row = (await training.mine(core, await resident_id(core, 5301)))[0].enrollment.id
    unknown = seen(it, "I don't know this command. Send /help to see what I can do.")
    for command in ("/courses", "/newcourse"):
        await bilal.send(command)
        assert bilal.last.text == unknown
    before = len(bilal.messages)
    for forged in (
        f"co:open:{cooking.id}",
        f"co:ros:{cooking.id}",  # the list with phone numbers
        f"co:p:{anna_row}",  # one person's card
        f"co:ed:{cooking.id}",
        f"co:ef:{cooking.id}:capacity",
        f"co:done:{anna_row}",
        f"co:drop:{anna_row}",
        f"co:mv:{anna_row}",
        f"co:cap:{cooking.id}:+",
        f"co:st:{cooking.id}:closed",
        f"co:dropy:{anna_row}",
        f"co:csv:{cooking.id}",
        f"co:mvto:{anna_row}:{cooking.id}",
        f"tr:wd:{anna_row}",
        f"tr:wdy:{anna_row}",
        f"tr:of:{anna_row}:n",
    ):
        await bilal.press_data(forged)
        answers = fake.calls_to("answerCallbackQuery")
        assert answers[-1].get("text") == it._(NOT_ACTIVE), forged
    assert len(bilal.messages) == before  # nothing shown, nothing sent
    assert "+393331234567" not in " ".join(texts(bilal))
    assert (await training.view(core, cooking.id)).course.capacity == 1
    assert await enrollment_statuses(core) == {"Anna Bianchi": "enrolled"}


async def test_unlinked_residents_only_where_the_course_allows_it(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    it = core.catalogs.translator("it")
    await course(core, "Solo collegati", capacity=3)
    await course(
        core,
        "Aperto a tutti",
        capacity=3,
        allow_unlinked=True,
        starts_at=datetime(2026, 12, 2, 14, 0, tzinfo=ROME),
    )
    guest = fake.user(5401, first_name="Olena", language_code="it")
    await guest.send("/start")
    await guest.press("Italiano")
    await guest.press(it._("✅ I agree"))
    await guest.press(it._("Skip"))  # no link code
    await guest.send("/training")
    await guest.press("Solo collegati")
    assert guest.last.text == seen(
        it,
        "This course is only for residents whose chat is linked to their tenant record. Ask the "
        "QMondo office for your personal code, then send /link .",
    )
    await guest.press("Aperto a tutti")
    await guest.send("Olena Kovalenko")
    await guest.send("+380 67 123 4567")
    await guest.press("⬜ " + it._("Mornings"))
    await guest.press(it._("Done"))
    await guest.press(it._("I did not go to school"))
    await guest.press(it._("Cleaning"))
    await guest.press(it._("Skip"))
    await guest.press(it._("✅ Confirm"))
    assert await enrollment_statuses(core) == {"Olena Kovalenko": "enrolled"}


async def test_operators_write_to_those_enrolled_in_a_course(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    op = await operator(core, fake)
    it = core.catalogs.translator("it")
    cooking = await course(core, capacity=1)
    for i in range(2):
        await linked(core, fake, 5500 + i, "it", f"Persona {i}")
        await training.sign_up(
            core, await resident_id(core, 5500 + i), cooking.id, intake(f"Persona {i}")
        )
    await op.send("/broadcast")
    await op.press(it._("Waiting for a course"))
    await op.press("Cucina professionale")
    await op.send("Domani vi chiamiamo")
    assert read(it._("Recipients: {n}", n=1)) in (op.last.text or "")


async def test_forged_ids_too_long_for_the_database_are_refused_like_old_buttons(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    it = core.catalogs.translator("it")
    cooking = await course(core, capacity=1)
    op = await operator(core, fake)
    marco = await linked(core, fake, 5601, "it", "Marco Rossi")
    await marco.send("/training")
    await op.send("/courses")
    huge = "9" * 20  # fits in 64 bytes of callback data, not in an integer column
    for user, forged in (
        (marco, f"tr:sign:{huge}"),
        (marco, f"tr:wd:{huge}"),
        (marco, f"tr:wdy:{huge}"),
        (marco, f"tr:of:{huge}:y"),
        (op, f"co:open:{huge}"),
        (op, f"co:p:{huge}"),
        (op, f"co:dropy:{huge}"),
        (op, f"co:mvto:{huge}:{cooking.id}"),
        (op, f"co:cap:{huge}:+"),
    ):
        await user.press_data(forged)
        answers = fake.calls_to("answerCallbackQuery")
        assert answers[-1].get("text") == it._(NOT_ACTIVE), forged
    assert fake.unanswered_callback_queries == []
    harness.check()  # no handler failed (an overflowing id used to raise in the database)


async def test_many_courses_fit_in_one_list_for_operators(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    for number in range(60):  # years of courses, the closed ones kept
        await course(core, f"Corso di formazione professionale numero {number:02d} per adulti")
    op = await operator(core, fake)
    it = core.catalogs.translator("it")
    await op.send("/courses")
    listing = op.last.text or ""
    assert len(listing) < 4096  # the fake Bot API would refuse a longer one
    shown = [b for b in op.buttons if b.startswith("Corso")]
    assert listing.endswith(seen(it, "…and {n} more.", n=60 - len(shown)))
    assert op.buttons[-1] == it._("📄 Export all (CSV)")
    await op.press(shown[-1])
    assert shown[-1] in (op.last.text or "")
