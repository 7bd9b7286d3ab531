"""Benchmark: an operator broadcast through the real delivery path, end to end.

broadcast service -> outbox table -> Sender -> TelegramChannel -> python-telegram-bot -> the
in-process fake Bot API (FakeBotAPI), with N linked residents in a real database. Measures the
achieved send rate against the fake's flood cap, the time to the first message and peak RSS.

    .venv/bin/python benchmarks/broadcast.py [--n 10000] [--latency-ms 0] [--cap 30]
        [--database-url URL] [--concurrency C]

A PostgreSQL database may hold other data: the benchmark uses the reserved Telegram ids
10_000_000 to 19_999_999, deletes only its own residents and broadcasts at the end, and
refuses to run while the outbox holds work that is not its own (its sender would take it).
Message texts and names are never printed.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `bot` when run as a script

import argparse
import asyncio
import logging
import resource
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from datetime import time as clock_time
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, select, text
from sqlalchemy.engine import make_url

from bot import logs, migrate
from bot.app import QMondoApplication, build
from bot.config import Settings
from bot.core import Core
from bot.fakeapi import FakeBotAPI, FakeMessage
from bot.models import Broadcast, BroadcastStatus, Delivery, DeliveryStatus, Resident, Role
from bot.services import broadcasts

TOKEN = "123456:BENCH-TOKEN-abcdefghijklmnopqrstuvwxyz"
ID_BASE, ID_LIMIT = 10_000_000, 19_999_999  # reserved ids: the operator, then the residents
INSERT_BATCH = 5_000  # rows per bulk INSERT
RATE_MARGIN = 0.98  # the sender's rate: under the cap, with room for timing jitter
LOCK_KEY = 0x51_4D_42_43  # PostgreSQL advisory lock: one benchmark per database at a time
HTML, VISIBLE = "<b>Festa</b> nel cortile", "Festa nel cortile"


class BenchmarkError(Exception):
    """The benchmark could not run or did not finish; the message says why."""


@dataclass(frozen=True)
class Options:
    n: int
    latency_ms: float
    cap: int | None  # the fake's flood cap in messages/s; None: no cap
    database_url: str | None  # None: a fresh temporary SQLite file
    concurrency: int | None  # None: the Settings default

    @property
    def send_rate(self) -> float | None:
        return self.cap * RATE_MARGIN if self.cap else None


@dataclass
class Figures:
    options: Options
    settings: Settings
    t0: float
    times: list[float]
    duplicates: int
    throttled: int  # 429 answers from the fake
    violations: int  # calls the fake found invalid
    outcomes: Counter[str]  # the broadcast's deliveries by status, after the stop

    @property
    def rate(self) -> float:
        return (len(self.times) - 1) / (self.times[-1] - self.times[0])

    @property
    def ratio(self) -> float | None:
        return self.rate / self.options.cap if self.options.cap else None


class Recorder:
    """fake.on_message: when each resident gets a message; `done` once all N have one."""

    def __init__(self, chats: range) -> None:
        self.chats = chats
        self.times: list[float] = []
        self.counts: Counter[int] = Counter()
        self.done = asyncio.Event()

    def __call__(self, chat_id: int, message: FakeMessage) -> None:
        if chat_id not in self.chats or message.edited or message.deleted:
            return  # the operator's progress message and report, or an edit
        self.counts[chat_id] += 1
        if self.counts[chat_id] == 1:
            self.times.append(time.perf_counter())
            if len(self.times) == len(self.chats):
                self.done.set()

    @property
    def duplicates(self) -> int:
        return sum(1 for count in self.counts.values() if count > 1)


# -- command line -------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description="Benchmark an operator broadcast end to end.")
    parser.add_argument("--n", type=int, default=10_000, help="residents (default 10000)")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="fake API latency per call")
    parser.add_argument("--cap", type=int, default=30, help="fake API flood cap, msg/s (0: none)")
    parser.add_argument("--database-url", help="default: a fresh temporary SQLite file")
    parser.add_argument("--concurrency", type=int, help="send_concurrency (default: Settings')")
    args = parser.parse_args(argv)
    if not 2 <= args.n <= ID_LIMIT - ID_BASE:
        parser.error(f"--n must be between 2 and {ID_LIMIT - ID_BASE}")
    if args.cap < 0 or args.latency_ms < 0 or (args.concurrency or 1) < 1:
        parser.error("--cap and --latency-ms must be >= 0, --concurrency >= 1")
    return Options(args.n, args.latency_ms, args.cap or None, args.database_url, args.concurrency)


def make_settings(options: Options, database_url: str) -> Settings:
    extra: dict[str, Any] = {}
    if options.concurrency is not None:
        extra["send_concurrency"] = options.concurrency
    return Settings(
        telegram_token=TOKEN,
        database_url=database_url,
        send_rate=options.send_rate,
        quiet_start=clock_time(0, 0),
        quiet_end=clock_time(0, 0),  # no quiet hours: the figures must not depend on the hour
        **extra,
    )


# -- the database -------------------------------------------------------------------------------


@asynccontextmanager
async def exclusive(core: Core) -> AsyncIterator[None]:
    """On PostgreSQL, refuse to run beside another benchmark: its rows look like leftovers."""
    if core.db.engine.dialect.name != "postgresql":
        yield
        return
    async with core.db.engine.connect() as connection:
        if not await connection.scalar(text(f"SELECT pg_try_advisory_lock({LOCK_KEY})")):
            raise BenchmarkError("another broadcast benchmark is running on this database")
        await connection.commit()  # the lock is the session's: no transaction left open
        try:
            yield
        finally:
            await connection.execute(text(f"SELECT pg_advisory_unlock({LOCK_KEY})"))
            await connection.commit()


def ours() -> ColumnElement[bool]:
    return Resident.telegram_user_id.between(ID_BASE, ID_LIMIT)


async def remove_ours(core: Core) -> int:
    """Delete the benchmark's residents and the broadcasts they wrote (deliveries cascade)."""
    async with core.db.session.begin() as session:
        authors = select(Resident.id).where(ours()).scalar_subquery()
        await session.execute(
            delete(Broadcast).where(Broadcast.author_id.in_(authors)),
            execution_options={"synchronize_session": False},
        )
        result = await session.execute(
            delete(Resident).where(ours()), execution_options={"synchronize_session": False}
        )
        return int(getattr(result, "rowcount", 0) or 0)


