"""The python-telegram-bot Application: wiring of handlers, persistence, scheduler and start-up."""

from __future__ import annotations

import logging
import os
from typing import Any

from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults
from telegram.request import BaseRequest

import handlers
from bot import scheduler
from bot.core import Core
from bot.delivery.sender import Sender
from bot.models import Role
from bot.persistence import ConversationPersistence
from bot.services import linking, plans, residents
from bot.telegram_channel import TelegramChannel
from handlers import commands
from handlers.common import BotContext, core_of, expire_idle, reply, who

log = logging.getLogger(__name__)
# Opt in to PTB's coming time periods (timedelta, not int seconds) and so to no warnings.
os.environ.setdefault("PTB_TIMEDELTA", "true")
HOUSEKEEPING_INTERVAL = 3600  # seconds


class QMondoApplication(Application):  # type: ignore[type-arg]
    """The PTB Application, plus the outbox sender that starts and stops with it."""

    sender: Sender | None = None

    async def process_update(self, update: object) -> None:
        expire_idle(self, update)
        await super().process_update(update)
        # Save conversation states now, not up to a minute later: a crash must not lose a step.
        await self.update_persistence()

    async def start(self) -> None:
        await super().start()
        self.sender = Sender(core_of(self), TelegramChannel(self.bot))
        await self.sender.start()

    async def stop(self) -> None:
        if self.sender is not None:
            await self.sender.stop()
            self.sender = None
        await super().stop()


def sender_of(application: Application[Any, Any, Any, Any, Any, Any]) -> Sender | None:
    return getattr(application, "sender", None)


def build(
    core: Core, request: BaseRequest | None = None
) -> Application[Any, Any, Any, Any, Any, Any]:
    settings = core.settings
    if not settings.telegram_token:
        raise ValueError("QMONDO_TELEGRAM_TOKEN is not set")
    builder = (
        ApplicationBuilder()
        .application_class(QMondoApplication)
        .token(settings.telegram_token)
        .base_url(settings.bot_api_url)
        .base_file_url(file_url(settings.bot_api_url))
        # No default parse_mode: PTB would add it to calls that have no such field
        # (editMessageReplyMarkup). Our senders in handlers/common.py set it.
        .defaults(Defaults(tzinfo=settings.tz))
        .context_types(ContextTypes(context=BotContext))
        .persistence(ConversationPersistence(core))
        .post_init(started)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    application = builder.build()
    application.bot_data["core"] = core
    handlers.register(application)
    application.add_error_handler(on_error)
    return application


def file_url(bot_api_url: str) -> str:
    """Files live under /file/bot on the same server (Telegram's or a self-hosted one)."""
    base = bot_api_url.rstrip("/")
    return base[: -len("/bot")] + "/file/bot" if base.endswith("/bot") else base + "/file/bot"


async def started(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    core = core_of(application)
    for telegram_id in core.settings.operator_ids:
        resident = await residents.find(core, telegram_id)
        if resident is None or not resident.is_operator:
            await residents.set_role(core, telegram_id, Role.OPERATOR)
    await commands.publish(application.bot, core.catalogs, await residents.operators(core))
    assert application.job_queue is not None
    application.job_queue.run_repeating(
        sweep,
        interval=core.settings.tick_seconds,
        first=core.settings.tick_seconds,
        name="sweep",
        job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
    )
    application.job_queue.run_repeating(
        housekeeping,
        interval=HOUSEKEEPING_INTERVAL,
        first=60,
        name="housekeeping",
        job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
    )


async def sweep(context: BotContext) -> None:
    sender = sender_of(context.application)
    await scheduler.tick(
        context.core, TelegramChannel(context.bot), sender.wake if sender else lambda: None
    )


async def housekeeping(context: BotContext) -> None:
    await linking.purge(context.core)
    await plans.purge_imports(context.core)


async def on_error(update: object, context: BotContext) -> None:
    """Log the failure without message content; tell the resident, who must not be left waiting."""
    error = context.error
    log.error(
        "error handling update %s: %s",
        getattr(update, "update_id", None),
        type(error).__name__,
        exc_info=error,
    )
    if (
        isinstance(update, Update)
        and update.effective_chat
        and update.effective_chat.type == "private"
    ):
        try:
            _, t = await who(update, context)
            await reply(update, t._("Sorry, something went wrong. Please try again."))
        except Exception as again:  # database or network down: the first error is logged
            log.warning("could not send the error notice: %s", type(again).__name__)
