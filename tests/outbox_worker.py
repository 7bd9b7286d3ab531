"""A bot process for the crash and multi-process tests.

The real Application, sender and scheduler against an in-process fake Bot API. Every message
the fake receives is appended to a file with os.write, so the record survives SIGKILL. The
process exits once the outbox holds nothing pending or in flight.

    python -m tests.outbox_worker DATABASE_URL LOG_FILE [--rate R] [--lease S]
"""

from __future__ import annotations

import argparse
import asyncio
import os
from datetime import time, timedelta

from sqlalchemy import func, select

from bot.app import build
from bot.config import Settings
from bot.core import Core
from bot.fakeapi import FakeBotAPI, FakeMessage
from bot.models import Delivery, DeliveryStatus, Resident

TOKEN = "123456:WORKER-TOKEN-abcdefghijklmnopqrstuvwxyz"


async def remaining(core: Core) -> int:
    async with core.db.session() as session:
        count = await session.scalar(
            select(func.count()).where(
                Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING])
            )
        )
        return count or 0


async def run(database_url: str, log_file: str, rate: float, lease: float) -> None:
    settings = Settings(
        telegram_token=TOKEN,
        database_url=database_url,
        send_rate=rate,
        send_lease=timedelta(seconds=lease),
        quiet_start=time(0),
        quiet_end=time(0),  # no quiet hours: the test must not depend on the time of day
        tick_seconds=0.5,
    )
    core = Core.create(settings)
    fake = FakeBotAPI(latency=0.005)
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
    print("started", flush=True)
    while await remaining(core):  # noqa: ASYNC110 - other processes write the outbox
        await asyncio.sleep(0.2)
    await app.stop()
    await app.shutdown()
    await core.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("database_url")
    parser.add_argument("log_file")
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--lease", type=float, default=2.0)
    args = parser.parse_args()
    asyncio.run(run(args.database_url, args.log_file, args.rate, args.lease))


if __name__ == "__main__":
    main()
