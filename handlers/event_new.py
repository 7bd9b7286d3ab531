"""/newevent: an operator writes a social event or a tenant assembly and invites an audience.
Operators only, checked in the database on every step; the draft lives in the database, so a
restart resumes the conversation where it was.

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
"""

from __future__ import annotations

from datetime import date, timedelta

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.i18n import N_, Translator
from bot.models import Event, EventKind, Resident
from bot.services import audiences, event_drafts, event_notices, events
from bot.timeparse import parse_local, parse_time
from handlers.common import (
    QUIET_TIME,
    BotContext,
    Conversation,
    answer_query,
    buttons,
    callback_parts,
    cancel_row,
    edit,
    language_rows,
    operators_only,
    remove_buttons,
    reply,
    typed,
)
from handlers.event_admin import DATE_HINT, PASSED, TEXT_LIMIT, wake_sender

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
END = ConversationHandler.END
PRIVATE = filters.ChatType.PRIVATE
TYPED = PRIVATE & filters.TEXT & ~filters.COMMAND
DAYS_OFFERED = 7


async def _lost(update: Update, t: Translator) -> int:
    """The draft is gone (published from another chat, or dropped): start again."""
    await answer_query(update)
    await reply(update, t._("This event is no longer a draft. Send /newevent to start again."))
    return END


@operators_only
async def begin(update: Update, context: BotContext, operator: Resident, t: Translator) -> str:
    rows = [
        [(t._("🎉 Social event"), "ev:n:kind:social")],
        [(t._("🏛 Tenant assembly"), "ev:n:kind:assembly")],
        cancel_row(t, "ev:n"),
    ]
    await reply(update, t._("What are you organising?"), reply_markup=buttons(*rows))
    return KIND


@operators_only
async def chose_kind(update: Update, context: BotContext, operator: Resident, t: Translator) -> str:
    await answer_query(update)
    kind = EventKind(callback_parts(update)[3])
    await event_drafts.new_draft(context.core, operator.id, kind)
    await edit(update, t._(event_notices.KINDS[kind]))
    await reply(
        update,
        t._("Write the title in Italian (at most {max} characters).", max=events.MAX_TITLE),
        reply_markup=buttons(cancel_row(t, "ev:n")),
    )
    return TITLE


