"""Events and tenant assemblies: their rules and errors, edits and cancellation (told to those
who answered Yes or Maybe), figures, and attendance.

Writing and publishing an event is in event_drafts.py, RSVP, the waiting list and reminders in
event_rsvp.py, agenda proposals in event_proposals.py, what residents read in event_notices.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from bot.core import Core
from bot.delivery import outbox
from bot.models import (
    Answer,
    Event,
    EventStatus,
    Invitation,
    Resident,
)
from bot.services import DomainError
from bot.services.residents import authorise

INVITATION, CHANGED, CANCELLED = "event_invitation", "event_changed", "event_cancelled"
MAX_TITLE, MAX_DESCRIPTION, MAX_PLACE = 120, 2000, 200
MAX_AGENDA_ITEMS, MAX_AGENDA_ITEM = 15, 200
MAX_CAPACITY = 10_000
DURATIONS = (60, 120, 180, 240)  # minutes, offered as buttons
PAST_SHOWN, UPCOMING_SHOWN = 5, 10
COMING = (Answer.YES, Answer.MAYBE)
# A change or cancellation this close to the event is urgent: it must arrive before the event,
# so quiet hours do not hold it (nor /stop: the resident said they would come).
SOON = timedelta(hours=24)


class NotADraft(DomainError):
    """The draft was published or dropped meanwhile."""


class UnknownEvent(DomainError):
    pass


class NotEditable(DomainError):
    """Cancelled, or already started: it can no longer be changed."""


class NotInFuture(DomainError):
    pass


class EmptyText(DomainError):
    pass


class TextTooLong(DomainError):
    def __init__(self, limit: int) -> None:
        super().__init__(str(limit))
        self.limit = limit


class BadValue(DomainError):
    """A number or a map pin out of range."""


class NotStarted(DomainError):
    """Attendance is recorded once the event has begun."""


@dataclass
class Figures:
    yes: int = 0
    maybe: int = 0
    no: int = 0
    waiting: int = 0
    unanswered: int = 0
    attended: int = 0

    @property
    def invited(self) -> int:
        return self.yes + self.maybe + self.no + self.waiting + self.unanswered


@dataclass
class Summary:
    event: Event
    figures: Figures = field(default_factory=Figures)


@dataclass
class Detail(Summary):
    people: list[tuple[Resident, Invitation]] = field(default_factory=list)


async def lock(session: AsyncSession, column: InstrumentedAttribute[Any], row_id: int) -> None:
    """Take the row's write lock before reading it: a no-op UPDATE. On PostgreSQL it locks the
    row like FOR UPDATE; on SQLite (where FOR UPDATE does nothing and reads run outside the
    transaction until the first write) it takes the database's write lock, so two answers to
    a full event cannot both read "one place left"."""
    table = column.class_
    await session.execute(
        update(table).where(table.id == row_id).values({column: column})  # type: ignore[attr-defined]
    )


def ends_at(event: Event) -> datetime:
    assert event.starts_at is not None
    return event.starts_at + timedelta(minutes=event.duration_minutes)


def text(value: str, limit: int) -> str:
    value = value.strip()
    if not value:
        raise EmptyText()
    if len(value) > limit:
        raise TextTooLong(limit)
    return value


# -- edits and cancellation -----------------------------------------------------------------


def coming(event_id: int) -> Select[tuple[int]]:
    """Who answered Yes (placed or waiting) or Maybe: they are told of changes."""
    return select(Invitation.resident_id).where(
        Invitation.event_id == event_id, Invitation.answer.in_(COMING)
    )


async def open_event(session: AsyncSession, event_id: int, now: datetime) -> Event:
    """The event, locked, if it can still change: published and not begun."""
    await lock(session, Event.version, event_id)
    event = await session.get(Event, event_id, populate_existing=True)
    if event is None or event.status == EventStatus.DRAFT:
        raise UnknownEvent(str(event_id))
    if event.status != EventStatus.PUBLISHED or event.starts_at is None or event.starts_at <= now:
        raise NotEditable(str(event_id))
    return event


async def begin_edit(core: Core, event_id: int, operator_id: int, what: str) -> Event:
    """Remember which change this operator is typing, so a restart does not lose it."""
    if what not in ("time", "place"):
        raise BadValue(what)
    async with core.db.session.begin() as session:
        await authorise(session, operator_id)
        event = await open_event(session, event_id, core.clock.now())
        await _forget_edits(session, operator_id)  # one edit at a time: an abandoned one ends
        event.editing_by, event.editing_field = operator_id, what
        return event


async def editing(core: Core, operator_id: int) -> Event | None:
    async with core.db.session() as session:
        return await session.scalar(select(Event).where(Event.editing_by == operator_id))


async def stop_editing(core: Core, operator_id: int) -> None:
    async with core.db.session.begin() as session:
        await _forget_edits(session, operator_id)


async def _forget_edits(session: AsyncSession, operator_id: int) -> None:
    await session.execute(
        update(Event)
        .where(Event.editing_by == operator_id)
        .values(editing_by=None, editing_field=None)
        .execution_options(synchronize_session=False)
    )


async def move(core: Core, event_id: int, when: datetime, operator_id: int) -> Event:
    if when <= core.clock.now():
        raise NotInFuture(when.isoformat())
    return await _edit(core, event_id, operator_id, "time", starts_at=when)


async def change_place(core: Core, event_id: int, place: str, operator_id: int) -> Event:
    return await _edit(core, event_id, operator_id, "place", place=text(place, MAX_PLACE))


async def _edit(core: Core, event_id: int, operator_id: int, what: str, **values: object) -> Event:
    now = core.clock.now()
    async with core.db.session.begin() as session:
        await authorise(session, operator_id)
        event = await open_event(session, event_id, now)
        for name, value in values.items():
            setattr(event, name, value)
        event.version += 1
        event.editing_by, event.editing_field = None, None
        key = f"{CHANGED}:{event.id}:{event.version}:"
        await _tell_coming(session, event, CHANGED, key, now, what=what)
        return event


async def cancel(core: Core, event_id: int, operator_id: int) -> Event:
    now = core.clock.now()
    async with core.db.session.begin() as session:
        await authorise(session, operator_id)
        event = await open_event(session, event_id, now)
        event.status, event.cancelled_at = EventStatus.CANCELLED, now
        event.editing_by, event.editing_field = None, None
        await _tell_coming(session, event, CANCELLED, f"{CANCELLED}:{event.id}:", now)
        return event


async def _tell_coming(
    session: AsyncSession,
    event: Event,
    kind: str,
    key_prefix: str,
    now: datetime,
    what: str | None = None,
) -> None:
    assert event.starts_at is not None
    await outbox.enqueue_select(
        session,
        coming(event.id),
        kind=kind,
        key_prefix=key_prefix,
        now=now,
        urgent=event.starts_at - now < SOON,
        expires_at=event.starts_at,
        params={"event": event.id, "version": event.version, "what": what},
    )


# -- figures, lists and attendance ------------------------------------------------------------


async def figures(session: AsyncSession, ids: list[int]) -> dict[int, Figures]:
    result = {event_id: Figures() for event_id in ids}
    rows = await session.execute(
        select(
            Invitation.event_id,
            Invitation.answer,
            Invitation.waiting,
            Invitation.attended,
            func.count(),
        )
        .where(Invitation.event_id.in_(ids))
        .group_by(Invitation.event_id, Invitation.answer, Invitation.waiting, Invitation.attended)
    )
    for event_id, answer, waiting, attended, count in rows:
        found = result[event_id]
        if answer is None:
            found.unanswered += count
        elif answer == Answer.YES and waiting:
            found.waiting += count
        else:
            setattr(found, Answer(answer).value, getattr(found, Answer(answer).value) + count)
        if attended:
            found.attended += count
    return result


async def overview(core: Core) -> tuple[list[Summary], list[Summary]]:
    """Upcoming events (soonest first) and the latest past or cancelled ones, with figures."""
    now = core.clock.now()
    async with core.db.session() as session:
        upcoming = list(
            await session.scalars(
                select(Event)
                .where(Event.status == EventStatus.PUBLISHED, Event.starts_at > now)
                .order_by(Event.starts_at)
                .limit(UPCOMING_SHOWN)
            )
        )
        past = list(
            await session.scalars(
                select(Event)
                .where(
                    Event.status != EventStatus.DRAFT,
                    ~and_(Event.status == EventStatus.PUBLISHED, Event.starts_at > now),
                )
                .order_by(Event.starts_at.desc())
                .limit(PAST_SHOWN)
            )
        )
        found = await figures(session, [e.id for e in upcoming + past])
        return (
            [Summary(e, found[e.id]) for e in upcoming],
            [Summary(e, found[e.id]) for e in past],
        )


async def detail(core: Core, event_id: int, operator_id: int) -> Detail | None:
    """An event with its figures and who answered what (those without an answer are counted)."""
    async with core.db.session() as session:
        await authorise(session, operator_id)
        event = await session.get(Event, event_id)
        if event is None or event.status == EventStatus.DRAFT:
            return None
        rows = await session.execute(
            select(Resident, Invitation)
            .join(Invitation, Invitation.resident_id == Resident.id)
            .where(Invitation.event_id == event_id, Invitation.answer.is_not(None))
            .order_by(Invitation.answered_at, Invitation.id)
        )
        people = [(resident, invitation) for resident, invitation in rows]
        return Detail(event, (await figures(session, [event_id]))[event_id], people)


async def get(core: Core, event_id: int) -> Event | None:
    async with core.db.session() as session:
        return await session.get(Event, event_id)


async def attendance(core: Core, event_id: int, operator_id: int) -> Detail:
    """Who may have come: everyone who answered Yes or Maybe, and anyone already ticked."""
    now = core.clock.now()
    async with core.db.session() as session:
        await authorise(session, operator_id)
        event = await session.get(Event, event_id)
        if event is None or event.status != EventStatus.PUBLISHED or event.starts_at is None:
            raise UnknownEvent(str(event_id))
        if event.starts_at > now:
            raise NotStarted(str(event_id))
        rows = await session.execute(
            select(Resident, Invitation)
            .join(Invitation, Invitation.resident_id == Resident.id)
            .where(
                Invitation.event_id == event_id,
                (Invitation.answer.in_(COMING)) | Invitation.attended.is_(True),
            )
            .order_by(Resident.full_name, Resident.display_name, Resident.id)
        )
        people = [(resident, invitation) for resident, invitation in rows]
        return Detail(event, (await figures(session, [event_id]))[event_id], people)


async def toggle_attendance(core: Core, event_id: int, resident_id: int, operator_id: int) -> bool:
    """Tick (or untick) one invited resident as present; returns the new mark."""
    now = core.clock.now()
    async with core.db.session.begin() as session:
        await authorise(session, operator_id)
        event = await session.get(Event, event_id)
        if event is None or event.status != EventStatus.PUBLISHED or event.starts_at is None:
            raise UnknownEvent(str(event_id))
        if event.starts_at > now:
            raise NotStarted(str(event_id))
        invitation = await session.scalar(
            select(Invitation)
            .where(Invitation.event_id == event_id, Invitation.resident_id == resident_id)
            .with_for_update()
        )
        if invitation is None:
            raise UnknownEvent(f"{event_id}:{resident_id}")
        invitation.attended = not invitation.attended
        return invitation.attended