async def refuse_foreign_work(core: Core) -> None:
    """The bot's sender and sweep would send, and fail, messages that are not ours."""
    async with core.db.session() as session:
        open_rows = await session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING]))
        )
        live = await session.scalar(
            select(func.count())
            .select_from(Broadcast)
            .where(Broadcast.status.in_([BroadcastStatus.SCHEDULED, BroadcastStatus.SENDING]))
        )
    if open_rows or live:
        raise BenchmarkError(
            f"the database holds {open_rows} undelivered outbox rows and {live} scheduled or "
            "sending notices that are not the benchmark's; use an idle database"
        )


def resident_rows(n: int, locales: list[str], now: datetime) -> list[dict[str, Any]]:
    return [
        {
            "telegram_user_id": ID_BASE + i,
            "chat_id": ID_BASE + i,
            "display_name": f"Bench{i}",
            "full_name": f"Bench Resident {i}",
            "locale": locales[i % len(locales)],
            "role": Role.RESIDENT,
            "consent_at": now,
            "tenant_code": f"BENCH-{i:07d}",
            "building": "ABCDEFGH"[i % 8],
            "linked_at": now,
            "created_at": now,
        }
        for i in range(1, n + 1)
    ]


async def seed(core: Core, fake: FakeBotAPI, n: int) -> int:
    """N linked residents in a few bulk INSERTs, and the operator (no tenant record, so not in
    the audience); every chat is registered with the fake. Returns the operator's id."""
    now = core.clock.now()
    rows = resident_rows(n, core.catalogs.locales, now)
    async with core.db.engine.begin() as connection:
        for start in range(0, n, INSERT_BATCH):
            await connection.execute(insert(Resident), rows[start : start + INSERT_BATCH])
        operator_id = await connection.scalar(
            insert(Resident)
            .values(
                telegram_user_id=ID_BASE,
                chat_id=ID_BASE,
                display_name="Operator",
                locale=core.catalogs.default,
                role=Role.OPERATOR,
                consent_at=now,
                created_at=now,
            )
            .returning(Resident.id)
        )
    for chat_id in range(ID_BASE, ID_BASE + n + 1):
        fake.add_chat(chat_id, "private", first_name=f"Bench{chat_id - ID_BASE}")
    assert operator_id is not None
    return operator_id


async def outcomes(core: Core, broadcast_id: int) -> Counter[str]:
    summary = await broadcasts.summary(core, broadcast_id)
    return summary.counts if summary is not None else Counter()


# -- the application ----------------------------------------------------------------------------


async def start_app(core: Core, fake: FakeBotAPI) -> QMondoApplication:
    """The real Application with the fake as its network, started as tests/support.py does."""
    app = build(core, request=fake)
    assert isinstance(app, QMondoApplication)
    assert app.post_init is not None and app.job_queue is not None
    await app.initialize()
    await app.post_init(app)
    for job in app.job_queue.get_jobs_by_name("housekeeping"):
        job.schedule_removal()  # it purges link codes: not ours to delete in a shared database
    await app.start()
    return app


async def stop_app(app: QMondoApplication) -> None:
    if app.running:
        await app.stop()
    await app.shutdown()


