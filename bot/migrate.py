"""Apply the package's Alembic migrations (`qmondo-bot db upgrade`, and at every start)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))  # configparser
    return config


def _run(database_url: str, action: str, revision: str) -> None:
    getattr(command, action)(alembic_config(database_url), revision)


async def upgrade(database_url: str, revision: str = "head") -> None:
    # env.py runs its own event loop, so Alembic gets a thread of its own.
    await asyncio.to_thread(_run, database_url, "upgrade", revision)


async def downgrade(database_url: str, revision: str) -> None:
    await asyncio.to_thread(_run, database_url, "downgrade", revision)
