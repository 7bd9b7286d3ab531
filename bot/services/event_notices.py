"""What people read about an event, rendered in the reader's language when it is sent: the
event card, the delivery kinds (each re-checks the state and returns None when stale), the
calendar file, and the audience segments "answered Yes/Maybe" and "invited, no answer"."""

from __future__ import annotations

from html import escape

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import Core
from bot.delivery.channel import Buttons, Outgoing
from bot.delivery.kinds import register
from bot.i18n import N_, Translator
from bot.ics import CalendarEvent, calendar_file
from bot.models import (
    Answer,
    Delivery,
    Event,
    EventKind,
    EventStatus,
    Invitation,
    Proposal,
    ProposalStatus,
    Resident,
)
from bot.services import audiences
from bot.services.event_proposals import DECIDED, PROPOSED
from bot.services.event_rsvp import DAY_BEFORE, PROMOTED, TWO_HOURS, invitation_for
from bot.services.events import CANCELLED, CHANGED, COMING, INVITATION, ends_at

ANSWERS = {Answer.YES: N_("✅ Yes"), Answer.MAYBE: N_("🤔 Maybe"), Answer.NO: N_("❌ No")}
CODES = {"y": Answer.YES, "m": Answer.MAYBE, "n": Answer.NO}
KINDS = {EventKind.SOCIAL: N_("🎉 Event"), EventKind.ASSEMBLY: N_("🏛 Tenant assembly")}
INVITED = {
    EventKind.SOCIAL: N_("🎉 You are invited!"),
    EventKind.ASSEMBLY: N_("🏛 You are invited to a tenant assembly."),
}
CHANGES = {
    "time": N_("✏️ The time of this event has changed. Here are the new details:"),
    "place": N_("✏️ The place of this event has changed. Here are the new details:"),
}
OPTIONS_SHOWN = 20
# Room for an event's card: Telegram takes 4,096 characters, and the longest message around a
# card (the preview, a change notice, the operator's names) adds up to about 1,000.
CARD_LIMIT = 3000


def title(event: Event, t: Translator, default: str) -> str:
    """The operator's title in the reader's language if written, else in the default one."""
    return event.titles.get(t.locale) or event.titles.get(default, "")


def description(event: Event, t: Translator, default: str) -> str:
    if t.locale in event.titles:  # a version was written: its description goes with it
        return event.descriptions.get(t.locale, event.descriptions.get(default, ""))
    return event.descriptions.get(default, "")


