"""Benchmark: the payment-reminder sweep (bot/services/reminders.py) on a real database.

Creates R linked residents with one repayment plan each and N instalments in all, their due
dates spread over two years around the pinned clock (so every reminder window holds some),
the older ones paid; then times sweeps: the first enqueues every reminder due now, the next
ones find nothing new (the steady state of a bot that sweeps every few seconds).

    .venv/bin/python benchmarks/reminders.py [--residents 10000] [--instalments 100000]
        [--database-url URL] [--sweeps 3]

On PostgreSQL the benchmark uses only its own rows (tenant codes BENCH-*, Telegram ids from
30_000_000) and deletes them at the end. The last line is exactly:
sweep db=<sqlite|postgresql> instalments=<N> seconds=<s> rss_mb=<MB>
where seconds is the slowest sweep.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `bot` when run as a script

import argparse
import asyncio
import resource
import shutil
import tempfile
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import make_url

from bot import migrate
from bot.clock import FixedClock
from bot.config import Settings
from bot.core import Core
from bot.models import Delivery, Instalment, PlanStatus, RepaymentPlan, Resident, Role
from bot.services import plan_import, reminders

ID_BASE = 30_000_000
PREFIX = "BENCH-"
BATCH = 5_000
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=ZoneInfo("Europe/Rome"))
SPREAD_DAYS = 730  # due dates from a year before to a year after NOW


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark the payment-reminder sweep.")
    parser.add_argument("--residents", type=int, default=10_000)
    parser.add_argument("--instalments", type=int, default=100_000)
    parser.add_argument("--database-url", help="default: a fresh temporary SQLite file")
    parser.add_argument("--sweeps", type=int, default=3)
    args = parser.parse_args(argv)
    if args.residents < 1 or args.instalments < args.residents or args.sweeps < 1:
        parser.error("need residents >= 1, instalments >= residents, sweeps >= 1")
    return args


async def populate(core: Core, residents: int, instalments: int) -> None:
    now = core.clock.now()
    async with core.db.session.begin() as session:
        people = [
            {
                "telegram_user_id": ID_BASE + i,
                "chat_id": ID_BASE + i,
                "full_name": f"Bench {i}",
                "locale": ("it", "ar", "uk", "zh")[i % 4],
                "consent_at": now,
                "tenant_code": f"{PREFIX}{i}",
                "linked_at": now,
                "created_at": now,
                "role": Role.OPERATOR if i < 2 else Role.RESIDENT,  # escalations go somewhere
                "opted_out": False,
                "unreachable": False,
            }
            for i in range(residents)
        ]
        for start in range(0, len(people), BATCH):
            await session.execute(insert(Resident), people[start : start + BATCH])
        ids = list(
            await session.scalars(
                select(Resident.id)
                .where(Resident.tenant_code.like(f"{PREFIX}%"))
                .order_by(Resident.id)
            )
        )
        plans = [
            {
                "resident_id": resident_id,
                "reference": f"{PREFIX}{resident_id}",
                "signed_on": date(2025, 1, 1),
                "total_cents": 0,
                "status": PlanStatus.ACTIVE,
                "created_at": now,
                "updated_at": now,
            }
            for resident_id in ids
        ]
        for start in range(0, len(plans), BATCH):
            await session.execute(insert(RepaymentPlan), plans[start : start + BATCH])
        plan_ids = list(
            await session.scalars(
                select(RepaymentPlan.id)
                .where(RepaymentPlan.reference.like(f"{PREFIX}%"))
                .order_by(RepaymentPlan.id)
            )
        )
        today = NOW.date()
        first = today - timedelta(days=SPREAD_DAYS // 2)
        rows = []
        for n in range(instalments):
            due = first + timedelta(days=(n * 7) % SPREAD_DAYS)
            paid = due < today - timedelta(days=30) and n % 3 != 0  # most old ones are paid
            rows.append(
                {
                    "plan_id": plan_ids[n % len(plan_ids)],
                    "number": n // len(plan_ids) + 1,
                    "due_on": due,
                    "amount_cents": 15_000,
                    "paid_cents": 15_000 if paid else 0,
                    "paid_on": due if paid else None,
                }
            )
            if len(rows) == BATCH:
                await session.execute(insert(Instalment), rows)
                rows = []
        if rows:
            await session.execute(insert(Instalment), rows)
    async with core.db.session() as session:
        await plan_import.refresh_statistics(session)  # as an import of the same rows does


async def clean(core: Core) -> None:
    async with core.db.session.begin() as session:
        await session.execute(delete(Resident).where(Resident.tenant_code.like(f"{PREFIX}%")))


async def run(args: argparse.Namespace, database_url: str) -> tuple[str, float]:
    await migrate.upgrade(database_url)
    core = Core.create(Settings(database_url=database_url), FixedClock(NOW))
    try:
        await clean(core)
        started = time.perf_counter()
        await populate(core, args.residents, args.instalments)
        print(f"setup: {time.perf_counter() - started:.1f} s", flush=True)
        times = []
        for number in range(1, args.sweeps + 1):
            started = time.perf_counter()
            new = await reminders.sweep(core)
            times.append(time.perf_counter() - started)
            print(f"sweep {number}: {times[-1]:.3f} s, {new} reminders enqueued", flush=True)
        async with core.db.session() as session:
            total = await session.scalar(select(func.count()).select_from(Delivery))
        print(f"outbox rows: {total}", flush=True)
        return core.db.engine.dialect.name, max(times)
    finally:
        await clean(core)
        await core.close()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = None
    url = args.database_url
    if url is None:
        workdir = tempfile.mkdtemp(prefix="qmondo-bench-")
        url = f"sqlite:///{workdir}/bench.sqlite3"
    try:
        dialect, seconds = asyncio.run(run(args, url))
    finally:
        if workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    db = "postgresql" if make_url(url).get_backend_name() == "postgresql" else dialect
    print(f"sweep db={db} instalments={args.instalments} seconds={seconds:.3f} rss_mb={rss_mb:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