async def send_broadcast(core: Core, app: QMondoApplication, operator_id: int) -> tuple[int, float]:
    """Write the notice as an operator would, send it; returns its id and t0."""
    draft = await broadcasts.new_draft(core, operator_id, "linked")
    await broadcasts.set_text(core, draft.id, HTML, VISIBLE)
    t0 = time.perf_counter()
    await broadcasts.send_now(core, draft.id)
    assert app.sender is not None
    app.sender.wake()
    return draft.id, t0


def timeout(options: Options) -> float:
    """Generous: three times the expected duration at the configured rate, plus a minute."""
    return 60.0 + 3 * options.n / (options.send_rate or 200.0)


async def measure(core: Core, options: Options) -> Figures:
    fake = FakeBotAPI(latency=options.latency_ms / 1000, cap_per_second=options.cap)
    operator_id = await seed(core, fake, options.n)
    recorder = Recorder(range(ID_BASE + 1, ID_BASE + options.n + 1))
    fake.on_message = recorder
    app = await start_app(core, fake)
    try:
        broadcast_id, t0 = await send_broadcast(core, app, operator_id)
        await asyncio.wait_for(recorder.done.wait(), timeout(options))
    except TimeoutError:
        raise BenchmarkError(
            f"timed out: {len(recorder.times)} of {options.n} residents reached"
        ) from None
    finally:
        await stop_app(app)
    return Figures(
        options,
        core.settings,
        t0,
        recorder.times,
        recorder.duplicates,
        throttled=sum(1 for _, status, _ in fake.errors if status == 429),
        violations=len(fake.violations),
        outcomes=await outcomes(core, broadcast_id),
    )


async def run(options: Options, database_url: str, shared: bool) -> Figures:
    """shared: a database that may hold other data, so the benchmark removes its own rows."""
    await migrate.upgrade(database_url)
    core = Core.create(make_settings(options, database_url))
    try:
        async with exclusive(core):
            return await measure_alone(core, options, shared)
    finally:
        await core.close()


async def measure_alone(core: Core, options: Options, shared: bool) -> Figures:
    try:
        if shared and await remove_ours(core):
            print("removed residents left by an earlier, interrupted run")
        await refuse_foreign_work(core)
        return await measure(core, options)
    finally:
        if shared:
            await remove_ours(core)


# -- the report ---------------------------------------------------------------------------------


def optional(value: float | None, spec: str) -> str:
    return "none" if value is None else format(value, spec)


def per_second(value: float | None, spec: str) -> str:
    return "none" if value is None else f"{value:{spec}} msg/s"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def report(figures: Figures, database: str) -> None:
    options, settings = figures.options, figures.settings
    first_ms = (figures.times[0] - figures.t0) * 1000
    total_s = figures.times[-1] - figures.t0
    others = {k: v for k, v in figures.outcomes.items() if k != DeliveryStatus.SENT}
    lines = [
        ("database", database),
        ("residents (N)", f"{options.n}"),
        ("fake API latency", f"{options.latency_ms:g} ms per call"),
        ("fake API cap", per_second(options.cap, "d")),
        ("sender rate setting", per_second(settings.send_rate, ".1f")),
        ("sender concurrency", f"{settings.send_concurrency}"),
        ("achieved rate", f"{figures.rate:.1f} msg/s (first to last resident message)"),
        ("ratio to cap", optional(figures.ratio, ".3f")),
        ("time to first message", f"{first_ms:.0f} ms"),
        ("total time", f"{total_s:.2f} s"),
        ("429 answers", f"{figures.throttled}"),
        ("invalid calls", f"{figures.violations}"),
        ("duplicates", f"{figures.duplicates}"),
        ("outbox outcomes", f"sent {figures.outcomes[DeliveryStatus.SENT]}, other {others}"),
        ("peak RSS", f"{peak_rss_mb():.1f} MB"),
    ]
    width = max(len(label) for label, _ in lines)
    for label, value in lines:
        print(f"{label:<{width}}  {value}")
    print(final_line(figures))


def final_line(figures: Figures) -> str:
    options = figures.options
    return (
        f"broadcast n={options.n} latency_ms={options.latency_ms:g} "
        f"cap={optional(options.cap, 'd')} rate={figures.rate:.1f} "
        f"ratio={optional(figures.ratio, '.3f')} rss_mb={peak_rss_mb():.1f}"
    )


# -- main ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    options = parse_args(argv)
    logs.setup(TOKEN, logging.WARNING)  # warnings and errors only: nothing per message
    temporary = None if options.database_url else Path(tempfile.mkdtemp(prefix="qmondo-bench-"))
    url = options.database_url or f"sqlite:///{temporary}/broadcast.sqlite3"
    try:
        figures = asyncio.run(run(options, url, shared=temporary is None))
    except BenchmarkError as error:
        sys.exit(f"broadcast benchmark: {error}")
    finally:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)
    backend = make_url(url).get_backend_name()
    report(figures, f"{backend} (temporary file)" if temporary else backend)


if __name__ == "__main__":
    main()
