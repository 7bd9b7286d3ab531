"""Events and tenant assemblies: the operator's draft, publishing to an audience, edits and
cancellation (told to those who answered Yes or Maybe), figures, and attendance.

RSVP, the waiting list and reminders live in event_rsvp.py, agenda proposals in
event_proposals.py, and what residents read in event_notices.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, and_, delete, func, insert, literal, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from bot.core import Core
from bot.delivery import outbox
from bot.models import (
    Answer,
    Event,
    EventKind,
    EventStatus,
    Invitation,
    Resident,
)
from bot.services import DomainError, audiences

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


# -- the draft ------------------------------------------------------------------------------


async def new_draft(core: Core, author_id: int, kind: EventKind) -> Event:
    """Start a draft; the author's earlier unfinished draft is dropped."""
    async with core.db.session.begin() as session:
        await session.execute(
            delete(Event).where(Event.author_id == author_id, Event.status == EventStatus.DRAFT)
        )
        event = Event(
            author_id=author_id,
            kind=kind,
            titles={},
            descriptions={},
            agenda=[],
            created_at=core.clock.now(),
        )
        session.add(event)
        return event


async def draft(core: Core, author_id: int) -> Event | None:
    async with core.db.session() as session:
        return await session.scalar(
            select(Event)
            .where(Event.author_id == author_id, Event.status == EventStatus.DRAFT)
            .order_by(Event.id.desc())
            .limit(1)
        )


async def _draft(session: AsyncSession, event_id: int) -> Event:
    await lock(session, Event.version, event_id)
    event = await session.get(Event, event_id, populate_existing=True)
    if event is None or event.status != EventStatus.DRAFT:
        raise NotADraft(str(event_id))
    return event


async def _change(core: Core, event_id: int, **values: object) -> Event:
    async with core.db.session.begin() as session:
        event = await _draft(session, event_id)
        for name, value in values.items():
            setattr(event, name, value)
        return event


async def set_title(core: Core, event_id: int, title: str) -> Event:
    return await _change(core, event_id, titles={core.catalogs.default: text(title, MAX_TITLE)})


async def set_description(core: Core, event_id: int, description: str) -> Event:
    value = text(description, MAX_DESCRIPTION)
    return await _change(core, event_id, descriptions={core.catalogs.default: value})


async def start_version(core: Core, event_id: int, locale: str) -> Event:
    """The operator is about to write title and description in this language."""
    if locale not in core.catalogs.locales or locale == core.catalogs.default:
        raise BadValue(locale)
    return await _change(core, event_id, draft_locale=locale)


async def set_version(core: Core, event_id: int, written: str) -> Event:
    """A translation: the first line is the title, the rest the description."""
    title, _, description = written.strip().partition("\n")
    title, description = text(title, MAX_TITLE), description.strip()[:MAX_DESCRIPTION]
    async with core.db.session.begin() as session:
        event = await _draft(session, event_id)
        locale = event.draft_locale
        if locale is None:
            raise NotADraft(str(event_id))
        event.titles = {**event.titles, locale: title}
        if description:
            event.descriptions = {**event.descriptions, locale: description}
        event.draft_locale = None
        return event


def _local_midnight(core: Core, day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=core.settings.tz)


async def pick_day(core: Core, event_id: int, day: date) -> Event:
    """A day chosen with the date buttons; the time of day comes next (set_time_of_day)."""
    if day < core.clock.now().astimezone(core.settings.tz).date():
        raise NotInFuture(day.isoformat())
    return await _change(core, event_id, starts_at=_local_midnight(core, day))


async def set_time_of_day(core: Core, event_id: int, clock: time) -> Event:
    """The time for the day picked before."""
    current = await _get(core, event_id)
    if current.starts_at is None:
        raise NotADraft(str(event_id))
    day = current.starts_at.astimezone(core.settings.tz).date()
    return await set_start(core, event_id, datetime.combine(day, clock, tzinfo=core.settings.tz))


async def set_start(core: Core, event_id: int, when: datetime) -> Event:
    if when <= core.clock.now():
        raise NotInFuture(when.isoformat())
    return await _change(core, event_id, starts_at=when)


async def set_duration(core: Core, event_id: int, minutes: int) -> Event:
    if minutes not in DURATIONS:
        raise BadValue(str(minutes))
    return await _change(core, event_id, duration_minutes=minutes)


async def set_place(core: Core, event_id: int, place: str) -> Event:
    return await _change(core, event_id, place=text(place, MAX_PLACE))


async def set_pin(core: Core, event_id: int, latitude: float, longitude: float) -> Event:
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise BadValue(f"{latitude},{longitude}")
    return await _change(core, event_id, latitude=latitude, longitude=longitude)


async def set_capacity(core: Core, event_id: int, capacity: int | None) -> Event:
    if capacity is not None and not 1 <= capacity <= MAX_CAPACITY:
        raise BadValue(str(capacity))
    return await _change(core, event_id, capacity=capacity)


