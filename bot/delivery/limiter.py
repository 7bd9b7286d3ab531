"""Send pacing: a global rate, one message per second per chat, and flood-control pauses."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

PER_CHAT_INTERVAL = 1.0  # Telegram: about one message per second to the same chat
PRUNE_AT = 10_000


class RateLimiter:
    """Hands out send times. Strict spacing, no bursts: a burst after idling is what Telegram
    answers with 429."""

    def __init__(
        self,
        rate: float | None,
        per_chat: float = PER_CHAT_INTERVAL,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self.per_chat, self._now = per_chat, now
        self._next = 0.0  # the next free global slot
        self._chats: dict[int, float] = {}  # chat -> its next free slot
        self.paused_until = 0.0
        self._last_sent = -1e9  # when the last send actually left

    def reserve(self, chat_id: int) -> float:
        """Book the next slot for this chat; returns how long to wait for it."""
        now = self._now()
        start = max(now, self.paused_until, self._next)
        self._next = start + self.interval
        start = max(start, self._chats.get(chat_id, 0.0))
        self._chats[chat_id] = start + self.per_chat
        if len(self._chats) > PRUNE_AT:
            self._chats = {chat: t for chat, t in self._chats.items() if t > now}
        return start - now

    def pause(self, seconds: float) -> None:
        """Flood control: nothing goes out until the time Telegram asked for has passed."""
        self.paused_until = max(self.paused_until, self._now() + seconds)
        self._next = max(self._next, self.paused_until)

    def pause_left(self) -> float:
        return max(0.0, self.paused_until - self._now())

    async def wait(self, chat_id: int) -> None:
        while True:
            delay = self.reserve(chat_id)
            if delay > 0:
                await asyncio.sleep(delay)
            if self.pause_left() <= 0:
                break  # a pause that began while we slept means booking again
        # Workers that woke late together (a busy event loop) must not leave in a burst.
        while (gap := self._last_sent + self.interval - self._now()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(gap)
        self._last_sent = self._now()
