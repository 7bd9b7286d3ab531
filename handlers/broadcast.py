"""Operator broadcasts: /broadcast writes a notice and sends it (now or later); /broadcasts
lists them with their figures and who was not reached. Operators only, checked on every step.

```mermaid
stateDiagram-v2
    [*] --> AUDIENCE: /broadcast
    AUDIENCE --> OPTION: segment with choices (language, building, role...)
    AUDIENCE --> TEXT: segment without
    OPTION --> TEXT: choice
    TEXT --> PREVIEW: Italian text
    PREVIEW --> LANGUAGE: Add a translation
    LANGUAGE --> VERSION: language
    VERSION --> PREVIEW: text
    PREVIEW --> PREVIEW: urgent on / off
    PREVIEW --> WHEN: Send later
    WHEN --> [*]: date and time (scheduled)
    PREVIEW --> [*]: Send now (progress message, then report)
    AUDIENCE --> [*]: Cancel (from any step, or /cancel)
```
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.delivery import outbox
from bot.i18n import Translator
from bot.models import Broadcast, BroadcastStatus, Resident
from bot.services import audiences, broadcasts
from bot.timeparse import parse_local
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
    wake_sender,
)

AUDIENCE, OPTION, TEXT, PREVIEW, LANGUAGE, VERSION, WHEN = (
    f"broadcast:{step}"
    for step in ("audience", "option", "text", "preview", "language", "version", "when")
)
END = ConversationHandler.END
PRIVATE = filters.ChatType.PRIVATE
TYPED = PRIVATE & filters.TEXT & ~filters.COMMAND


@operators_only
async def begin(update: Update, context: BotContext, operator: Resident, t: Translator) -> str:
    rows = [[(t._(s.label), f"bc:aud:{s.name}")] for s in audiences.SEGMENTS.values()]
    await reply(
        update, t._("Who is the notice for?"), reply_markup=buttons(*rows, cancel_row(t, "bc"))
    )
    return AUDIENCE


@operators_only
async def chose_segment(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> str | None:
    await answer_query(update)
    segment = audiences.SEGMENTS.get(callback_parts(update)[2])
    if segment is None:
        return None
    if segment.options is None:
        return await _new_draft(update, context, operator, t, segment.name)
    choices = await audiences.options(context.core, segment.name, t)
    if not choices:
        await edit(update, t._("Nobody to choose from yet in this group."))
        return END
    rows = [[(label, f"bc:opt:{segment.name}:{value}")] for value, label in choices]
    await edit(update, t._(segment.label))
    await reply(update, t._("Choose:"), reply_markup=buttons(*rows, cancel_row(t, "bc")))
    return OPTION


@operators_only
async def chose_option(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> str | None:
    await answer_query(update)
    _, _, name, value = [*callback_parts(update), ""][:4]
    return await _new_draft(update, context, operator, t, f"{name}:{value}")


async def _new_draft(
    update: Update, context: BotContext, operator: Resident, t: Translator, audience: str
) -> str | None:
    try:
        await broadcasts.new_draft(context.core, operator.id, audience)
    except audiences.UnknownAudience:
        return None
    described = await audiences.describe(context.core, audience, t)
    await edit(update, t._("Audience: {audience}", audience=described))
    await reply(
        update,
        t._(
            "Write the notice in Italian, as residents should read it. You can add "
            "translations afterwards; residents without one get the Italian text."
        ),
        reply_markup=buttons(cancel_row(t, "bc")),
    )
    return TEXT


@operators_only
async def wrote_text(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> str | int:
    draft = await broadcasts.draft(context.core, operator.id)
    message = update.message
    assert message is not None and message.text is not None
    if draft is None:
        return await _lost(update, t)
    try:
        draft = await broadcasts.set_text(context.core, draft.id, message.text_html, message.text)
    except broadcasts.EmptyText:
        await reply(update, t._("Please write the text of the notice."))
        return VERSION if draft.draft_locale else TEXT
    except broadcasts.TextTooLong:
        await reply(
            update,
            t._(
                "The text is too long: at most {max} characters. Please shorten it and send it "
                "again.",
                max=t.number(broadcasts.MAX_TEXT),
            ),
        )
        return VERSION if draft.draft_locale else TEXT
    return await _preview(update, context, t, draft)


async def _preview(update: Update, context: BotContext, t: Translator, draft: Broadcast) -> str:
    core = context.core
    reach = await audiences.reach(core, draft.audience, draft.urgent)
    lines = [
        t._("<b>Preview of the notice</b>"),
        t._("Audience: {audience}", audience=await audiences.describe(core, draft.audience, t)),
        t._("Recipients: {n}", n=t.number(reach.total)),
    ]
    lines += [
        t._("· {language}: {n}", language=core.catalogs.native_name(code), n=t.number(count))
        for code, count in sorted(reach.by_locale.items())
    ]
    if reach.opted_out:
        lines.append(t._("Turned notices off (will not get it): {n}", n=t.number(reach.opted_out)))
    if reach.unreachable:
        lines.append(t._("Blocked the bot (will not get it): {n}", n=t.number(reach.unreachable)))
    versions = ", ".join(core.catalogs.native_name(code) for code in sorted(draft.texts))
    lines.append(t._("Languages written: {languages}", languages=versions))
    if draft.urgent:
        lines.append(t._("⚠️ Urgent: sent at night too, and to those who turned notices off."))
    lines.append("")
    lines.append(draft.texts.get(core.catalogs.default, ""))
    urgent_label = t._("Not urgent") if draft.urgent else t._("⚠️ Mark as urgent")
    rows = [[(t._("➕ Add a translation"), "bc:add"), (urgent_label, "bc:urgent")]]
    if reach.total:
        rows.append(
            [
                (t._("✅ Send now ({n})", n=t.number(reach.total)), "bc:send"),
                (t._("🕒 Send later"), "bc:later"),
            ]
        )
    else:
        lines.append(t._("Nobody in this audience can receive it now."))
    await reply(update, "\n".join(lines), reply_markup=buttons(*rows, cancel_row(t, "bc")))
    return PREVIEW


@operators_only
async def add_translation(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> str:
    await answer_query(update)
    catalogs = context.core.catalogs
    rows = language_rows(catalogs, "bc:lang")
    await reply(update, t._("Which language?"), reply_markup=buttons(*rows, cancel_row(t, "bc")))
    return LANGUAGE


@operators_only
async def chose_language(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> str | int | None:
    await answer_query(update)
    draft = await broadcasts.draft(context.core, operator.id)
    if draft is None:
        return await _lost(update, t)
    locale = callback_parts(update)[2]
    try:
        await broadcasts.start_version(context.core, draft.id, locale)
    except broadcasts.NotADraft:
        return None
    language = context.core.catalogs.native_name(locale)
    await edit(update, t._("Write the notice in {language}.", language=language))
    return VERSION


@operators_only
async def toggle_urgent(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> str | int:
    await answer_query(update)
    draft = await broadcasts.draft(context.core, operator.id)
    if draft is None:
        return await _lost(update, t)
    draft = await broadcasts.set_urgent(context.core, draft.id, not draft.urgent)
    await remove_buttons(update)
    return await _preview(update, context, t, draft)


@operators_only
async def send_now(update: Update, context: BotContext, operator: Resident, t: Translator) -> int:
    draft = await broadcasts.draft(context.core, operator.id)
    if draft is None:
        return await _lost(update, t)
    await broadcasts.send_now(context.core, draft.id)
    wake_sender(context)
    await answer_query(update, t._("Sending…"))
    await remove_buttons(update)
    held = outbox.held_until(context.core.settings, context.core.clock.now())
    if not draft.urgent and held is not None:
        await reply(update, t._(QUIET_TIME, time=t.time(held)))
    return END


@operators_only
async def ask_when(update: Update, context: BotContext, operator: Resident, t: Translator) -> str:
    await answer_query(update)
    await remove_buttons(update)
    await reply(
        update,
        t._("When should it go out? Write the date and time, for example 25/12 18:30."),
        reply_markup=buttons(cancel_row(t, "bc")),
    )
    return WHEN


@operators_only
async def wrote_when(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> str | int:
    core = context.core
    assert update.message is not None and update.message.text is not None
    draft = await broadcasts.draft(core, operator.id)
    if draft is None:
        return await _lost(update, t)
    when = parse_local(update.message.text, core.clock.now(), core.settings.tz)
    if when is None:
        await reply(update, t._("I could not read that date. Write it like this: 25/12 18:30."))
        return WHEN
    try:
        await broadcasts.schedule(core, draft.id, when)
    except broadcasts.NotInFuture:
        await reply(update, t._("That time has already passed. Please write a later one."))
        return WHEN
    await reply(
        update,
        t._(
            "Notice #{id} will go out on {when}. /broadcasts lists it, and you can cancel it "
            "there.",
            id=draft.id,
            when=t.moment(when),
        ),
    )
    return END


@operators_only
async def cancel(update: Update, context: BotContext, operator: Resident, t: Translator) -> int:
    await answer_query(update)
    draft = await broadcasts.draft(context.core, operator.id)
    if draft is not None:
        await broadcasts.cancel(context.core, draft.id)
    await remove_buttons(update)
    await reply(update, t._("Cancelled. Nothing was sent."))
    return END


async def _lost(update: Update, t: Translator) -> int:
    """The draft is gone (sent from another chat, or dropped): start again."""
    await answer_query(update)
    await reply(
        update, t._("This notice is no longer a draft. Send /broadcast to write a new one.")
    )
    return END


# -- /broadcasts ------------------------------------------------------------------------------

STATUS = {
    BroadcastStatus.SCHEDULED: "🕒",
    BroadcastStatus.SENDING: "📤",
    BroadcastStatus.DONE: "✅",
    BroadcastStatus.CANCELLED: "🚫",
}


@operators_only
async def listing(update: Update, context: BotContext, operator: Resident, t: Translator) -> None:
    summaries = await broadcasts.recent(context.core)
    if not summaries:
        await reply(update, t._("No notices yet. Send /broadcast to write one."))
        return
    lines = [t._("<b>Recent notices</b>")]
    rows = []
    for item in summaries:
        lines.append(await _headline(context, t, item))
        rows.append([(t._("Open #{id}", id=item.broadcast.id), f"bc:open:{item.broadcast.id}")])
    await reply(update, "\n".join(lines), reply_markup=buttons(*rows))


async def _headline(context: BotContext, t: Translator, item: broadcasts.Summary) -> str:
    broadcast = item.broadcast
    audience = await audiences.describe(context.core, broadcast.audience, t)
    if broadcast.status == BroadcastStatus.SCHEDULED and broadcast.send_at is not None:
        state = t._("scheduled for {when}", when=t.datetime(broadcast.send_at, "short"))
    elif broadcast.status == BroadcastStatus.CANCELLED:
        state = t._("cancelled")
    else:
        state = t._(
            "{sent} of {total} reached",
            sent=t.number(item.counts["sent"]),
            total=t.number(item.total),
        )
    return t._(
        "{icon} #{id} · {date} · {audience} · {state}",
        icon=STATUS.get(broadcast.status, ""),
        id=broadcast.id,
        date=t.datetime(broadcast.send_at or broadcast.created_at, "short"),
        audience=audience,
        state=state,
    )


@operators_only
async def open_one(update: Update, context: BotContext, operator: Resident, t: Translator) -> None:
    await answer_query(update)
    broadcast_id = int(callback_parts(update)[2])
    item = await broadcasts.summary(context.core, broadcast_id)
    if item is None:
        await reply(update, t._("This notice does not exist."))
        return
    lines = [await _headline(context, t, item)]
    rows = []
    if item.broadcast.status == BroadcastStatus.SCHEDULED:
        rows.append([(t._("🗑 Cancel this notice"), f"bc:drop:{broadcast_id}")])
    elif item.total:
        lines.append(broadcasts.figures_text(t, item.counts))
        missed = await broadcasts.not_reached(context.core, broadcast_id)
        if missed:
            lines.append(t._("<b>Not reached</b> (to phone them):"))
        for resident, reason in missed[: broadcasts.NOT_REACHED_SHOWN]:
            lines.append(
                t._(
                    "· {name} {tenant} — {reason}",
                    name=resident.name or t._("(no name)"),
                    tenant=resident.tenant_code or "",
                    reason=broadcasts.reason_text(t, reason),
                )
            )
        if len(missed) > broadcasts.NOT_REACHED_SHOWN:
            more = len(missed) - broadcasts.NOT_REACHED_SHOWN
            lines.append(t._("…and {n} more.", n=t.number(more)))
    await reply(update, "\n".join(lines), reply_markup=buttons(*rows) if rows else None)


@operators_only
async def drop(update: Update, context: BotContext, operator: Resident, t: Translator) -> None:
    await answer_query(update)
    broadcast_id = int(callback_parts(update)[2])
    try:
        await broadcasts.cancel(context.core, broadcast_id)
    except broadcasts.NotCancellable:
        await reply(update, t._("This notice can no longer be cancelled: it is being sent."))
        return
    await remove_buttons(update)
    await reply(update, t._("Notice #{id} is cancelled. Nothing was sent.", id=broadcast_id))


def handlers() -> list[BaseHandler[Update, BotContext, object]]:
    def on(pattern: str, callback: object) -> CallbackQueryHandler[BotContext, object]:
        return CallbackQueryHandler(callback, pattern=f"^bc:{pattern}$")  # type: ignore[arg-type]

    conversation = Conversation(
        entry_points=[CommandHandler("broadcast", begin, filters=PRIVATE)],
        states={
            AUDIENCE: [on(r"aud:\w+", chose_segment)],
            OPTION: [on(r"opt:\w+:[^:]+", chose_option)],
            TEXT: [MessageHandler(TYPED, wrote_text)],
            PREVIEW: [
                on("add", add_translation),
                on("urgent", toggle_urgent),
                on("send", send_now),
                on("later", ask_when),
            ],
            LANGUAGE: [on(r"lang:[\w-]+", chose_language)],
            VERSION: [MessageHandler(TYPED, wrote_text)],
            WHEN: [MessageHandler(TYPED, wrote_when)],
        },
        fallbacks=[on("cancel", cancel), CommandHandler("cancel", cancel, filters=PRIVATE)],
        name="broadcast",
        persistent=True,
        allow_reentry=True,
    )
    return [
        conversation,
        CommandHandler("broadcasts", listing, filters=PRIVATE),
        on(r"open:\d+", open_one),
        on(r"drop:\d+", drop),
    ]
