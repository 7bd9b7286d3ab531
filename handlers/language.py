"""/language: change the language at any time; each language is listed by its own name."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot.i18n import Catalogs, Translator
from bot.models import Resident
from bot.services import residents
from handlers import commands
from handlers.common import BotContext, buttons, callback_parts, edit, reply, show_menu, who

PRIVATE = filters.ChatType.PRIVATE
PATTERN = r"^lang:[a-zA-Z_]{2,16}$"


def picker(catalogs: Catalogs) -> InlineKeyboardMarkup:
    choices = [(catalogs.native_name(code), f"lang:{code}") for code in catalogs.locales]
    return buttons(*(choices[i : i + 2] for i in range(0, len(choices), 2)))


async def ask(update: Update, context: BotContext, t: Translator) -> None:
    await reply(update, t._("Choose your language:"), reply_markup=picker(context.core.catalogs))


async def command(update: Update, context: BotContext) -> None:
    _, t = await who(update, context)
    await ask(update, context, t)


async def apply(update: Update, context: BotContext) -> tuple[Resident, Translator] | None:
    """Set the language a button names (callback data is user input: it may name none)."""
    resident, t = await who(update, context)
    query = update.callback_query
    assert query is not None
    try:
        resident = await residents.choose_locale(
            context.core, resident.id, callback_parts(update)[1]
        )
    except residents.UnknownLocale:
        await query.answer(t._("This language is not available."))
        return None
    await query.answer()
    t = context.core.catalogs.translator(resident.locale)
    await edit(
        update, t._("Language: {language}", language=context.core.catalogs.native_name(t.locale))
    )
    await commands.for_chat(context.bot, resident, t)
    return resident, t


async def chosen(update: Update, context: BotContext) -> None:
    applied = await apply(update, context)
    if applied is None:
        return
    resident, t = applied
    if resident.consent_at is None:
        await reply(update, t._("Send /start to begin."))
    else:
        await show_menu(update, t, t._("Done. I will write to you in this language."))


def handlers() -> list[BaseHandler[Update, BotContext, object]]:
    return [
        CommandHandler("language", command, filters=PRIVATE),
        CallbackQueryHandler(chosen, pattern=PATTERN),
    ]
