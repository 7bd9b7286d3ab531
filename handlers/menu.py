"""The main menu: big buttons (and the same as commands), usable without typing."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, MessageHandler, filters

from bot.i18n import Translator
from bot.models import Resident
from handlers import events, language, training
from handlers.common import BotContext, menu_action, reply, show_menu, who
from handlers.payments import show as my_payments

PRIVATE = filters.ChatType.PRIVATE


async def chosen(update: Update, context: BotContext) -> None:
    """A menu button was tapped, or some text was typed outside any conversation."""
    resident, t = await who(update, context)
    assert update.message is not None and update.message.text is not None
    if resident.consent_at is None:
        await reply(update, t._("Send /start to begin."))
        return
    action = menu_action(context.core, update.message.text)
    if action is None:
        await show_menu(
            update, t, t._("Sorry, I did not understand. Please use the buttons below.")
        )
        return
    await ACTIONS[action](update, context, resident, t)


def help_text(t: Translator, contact: str) -> str:
    text = t._(
        "<b>How to use this bot</b>\n"
        "Use the buttons at the bottom of the screen.\n\n"
        "/start – start again\n"
        "/language – change language\n"
        "/link – link this chat to your tenant record with your personal code\n"
        "/privacy – what we keep about you\n"
        "/delete – delete your data\n"
        "/help – this message"
    )
    text += "\n" + t._("/stop – no more notices (/start turns them back on)")
    text += "\n" + t._("/training – job-training courses: sign up, see your place")
    text += "\n" + t._("/payments – your repayment plan: instalments, what is paid, what is left")
    text += "\n" + t._("/events – events and tenant assemblies you are invited to")
    if contact:
        text += "\n\n" + t._("QMondo office: {contact}", contact=contact)
    return text


async def help_(update: Update, context: BotContext, resident: Resident, t: Translator) -> None:
    text = help_text(t, context.core.settings.office_contact)
    if resident.consent_at is None:  # no menu before consent
        await reply(update, text)
    else:
        await show_menu(update, t, text)


async def help_command(update: Update, context: BotContext) -> None:
    resident, t = await who(update, context)
    await help_(update, context, resident, t)


async def choose_language(
    update: Update, context: BotContext, resident: Resident, t: Translator
) -> None:
    await language.ask(update, context, t)


ACTIONS = {
    "training": training.show,
    "payments": my_payments,
    "events": events.show,
    "language": choose_language,
    "help": help_,
}


def handlers() -> list[BaseHandler[Update, BotContext, object]]:
    return [
        CommandHandler("help", help_command, filters=PRIVATE),
        MessageHandler(filters.TEXT & ~filters.COMMAND & PRIVATE, chosen),
    ]
