"""Events for residents: the menu's "Events" (and /events) lists the upcoming invitations with
the resident's answer; the answer buttons work until the start; a calendar file and the map
pin on request; for assemblies, a topic proposal for the agenda. Every button names an event
and is checked again: invited, not cancelled, not started.

```mermaid
stateDiagram-v2
    [*] --> TOPIC: 💡 Propose a topic (ev:prop:ID)
    TOPIC --> TOPIC: empty or too long
    TOPIC --> CONFIRM: short text
    CONFIRM --> [*]: Send (operators are told)
    CONFIRM --> [*]: Cancel (or /cancel from any step)
```
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.delivery.channel import Buttons
from bot.i18n import N_, Translator
from bot.models import Answer, Resident
from bot.services import event_notices, event_proposals, event_rsvp, events
from handlers import event_admin
from handlers.common import (
    INACTIVE,
    BotContext,
    Conversation,
    buttons,
    callback_parts,
    reply,
    show_menu,
    who,
)

TOPIC, CONFIRM = "event_proposal:topic", "event_proposal:confirm"
END = ConversationHandler.END
PRIVATE = filters.ChatType.PRIVATE
TYPED = PRIVATE & filters.TEXT & ~filters.COMMAND
SHOWN = 5  # upcoming events listed at once
REFUSALS = {
    event_rsvp.NotInvited: INACTIVE,
    event_rsvp.EventCancelled: N_("This event was cancelled."),
    event_rsvp.EventStarted: N_("This event has already started: answers are closed."),
    event_proposals.NotAnAssembly: INACTIVE,
}
CLOSED = (
    event_rsvp.NotInvited,
    event_rsvp.EventCancelled,
    event_rsvp.EventStarted,
    event_proposals.NotAnAssembly,
)
CONFIRMATIONS = {
    Answer.YES: N_("✅ See you there! I will remind you the day before and two hours before."),
    Answer.MAYBE: N_("🤔 Noted: maybe. I will remind you the day before and two hours before."),
    Answer.NO: N_("Noted: you are not coming. Thank you for telling us."),
}
WAITING = N_("The event is full: you are on the waiting list. I will tell you if a place frees up.")


def markup(rows: Buttons) -> InlineKeyboardMarkup:
    return buttons(*[list(row) for row in rows])


async def show(update: Update, context: BotContext, resident: Resident, t: Translator) -> None:
    """The menu's Events; operators get the organiser's overview."""
    if resident.is_operator:
        await event_admin.overview(update, context, resident, t)
        return
    found = await event_rsvp.upcoming_for(context.core, resident.id)
    if not found:
        await show_menu(
            update,
            t,
            t._("No upcoming events for you now. New invitations will arrive in this chat."),
        )
        return
    default = context.core.catalogs.default
    for event, invitation in found[:SHOWN]:
        text = event_notices.card(t, event, default, invitation)
        await reply(update, text, reply_markup=markup(event_notices.resident_buttons(t, event)))


async def command(update: Update, context: BotContext) -> None:
    resident, t = await who(update, context)
    if resident.consent_at is None:
        await reply(update, t._("Send /start to begin."))
        return
    await show(update, context, resident, t)


async def _refuse(update: Update, t: Translator, error: Exception) -> None:
    assert update.callback_query is not None
    await update.callback_query.answer(t._(REFUSALS[type(error)]))


def _event_id(update: Update) -> int:
    return int(callback_parts(update)[2])  # the pattern guarantees digits


async def rsvp(update: Update, context: BotContext) -> None:
    resident, t = await who(update, context)
    query = update.callback_query
    assert query is not None
    code = callback_parts(update)[3]
    try:
        invitation = await event_rsvp.answer(
            context.core, _event_id(update), resident.id, event_notices.CODES[code]
        )
    except CLOSED as error:
        await _refuse(update, t, error)
        return
    assert invitation.answer is not None
    await query.answer(t._(event_notices.ANSWERS[invitation.answer]))
    await reply(update, t._(WAITING if invitation.waiting else CONFIRMATIONS[invitation.answer]))


async def calendar(update: Update, context: BotContext) -> None:
    resident, t = await who(update, context)
    try:
        event, _ = await event_rsvp.usable(context.core, _event_id(update), resident.id)
    except CLOSED as error:
        await _refuse(update, t, error)
        return
    assert update.callback_query is not None and update.effective_chat is not None
    await update.callback_query.answer()
    await update.effective_chat.send_document(
        event_notices.calendar(context.core, event, t),
        filename=f"event-{event.id}.ics",
        caption=t._("Open this file to add the event to your phone's calendar."),
    )


async def map_pin(update: Update, context: BotContext) -> None:
    resident, t = await who(update, context)
    try:
        event, _ = await event_rsvp.usable(context.core, _event_id(update), resident.id)
    except CLOSED as error:
        await _refuse(update, t, error)
        return
    assert update.callback_query is not None and update.effective_chat is not None
    if event.latitude is None or event.longitude is None:
        await update.callback_query.answer(t._(INACTIVE))
        return
    await update.callback_query.answer()
    await update.effective_chat.send_venue(
        latitude=event.latitude,
        longitude=event.longitude,
        title=event_notices.title(event, t, context.core.catalogs.default),
        address=event.place or "",
    )


# -- a topic for an assembly's agenda ----------------------------------------------------------


async def propose(update: Update, context: BotContext) -> str | None:
    resident, t = await who(update, context)
    try:
        await event_proposals.start(context.core, _event_id(update), resident.id)
    except CLOSED as error:
        await _refuse(update, t, error)
        return None
    assert update.callback_query is not None
    await update.callback_query.answer()
    await reply(
        update,
        t._(
            "Which topic should the assembly discuss? Write it in a few words (at most {max} "
            "characters).",
            max=t.number(event_proposals.MAX_PROPOSAL),
        ),
        reply_markup=buttons([(t._("❌ Cancel"), "ev:pdrop")]),
    )
    return TOPIC


async def wrote_topic(update: Update, context: BotContext) -> str | int:
    resident, t = await who(update, context)
    assert update.message is not None and update.message.text is not None
    try:
        proposal = await event_proposals.write(context.core, resident.id, update.message.text)
    except event_proposals.NoDraft:
        return END
    except (events.EmptyText, events.TextTooLong):
        await reply(
            update,
            t._(
                "Please write the topic in at most {max} characters.",
                max=t.number(event_proposals.MAX_PROPOSAL),
            ),
        )
        return TOPIC
    await reply(
        update,
        t._("Your topic: {text}\nSend it to the operators?", text=proposal.text or ""),
        reply_markup=buttons([(t._("✅ Send"), "ev:psend"), (t._("❌ Cancel"), "ev:pdrop")]),
    )
    return CONFIRM


async def send_topic(update: Update, context: BotContext) -> int:
    resident, t = await who(update, context)
    assert update.callback_query is not None
    try:
        await event_proposals.confirm(context.core, resident.id)
    except (event_proposals.NoDraft, *CLOSED) as error:
        text = REFUSALS.get(type(error), INACTIVE)
        await update.callback_query.answer(t._(text))
        return END
    await update.callback_query.answer()
    await update.callback_query.edit_message_reply_markup(None)
    await reply(update, t._("Thank you! The operators will read your proposal."))
    return END


async def drop_topic(update: Update, context: BotContext) -> int:
    resident, t = await who(update, context)
    await event_proposals.drop(context.core, resident.id)
    if update.callback_query is not None:
        await update.callback_query.answer()
        await update.callback_query.edit_message_reply_markup(None)
    await reply(update, t._("Cancelled. Nothing was sent."))
    return END


async def stale(update: Update, context: BotContext) -> None:
    _, t = await who(update, context)
    assert update.callback_query is not None
    await update.callback_query.answer(t._(INACTIVE))


def handlers() -> list[BaseHandler[Update, BotContext, object]]:
    def on(pattern: str, callback: object) -> CallbackQueryHandler[BotContext, object]:
        return CallbackQueryHandler(callback, pattern=f"^ev:{pattern}$")  # type: ignore[arg-type]

    proposal = Conversation(
        entry_points=[on(r"prop:\d+", propose)],
        states={
            TOPIC: [MessageHandler(TYPED, wrote_topic)],
            CONFIRM: [on("psend", send_topic)],
        },
        fallbacks=[on("pdrop", drop_topic), CommandHandler("cancel", drop_topic, filters=PRIVATE)],
        name="event_proposal",
        persistent=True,
        allow_reentry=True,
    )
    return [
        proposal,
        CommandHandler("events", command, filters=PRIVATE),
        on(r"r:\d+:[ymn]", rsvp),
        on(r"ics:\d+", calendar),
        on(r"map:\d+", map_pin),
        on("psend", send_topic),  # a button from a conversation that has ended: checked again
        on("pdrop", drop_topic),
        CallbackQueryHandler(stale, pattern="^ev:"),  # last: any other event button, now stale
    ]