def duration(t: Translator, minutes: int) -> str:
    return t.n_("{n} hour", "{n} hours", max(minutes // 60, 1))


def size(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji outside the BMP counts two).
    Measured on the HTML, so a little more than the reader sees: on the safe side."""
    return len(text.encode("utf-16-le")) // 2


def _cut(text: str, room: int) -> str:
    """The operator's text, cut with an ellipsis if it does not fit in `room` units."""
    if size(text) <= room:
        return text
    cut = text[: max(room - 1, 0)]
    while cut and size(cut) > room - 1:
        cut = cut[:-1]
    return cut.rstrip() + "…"


def card(t: Translator, event: Event, default: str, invitation: Invitation | None = None) -> str:
    """The event as a reader sees it (Telegram HTML); the operator's text is escaped.

    It stays within CARD_LIMIT (the description is cut, then the agenda items that do not fit
    are left out) so the messages built around it stay within Telegram's 4,096 characters,
    whatever the lengths written and the topics approved later."""
    assert event.starts_at is not None
    lines = [
        t.leading(f"<b>{escape(title(event, t, default))}</b>"),  # the title may be Latin
        t._(KINDS[event.kind]),
        t._(
            "🕒 {when}, for {duration}",
            when=t.moment(event.starts_at),
            duration=duration(t, event.duration_minutes),
        ),
        t._("📍 {place}", place=event.place or ""),
    ]
    if event.capacity:
        lines.append(t._("👥 Places: {n}", n=t.number(event.capacity)))
    tail = ["", answer_line(t, invitation)] if invitation is not None else []
    room = CARD_LIMIT - size("\n".join(lines + tail))
    items = event.agenda if event.kind == EventKind.ASSEMBLY else []
    agenda = ["", t._("<b>Agenda</b>")] + [f"• {escape(item)}" for item in items] if items else []
    if text := description(event, t, default):
        # the description gives way to the agenda, but keeps at least half the room
        shown = _cut(text, max(room - size("\n".join(agenda)), room // 2) - 2)
        lines += ["", escape(shown)]
        room -= size(shown) + 2
    if items:
        room -= size("\n".join(agenda[:2])) + 1
        lines += agenda[:2]
        for item in agenda[2:]:
            if size(item) + 1 > room - 3:  # keep room for the "…" line
                lines.append("• …")
                break
            lines.append(item)
            room -= size(item) + 1
    return "\n".join(lines + tail)


def answer_line(t: Translator, invitation: Invitation) -> str:
    if invitation.answer is None:
        return t._("You have not answered yet.")
    if invitation.waiting:
        return t._("Your answer: Yes. The event is full: you are on the waiting list.")
    return t._("Your answer: {answer}", answer=t._(ANSWERS[invitation.answer]))


def resident_buttons(t: Translator, event: Event) -> Buttons:
    """Answer, calendar, map, and for assemblies a topic proposal: all name the event."""
    answers = tuple((t._(ANSWERS[a]), f"ev:r:{event.id}:{code}") for code, a in CODES.items())
    extras = [(t._("📅 Add to calendar"), f"ev:ics:{event.id}")]
    if event.latitude is not None:
        extras.append((t._("📍 Map"), f"ev:map:{event.id}"))
    rows = [answers, tuple(extras)]
    if event.kind == EventKind.ASSEMBLY:
        rows.append(((t._("💡 Propose a topic for the agenda"), f"ev:prop:{event.id}"),))
    return tuple(rows)


def calendar(core: Core, event: Event, t: Translator) -> bytes:
    """The .ics file, in Rome time with its VTIMEZONE; the uid makes a second download an
    update of the same entry."""
    assert event.starts_at is not None
    default = core.catalogs.default
    geo = None
    if event.latitude is not None and event.longitude is not None:
        geo = (event.latitude, event.longitude)
    entry = CalendarEvent(
        uid=f"event-{event.id}",
        title=title(event, t, default),
        start=event.starts_at,
        end=ends_at(event),
        location=event.place or "",
        description=description(event, t, default),
        geo=geo,
        sequence=event.version - 1,  # each change of time or place is a new version
    )
    return calendar_file(entry, core.settings.tz, core.clock.now())


# -- delivery kinds --------------------------------------------------------------------------


async def _event(session: AsyncSession, event_id: object) -> Event | None:
    """Renderers of one batch share the event: loaded once per batch, not per message."""
    if not isinstance(event_id, int):
        return None
    cache = session.info.setdefault("events", {})
    if event_id not in cache:
        cache[event_id] = await session.get(Event, event_id)
    return cache[event_id]


async def _open_for(
    core: Core, session: AsyncSession, row: Delivery, resident: Resident
) -> tuple[Event, Invitation] | None:
    """The event and invitation of a message, if the event is still on and not started."""
    event = await _event(session, row.params.get("event"))
    if event is None or event.status != EventStatus.PUBLISHED or event.starts_at is None:
        return None
    if event.starts_at <= core.clock.now():
        return None
    invitation = await invitation_for(session, event.id, resident.id)
    return None if invitation is None else (event, invitation)


@register(INVITATION)
async def render_invitation(
    core: Core, session: AsyncSession, row: Delivery, resident: Resident, t: Translator
) -> Outgoing | None:
    found = await _open_for(core, session, row, resident)
    if found is None:
        return None
    event, _ = found
    text = t._(INVITED[event.kind]) + "\n\n" + card(t, event, core.catalogs.default)
    return Outgoing(text, resident_buttons(t, event))


@register(CHANGED)
async def render_changed(
    core: Core, session: AsyncSession, row: Delivery, resident: Resident, t: Translator
) -> Outgoing | None:
    found = await _open_for(core, session, row, resident)
    if found is None:
        return None
    event, invitation = found
    if row.params.get("version") != event.version or invitation.answer not in COMING:
        return None  # a newer notice follows, or they are no longer coming
    header = t._(CHANGES.get(row.params.get("what"), CHANGES["time"]))
    text = header + "\n\n" + card(t, event, core.catalogs.default, invitation)
    return Outgoing(text, resident_buttons(t, event))


@register(CANCELLED)
async def render_cancelled(
    core: Core, session: AsyncSession, row: Delivery, resident: Resident, t: Translator
) -> Outgoing | None:
    event = await _event(session, row.params.get("event"))
    if event is None or event.status != EventStatus.CANCELLED or event.starts_at is None:
        return None
    invitation = await invitation_for(session, event.id, resident.id)
    if invitation is None or invitation.answer not in COMING:
        return None
    return Outgoing(
        t._(
            "🚫 Cancelled: {title}, {when}. We are sorry.",
            title=title(event, t, core.catalogs.default),
            when=t.moment(event.starts_at),
        )
    )


@register(PROMOTED)
async def render_promoted(
    core: Core, session: AsyncSession, row: Delivery, resident: Resident, t: Translator
) -> Outgoing | None:
    found = await _open_for(core, session, row, resident)
    if found is None:
        return None
    event, invitation = found
    if invitation.answer != Answer.YES or invitation.waiting:
        return None
    assert event.starts_at is not None
    return Outgoing(
        t._(
            "🎉 A place is free for you: {title}, {when}. See you there!",
            title=title(event, t, core.catalogs.default),
            when=t.moment(event.starts_at),
        )
    )


async def _reminder(
    core: Core, session: AsyncSession, row: Delivery, resident: Resident
) -> Event | None:
    """Still coming, to the same event at the same time? Else the reminder is stale."""
    found = await _open_for(core, session, row, resident)
    if found is None or resident.opted_out:
        return None
    event, invitation = found
    assert event.starts_at is not None
    if row.params.get("start") != int(event.starts_at.timestamp()):
        return None  # moved: the reminders for the new time have their own keys
    if invitation.answer not in COMING or invitation.waiting:
        return None
    return event


@register(DAY_BEFORE)
async def render_day_before(
    core: Core, session: AsyncSession, row: Delivery, resident: Resident, t: Translator
) -> Outgoing | None:
    event = await _reminder(core, session, row, resident)
    if event is None or event.starts_at is None:
        return None
    return Outgoing(
        t._(
            "⏰ Reminder: {title}, {when}, at {place}.",
            title=title(event, t, core.catalogs.default),
            when=t.moment(event.starts_at),
            place=event.place or "",
        )
    )


@register(TWO_HOURS)
async def render_two_hours(
    core: Core, session: AsyncSession, row: Delivery, resident: Resident, t: Translator
) -> Outgoing | None:
    event = await _reminder(core, session, row, resident)
    if event is None or event.starts_at is None:
        return None
    return Outgoing(
        t._(
            "⏰ Soon: {title} starts at {time}, at {place}.",
            title=title(event, t, core.catalogs.default),
            time=t.time(event.starts_at),
            place=event.place or "",
        )
    )


async def _proposal(session: AsyncSession, row: Delivery) -> tuple[Proposal, Event] | None:
    proposal = await session.get(Proposal, row.params.get("proposal") or 0)
    if proposal is None:
        return None
    event = await _event(session, proposal.event_id)
    return None if event is None or event.starts_at is None else (proposal, event)


@register(PROPOSED, always=True)
async def render_proposed(
    core: Core, session: AsyncSession, row: Delivery, resident: Resident, t: Translator
) -> Outgoing | None:
    found = await _proposal(session, row)
    if found is None or found[0].status != ProposalStatus.PENDING or not resident.is_operator:
        return None
    proposal, event = found
    assert event.starts_at is not None
    if event.status != EventStatus.PUBLISHED or event.starts_at <= core.clock.now():
        return None  # cancelled or begun: nothing left to decide
    text = t._(
        "💡 Topic proposed for the assembly {title} ({date}):\n{text}",
        title=title(event, t, core.catalogs.default),
        date=t.date(event.starts_at, "medium"),
        text=proposal.text or "",
    )
    choices = (
        (t._("✅ Add to the agenda"), f"ev:pa:{proposal.id}"),
        (t._("❌ Decline"), f"ev:pd:{proposal.id}"),
    )
    return Outgoing(text, (choices,))


@register(DECIDED)
async def render_decided(
    core: Core, session: AsyncSession, row: Delivery, resident: Resident, t: Translator
) -> Outgoing | None:
    found = await _proposal(session, row)
    if found is None:
        return None
    proposal, event = found
    params = {"title": title(event, t, core.catalogs.default), "text": proposal.text or ""}
    if proposal.status == ProposalStatus.APPROVED:
        return Outgoing(t._("✅ Your topic is on the agenda of {title}: {text}", **params))
    if proposal.status == ProposalStatus.DECLINED:
        return Outgoing(
            t._("Your topic for {title} was not added to the agenda this time: {text}", **params)
        )
    return None


# -- audience segments -------------------------------------------------------------------------


def _event_id(option: str | None) -> int:
    return int(option) if option and option.isdigit() else -1  # options are user input


def _answered(option: str | None) -> ColumnElement[bool]:
    return Resident.id.in_(
        select(Invitation.resident_id).where(
            Invitation.event_id == _event_id(option), Invitation.answer.in_(COMING)
        )
    )


def _unanswered(option: str | None) -> ColumnElement[bool]:
    return Resident.id.in_(
        select(Invitation.resident_id).where(
            Invitation.event_id == _event_id(option), Invitation.answer.is_(None)
        )
    )


async def _events(core: Core, session: AsyncSession, t: Translator) -> list[tuple[str, str]]:
    rows = await session.scalars(
        select(Event)
        .where(Event.status == EventStatus.PUBLISHED)
        .order_by(Event.starts_at.desc())
        .limit(OPTIONS_SHOWN)
    )
    return [
        (str(e.id), f"{title(e, t, core.catalogs.default)} · {t.date(e.starts_at, 'short')}")
        for e in rows
        if e.starts_at is not None
    ]


audiences.register(
    audiences.Segment("event_coming", N_("Answered Yes or Maybe to an event"), _answered, _events)
)
audiences.register(
    audiences.Segment(
        "event_unanswered", N_("Invited to an event, no answer yet"), _unanswered, _events
    )
)
