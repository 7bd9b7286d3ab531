"""The scheduler's sweep: APScheduler only ticks, the database says what is due.

One repeating job (max one instance, coalesced, recreated at every start) runs `tick`, so
whatever fell due while the bot was down is picked up at the first tick after a restart.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.core import Core
from bot.delivery.channel import Channel, DeliveryError
from bot.services import (
    broadcasts,
    event_notices,  # noqa: F401 - registers the event kinds and audiences
    event_rsvp,
    reminders,
    training,
)

log = logging.getLogger(__name__)


async def tick(core: Core, channel: Channel, wake: Callable[[], None]) -> None:
    await broadcasts.release_due(core)
    await reminders.sweep(core)
    await training.expire_offers(core)
    await training.fill_free_places(core)
    await training.plan_reminders(core)
    await event_rsvp.fill_free_places(core)
    await event_rsvp.plan_reminders(core)
    for chat_id, message_id, message in await broadcasts.progress(core):
        try:
            await channel.edit(chat_id, message_id, message)
        except DeliveryError as error:  # a progress line is not worth a retry
            log.warning("progress edit failed: %s", error.reason)
    wake()  # new rows (released broadcasts, reports) go out now, not at the next poll
