"""Residents' answers (Yes / Maybe / No), the waiting list when an event is full, and the
reminders for those coming.

Reminders, decided here:
- the day before at 18:00 Rome time (computed on the local date, so DST is right); it is an
  ordinary message, so quiet hours hold it, and it expires when the two-hour one is due;
- two hours before the start; it is urgent, so quiet hours never delay it past the event (an
  event at 08:00 is reminded at 06:00), and it expires at the start.
Each has a dedupe key per event, start time, offset and resident: exactly once, and a moved
event gets new keys. The scheduler's sweep enqueues what has fallen due; the renderers return
None when the answer is no longer Yes/Maybe or the event was cancelled or moved. Whoever
answers after a reminder fell due does not get it (they have just read the event); residents
who turned notices off with /stop get none (the renderer checks: the urgent one would pass).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import Core
from bot.delivery import outbox
from bot.models import Answer, Event, EventStatus, Invitation
from bot.services import DomainError, events
from bot.services.events import COMING

PROMOTED = "event_promoted"
DAY_BEFORE, TWO_HOURS = "event_reminder_day", "event_reminder_2h"
DAY_BEFORE_AT = time(18, 0)
TWO_HOURS_BEFORE = timedelta(hours=2)
LOOKAHEAD = timedelta(days=2)  # the sweep looks only at events starting this soon


class NotInvited(DomainError):
    """No invitation for this resident to this event (a forged or foreign button)."""


class EventCancelled(DomainError):
    pass


class EventStarted(DomainError):
    pass


async def invitation_for(
    session: AsyncSession, event_id: int, resident_id: int, lock: bool = False
) -> Invitation | None:
    query = select(Invitation).where(
        Invitation.event_id == event_id, Invitation.resident_id == resident_id
    )
    return await session.scalar(query.with_for_update() if lock else query)


async def usable(core: Core, event_id: int, resident_id: int) -> tuple[Event, Invitation]:
    """The event and this resident's invitation, if the resident may still act on it."""
    async with core.db.session() as session:
        return await open_invitation(session, event_id, resident_id, core.clock.now())


async def open_invitation(
    session: AsyncSession, event_id: int, resident_id: int, now: datetime, lock: bool = False
) -> tuple[Event, Invitation]:
    if lock:
        await events.lock(session, Event.version, event_id)
    event = await session.get(Event, event_id, populate_existing=lock)
    invitation = await invitation_for(session, event_id, resident_id, lock)
    if event is None or invitation is None or event.status == EventStatus.DRAFT:
        raise NotInvited(str(event_id))
    if event.status == EventStatus.CANCELLED:
        raise EventCancelled(str(event_id))
    if event.starts_at is None or event.starts_at <= now:
        raise EventStarted(str(event_id))
    return event, invitation


async def answer(core: Core, event_id: int, resident_id: int, choice: Answer) -> Invitation:
    """Record the answer. A Yes beyond capacity waits; a place given up goes to the first
    waiting, who is told through the delivery path."""
    now = core.clock.now()
    async with core.db.session.begin() as session:
        event, invitation = await open_invitation(session, event_id, resident_id, now, lock=True)
        if choice == Answer.YES and invitation.answer == Answer.YES:
            return invitation  # keep the place (or the turn on the waiting list)
        had_place = invitation.answer == Answer.YES and not invitation.waiting
        # counted before this answer is set (autoflush would count it as a place taken)
        waiting = choice == Answer.YES and await _full(session, event)
        invitation.answer, invitation.answered_at, invitation.waiting = choice, now, waiting
        await session.flush()
        if had_place:
            await _promote(session, event, now)
        return invitation


async def _placed(session: AsyncSession, event_id: int) -> int:
    return (
        await session.scalar(
            select(func.count()).where(
                Invitation.event_id == event_id,
                Invitation.answer == Answer.YES,
                Invitation.waiting.is_(False),
            )
        )
        or 0
    )


async def _full(session: AsyncSession, event: Event) -> bool:
    return event.capacity is not None and await _placed(session, event.id) >= event.capacity


async def _promote(session: AsyncSession, event: Event, now: datetime) -> None:
    while (first := await _next_in_line(session, event)) is not None:
        assert first.answered_at is not None
        first.waiting = False
        await session.flush()
        await outbox.enqueue(
            session,
            resident_id=first.resident_id,
            kind=PROMOTED,
            # a later Yes (after a No) is a new turn, so a new key
            key=f"{PROMOTED}:{event.id}:{first.resident_id}:{int(first.answered_at.timestamp())}",
            now=now,
            params={"event": event.id},
            expires_at=event.starts_at,
        )


