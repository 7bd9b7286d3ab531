"""/privacy shows what we keep; /delete erases it after a confirmation; /stop ends notices."""

from __future__ import annotations

from telegram import ReplyKeyboardRemove, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot.i18n import Translator
from bot.services import residents
from handlers import commands
from handlers.common import BotContext, buttons, callback_parts, reply, who

PRIVATE = filters.ChatType.PRIVATE


def notice(t: Translator) -> str:
    return t._(
        "<b>Your privacy</b>\n"
        "QMondo is a project of the Municipality of Trezzano sul Naviglio, two social "
        "cooperatives and AFOL.\n\n"
        "<b>What we keep:</b> your name and user ID on Telegram (not your phone number), your "
        "language, and what you tell us here. If you link your tenant record, you can see your "
        "payment plan here.\n"
        "<b>Who sees it:</b> only the QMondo operators. Your payment data is shown only to "
        "you, in this private chat, and to the operators.\n"
        "<b>How to delete it:</b> send /delete at any time."
    )


async def show(update: Update, context: BotContext) -> None:
    _, t = await who(update, context)
    await reply(update, notice(t))


async def ask_delete(update: Update, context: BotContext) -> None:
    _, t = await who(update, context)
    await reply(
        update,
        t._(
            "Do you want to delete your data from this bot? You will stop receiving "
            "messages. The QMondo office keeps your tenant record."
        ),
        reply_markup=buttons([(t._("🗑 Yes, delete"), "delete:yes"), (t._("No"), "delete:no")]),
    )


async def answered_delete(update: Update, context: BotContext) -> None:
    _, t = await who(update, context)
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    await query.answer()
    await query.edit_message_reply_markup(None)
    if callback_parts(update)[1] != "yes":
        await reply(update, t._("Nothing was deleted."))
        return
    await residents.forget(context.core, update.effective_user.id)
    assert update.effective_chat is not None
    await commands.clear_chat(context.bot, update.effective_chat.id)
    await reply(
        update,
        t._("Your data has been deleted. Goodbye! Send /start if you want to come back."),
        reply_markup=ReplyKeyboardRemove(),
    )


async def stop(update: Update, context: BotContext) -> None:
    """/stop: no more notices (only the urgent ones required by law); /start turns them on."""
    resident, t = await who(update, context)
    if resident.consent_at is None:
        await reply(update, t._("Send /start to begin."))
        return
    await residents.opt_out(context.core, resident.id)
    await reply(
        update,
        t._(
            "Done: I will not send you notices any more. Only urgent notices that the QMondo "
            "office must send by law will still reach you. You can still use the menu. "
            "Send /start to receive notices again."
        ),
    )


def handlers() -> list[BaseHandler[Update, BotContext, object]]:
    return [
        CommandHandler("privacy", show, filters=PRIVATE),
        CommandHandler("delete", ask_delete, filters=PRIVATE),
        CommandHandler("stop", stop, filters=PRIVATE),
        CallbackQueryHandler(answered_delete, pattern=r"^delete:(yes|no)$"),
    ]
