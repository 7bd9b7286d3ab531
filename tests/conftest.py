"""Fixtures: a real database (SQLite, or PostgreSQL from QMONDO_TEST_DATABASE_URL), the real
Application and scheduler, and the in-process fake Bot API in place of Telegram's network."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from bot import migrate
from bot.clock import FixedClock
from bot.config import Settings
from bot.core import Core
from bot.db import Base
from bot.fakeapi import FakeBotAPI
from tests.support import Harness

ROME = ZoneInfo("Europe/Rome")
TOKEN = "123456:TEST-TOKEN-abcdefghijklmnopqrstuvwxyz"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("QMONDO_TEST_DATABASE_URL") or (
        f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    )
    asyncio.run(migrate.upgrade(url))
    return url


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 25, 10, 0, tzinfo=ROME))


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        telegram_token=TOKEN,
        database_url=database_url,
        bot_username="qmondo_demo_bot",
        tick_seconds=0.1,  # the scheduler's sweep, fast enough to watch progress in a test
    )


@pytest.fixture
async def core(settings: Settings, clock: FixedClock) -> AsyncIterator[Core]:
    core = Core.create(settings, clock)
    yield core
    await empty_tables(core)
    await core.close()


async def empty_tables(core: Core) -> None:
    async with core.db.engine.begin() as connection:
        tables = [table.name for table in reversed(Base.metadata.sorted_tables)]
        if connection.dialect.name == "postgresql":
            await connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                await connection.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def fake() -> FakeBotAPI:
    return FakeBotAPI(bot_username="qmondo_demo_bot")


@pytest.fixture
async def harness(core: Core, fake: FakeBotAPI) -> AsyncIterator[Harness]:
    harness = Harness(core, fake)
    await harness.start()
    yield harness
    await harness.stop()
    harness.check()


@pytest.fixture
def project_root() -> Path:
    return Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _no_env_leak(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tests build their own Settings; a developer's QMONDO_* variables must not leak in."""
    for name in list(os.environ):
        if name.startswith("QMONDO_") and name != "QMONDO_TEST_DATABASE_URL":
            monkeypatch.delenv(name)
    yield
