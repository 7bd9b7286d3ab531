"""Message kinds: each feature registers how its messages are rendered and when they may go.

A renderer runs at send time, in the recipient's current language, so a resident who changes
language gets the new one. It returns None when the message no longer makes sense (the
payment was made, the event was cancelled): the row is then skipped, not sent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import Core
from bot.delivery.channel import Outgoing
from bot.i18n import Translator
from bot.models import Delivery, Resident

Renderer = Callable[
    [Core, AsyncSession, Delivery, Resident, Translator], Awaitable[Outgoing | None]
]


@dataclass(frozen=True)
class Kind:
    name: str
    render: Renderer
    # Operational messages (to operators, or legally due): the outbox enqueues them as urgent,
    # so they ignore quiet hours and opt-out.
    always: bool = False


KINDS: dict[str, Kind] = {}


def register(name: str, *, always: bool = False) -> Callable[[Renderer], Renderer]:
    def decorator(render: Renderer) -> Renderer:
        KINDS[name] = Kind(name, render, always)
        return render

    return decorator