async def set_agenda(core: Core, event_id: int, written: str) -> Event:
    """One item per line."""
    items = [line.strip(" -•*\t") for line in written.splitlines()]
    items = [item for item in items if item]
    if not items:
        raise EmptyText()
    if len(items) > MAX_AGENDA_ITEMS or any(len(item) > MAX_AGENDA_ITEM for item in items):
        raise TextTooLong(MAX_AGENDA_ITEM)
    return await _change(core, event_id, agenda=items)


async def set_audience(core: Core, event_id: int, audience: str) -> Event:
    audiences.parse(audience)
    return await _change(core, event_id, audience=audience)


async def drop_draft(core: Core, author_id: int) -> None:
    async with core.db.session.begin() as session:
        await session.execute(
            delete(Event).where(Event.author_id == author_id, Event.status == EventStatus.DRAFT)
        )


# -- publishing -----------------------------------------------------------------------------


async def publish(core: Core, event_id: int) -> int:
    """Invite the audience: one invitation row and one delivery per resident, each in a
    single INSERT ... SELECT. Returns how many were invited."""
    now = core.clock.now()
    async with core.db.session.begin() as session:
        event = await _draft(session, event_id)
        if event.starts_at is None or event.starts_at <= now:
            raise NotInFuture(str(event_id))
        if event.place is None or core.catalogs.default not in event.titles:
            raise NotADraft(str(event_id))
        event.status, event.published_at, event.draft_locale = EventStatus.PUBLISHED, now, None
        members = audiences.members(event.audience).subquery()
        rows = select(
            members.c[0],
            literal(event.id),
            literal(False),
            literal(False),
            literal(now, Invitation.__table__.c.created_at.type),
        ).where(true())
        await session.execute(
            insert(Invitation).from_select(
                ["resident_id", "event_id", "waiting", "attended", "created_at"], rows
            )
        )
        return await outbox.enqueue_select(
            session,
            select(Invitation.resident_id).where(Invitation.event_id == event.id),
            kind=INVITATION,
            key_prefix=f"{INVITATION}:{event.id}:",
            now=now,
            expires_at=event.starts_at,
            params={"event": event.id},
        )


# -- edits and cancellation -----------------------------------------------------------------


def coming(event_id: int) -> Select[tuple[int]]:
    """Who answered Yes (placed or waiting) or Maybe: they are told of changes."""
    return select(Invitation.resident_id).where(
        Invitation.event_id == event_id, Invitation.answer.in_(COMING)
    )


async def _open(session: AsyncSession, event_id: int, now: datetime) -> Event:
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
        event = await _open(session, event_id, core.clock.now())
        event.editing_by, event.editing_field = operator_id, what
        return event


async def editing(core: Core, operator_id: int) -> Event | None:
    async with core.db.session() as session:
        return await session.scalar(
            select(Event).where(Event.editing_by == operator_id).order_by(Event.id.desc()).limit(1)
        )


async def stop_editing(core: Core, operator_id: int) -> None:
    async with core.db.session.begin() as session:
        for event in await session.scalars(select(Event).where(Event.editing_by == operator_id)):
            event.editing_by, event.editing_field = None, None


async def move(core: Core, event_id: int, when: datetime) -> Event:
    if when <= core.clock.now():
        raise NotInFuture(when.isoformat())
    return await _edit(core, event_id, starts_at=when)


async def change_place(core: Core, event_id: int, place: str) -> Event:
    return await _edit(core, event_id, place=text(place, MAX_PLACE))


async def _edit(core: Core, event_id: int, **values: object) -> Event:
    now = core.clock.now()
    async with core.db.session.begin() as session:
        event = await _open(session, event_id, now)
        for name, value in values.items():
            setattr(event, name, value)
        event.version += 1
        event.editing_by, event.editing_field = None, None
        await _tell_coming(session, event, CHANGED, f"{CHANGED}:{event.id}:{event.version}:", now)
        return event


async def cancel(core: Core, event_id: int) -> Event:
    now = core.clock.now()
    async with core.db.session.begin() as session:
        event = await _open(session, event_id, now)
        event.status, event.cancelled_at = EventStatus.CANCELLED, now
        event.editing_by, event.editing_field = None, None
        await _tell_coming(session, event, CANCELLED, f"{CANCELLED}:{event.id}:", now)
        return event


async def _tell_coming(
    session: AsyncSession, event: Event, kind: str, key_prefix: str, now: datetime
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
        params={"event": event.id, "version": event.version},
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


async def detail(core: Core, event_id: int) -> Detail | None:
    """An event with its figures and who answered what (those without an answer are counted)."""
    async with core.db.session() as session:
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


async def _get(core: Core, event_id: int) -> Event:
    event = await get(core, event_id)
    if event is None:
        raise UnknownEvent(str(event_id))
    return event


async def attendance(core: Core, event_id: int) -> Detail:
    """Who may have come: everyone who answered Yes or Maybe, and anyone already ticked."""
    now = core.clock.now()
    async with core.db.session() as session:
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


async def toggle_attendance(core: Core, event_id: int, resident_id: int) -> bool:
    """Tick (or untick) one invited resident as present; returns the new mark."""
    now = core.clock.now()
    async with core.db.session.begin() as session:
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
