"""Command menus: per language for everyone, per chat for a chosen language and for operators.

Telegram picks the menu by the app's language, not the one chosen in the bot, so a resident's
choice (and an operator's extra commands) are set for their chat.
"""

from __future__ import annotations

from telegram import Bot, BotCommand, BotCommandScopeChat

from bot.i18n import N_, Catalogs, Translator
from bot.models import Resident

RESIDENT_COMMANDS = [
    ("start", N_("Start again")),
    ("language", N_("Change language")),
    ("training", N_("Job-training courses")),
    ("link", N_("Link your tenant record")),
    ("payments", N_("My payments")),
    ("events", N_("Events and assemblies")),
    ("stop", N_("Stop notices")),
    ("privacy", N_("What we keep about you")),
    ("delete", N_("Delete your data")),
    ("help", N_("Help")),
]
OPERATOR_COMMANDS = [
    ("linkcode", N_("Operators: a link code for a tenant")),
    ("broadcast", N_("Operators: send a notice")),
    ("broadcasts", N_("Operators: notices sent and scheduled")),
    ("plans", N_("Operators: a tenant's repayment plan")),
    ("overdue", N_("Operators: late instalments")),
    ("paid", N_("Operators: record a payment")),
    ("newcourse", N_("Operators: create a training course")),
    ("courses", N_("Operators: training courses and sign-ups")),
    ("newevent", N_("Operators: a new event or assembly")),
]


def menu(t: Translator, operator: bool = False) -> list[BotCommand]:
    entries = RESIDENT_COMMANDS + (OPERATOR_COMMANDS if operator else [])
    return [BotCommand(name, t._(description)) for name, description in entries]


async def publish(bot: Bot, catalogs: Catalogs, operators: list[Resident]) -> None:
    await bot.set_my_commands(menu(catalogs.translator(None)))
    for t in catalogs.all():
        if len(t.locale) == 2:  # Telegram takes two-letter ISO 639-1 codes only
            await bot.set_my_commands(menu(t), language_code=t.locale)
    for operator in operators:
        await for_chat(bot, operator, catalogs.translator(operator.locale))


async def for_chat(bot: Bot, resident: Resident, t: Translator) -> None:
    if resident.chat_id is not None:
        await bot.set_my_commands(
            menu(t, resident.is_operator), scope=BotCommandScopeChat(resident.chat_id)
        )


async def clear_chat(bot: Bot, chat_id: int) -> None:
    await bot.delete_my_commands(scope=BotCommandScopeChat(chat_id))