@operators_only
async def wrote_title(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> str | int:
    draft = await event_drafts.draft(context.core, operator.id)
    if draft is None:
        return await _lost(update, t)
    try:
        await event_drafts.set_title(context.core, draft.id, typed(update))
    except events.TextTooLong as error:
        await reply(update, t._(TEXT_LIMIT, max=t.number(error.limit)))
        return TITLE
    await reply(
        update,
        t._("Now a short description in Italian: what happens, who it is for."),
        reply_markup=buttons(cancel_row(t, "ev:n")),
    )
    return DESCRIPTION


@operators_only
async def wrote_description(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> str | int:
    draft = await event_drafts.draft(context.core, operator.id)
    if draft is None:
        return await _lost(update, t)
    try:
        await event_drafts.set_description(context.core, draft.id, typed(update))
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
        reply_markup=buttons(*rows, cancel_row(t, "ev:n")),
    )
    return DAY


@operators_only
async def wrote_when(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> str | int:
    core = context.core
    draft = await event_drafts.draft(core, operator.id)
    if draft is None:
        return await _lost(update, t)
    when = parse_local(typed(update), core.clock.now(), core.settings.tz)
    if when is None:
        await reply(update, t._(DATE_HINT))
        return DAY
    try:
        await event_drafts.set_start(core, draft.id, when)
    except events.NotInFuture:
        await reply(update, t._(PASSED))
        return DAY
    return await _ask_duration(update, t)


@operators_only
async def picked_day(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> str | int | None:
    await answer_query(update)
    draft = await event_drafts.draft(context.core, operator.id)
    if draft is None:
        return await _lost(update, t)
    try:
        day = date.fromisoformat(callback_parts(update)[3])
        await event_drafts.pick_day(context.core, draft.id, day)
    except ValueError:
        return None
    except events.NotInFuture:  # a day button left from yesterday
        await reply(update, t._(PASSED))
        return None
    await edit(update, t.date(day, "full"))
    await reply(
        update, t._("At what time? For example 18:30."), reply_markup=buttons(cancel_row(t, "ev:n"))
    )
    return TIME


@operators_only
async def wrote_time(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> str | int:
    draft = await event_drafts.draft(context.core, operator.id)
    if draft is None:
        return await _lost(update, t)
    clock = parse_time(typed(update))
    if clock is None:
        await reply(update, t._("Write the time like this: 18:30."))
        return TIME
    try:
        await event_drafts.set_time_of_day(context.core, draft.id, clock)
    except events.NotInFuture:
        await reply(update, t._(PASSED))
        return TIME
    return await _ask_duration(update, t)


async def _ask_duration(update: Update, t: Translator) -> str:
    row = [(event_notices.duration(t, m), f"ev:n:dur:{m}") for m in events.DURATIONS]
    await reply(
        update, t._("How long will it last?"), reply_markup=buttons(row, cancel_row(t, "ev:n"))
    )
    return DURATION


@operators_only
async def chose_duration(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> str | int | None:
    await answer_query(update)
    draft = await event_drafts.draft(context.core, operator.id)
    if draft is None:
        return await _lost(update, t)
    minutes = int(callback_parts(update)[3])
    try:
        await event_drafts.set_duration(context.core, draft.id, minutes)
    except events.BadValue:
        return None
    await edit(update, event_notices.duration(t, minutes))
    await reply(
        update,
        t._("Where? Write the place, for example: Courtyard of building A."),
        reply_markup=buttons(cancel_row(t, "ev:n")),
    )
    return PLACE


@operators_only
async def wrote_place(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> str | int:
    draft = await event_drafts.draft(context.core, operator.id)
    if draft is None:
        return await _lost(update, t)
    try:
        await event_drafts.set_place(context.core, draft.id, typed(update))
    except events.TextTooLong as error:
        await reply(update, t._(TEXT_LIMIT, max=t.number(error.limit)))
        return PLACE
    await reply(
        update,
        t._("To show the place on a map, send its location (📎, then Location). Or press Skip."),
        reply_markup=buttons([(t._("Skip"), "ev:n:nopin")], cancel_row(t, "ev:n")),
    )
    return PIN


@operators_only
async def sent_pin(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> str | int:
    draft = await event_drafts.draft(context.core, operator.id)
    if draft is None:
        return await _lost(update, t)
    assert update.message is not None and update.message.location is not None
    location = update.message.location
    await event_drafts.set_pin(context.core, draft.id, location.latitude, location.longitude)
    return await _ask_capacity(update, t)


@operators_only
async def pin_hint(update: Update, context: BotContext, operator: Resident, t: Translator) -> str:
    await reply(update, t._("Please send a location, or press Skip."))
    return PIN


@operators_only
async def skip_pin(update: Update, context: BotContext, operator: Resident, t: Translator) -> str:
    await answer_query(update)
    await remove_buttons(update)
    return await _ask_capacity(update, t)


async def _ask_capacity(update: Update, t: Translator) -> str:
    await reply(
        update,
        t._("How many places are there? Write a number, or press No limit."),
        reply_markup=buttons([(t._("No limit"), "ev:n:nocap")], cancel_row(t, "ev:n")),
    )
    return CAPACITY


@operators_only
async def wrote_capacity(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> str | int:
    draft = await event_drafts.draft(context.core, operator.id)
    if draft is None:
        return await _lost(update, t)
    written = typed(update).strip()
    try:
        draft = await event_drafts.set_capacity(
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
    await answer_query(update)
    draft = await event_drafts.draft(context.core, operator.id)
    if draft is None:
        return await _lost(update, t)
    await remove_buttons(update)
    draft = await event_drafts.set_capacity(context.core, draft.id, None)
    return await _after_capacity(update, context, t, draft)


async def _after_capacity(update: Update, context: BotContext, t: Translator, draft: Event) -> str:
    if draft.kind == EventKind.ASSEMBLY:
        await reply(
            update,
            t._("Write the agenda, one item per line. Residents can propose more topics."),
            reply_markup=buttons(cancel_row(t, "ev:n")),
        )
        return AGENDA
    return await _ask_audience(update, t)


@operators_only
async def wrote_agenda(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> str | int:
    draft = await event_drafts.draft(context.core, operator.id)
    if draft is None:
        return await _lost(update, t)
    try:
        await event_drafts.set_agenda(context.core, draft.id, typed(update))
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
    await reply(update, t._("Who is invited?"), reply_markup=buttons(*rows, cancel_row(t, "ev:n")))
    return AUDIENCE


@operators_only
async def chose_segment(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> str | int | None:
    await answer_query(update)
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
    await reply(update, t._("Choose:"), reply_markup=buttons(*rows, cancel_row(t, "ev:n")))
    return OPTION


@operators_only
async def chose_option(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> str | int | None:
    await answer_query(update)
    _, _, _, name, value = [*callback_parts(update), ""][:5]
    return await _set_audience(update, context, operator, t, f"{name}:{value}")


async def _set_audience(
    update: Update, context: BotContext, operator: Resident, t: Translator, audience: str
) -> str | int | None:
    draft = await event_drafts.draft(context.core, operator.id)
    if draft is None:
        return await _lost(update, t)
    try:
        draft = await event_drafts.set_audience(context.core, draft.id, audience)
    except audiences.UnknownAudience:
        return None
    await remove_buttons(update)
    return await _preview(update, context, t, draft)


TOO_LATE = N_(
    "⚠️ It is quiet time: invitations would go out at {time}, after the event has started, so "
    "nobody would get them. Choose a later start, or publish after {time}."
)


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
    held, too_late = event_drafts.invitations_held(core, draft)
    if held is not None:
        lines.append(t._(TOO_LATE if too_late else QUIET_TIME, time=t.time(held)))
    rows = [[(t._("➕ Add a translation"), "ev:n:add")]]
    if reach.total:
        rows.append([(t._("✅ Publish and invite ({n})", n=t.number(reach.total)), "ev:n:pub")])
    else:
        lines.append(t._("Nobody in this audience can receive it now."))
    await reply(update, "\n".join(lines), reply_markup=buttons(*rows, cancel_row(t, "ev:n")))
    return PREVIEW


@operators_only
async def add_translation(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> str:
    await answer_query(update)
    catalogs = context.core.catalogs
    rows = language_rows(catalogs, "ev:n:lang")
    await reply(update, t._("Which language?"), reply_markup=buttons(*rows, cancel_row(t, "ev:n")))
    return LANGUAGE


@operators_only
async def chose_language(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> str | int | None:
    await answer_query(update)
    draft = await event_drafts.draft(context.core, operator.id)
    if draft is None:
        return await _lost(update, t)
    locale = callback_parts(update)[3]
    try:
        await event_drafts.start_version(context.core, draft.id, locale)
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
    draft = await event_drafts.draft(context.core, operator.id)
    if draft is None:
        return await _lost(update, t)
    try:
        draft = await event_drafts.set_version(context.core, draft.id, typed(update))
    except events.TextTooLong as error:
        await reply(update, t._(TEXT_LIMIT, max=t.number(error.limit)))
        return VERSION
    return await _preview(update, context, t, draft)


@operators_only
async def publish(update: Update, context: BotContext, operator: Resident, t: Translator) -> int:
    draft = await event_drafts.draft(context.core, operator.id)
    if draft is None:
        return await _lost(update, t)
    try:
        invited = await event_drafts.publish(context.core, draft.id, operator.id)
    except events.NotInFuture:
        await answer_query(update)
        await reply(update, t._("The start time has passed meanwhile. Send /newevent again."))
        return END
    except events.NotADraft:  # published from another chat meanwhile
        return await _lost(update, t)
    wake_sender(context)
    await answer_query(update)
    await remove_buttons(update)
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
    await answer_query(update)
    await event_drafts.drop_draft(context.core, operator.id)
    await remove_buttons(update)
    await reply(update, t._("Cancelled. Nothing was sent."))
    return END


def handlers() -> list[BaseHandler[Update, BotContext, object]]:
    def on(pattern: str, callback: object) -> CallbackQueryHandler[BotContext, object]:
        return CallbackQueryHandler(callback, pattern=f"^ev:{pattern}$")  # type: ignore[arg-type]

    return [
        Conversation(
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
    ]
