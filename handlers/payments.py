"""The resident's side of repayment plans: "My payments", reminder details, "I cannot pay".

Plan data goes only to the linked resident who owns it, in a private chat, and every message
with plan data is protected (no forwarding, no saving). Callback data is checked against the
resident pressing it.

```mermaid
stateDiagram-v2
    [*] --> NOTE: "I cannot pay / call me" (button under My payments or a reminder)
    NOTE --> [*]: a note, or "Send without a note" (the operators are told at once)
    NOTE --> [*]: Cancel
    NOTE --> [*]: an hour without an answer (later text is not taken as the note)
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
from bot.models import Instalment, Resident
from bot.services import plans
from bot.services.reminders import HELP
from handlers.common import (
    INACTIVE,
    BotContext,
    Conversation,
    buttons,
    callback_parts,
    menu_action,
    reply,
    show_menu,
    wake_sender,
    who,
)

NOTE = "payments:note"
END = ConversationHandler.END
PRIVATE = filters.ChatType.PRIVATE
NOTE_IDLE = timedelta(hours=1)  # text written later is not an answer to "add a note"
MAX_TEXT = 4000  # Telegram takes 4096 characters; a margin for the isolates of RTL text
CLOSED = N_("The office has closed this plan: there is nothing more to pay.")


def help_button(t: Translator) -> list[tuple[str, str]]:
    return [(t._(HELP), "pay:help")]


def when(t: Translator, due_on: date, on: date) -> str:
    """ "in 3 days", "today", "2 days late"."""
    days = (due_on - on).days
    if days > 0:
        return t.n_("in {n} day", "in {n} days", days)
    if days == 0:
        return t._("today")
    return t.n_("{n} day late", "{n} days late", -days)


def line(t: Translator, instalment: Instalment, on: date) -> str:
    """One row of the schedule, with a mark that does not rely on colour alone."""
    if instalment.left_cents == 0:
        mark, state = "✅", t._("paid")
    elif instalment.due_on < on:
        mark, state = "⚠️", t._("late")
    else:
        mark, state = "⏳", t._("to pay")
    if 0 < instalment.paid_cents < instalment.amount_cents:
        state += " · " + t._("paid so far: {paid}", paid=t.money(instalment.paid_cents))
    return (
        mark
        + " "
        + t._(
            "Instalment {number}: {date} · {amount} · {state}",
            number=instalment.number,
            date=t.date(instalment.due_on, "medium"),
            amount=t.money(instalment.amount_cents),
            state=state,
        )
    )


def clip(t: Translator, lines: list[str], tail: list[str]) -> str:
    """Lines, then the tail, within Telegram's 4096 characters: long lists end in "…and N
    more" (a plan of many years has many instalments and payments)."""
    room = MAX_TEXT - sum(len(line) + 1 for line in tail)
    kept: list[str] = []
    for number, line in enumerate(lines):
        if sum(len(k) + 1 for k in kept) + len(line) + 40 > room:
            kept.append(t._("…and {n} more.", n=t.number(len(lines) - number)))
            break
        kept.append(line)
    return "\n".join(kept + tail)


def contact_line(t: Translator, contact: str) -> str:
    text = t._(
        "If you cannot pay an instalment, do not worry: tap «{button}» and someone from the "
        "office will call you to find a solution together.",
        button=t._(HELP),
    )
    if contact:
        text += "\n" + t._("QMondo office: {contact}", contact=contact)
    return text


def view(t: Translator, schedule: plans.Schedule, on: date, contact: str) -> str:
    lines = [t._("<b>Your repayment plan {reference}</b>", reference=schedule.plan.reference)]
    following = schedule.next
    if schedule.closed_by_office:
        lines.append(t._(CLOSED))
        tail = ["", t._("Paid so far: {amount}", amount=t.money(schedule.paid_cents))]
        return clip(t, lines, [*tail, "", contact_line(t, contact)])
    if following is not None:
        lines.append(
            t._(
                "Next instalment: <b>{amount}</b> by {date} ({when}).",
                amount=t.money(following.left_cents),
                date=t.date(following.due_on, "long"),
                when=when(t, following.due_on, on),
            )
        )
    else:
        lines.append(t._("Everything is paid. Thank you!"))
    lines += ["", t._("<b>Instalments</b>")]
    lines += [line(t, instalment, on) for instalment in schedule.instalments]
    tail = [
        "",
        t._("Paid so far: {amount}", amount=t.money(schedule.paid_cents)),
        t._("Still to pay: {amount}", amount=t.money(schedule.left_cents)),
        "",
        contact_line(t, contact),
    ]
    return clip(t, lines, tail)


async def show(update: Update, context: BotContext, resident: Resident, t: Translator) -> None:
    """ "My payments": every current plan of the linked resident (only in their private chat)."""
    if not resident.is_linked:
        await show_menu(
            update,
            t,
            t._(
                "To see your payments, this chat must be linked to your tenant record. Ask the "
                "QMondo office for your personal code, then send /link followed by the code, or "
                "scan the QR code on your letter."
            ),
        )
        return
    core = context.core
    schedules = await plans.of_resident(core, resident.id)
    if not schedules:
        await show_menu(update, t, t._("You have no repayment plan with the QMondo office."))
        return
    on = plans.today(core)
    for schedule in schedules:
        await reply(
            update,
            view(t, schedule, on, core.settings.office_contact),
            reply_markup=buttons(help_button(t)),
            protect_content=True,
        )


async def command(update: Update, context: BotContext) -> None:
    resident, t = await who(update, context)
    if resident.consent_at is None:
        await reply(update, t._("Send /start to begin."))
        return
    await show(update, context, resident, t)


