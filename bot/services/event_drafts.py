"""An operator's event draft, step by step, and publishing it: one invitation row and one
delivery per resident of the audience, each set written by a single INSERT ... SELECT."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import delete, insert, literal, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import Core
from bot.delivery import outbox
from bot.models import Event, EventKind, EventStatus, Invitation
from bot.services import audiences
from bot.services.events import (
    DURATIONS,
    INVITATION,
    MAX_AGENDA_ITEM,
    MAX_AGENDA_ITEMS,
    MAX_CAPACITY,
    MAX_DESCRIPTION,
    MAX_PLACE,
    MAX_TITLE,
    BadValue,
    EmptyText,
    NotADraft,
    NotInFuture,
    TextTooLong,
    UnknownEvent,
    get,
    lock,
    text,
)
from bot.services.residents import authorise


async def new_draft(core: Core, author_id: int, kind: EventKind) -> Event:
    """Start a draft; the author's earlier unfinished draft is dropped."""
    async with core.db.session.begin() as session:
        await authorise(session, author_id)
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


def invitations_held(core: Core, event: Event) -> tuple[datetime | None, bool]:
    """When quiet hours let the invitations go out if published now (None: at once), and
    whether that is after the start: invitations expire then, so nobody would get them."""
    held = outbox.held_until(core.settings, core.clock.now())
    return held, held is not None and event.starts_at is not None and held >= event.starts_at


async def publish(core: Core, event_id: int, operator_id: int) -> int:
    """Invite the audience: one invitation row and one delivery per resident, each in a
    single INSERT ... SELECT. Returns how many were invited."""
    now = core.clock.now()
    async with core.db.session.begin() as session:
        await authorise(session, operator_id)
        event = await _draft(session, event_id)
        if event.starts_at is None or event.starts_at <= now:
            raise NotInFuture(str(event_id))
        if event.place is None or core.catalogs.default not in event.titles:
            raise NotADraft(str(event_id))
        event.status, event.published_at, event.draft_locale = EventStatus.PUBLISHED, now, None
        members = audiences.members(core, event.audience).subquery()
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


async def _get(core: Core, event_id: int) -> Event:
    event = await get(core, event_id)
    if event is None:
        raise UnknownEvent(str(event_id))
    return event
