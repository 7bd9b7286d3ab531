"""The delivery path's Channel for Telegram: Outgoing -> Bot API call, errors -> faults."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError, TimedOut

from bot.delivery.channel import (
    DeliveryError,
    Outgoing,
    RetryLater,
    Transient,
    Undeliverable,
    Unreachable,
)


class TelegramChannel:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, chat_id: int, message: Outgoing) -> int:
        try:
            sent = await self.bot.send_message(
                chat_id,
                message.text,
                parse_mode=ParseMode.HTML,
                reply_markup=_markup(message),
                protect_content=message.protect_content or None,
            )
        except TelegramError as error:
            raise fault(error) from None
        return sent.message_id

    async def edit(self, chat_id: int, message_id: int, message: Outgoing) -> None:
        try:
            await self.bot.edit_message_text(
                message.text,
                chat_id=chat_id,
                message_id=message_id,
                parse_mode=ParseMode.HTML,
                reply_markup=_markup(message),
            )
        except BadRequest as error:
            if "not modified" not in error.message:
                raise fault(error) from None
        except TelegramError as error:
            raise fault(error) from None


def _markup(message: Outgoing) -> InlineKeyboardMarkup | None:
    if not message.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=data) for label, data in row]
            for row in message.buttons
        ]
    )


def fault(error: TelegramError) -> DeliveryError:
    """Telegram's answer, as the sender's fault kinds (order matters: BadRequest is a
    NetworkError in PTB)."""
    if isinstance(error, RetryAfter):
        retry: Any = error.retry_after  # a timedelta (PTB_TIMEDELTA, bot/app.py) or seconds
        seconds = retry.total_seconds() if isinstance(retry, timedelta) else float(retry)
        return RetryLater(seconds)
    if isinstance(error, Forbidden):
        return Unreachable()
    if isinstance(error, BadRequest):
        if "chat not found" in error.message.lower():
            return Undeliverable("chat_not_found")
        return Undeliverable("bad_request")
    if isinstance(error, TimedOut):
        return Transient("timeout")
    return Transient("network")
