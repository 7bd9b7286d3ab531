"""Events for operators: /newevent writes an event or an assembly and invites an audience;
/events lists upcoming and past events with their answers, and opens one to change its time
or place, cancel it, record attendance after the start, or decide on agenda proposals.
Operators only, checked in the database on every step.

```mermaid
stateDiagram-v2
    [*] --> KIND: /newevent
    KIND --> TITLE: social event / assembly
    TITLE --> DESCRIPTION
    DESCRIPTION --> DAY
    DAY --> TIME: a day button
    TIME --> DURATION: 18:30
    DAY --> DURATION: typed date and time (12/03 18:30, 12 marzo 18:30, domani 18)
    DURATION --> PLACE
    PLACE --> PIN
    PIN --> CAPACITY: location, or Skip
    CAPACITY --> AGENDA: assembly
    CAPACITY --> AUDIENCE: social event
    AGENDA --> AUDIENCE
    AUDIENCE --> OPTION: segment with choices
    AUDIENCE --> PREVIEW
    OPTION --> PREVIEW
    PREVIEW --> LANGUAGE: Add a translation
    LANGUAGE --> VERSION
    VERSION --> PREVIEW
    PREVIEW --> [*]: Publish (invitations go out)
    KIND --> [*]: Cancel (from any step, or /cancel)
```
Changing the time or the place is a second small conversation (EDIT) entered from /events.
"""

from __future__ import annotations

from datetime import date, timedelta

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.i18n import N_, Translator
from bot.models import Answer, Event, EventKind, EventStatus, Resident
from bot.services import audiences, event_notices, event_proposals, events
from bot.timeparse import parse_local, parse_time
from handlers.common import BotContext, buttons, callback_parts, edit, operators_only, reply

STEPS = (
    "kind",
    "title",
    "description",
    "day",
    "time",
    "duration",
    "place",
    "pin",
    "capacity",
    "agenda",
    "audience",
    "option",
    "preview",
    "language",
    "version",
)
(
    KIND,
    TITLE,
    DESCRIPTION,
    DAY,
    TIME,
    DURATION,
    PLACE,
    PIN,
    CAPACITY,
    AGENDA,
    AUDIENCE,
    OPTION,
    PREVIEW,
    LANGUAGE,
    VERSION,
) = (f"newevent:{step}" for step in STEPS)
EDIT = "event_edit:value"
END = ConversationHandler.END
PRIVATE = filters.ChatType.PRIVATE
TYPED = PRIVATE & filters.TEXT & ~filters.COMMAND
DAYS_OFFERED = 7
NAMES_SHOWN = 30
ATTENDANCE_SHOWN = 60
DATE_HINT = N_(
    "I could not read that date. Write it like this: 12/03 18:30, 12 marzo 18:30 or domani 18."
)
PASSED = N_("That time has already passed. Please write a later one.")
TEXT_LIMIT = N_("Please write it in at most {max} characters.")
INACTIVE = N_("This button is no longer active.")


def cancel_row(t: Translator) -> list[tuple[str, str]]:
    return [(t._("❌ Cancel"), "ev:n:cancel")]


async def _answer(update: Update, text: str | None = None) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer(text)


async def _remove_buttons(update: Update) -> None:
    if update.callback_query is not None:
        await update.callback_query.edit_message_reply_markup(None)


def _typed(update: Update) -> str:
    assert update.message is not None and update.message.text is not None
    return update.message.text


async def _lost(update: Update, t: Translator) -> int:
    """The draft is gone (published from another chat, or dropped): start again."""
    await _answer(update)
    await reply(update, t._("This event is no longer a draft. Send /newevent to start again."))
    return END


# -- /newevent --------------------------------------------------------------------------------


@operators_only
async def begin(update: Update, context: BotContext, operator: Resident, t: Translator) -> str:
    rows = [
        [(t._("🎉 Social event"), "ev:n:kind:social")],
        [(t._("🏛 Tenant assembly"), "ev:n:kind:assembly")],
        cancel_row(t),
    ]
    await reply(update, t._("What are you organising?"), reply_markup=buttons(*rows))
    return KIND


