"""Alembic environment: runs the package's migrations on the configured async engine."""

import asyncio

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection

from bot import models  # noqa: F401 - registers the tables on Base.metadata
from bot.db import Base, create_engine

config = context.config


def run_on(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        # Batch migrations copy and drop tables: with foreign keys on, the drop would cascade.
        # pysqlite has not begun a transaction yet, so this pragma takes effect.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()  # end the autobegun transaction so Alembic owns (and commits) its own
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_online() -> None:
    engine = create_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(run_on)
    await engine.dispose()


connection = config.attributes.get("connection")
if connection is not None:
    run_on(connection)
else:
    asyncio.run(run_online())
