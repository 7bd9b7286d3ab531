"""Last in line: unknown commands, old buttons, and group chats (we talk only in private)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, MessageHandler, filters

from handlers.common import INACTIVE, BotContext, reply, show_menu, unknown_command, who


async def command(update: Update, context: BotContext) -> None:
    _, t = await who(update, context)
    await unknown_command(update, t)


async def not_text(update: Update, context: BotContext) -> None:
    """Voice notes, photos, stickers: say plainly what the bot can read."""
    resident, t = await who(update, context)
    text = t._("I can only read text and buttons. Please use the buttons below.")
    if resident.consent_at is None:
        await reply(update, t._("I can only read text and buttons. Send /start to begin."))
    else:
        await show_menu(update, t, text)


async def old_button(update: Update, context: BotContext) -> None:
    """A button from an old message, or forged callback data: stop the spinner, do nothing."""
    _, t = await who(update, context)
    assert update.callback_query is not None
    await update.callback_query.answer(t._(INACTIVE))


async def group(update: Update, context: BotContext) -> None:
    """In a group, never show personal data and never store anyone: point to the private chat."""
    user = update.effective_user
    t = context.core.catalogs.translator(context.core.catalogs.match(user and user.language_code))
    await reply(update, t._("Please write to me in a private chat."))


def handlers() -> list[BaseHandler[Update, BotContext, object]]:
    return [
        MessageHandler(filters.COMMAND & filters.ChatType.GROUPS, group),
        MessageHandler(filters.COMMAND & filters.ChatType.PRIVATE, command),
        MessageHandler(~filters.TEXT & filters.ChatType.PRIVATE, not_text),
        CallbackQueryHandler(old_button),
    ]