@operators_only
async def chose_kind(update: Update, context: BotContext, operator: Resident, t: Translator) -> str:
    await _answer(update)
    kind = EventKind(callback_parts(update)[3])
    await events.new_draft(context.core, operator.id, kind)
    await edit(update, t._(event_notices.KINDS[kind]))
    await reply(
        update,
        t._("Write the title in Italian (at most {max} characters).", max=events.MAX_TITLE),
        reply_markup=buttons(cancel_row(t)),
    )
    return TITLE


@operators_only
async def wrote_title(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> str | int:
    draft = await events.draft(context.core, operator.id)
    if draft is None:
        return await _lost(update, t)
    try:
        await events.set_title(context.core, draft.id, _typed(update))
    except events.TextTooLong as error:
        await reply(update, t._(TEXT_LIMIT, max=t.number(error.limit)))
        return TITLE
    await reply(
        update,
        t._("Now a short description in Italian: what happens, who it is for."),
        reply_markup=buttons(cancel_row(t)),
    )
    return DESCRIPTION


@operators_only
async def wrote_description(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> str | int:
    draft = await events.draft(context.core, operator.id)
    if draft is None:
        return await _lost(update, t)
    try:
        await events.set_description(context.core, draft.id, _typed(update))
    except events.TextTooLong as error:
        await reply(update, t._(TEXT_LIMIT, max=t.number(error.limit)))
        return DESCRIPTION
    return await _ask_day(update, context, t)


async def _ask_day(update: Update, context: BotContext, t: Translator) -> str:
    today = context.core.clock.now().astimezone(context.core.settings.tz).date()
    days = [today + timedelta(days=n) for n in range(DAYS_OFFERED)]
    rows = [
        [(t.date(day, "EEE d MMM"), f"ev:n:day:{day.isoformat()}") for day in days[i : i + 3]]
        for i in range(0, len(days), 3)
    ]
    await reply(
        update,
        t._(
            "When does it start? Pick a day, or write the date and time, for example "
            "12/03 18:30, 12 marzo 18:30 or domani 18."
        ),
        reply_markup=buttons(*rows, cancel_row(t)),
    )
    return DAY


@operators_only
async def wrote_when(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> str | int:
    core = context.core
    draft = await events.draft(core, operator.id)
    if draft is None:
        return await _lost(update, t)
    when = parse_local(_typed(update), core.clock.now(), core.settings.tz)
    if when is None:
        await reply(update, t._(DATE_HINT))
        return DAY
    try:
        await events.set_start(core, draft.id, when)
    except events.NotInFuture:
        await reply(update, t._(PASSED))
        return DAY
    return await _ask_duration(update, t)


@operators_only
async def picked_day(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> str | int | None:
    await _answer(update)
    draft = await events.draft(context.core, operator.id)
    if draft is None:
        return await _lost(update, t)
    try:
        day = date.fromisoformat(callback_parts(update)[3])
        await events.pick_day(context.core, draft.id, day)
    except (ValueError, events.NotInFuture):
        return None
    await edit(update, t.date(day, "full"))
    await reply(
        update, t._("At what time? For example 18:30."), reply_markup=buttons(cancel_row(t))
    )
    return TIME


@operators_only
async def wrote_time(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> str | int:
    draft = await events.draft(context.core, operator.id)
    if draft is None:
        return await _lost(update, t)
    clock = parse_time(_typed(update))
    if clock is None:
        await reply(update, t._("Write the time like this: 18:30."))
        return TIME
    try:
        await events.set_time_of_day(context.core, draft.id, clock)
    except events.NotInFuture:
        await reply(update, t._(PASSED))
        return TIME
    return await _ask_duration(update, t)


async def _ask_duration(update: Update, t: Translator) -> str:
    row = [(event_notices.duration(t, m), f"ev:n:dur:{m}") for m in events.DURATIONS]
    await reply(update, t._("How long will it last?"), reply_markup=buttons(row, cancel_row(t)))
    return DURATION


@operators_only
async def chose_duration(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> str | int | None:
    await _answer(update)
    draft = await events.draft(context.core, operator.id)
    if draft is None:
        return await _lost(update, t)
    minutes = int(callback_parts(update)[3])
    try:
        await events.set_duration(context.core, draft.id, minutes)
    except events.BadValue:
        return None
    await edit(update, event_notices.duration(t, minutes))
    await reply(
        update,
        t._("Where? Write the place, for example: Courtyard of building A."),
        reply_markup=buttons(cancel_row(t)),
    )
    return PLACE


@operators_only
async def wrote_place(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> str | int:
    draft = await events.draft(context.core, operator.id)
    if draft is None:
        return await _lost(update, t)
    try:
        await events.set_place(context.core, draft.id, _typed(update))
    except events.TextTooLong as error:
        await reply(update, t._(TEXT_LIMIT, max=t.number(error.limit)))
        return PLACE
    await reply(
        update,
        t._("To show the place on a map, send its location (📎, then Location). Or press Skip."),
        reply_markup=buttons([(t._("Skip"), "ev:n:nopin")], cancel_row(t)),
    )
    return PIN


@operators_only
async def sent_pin(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> str | int:
    draft = await events.draft(context.core, operator.id)
    if draft is None:
        return await _lost(update, t)
    assert update.message is not None and update.message.location is not None
    location = update.message.location
    await events.set_pin(context.core, draft.id, location.latitude, location.longitude)
    return await _ask_capacity(update, t)


@operators_only
async def pin_hint(update: Update, context: BotContext, operator: Resident, t: Translator) -> str:
    await reply(update, t._("Please send a location, or press Skip."))
    return PIN


@operators_only
async def skip_pin(update: Update, context: BotContext, operator: Resident, t: Translator) -> str:
    await _answer(update)
    await _remove_buttons(update)
    return await _ask_capacity(update, t)


async def _ask_capacity(update: Update, t: Translator) -> str:
    await reply(
        update,
        t._("How many places are there? Write a number, or press No limit."),
        reply_markup=buttons([(t._("No limit"), "ev:n:nocap")], cancel_row(t)),
    )
    return CAPACITY


@operators_only
async def wrote_capacity(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> str | int:
    draft = await events.draft(context.core, operator.id)
    if draft is None:
        return await _lost(update, t)
    written = _typed(update).strip()
    try:
        draft = await events.set_capacity(
            context.core, draft.id, int(written) if written.isdigit() else -1
        )
    except events.BadValue:
        await reply(update, t._("Please write a whole number, for example 40."))
        return CAPACITY
    return await _after_capacity(update, context, t, draft)


@operators_only
async def no_capacity(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> str | int:
    await _answer(update)
    draft = await events.draft(context.core, operator.id)
    if draft is None:
        return await _lost(update, t)
    await _remove_buttons(update)
    draft = await events.set_capacity(context.core, draft.id, None)
    return await _after_capacity(update, context, t, draft)


async def _after_capacity(update: Update, context: BotContext, t: Translator, draft: Event) -> str:
    if draft.kind == EventKind.ASSEMBLY:
        await reply(
            update,
            t._("Write the agenda, one item per line. Residents can propose more topics."),
            reply_markup=buttons(cancel_row(t)),
        )
        return AGENDA
    return await _ask_audience(update, t)


@operators_only
async def wrote_agenda(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> str | int:
    draft = await events.draft(context.core, operator.id)
    if draft is None:
        return await _lost(update, t)
    try:
        await events.set_agenda(context.core, draft.id, _typed(update))
    except (events.EmptyText, events.TextTooLong):
        await reply(
            update,
            t._(
                "Please write one item per line: at most {n} items, each at most {max} characters.",
                n=t.number(events.MAX_AGENDA_ITEMS),
                max=t.number(events.MAX_AGENDA_ITEM),
            ),
        )
        return AGENDA
    return await _ask_audience(update, t)


async def _ask_audience(update: Update, t: Translator) -> str:
    rows = [[(t._(s.label), f"ev:n:aud:{s.name}")] for s in audiences.SEGMENTS.values()]
    await reply(update, t._("Who is invited?"), reply_markup=buttons(*rows, cancel_row(t)))
    return AUDIENCE


@operators_only
async def chose_segment(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> str | int | None:
    await _answer(update)
    segment = audiences.SEGMENTS.get(callback_parts(update)[3])
    if segment is None:
        return None
    if segment.options is None:
        return await _set_audience(update, context, operator, t, segment.name)
    choices = await audiences.options(context.core, segment.name, t)
    if not choices:
        await reply(update, t._("Nobody to choose from yet in this group."))
        return AUDIENCE
    rows = [[(label, f"ev:n:opt:{segment.name}:{value}")] for value, label in choices]
    await edit(update, t._(segment.label))
    await reply(update, t._("Choose:"), reply_markup=buttons(*rows, cancel_row(t)))
    return OPTION


@operators_only
async def chose_option(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> str | int | None:
    await _answer(update)
    _, _, _, name, value = [*callback_parts(update), ""][:5]
    return await _set_audience(update, context, operator, t, f"{name}:{value}")


async def _set_audience(
    update: Update, context: BotContext, operator: Resident, t: Translator, audience: str
) -> str | int | None:
    draft = await events.draft(context.core, operator.id)
    if draft is None:
        return await _lost(update, t)
    try:
        draft = await events.set_audience(context.core, draft.id, audience)
    except audiences.UnknownAudience:
        return None
    await _remove_buttons(update)
    return await _preview(update, context, t, draft)


async def _preview(update: Update, context: BotContext, t: Translator, draft: Event) -> str:
    core = context.core
    reach = await audiences.reach(core, draft.audience, urgent=False)
    versions = ", ".join(core.catalogs.native_name(code) for code in sorted(draft.titles))
    lines = [
        t._("<b>Preview of the invitation</b>"),
        t._("Audience: {audience}", audience=await audiences.describe(core, draft.audience, t)),
        t._("Recipients: {n}", n=t.number(reach.total)),
        t._("Languages written: {languages}", languages=versions),
        "",
        event_notices.card(t, draft, core.catalogs.default),
    ]
    rows = [[(t._("➕ Add a translation"), "ev:n:add")]]
    if reach.total:
        rows.append([(t._("✅ Publish and invite ({n})", n=t.number(reach.total)), "ev:n:pub")])
    else:
        lines.append(t._("Nobody in this audience can receive it now."))
    await reply(update, "\n".join(lines), reply_markup=buttons(*rows, cancel_row(t)))
    return PREVIEW


@operators_only
async def add_translation(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> str:
    await _answer(update)
    catalogs = context.core.catalogs
    choices = [code for code in catalogs.locales if code != catalogs.default]
    rows = [
        [(catalogs.native_name(code), f"ev:n:lang:{code}") for code in choices[i : i + 2]]
        for i in range(0, len(choices), 2)
    ]
    await reply(update, t._("Which language?"), reply_markup=buttons(*rows, cancel_row(t)))
    return LANGUAGE


@operators_only
async def chose_language(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> str | int | None:
    await _answer(update)
    draft = await events.draft(context.core, operator.id)
    if draft is None:
        return await _lost(update, t)
    locale = callback_parts(update)[3]
    try:
        await events.start_version(context.core, draft.id, locale)
    except events.BadValue:
        return None
    await edit(
        update,
        t._(
            "Write the title in {language} on the first line, and the description below it.",
            language=context.core.catalogs.native_name(locale),
        ),
    )
    return VERSION


@operators_only
async def wrote_version(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> str | int:
    draft = await events.draft(context.core, operator.id)
    if draft is None:
        return await _lost(update, t)
    try:
        draft = await events.set_version(context.core, draft.id, _typed(update))
    except events.TextTooLong as error:
        await reply(update, t._(TEXT_LIMIT, max=t.number(error.limit)))
        return VERSION
    return await _preview(update, context, t, draft)


@operators_only
async def publish(update: Update, context: BotContext, operator: Resident, t: Translator) -> int:
    draft = await events.draft(context.core, operator.id)
    if draft is None:
        return await _lost(update, t)
    try:
        invited = await events.publish(context.core, draft.id)
    except events.NotInFuture:
        await _answer(update)
        await reply(update, t._("The start time has passed meanwhile. Send /newevent again."))
        return END
    sender = getattr(context.application, "sender", None)
    if sender is not None:
        sender.wake()
    await _answer(update)
    await _remove_buttons(update)
    await reply(
        update,
        t.n_(
            "Published: {n} resident is invited. /events shows the answers.",
            "Published: {n} residents are invited. /events shows the answers.",
            invited,
        ),
    )
    return END


@operators_only
async def cancel(update: Update, context: BotContext, operator: Resident, t: Translator) -> int:
    await _answer(update)
    await events.drop_draft(context.core, operator.id)
    await _remove_buttons(update)
    await reply(update, t._("Cancelled. Nothing was sent."))
    return END


# -- /events for operators --------------------------------------------------------------------


def _figures(t: Translator, found: events.Figures) -> str:
    text = t._(
        "Yes: {yes} · Maybe: {maybe} · No: {no} · No answer: {none}",
        yes=t.number(found.yes),
        maybe=t.number(found.maybe),
        no=t.number(found.no),
        none=t.number(found.unanswered),
    )
    if found.waiting:
        text += "\n" + t._("Waiting list: {n}", n=t.number(found.waiting))
    if found.attended:
        text += "\n" + t._("Came: {n}", n=t.number(found.attended))
    return text


def _headline(context: BotContext, t: Translator, item: events.Summary) -> str:
    event = item.event
    assert event.starts_at is not None
    line = t._(
        "#{id} · {date} · {title}",
        id=event.id,
        date=t.datetime(event.starts_at, "short"),
        title=event_notices.title(event, t, context.core.catalogs.default),
    )
    if event.status == EventStatus.CANCELLED:
        line = "🚫 " + line
    return line + "\n" + _figures(t, item.figures)


async def overview(update: Update, context: BotContext, operator: Resident, t: Translator) -> None:
    upcoming, past = await events.overview(context.core)
    if not upcoming and not past:
        await reply(update, t._("No events yet. Send /newevent to create one."))
        return
    lines, rows = [], []
    for heading, items in (
        (t._("<b>Upcoming events</b>"), upcoming),
        (t._("<b>Past events</b>"), past),
    ):
        if items:
            lines += [heading] + [_headline(context, t, item) for item in items] + [""]
            rows += [[(t._("Open #{id}", id=i.event.id), f"ev:open:{i.event.id}")] for i in items]
    await reply(update, "\n".join(lines).strip(), reply_markup=buttons(*rows))


GROUPS = (
    (N_("<b>Yes</b>"), lambda i: i.answer == Answer.YES and not i.waiting),
    (N_("<b>Waiting list</b>"), lambda i: i.waiting),
    (N_("<b>Maybe</b>"), lambda i: i.answer == Answer.MAYBE),
    (N_("<b>No</b>"), lambda i: i.answer == Answer.NO),
)


@operators_only
async def open_one(update: Update, context: BotContext, operator: Resident, t: Translator) -> None:
    await _answer(update)
    core = context.core
    found = await events.detail(core, int(callback_parts(update)[2]))
    if found is None:
        await reply(update, t._("This event does not exist."))
        return
    event = found.event
    lines = [event_notices.card(t, event, core.catalogs.default), "", _figures(t, found.figures)]
    for label, member in GROUPS:
        names = [r.name or t._("(no name)") for r, i in found.people if member(i)]
        if names:
            shown = ", ".join(names[:NAMES_SHOWN])
            more = len(names) - NAMES_SHOWN
            lines.append(t._(label) + ": " + shown + (f" (+{more})" if more > 0 else ""))
    rows = []
    assert event.starts_at is not None
    if event.status == EventStatus.CANCELLED:
        lines.append(t._("🚫 This event was cancelled."))
    elif event.starts_at > core.clock.now():
        rows.append(
            [
                (t._("✏️ Change time"), f"ev:edit:{event.id}:time"),
                (t._("✏️ Change place"), f"ev:edit:{event.id}:place"),
            ]
        )
        rows.append([(t._("🚫 Cancel the event"), f"ev:cancel:{event.id}")])
    else:
        rows.append([(t._("📋 Attendance"), f"ev:att:{event.id}")])
    waiting = await event_proposals.pending(core, event.id)
    if waiting:
        label = t._("💡 Proposals to decide ({n})", n=t.number(len(waiting)))
        rows.append([(label, f"ev:props:{event.id}")])
    # Names of residents: a long list is cut above, and the text never goes to the logs.
    await reply(update, "\n".join(lines), reply_markup=buttons(*rows) if rows else None)


@operators_only
async def ask_cancel(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> None:
    await _answer(update)
    event_id = int(callback_parts(update)[2])
    await reply(
        update,
        t._("Cancel event #{id}? Those who answered Yes or Maybe will be told.", id=event_id),
        reply_markup=buttons([(t._("🚫 Yes, cancel it"), f"ev:cxl:{event_id}")]),
    )


@operators_only
async def confirm_cancel(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> None:
    event_id = int(callback_parts(update)[2])
    try:
        await events.cancel(context.core, event_id)
    except (events.UnknownEvent, events.NotEditable):
        await _answer(update, t._("This event can no longer be changed."))
        return
    await _answer(update)
    await _remove_buttons(update)
    _wake(context)
    await reply(
        update,
        t._("Event #{id} is cancelled. Those who answered Yes or Maybe will be told.", id=event_id),
    )


def _wake(context: BotContext) -> None:
    sender = getattr(context.application, "sender", None)
    if sender is not None:
        sender.wake()


# -- changing the time or the place ------------------------------------------------------------


@operators_only
async def begin_edit(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> str | None:
    _, _, event_id, what = callback_parts(update)
    try:
        await events.begin_edit(context.core, int(event_id), operator.id, what)
    except (events.UnknownEvent, events.NotEditable, events.BadValue):
        await _answer(update, t._("This event can no longer be changed."))
        return None
    await _answer(update)
    prompt = (
        t._("Write the new date and time, for example 12/03 18:30.")
        if what == "time"
        else t._("Write the new place.")
    )
    await reply(update, prompt, reply_markup=buttons([(t._("❌ Cancel"), "ev:editstop")]))
    return EDIT


@operators_only
async def wrote_edit(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> str | int:
    core = context.core
    event = await events.editing(core, operator.id)
    if event is None:
        return END
    try:
        if event.editing_field == "time":
            when = parse_local(_typed(update), core.clock.now(), core.settings.tz)
            if when is None:
                await reply(update, t._(DATE_HINT))
                return EDIT
            await events.move(core, event.id, when)
        else:
            await events.change_place(core, event.id, _typed(update))
    except events.NotInFuture:
        await reply(update, t._(PASSED))
        return EDIT
    except events.TextTooLong as error:
        await reply(update, t._(TEXT_LIMIT, max=t.number(error.limit)))
        return EDIT
    except (events.UnknownEvent, events.NotEditable):
        await events.stop_editing(core, operator.id)
        await reply(update, t._("This event can no longer be changed."))
        return END
    _wake(context)
    await reply(update, t._("Saved. Those who answered Yes or Maybe will be told."))
    return END


@operators_only
async def stop_edit(update: Update, context: BotContext, operator: Resident, t: Translator) -> int:
    await _answer(update)
    await events.stop_editing(context.core, operator.id)
    await _remove_buttons(update)
    await reply(update, t._("Nothing was changed."))
    return END


# -- attendance -----------------------------------------------------------------------------


def _attendance_view(t: Translator, found: events.Detail) -> tuple[str, object]:
    event = found.event
    text = t._(
        "<b>Attendance</b> for #{id}: tap the names of those who came.\nCame: {n}",
        id=event.id,
        n=t.number(found.figures.attended),
    )
    rows = [
        [
            (
                ("✅ " if invitation.attended else "⬜ ") + (resident.name or t._("(no name)")),
                f"ev:tick:{event.id}:{resident.id}",
            )
        ]
        for resident, invitation in found.people[:ATTENDANCE_SHOWN]
    ]
    if not rows:
        text += "\n" + t._("Nobody answered Yes or Maybe.")
    return text, buttons(*rows) if rows else None


@operators_only
async def attendance(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> None:
    try:
        found = await events.attendance(context.core, int(callback_parts(update)[2]))
    except (events.UnknownEvent, events.NotStarted):
        await _answer(update, t._(INACTIVE))
        return
    await _answer(update)
    text, markup = _attendance_view(t, found)
    await reply(update, text, reply_markup=markup)


@operators_only
async def tick(update: Update, context: BotContext, operator: Resident, t: Translator) -> None:
    _, _, event_id, resident_id = callback_parts(update)
    try:
        await events.toggle_attendance(context.core, int(event_id), int(resident_id))
        found = await events.attendance(context.core, int(event_id))
    except (events.UnknownEvent, events.NotStarted):
        await _answer(update, t._(INACTIVE))
        return
    await _answer(update)
    text, markup = _attendance_view(t, found)
    assert update.callback_query is not None
    await update.callback_query.edit_message_text(
        text, parse_mode=ParseMode.HTML, reply_markup=markup
    )


# -- agenda proposals -------------------------------------------------------------------------


@operators_only
async def proposals(update: Update, context: BotContext, operator: Resident, t: Translator) -> None:
    await _answer(update)
    for proposal in await event_proposals.pending(context.core, int(callback_parts(update)[2])):
        await reply(
            update,
            t._("💡 Proposed topic: {text}", text=proposal.text or ""),
            reply_markup=buttons(
                [
                    (t._("✅ Add to the agenda"), f"ev:pa:{proposal.id}"),
                    (t._("❌ Decline"), f"ev:pd:{proposal.id}"),
                ]
            ),
        )


@operators_only
async def decide(update: Update, context: BotContext, operator: Resident, t: Translator) -> None:
    _, action, proposal_id = callback_parts(update)
    try:
        proposal = await event_proposals.decide(context.core, int(proposal_id), action == "pa")
    except event_proposals.AlreadyDecided:
        await _answer(update, t._("This proposal was already decided."))
        return
    await _answer(update)
    _wake(context)
    outcome = (
        t._("✅ Added to the agenda: {text}", text=proposal.text or "")
        if action == "pa"
        else t._("Declined: {text}", text=proposal.text or "")
    )
    await edit(update, outcome)


def handlers() -> list[BaseHandler[Update, BotContext, object]]:
    def on(pattern: str, callback: object) -> CallbackQueryHandler[BotContext, object]:
        return CallbackQueryHandler(callback, pattern=f"^ev:{pattern}$")  # type: ignore[arg-type]

    new_event = ConversationHandler(
        entry_points=[CommandHandler("newevent", begin, filters=PRIVATE)],
        states={
            KIND: [on("n:kind:(social|assembly)", chose_kind)],
            TITLE: [MessageHandler(TYPED, wrote_title)],
            DESCRIPTION: [MessageHandler(TYPED, wrote_description)],
            DAY: [on(r"n:day:[\d-]+", picked_day), MessageHandler(TYPED, wrote_when)],
            TIME: [MessageHandler(TYPED, wrote_time)],
            DURATION: [on(r"n:dur:\d+", chose_duration)],
            PLACE: [MessageHandler(TYPED, wrote_place)],
            PIN: [
                MessageHandler(PRIVATE & filters.LOCATION, sent_pin),
                on("n:nopin", skip_pin),
                MessageHandler(TYPED, pin_hint),
            ],
            CAPACITY: [on("n:nocap", no_capacity), MessageHandler(TYPED, wrote_capacity)],
            AGENDA: [MessageHandler(TYPED, wrote_agenda)],
            AUDIENCE: [on(r"n:aud:\w+", chose_segment)],
            OPTION: [on(r"n:opt:\w+:[^:]+", chose_option)],
            PREVIEW: [on("n:add", add_translation), on("n:pub", publish)],
            LANGUAGE: [on(r"n:lang:[\w-]+", chose_language)],
            VERSION: [MessageHandler(TYPED, wrote_version)],
        },
        fallbacks=[on("n:cancel", cancel), CommandHandler("cancel", cancel, filters=PRIVATE)],
        name="newevent",
        persistent=True,
        allow_reentry=True,
    )
    edit_event = ConversationHandler(
        entry_points=[on(r"edit:\d+:(time|place)", begin_edit)],
        states={EDIT: [MessageHandler(TYPED, wrote_edit)]},
        fallbacks=[on("editstop", stop_edit), CommandHandler("cancel", stop_edit, filters=PRIVATE)],
        name="event_edit",
        persistent=True,
        allow_reentry=True,
    )
    return [
        new_event,
        edit_event,
        on(r"open:\d+", open_one),
        on(r"cancel:\d+", ask_cancel),
        on(r"cxl:\d+", confirm_cancel),
        on(r"att:\d+", attendance),
        on(r"tick:\d+:\d+", tick),
        on(r"props:\d+", proposals),
        on(r"p[ad]:\d+", decide),
    ]
