"""A bot process for the two-process reminder test: the real Application, sender and
scheduler on a pinned clock, sweeping reminders on its own as well, as fast as it can.

Every message the fake Bot API receives is appended to a file (one chat id a line). The
process exits once it has swept `--sweeps` times and the outbox holds nothing to send.

    python -m tests.reminder_worker DATABASE_URL LOG_FILE NOW_ISO [--sweeps N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
from datetime import datetime, time

from sqlalchemy import select

from bot.app import build
from bot.clock import FixedClock
from bot.config import Settings
from bot.core import Core
from bot.fakeapi import FakeBotAPI, FakeMessage
from bot.models import Resident
from bot.services import reminders
from tests.outbox_worker import TOKEN, remaining


async def run(database_url: str, log_file: str, now: datetime, sweeps: int) -> None:
    settings = Settings(
        telegram_token=TOKEN,
        database_url=database_url,
        send_rate=500,
        quiet_start=time(0),
        quiet_end=time(0),
        tick_seconds=0.05,
    )
    core = Core.create(settings, FixedClock(now))
    fake = FakeBotAPI(latency=0.002)
    async with core.db.session() as session:
        for chat_id in await session.scalars(
            select(Resident.chat_id).where(Resident.chat_id.is_not(None))
        ):
            fake.add_chat(chat_id, "private", first_name="R")
    log = os.open(log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT)

    def record(chat_id: int, message: FakeMessage) -> None:
        if not message.edited:
            os.write(log, f"{chat_id}\n".encode())

    fake.on_message = record
    app = build(core, request=fake)
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)
    await app.start()
    for _ in range(sweeps):  # besides the scheduler's own sweeps, racing the other process
        await reminders.sweep(core)
        app.sender.wake()
        await asyncio.sleep(0)
    while await remaining(core):  # noqa: ASYNC110 - the other process works on it too
        await asyncio.sleep(0.1)
    await app.stop()
    await app.shutdown()
    await core.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("database_url")
    parser.add_argument("log_file")
    parser.add_argument("now")
    parser.add_argument("--sweeps", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(
        run(args.database_url, args.log_file, datetime.fromisoformat(args.now), args.sweeps)
    )


if __name__ == "__main__":
    main()
