"""Operator commands. The role is checked in the database on every call (operators_only)."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CommandHandler, filters

from bot import qr
from bot.i18n import Translator
from bot.models import Resident
from bot.services import linking
from handlers.common import BotContext, operators_only, reply


@operators_only
async def linkcode(update: Update, context: BotContext, operator: Resident, t: Translator) -> None:
    """/linkcode TENANT_CODE: a single-use code, its deep link and a QR image for the letter."""
    if not context.args or len(context.args) != 1:
        await reply(update, t._("Write it like this: /linkcode TENANT_CODE"))
        return
    tenant_code = context.args[0]
    try:
        issued = await linking.issue(context.core, tenant_code)
    except linking.UnknownTenant:
        await reply(update, t._("There is no tenant record with code {code}.", code=tenant_code))
        return
    link = qr.deep_link(context.bot.username, issued.code)
    caption = t._(
        "Link code for {name} ({tenant}): <b>{code}</b>\n"
        "Valid until {date}, for one use.\n"
        "Print this QR code on the letter: scanning it opens the bot and links the chat. "
        "Or the resident sends /link {code}.\n{link}",
        name=issued.resident.name,
        tenant=issued.resident.tenant_code,
        code=issued.display,
        date=t.date(issued.expires_at, "long"),
        link=link,
    )
    assert update.effective_chat is not None
    await update.effective_chat.send_photo(
        qr.png(link), caption=caption, parse_mode=ParseMode.HTML, protect_content=True
    )


def handlers() -> list[BaseHandler[Update, BotContext, object]]:
    return [CommandHandler("linkcode", linkcode, filters=filters.ChatType.PRIVATE)]
