"""Reminders through the real scheduler and the delivery path: the day before at 18:00 and two
hours before, each exactly once, none after a No or a cancellation, right across both DST
changes (a pinned clock, Rome time)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.core import Core
from bot.fakeapi import FakeBotAPI, FakeUser
from bot.i18n import Translator
from bot.models import Delivery
from bot.services import event_rsvp, events
from tests.conftest import ROME
from tests.e2e.events_support import (  # noqa: F401 - brisk_pacing is a fixture
    brisk_pacing,
    invitations,
    operator,
    published,
    starting,
)
from tests.support import Harness, eventually, linked, settled

DAY_BEFORE = "⏰ Reminder: {title}, {when}, at {place}."
TWO_HOURS = "⏰ Soon: {title} starts at {time}, at {place}."
PLACE = "Cortile scala B"


def day_before(user: FakeUser, t: Translator, title: str, start: datetime) -> list[str]:
    return starting(user, t, DAY_BEFORE, title=title, when=t.moment(start), place=PLACE)


def two_hours(user: FakeUser, t: Translator, title: str, start: datetime) -> list[str]:
    return starting(user, t, TWO_HOURS, title=title, time=t.time(start), place=PLACE)


async def move_clock(core: Core, clock, when: datetime) -> None:
    """Outcomes written first: a pinned clock that jumps past the send lease would otherwise
    make a row in flight look abandoned (and send it again), which no real clock does."""
    await settled(core)
    clock.set(when)


async def sweep(harness: Harness, core: Core) -> None:
    """One more sweep now (the scheduler also runs its own), then let the sender finish."""
    await event_rsvp.plan_reminders(core)
    harness.app.sender.wake()
    await settled(core)


async def reminder_rows(core: Core) -> int:
    async with core.db.session() as session:
        return await session.scalar(
            select(func.count()).where(
                Delivery.kind.in_([event_rsvp.DAY_BEFORE, event_rsvp.TWO_HOURS])
            )
        )


# (label, event start, last minute without the day-before one, last minute without the 2h one)
DST_CASES = [
    pytest.param(
        datetime(2026, 3, 29, 10, 0, tzinfo=ROME),  # clocks go forward at 02:00 that night
        datetime(2026, 3, 28, 17, 59, tzinfo=ROME),  # 18:00 CET the day before = 17:00 UTC
        datetime(2026, 3, 29, 7, 59, tzinfo=ROME),  # 08:00 CEST = 06:00 UTC
        id="spring-forward",
    ),
    pytest.param(
        datetime(2026, 10, 25, 10, 0, tzinfo=ROME),  # clocks go back at 03:00 that night
        datetime(2026, 10, 24, 17, 59, tzinfo=ROME),  # 18:00 CEST = 16:00 UTC
        datetime(2026, 10, 25, 7, 59, tzinfo=ROME),  # 08:00 CET = 07:00 UTC
        id="fall-back",
    ),
]


@pytest.mark.parametrize(("start", "before_day", "before_two"), DST_CASES)
async def test_reminders_come_once_each_at_the_right_local_time_and_stop_after_no(
    harness: Harness, core: Core, fake: FakeBotAPI, clock, start, before_day, before_two
):
    clock.set(start - timedelta(days=10))
    await operator(core, fake)
    marco = await linked(core, fake, 5001, "it", "Marco Rossi")
    amina = await linked(core, fake, 5002, "ar", "Amina Haddad")
    anna = await linked(core, fake, 5003, "it", "Anna Bianchi")
    it, ar = core.catalogs.translator("it"), core.catalogs.translator("ar")
    await published(core, start, title="Festa")
    cancelled = await published(core, start + timedelta(hours=4), title="Cena")
    await eventually(lambda: len(invitations(marco, it)) == 2 and len(invitations(amina, ar)) == 2)
    await eventually(lambda: len(invitations(anna, it)) == 2)
    for message_index in (0, 1):
        first, second = marco.messages[message_index], amina.messages[message_index]
        await marco.press(it._("✅ Yes"), message_id=first.message_id)
        await amina.press(ar._("🤔 Maybe"), message_id=second.message_id)
    await anna.press(it._("❌ No"), message_id=anna.messages[0].message_id)
    await events.cancel(
        core, cancelled.id, cancelled.author_id
    )  # told to Marco and Amina, never reminded

    await move_clock(core, clock, before_day)
    await sweep(harness, core)
    assert await reminder_rows(core) == 0
    await move_clock(core, clock, before_day + timedelta(minutes=1))
    await eventually(
        lambda: day_before(marco, it, "Festa", start) and day_before(amina, ar, "Festa", start)
    )
    await move_clock(core, clock, before_day + timedelta(hours=3))  # later sweeps add nothing
    await sweep(harness, core)
    assert len(day_before(marco, it, "Festa", start)) == 1
    assert len(day_before(amina, ar, "Festa", start)) == 1
    assert await reminder_rows(core) == 2

    await marco.press(it._("❌ No"), message_id=marco.messages[0].message_id)
    await move_clock(core, clock, before_two)
    await sweep(harness, core)
    assert two_hours(amina, ar, "Festa", start) == []
    # inside quiet hours: it goes all the same
    await move_clock(core, clock, before_two + timedelta(minutes=1))
    await eventually(lambda: two_hours(amina, ar, "Festa", start))
    await move_clock(core, clock, start - timedelta(minutes=30))
    await sweep(harness, core)
    assert len(two_hours(amina, ar, "Festa", start)) == 1
    assert two_hours(marco, it, "Festa", start) == []
    for person, t in ((marco, it), (amina, ar), (anna, it)):
        assert day_before(person, t, "Cena", start + timedelta(hours=4)) == []
        assert two_hours(person, t, "Cena", start + timedelta(hours=4)) == []
    assert day_before(anna, it, "Festa", start) == []
    assert await reminder_rows(core) == 3


async def test_a_moved_event_is_reminded_at_its_new_time_and_a_stale_reminder_is_dropped(
    harness: Harness, core: Core, fake: FakeBotAPI, clock
):
    await operator(core, fake)
    marco = await linked(core, fake, 5101, "it", "Marco Rossi")
    it = core.catalogs.translator("it")
    start = datetime(2026, 11, 27, 20, 0, tzinfo=ROME)
    event = await published(core, start, title="Festa")
    await eventually(lambda: invitations(marco, it))
    await marco.press(it._("✅ Yes"))
    await move_clock(
        core, clock, datetime(2026, 11, 26, 22, 0, tzinfo=ROME)
    )  # quiet hours: the day-before waits
    await sweep(harness, core)
    assert await reminder_rows(core) == 1 and day_before(marco, it, "Festa", start) == []
    await move_clock(core, clock, datetime(2026, 11, 26, 23, 0, tzinfo=ROME))
    moved = datetime(2026, 11, 28, 20, 0, tzinfo=ROME)
    await events.move(
        core, event.id, moved, event.author_id
    )  # the waiting reminder is for the old time
    await move_clock(core, clock, datetime(2026, 11, 27, 9, 0, tzinfo=ROME))
    harness.app.sender.wake()
    await until_status(core, "skipped")  # rendered stale: dropped, not sent
    changed = "✏️ The time of this event has changed. Here are the new details:"
    await eventually(lambda: starting(marco, it, changed))
    assert day_before(marco, it, "Festa", start) == []
    await move_clock(core, clock, datetime(2026, 11, 27, 18, 0, tzinfo=ROME))
    await eventually(lambda: day_before(marco, it, "Festa", moved))
    assert await reminder_rows(core) == 2


async def until_status(core: Core, status: str) -> None:
    for _ in range(200):
        async with core.db.session() as session:
            found = await session.scalar(
                select(Delivery.status).where(Delivery.kind == event_rsvp.DAY_BEFORE)
            )
        if found is not None and found.value == status:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"the reminder did not become {status}")