async def _resident(update: Update, context: BotContext) -> tuple[Resident, Translator] | None:
    """The linked resident pressing a button in their private chat, or None (answered)."""
    query = update.callback_query
    assert query is not None
    chat = update.effective_chat
    if chat is None or chat.type != "private":  # never any plan data outside a private chat
        code = context.core.catalogs.match(query.from_user.language_code)
        await query.answer(context.core.catalogs.translator(code)._(INACTIVE))
        return None
    resident, t = await who(update, context)
    if not resident.is_linked:
        await query.answer(t._(INACTIVE))
        return None
    return resident, t


async def read(update: Update, context: BotContext) -> None:
    """The reminder's details, behind its button: only for the resident whose instalment it is."""
    found = await _resident(update, context)
    if found is None:
        return
    resident, t = found
    query = update.callback_query
    assert query is not None
    try:
        instalment_id = int(callback_parts(update)[2])
    except (IndexError, ValueError):
        instalment_id = 0
    schedule = next(
        (
            s
            for s in await plans.of_resident(context.core, resident.id)
            if any(i.id == instalment_id for i in s.instalments)
        ),
        None,
    )
    if schedule is None:
        await query.answer(t._(INACTIVE))
        return
    await query.answer()
    instalment = next(i for i in schedule.instalments if i.id == instalment_id)
    closed = schedule.closed_by_office and instalment.left_cents > 0
    text = t._(CLOSED) if closed else details(t, instalment, plans.today(context.core))
    await reply(
        update,
        "\n\n".join([text, contact_line(t, context.core.settings.office_contact)]),
        reply_markup=buttons(help_button(t), [(t._("💶 My payments"), "pay:view")]),
        protect_content=True,
    )


def details(t: Translator, instalment: Instalment, on: date) -> str:
    params = {
        "number": instalment.number,
        "amount": t.money(instalment.left_cents),
        "date": t.date(instalment.due_on, "long"),
    }
    if instalment.left_cents == 0:
        return t._("Instalment {number} is paid. Thank you!", number=instalment.number)
    if instalment.due_on > on:
        return t._(
            "Reminder from the QMondo office: instalment {number} of your repayment plan, "
            "<b>{amount}</b>, is due on {date} ({when}).",
            when=when(t, instalment.due_on, on),
            **params,
        )
    if instalment.due_on == on:
        return t._(
            "Reminder from the QMondo office: instalment {number} of your repayment plan, "
            "<b>{amount}</b>, is due today, {date}.",
            **params,
        )
    return t._(
        "Reminder from the QMondo office: instalment {number} of your repayment plan, "
        "<b>{amount}</b>, was due on {date}. If you have already paid, thank you: the office "
        "will record it soon.",
        **params,
    )


async def view_button(update: Update, context: BotContext) -> None:
    found = await _resident(update, context)
    if found is None:
        return
    assert update.callback_query is not None
    await update.callback_query.answer()
    await show(update, context, *found)


# -- "I cannot pay / call me" ---------------------------------------------------------------------


async def ask_note(update: Update, context: BotContext) -> str | None:
    found = await _resident(update, context)
    if found is None:
        return None
    _, t = found
    assert update.callback_query is not None
    await update.callback_query.answer()
    await reply(
        update,
        t._(
            "The office will call you. If you like, write a short note for them (for example "
            "when to call you), or tap the button to send the request without a note."
        ),
        reply_markup=buttons(
            [(t._("📨 Send without a note"), "pay:send")], [(t._("❌ Cancel"), "pay:cancel")]
        ),
    )
    return NOTE


async def wrote_note(update: Update, context: BotContext) -> int | None:
    assert update.message is not None and update.message.text is not None
    if menu_action(context.core, update.message.text) is not None:
        # A menu button, not a note: leave the request unsent and do what the button says.
        from handlers import menu  # menu imports this module

        await menu.chosen(update, context)
        return END
    return await _submit(update, context, update.message.text)


async def without_note(update: Update, context: BotContext) -> int | None:
    assert update.callback_query is not None
    await update.callback_query.answer()
    await update.callback_query.edit_message_reply_markup(None)
    return await _submit(update, context, None)


async def _submit(update: Update, context: BotContext, note: str | None) -> int | None:
    resident, t = await who(update, context)
    if not resident.is_linked:
        return END
    try:
        await plans.request_help(context.core, resident.id, note)
    except plans.RequestOpen:
        await show_menu(
            update, t, t._("Your request is already with the office: someone will call you soon.")
        )
        return END
    await show_menu(
        update,
        t,
        t._("Thank you. The office has your request and someone will call you soon."),
    )
    wake_sender(context)
    return END


async def cancel(update: Update, context: BotContext) -> int:
    _, t = await who(update, context)
    if update.callback_query is not None:
        await update.callback_query.answer()
        await update.callback_query.edit_message_reply_markup(None)
    await show_menu(update, t, t._("Cancelled. Nothing was sent."))
    return END


def handlers() -> list[BaseHandler[Update, BotContext, object]]:
    conversation = Conversation(
        entry_points=[CallbackQueryHandler(ask_note, pattern="^pay:help$")],
        states={
            NOTE: [
                MessageHandler(PRIVATE & filters.TEXT & ~filters.COMMAND, wrote_note),
                CallbackQueryHandler(without_note, pattern="^pay:send$"),
            ]
        },
        fallbacks=[
            CallbackQueryHandler(cancel, pattern="^pay:cancel$"),
            CommandHandler("cancel", cancel, filters=PRIVATE),
        ],
        name="payments_help",
        persistent=True,
        allow_reentry=True,
        idle=NOTE_IDLE,
    )
    return [
        conversation,
        CommandHandler("payments", command, filters=PRIVATE),
        CallbackQueryHandler(read, pattern=r"^pay:read:\d+$"),
        CallbackQueryHandler(view_button, pattern="^pay:view$"),
    ]
