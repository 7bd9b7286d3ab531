"""The reminder sweep on a real database with a pinned clock: each point once, at its local
time across DST, never after payment, and after downtime only while still meaningful."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.clock import FixedClock
from bot.config import Settings
from bot.core import Core
from bot.fakeapi import FakeBotAPI
from bot.models import Delivery, PlanAlert
from bot.services import plans, reminders, residents
from tests.conftest import ROME
from tests.support import linked, plan, staff, tenant

DUE = date(2026, 12, 10)
UTC = ZoneInfo("UTC")


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ROME)


async def keys(core: Core) -> list[str]:
    async with core.db.session() as session:
        rows = await session.scalars(select(Delivery.dedupe_key).order_by(Delivery.id))
        return list(rows)


async def reminder_offsets(core: Core) -> list[int]:
    return [reminders.parse_key(k)[1] for k in await keys(core) if k.startswith("payment_")]


async def one_plan(core: Core, fake: FakeBotAPI, due: date = DUE) -> int:
    await linked(core, fake, 5001, "it", "Amina Haddad")
    created = await plan(core, "T5001", [(due, 40000), (due + timedelta(days=120), 40000)])
    return created.instalments[0].id


async def test_each_offset_fires_once_at_its_moment(core: Core, clock: FixedClock, fake):
    first = await one_plan(core, fake)
    expected: list[int] = []
    for offset in (-7, -1, 0, 3, 10):
        day = DUE + timedelta(days=offset)
        clock.set(at(day, 9, 29))
        assert await reminders.sweep(core) == 0, offset
        clock.set(at(day, 9, 30))
        assert await reminders.sweep(core) == 1, offset
        assert await reminders.sweep(core) == 0  # a second sweep adds nothing
        clock.set(at(day, 15, 0))
        assert await reminders.sweep(core) == 0
        expected.append(offset)
        assert await reminder_offsets(core) == expected
    assert f"payment_reminder:{first}:-7" in await keys(core)


async def test_a_paid_instalment_gets_no_further_reminders(core: Core, clock: FixedClock, fake):
    await one_plan(core, fake)
    clock.set(at(DUE - timedelta(days=7), 10))
    assert await reminders.sweep(core) == 1
    schedule = (await plans.search(core, "T5001", operator_id=(await staff(core)).id))[0]
    clock.set(at(DUE - timedelta(days=3), 10))
    office = (await staff(core)).id
    await plans.record_payment(
        core, schedule.plan.id, 40000, clock.now().date(), 0, operator_id=office
    )
    for offset in (-1, 0, 3, 10):
        clock.set(at(DUE + timedelta(days=offset), 10))
        assert await reminders.sweep(core) == 0
    assert await reminder_offsets(core) == [-7]


@pytest.mark.parametrize(
    ("label", "due", "offset", "before", "moment"),
    [
        # 28 March 2027: clocks go forward. 09:30 is 08:30 UTC the day before, 07:30 on it.
        ("spring, eve", date(2027, 3, 28), -1, (2027, 3, 27, 8, 29), (2027, 3, 27, 8, 30)),
        ("spring, due day", date(2027, 3, 28), 0, (2027, 3, 28, 7, 29), (2027, 3, 28, 7, 30)),
        # 25 October 2026: clocks go back. 09:30 is 07:30 UTC the day before, 08:30 on it.
        ("autumn, eve", date(2026, 10, 25), -1, (2026, 10, 24, 7, 29), (2026, 10, 24, 7, 30)),
        ("autumn, due day", date(2026, 10, 25), 0, (2026, 10, 25, 8, 29), (2026, 10, 25, 8, 30)),
    ],
)  # fmt: skip
async def test_local_reminder_time_is_right_across_dst(
    core: Core, clock: FixedClock, fake, label, due, offset, before, moment
):
    clock.set(at(due - timedelta(days=30), 12))
    await one_plan(core, fake, due)
    clock.set(datetime(*before, tzinfo=UTC))
    await reminders.sweep(core)
    assert offset not in await reminder_offsets(core), label
    clock.set(datetime(*moment, tzinfo=UTC))
    await reminders.sweep(core)
    assert offset in await reminder_offsets(core), label
    assert reminders.moment(core.settings, due + timedelta(days=offset)) == datetime(
        *moment, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("label", "back_at", "sent"),
    [
        ("back 6 days before: the 7-day one", at(DUE - timedelta(6), 11), [-7]),
        ("back the day before: only the 1-day one", at(DUE - timedelta(1), 18), [-1]),
        ("back on the due day: only 'due today'", at(DUE, 15), [0]),
        ("back the day after: nothing yet", at(DUE + timedelta(1), 12), []),
        ("back 5 days late: the +3 one", at(DUE + timedelta(5), 10), [3]),
        ("back 12 days late: the +10 one", at(DUE + timedelta(12), 10), [10]),
        ("back a month late: nothing", at(DUE + timedelta(30), 10), []),
    ],
)  # fmt: skip
async def test_after_downtime_only_meaningful_reminders_are_sent(
    core: Core, clock: FixedClock, fake, label, back_at, sent
):
    await one_plan(core, fake)
    clock.set(back_at)
    await reminders.sweep(core)
    assert await reminder_offsets(core) == sent, label


async def test_escalation_opens_one_alert_for_every_operator(core: Core, clock: FixedClock, fake):
    await one_plan(core, fake)
    await linked(core, fake, 9001, "it", "Giulia Operatrice", role="operator")
    await linked(core, fake, 9002, "uk", "Olena Operatorka", role="admin")
    clock.set(at(DUE + timedelta(days=10), 9, 30))
    await reminders.sweep(core)
    await reminders.sweep(core)
    async with core.db.session() as session:
        alerts = list(await session.scalars(select(PlanAlert)))
    assert [(a.kind.value, a.key) for a in alerts] == [
        ("escalation", f"esc:{alerts[0].instalment_id}")
    ]
    assert sorted(k for k in await keys(core) if k.startswith("plan_alert")) == [
        f"plan_alert:{alerts[0].id}:{rid}" for rid in sorted(await operator_ids(core))
    ]


async def test_escalation_reaches_operators_for_a_tenant_who_does_not_use_the_bot(
    core: Core, clock: FixedClock, fake
):
    await linked(core, fake, 9001, "it", "Giulia Operatrice", role="operator")
    await tenant(core, "A101", "Amina Haddad")  # a tenant record from the municipality, no chat
    await plan(core, "A101", [(DUE, 40000)])
    clock.set(at(DUE + timedelta(days=3), 9, 30))
    assert await reminders.sweep(core) == 0  # no chat: no reminders
    clock.set(at(DUE + timedelta(days=10), 9, 30))
    await reminders.sweep(core)
    async with core.db.session() as session:
        alerts = list(await session.scalars(select(PlanAlert)))
    assert [a.kind.value for a in alerts] == ["escalation"]
    assert [k for k in await keys(core) if not k.startswith("plan_alert")] == []
    assert [k.rsplit(":", 1)[1] for k in await keys(core)] == [
        str(i) for i in await operator_ids(core)
    ]


async def operator_ids(core: Core) -> list[int]:
    from bot.models import Resident, Role

    async with core.db.session() as session:
        rows = await session.scalars(
            select(Resident.id).where(Resident.role.in_([Role.OPERATOR, Role.ADMIN]))
        )
        return list(rows)


def test_windows_follow_the_configured_offsets():
    settings = Settings(reminder_offsets=(-3, 0, 5))
    now = at(date(2026, 12, 1), 10)
    # "3 days before" stays until the due day's moment, "5 late" for the last-reminder days.
    assert reminders.window(settings, -3, now) == (date(2026, 12, 2), date(2026, 12, 4))
    assert reminders.window(settings, 0, now) == (date(2026, 12, 1), date(2026, 12, 1))
    assert reminders.window(settings, 0, at(date(2026, 12, 1), 9)) is None
    assert reminders.window(settings, 5, now) == (date(2026, 11, 20), date(2026, 11, 26))


def test_the_benchmark_runs_and_ends_with_its_figures_line(tmp_path):
    import re
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "benchmarks/reminders.py", "--residents", "20", "--instalments", "200"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    last = done.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"sweep db=sqlite instalments=200 seconds=\d+\.\d{3} rss_mb=\d+", last)


def test_the_lock_screen_text_has_no_amount_or_debt_word_in_any_language(core: Core):
    words = ("debt", "debito", "deuda", "dette", "datori", "borxh", "борг", "دين", "债", "utang")
    for t in core.catalogs.all():
        text = t._(reminders.TEASER)
        assert not any(char.isdigit() for char in text) and "€" not in text, t.locale
        assert not any(word in text.lower() for word in words), t.locale


def test_reminder_settings_come_from_the_environment():
    settings = Settings.from_env(
        {
            "QMONDO_REMINDER_OFFSETS": "3, -7,0",
            "QMONDO_REMINDER_TIME": "10:15",
            "QMONDO_ESCALATION_DAYS": "14",
        }
    )
    assert settings.reminder_offsets == (-7, 0, 3)
    assert (settings.reminder_time.hour, settings.reminder_time.minute) == (10, 15)
    assert settings.escalation_days == 14


async def test_the_plan_audiences_of_broadcasts(core: Core, fake, clock: FixedClock):
    """"Residents with an active plan" and "with a late instalment" (by the date in Rome)."""
    await linked(core, fake, 5001, "it", "Late One")
    await plan(core, "T5001", [(date(2020, 1, 10), 100), (date(2099, 1, 10), 100)])
    await linked(core, fake, 5002, "it", "On Time")
    await plan(core, "T5002", [(date(2099, 1, 10), 100)])
    await linked(core, fake, 5003, "it", "Paid Off")
    paid = await plan(core, "T5003", [(date(2020, 1, 10), 100)])
    office = (await staff(core)).id
    await plans.record_payment(core, paid.id, 100, date(2020, 1, 9), 0, operator_id=office)
    await linked(core, fake, 5004, "it", "No Plan")
    await tenant(core, "A101", "No Chat")  # late, but the bot cannot reach them
    await plan(core, "A101", [(date(2020, 1, 10), 100)])
    await linked(core, fake, 5005, "it", "Due Yesterday")
    await plan(core, "T5005", [(date(2026, 11, 25), 100)])
    clock.set(datetime(2026, 11, 26, 0, 30, tzinfo=ROME))  # still the 25th in UTC

    async def names(audience: str) -> list[str]:
        from bot.models import Resident
        from bot.services import audiences

        async with core.db.session() as session:
            rows = await session.scalars(
                select(Resident.full_name)
                .where(Resident.id.in_(audiences.members(core, audience)))
                .order_by(Resident.full_name)
            )
            return list(rows)

    assert await names("plan_active") == ["Due Yesterday", "Late One", "On Time"]
    assert await names("plan_late") == ["Due Yesterday", "Late One"]
    clock.set(datetime(2026, 11, 25, 23, 30, tzinfo=ROME))  # the due day itself: not late yet
    assert await names("plan_late") == ["Late One"]


async def test_operator_services_refuse_anyone_but_an_operator(core: Core, clock: FixedClock, fake):
    """The handlers check the role, and so do the services (callback data is forgeable, a role
    can be taken away between two presses): a resident's id records nothing and reads no one's
    debt, while their own plan stays theirs to see."""
    await one_plan(core, fake)
    amina = await residents.find(core, 5001)
    assert amina is not None
    office = (await staff(core)).id
    [schedule] = await plans.search(core, "T5001", operator_id=office)
    alert = await plans.request_help(core, amina.id, "Chiamatemi")
    pending = await plans.keep_import(core, "piani.csv", b"x", operator_id=office)
    day = clock.now().date()
    refused = [
        plans.record_payment(core, schedule.plan.id, 100, day, 0, operator_id=amina.id),
        plans.mark_handled(core, alert.id, operator_id=amina.id),
        plans.keep_import(core, "piani.csv", b"x", operator_id=amina.id),
        plans.take_import(core, pending, operator_id=amina.id),
        plans.search(core, "T5001", operator_id=amina.id),  # personal data
        plans.schedule(core, schedule.plan.id, operator_id=amina.id),
        plans.overdue(core, operator_id=amina.id),
        plans.preview_payment(core, "T5001", 100, day, operator_id=amina.id),
    ]
    for call in refused:
        with pytest.raises(residents.NotAllowed):
            await call
    [own] = await plans.of_resident(core, amina.id)  # the resident's own view: no check
    assert own.paid_cents == 0
    assert await plans.take_import(core, pending, operator_id=office) == ("piani.csv", b"x")
    handled = await plans.mark_handled(core, alert.id, operator_id=office)
    assert handled.handled_by_id == office