async def _next_in_line(session: AsyncSession, event: Event) -> Invitation | None:
    if await _full(session, event):
        return None
    return await session.scalar(
        select(Invitation)
        .where(Invitation.event_id == event.id, Invitation.waiting.is_(True))
        .order_by(Invitation.answered_at, Invitation.id)
        .limit(1)
    )


async def fill_free_places(core: Core) -> int:
    """The scheduler's turn: give places freed without an answer (a resident who erased their
    data with /delete takes their invitation along) to the first waiting. Returns how many
    events had a place to give."""
    now = core.clock.now()
    someone_waits = exists().where(Invitation.event_id == Event.id, Invitation.waiting.is_(True))
    placed = (
        select(func.count())
        .where(
            Invitation.event_id == Event.id,
            Invitation.answer == Answer.YES,
            Invitation.waiting.is_(False),
        )
        .scalar_subquery()
    )
    async with core.db.session() as session:
        short = list(
            await session.scalars(
                select(Event.id).where(
                    Event.status == EventStatus.PUBLISHED,
                    Event.starts_at > now,
                    Event.capacity.is_not(None),
                    someone_waits,
                    placed < Event.capacity,
                )
            )
        )
    for event_id in short:
        async with core.db.session.begin() as session:
            await events.lock(session, Event.version, event_id)
            event = await session.get(Event, event_id, populate_existing=True)
            if event is not None and event.status == EventStatus.PUBLISHED:
                await _promote(session, event, now)
    return len(short)


async def upcoming_for(core: Core, resident_id: int) -> list[tuple[Event, Invitation]]:
    """The published events this resident is invited to that have not started yet."""
    async with core.db.session() as session:
        rows = await session.execute(
            select(Event, Invitation)
            .join(Invitation, Invitation.event_id == Event.id)
            .where(
                Invitation.resident_id == resident_id,
                Event.status == EventStatus.PUBLISHED,
                Event.starts_at > core.clock.now(),
            )
            .order_by(Event.starts_at)
        )
        return [(event, invitation) for event, invitation in rows]


# -- reminders ------------------------------------------------------------------------------


def reminder_times(core: Core, start: datetime) -> tuple[datetime, datetime]:
    """When the day-before and the two-hour reminders fall due for an event at `start`."""
    tz = core.settings.tz
    day_before = start.astimezone(tz).date() - timedelta(days=1)
    return datetime.combine(day_before, DAY_BEFORE_AT, tzinfo=tz), start - TWO_HOURS_BEFORE


def reminder_key(kind: str, event: Event, resident_id: int | None = None) -> str:
    assert event.starts_at is not None
    prefix = f"{kind}:{event.id}:{int(event.starts_at.timestamp())}:"
    return prefix if resident_id is None else f"{prefix}{resident_id}"


async def plan_reminders(core: Core) -> int:
    """The scheduler's turn: enqueue the reminders that have fallen due. Idempotent."""
    now = core.clock.now()
    enqueued = 0
    async with core.db.session.begin() as session:
        soon = await session.scalars(
            select(Event).where(
                Event.status == EventStatus.PUBLISHED,
                Event.starts_at > now,
                Event.starts_at <= now + LOOKAHEAD,
            )
        )
        for event in soon:
            assert event.starts_at is not None
            day_before, two_hours = reminder_times(core, event.starts_at)
            if two_hours <= now:
                kind, urgent, due, expires = TWO_HOURS, True, two_hours, event.starts_at
            elif day_before <= now:
                kind, urgent, due, expires = DAY_BEFORE, False, day_before, two_hours
            else:
                continue
            enqueued += await outbox.enqueue_select(
                session,
                select(Invitation.resident_id).where(
                    Invitation.event_id == event.id,
                    Invitation.answer.in_(COMING),
                    Invitation.waiting.is_(False),
                    # who answered after it fell due has just heard it all: no echo
                    Invitation.answered_at < due,
                ),
                kind=kind,
                key_prefix=reminder_key(kind, event),
                now=now,
                urgent=urgent,
                expires_at=expires,
                params={"event": event.id, "start": int(event.starts_at.timestamp())},
            )
    return enqueued
