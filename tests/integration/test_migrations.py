"""Migrations are the only way the schema is made: they apply, revert, and match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from bot import migrate
from bot.core import Core
from bot.db import Base


async def test_migrations_go_down_and_up_again(core: Core):
    await migrate.downgrade(core.settings.database_url, "base")
    async with core.db.engine.connect() as connection:
        tables = await connection.run_sync(lambda c: inspect(c).get_table_names())
    assert set(tables) <= {"alembic_version"}
    await migrate.upgrade(core.settings.database_url)
    async with core.db.engine.connect() as connection:
        tables = await connection.run_sync(lambda c: inspect(c).get_table_names())
    assert set(Base.metadata.tables) <= set(tables)


async def test_models_and_migrations_agree(core: Core):
    def differences(connection):
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)

    async with core.db.engine.connect() as connection:
        assert await connection.run_sync(differences) == []


async def test_sqlite_runs_with_foreign_keys_and_wal(core: Core):
    if core.db.engine.dialect.name != "sqlite":
        return
    async with core.db.engine.connect() as connection:
        assert (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
        assert (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
