"""What the sender needs from a messaging channel, and the faults a channel reports.

The core never imports telegram: bot/telegram_channel.py implements Channel for Telegram, and
another channel (WhatsApp, say) would implement the same protocol.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

Buttons = tuple[tuple[tuple[str, str], ...], ...]  # rows of (label, callback data)


@dataclass(frozen=True)
class Outgoing:
    """A rendered message: Telegram-style HTML (b, i, a), optional buttons."""

    text: str
    buttons: Buttons = ()
    protect_content: bool = False  # cannot be forwarded or saved (personal data)


class Channel(Protocol):
    async def send(self, chat_id: int, message: Outgoing) -> int:
        """Send and return the channel's message id."""
        ...

    async def edit(self, chat_id: int, message_id: int, message: Outgoing) -> None: ...


class DeliveryError(Exception):
    """A channel fault. `reason` is a short code stored with the row (no personal data)."""

    reason = "error"

    def __init__(self, reason: str | None = None) -> None:
        super().__init__(reason or self.reason)
        if reason:
            self.reason = reason


class RetryLater(DeliveryError):
    """Flood control: stop every send for `seconds`, then go on (the row loses no attempt)."""

    reason = "flood_control"

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds


class Transient(DeliveryError):
    """Network trouble or a server error: try again later, with backoff."""

    reason = "network"


class Unreachable(DeliveryError):
    """The person blocked the bot: nothing more is sent until they come back with /start."""

    reason = "blocked"


class Undeliverable(DeliveryError):
    """Permanent for this message (chat not found, message refused): fail at once."""

    reason = "refused"
