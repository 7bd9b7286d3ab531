"""The outbox across processes: a SIGKILL mid-broadcast, and two bot processes on one outbox.

Each bot is a real process (tests/outbox_worker.py) with the real Application and sender; it
appends every message it delivers to a log file, which survives the kill.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from bot.clock import FixedClock
from bot.core import Core
from bot.delivery.sender import FLUSH_SIZE
from bot.models import Delivery, Resident, Role
from bot.services import broadcasts

RECIPIENTS = 1000
OPERATOR_CHAT = 1
ROOT = Path(__file__).resolve().parents[2]


async def broadcast_to_many(core: Core, clock: FixedClock) -> None:
    """1,000 linked residents and a notice to all of them, enqueued at the real time."""
    clock.set(datetime.now(UTC))  # the worker processes run on the real clock
    now = clock.now()
    people = [
        {
            "telegram_user_id": 100_000 + i,
            "chat_id": 100_000 + i,
            "full_name": f"Resident {i}",
            "locale": ("it", "ar", "zh", "uk")[i % 4],
            "consent_at": now,
            "tenant_code": f"K{i:05d}",
            "building": "K",
            "linked_at": now,
            "created_at": now,
            "role": Role.RESIDENT,
            "opted_out": False,
            "unreachable": False,
        }
        for i in range(RECIPIENTS)
    ]
    async with core.db.session.begin() as session:
        await session.execute(insert(Resident), people)
        session.add(
            Resident(
                telegram_user_id=OPERATOR_CHAT,
                chat_id=OPERATOR_CHAT,
                consent_at=now,
                role=Role.OPERATOR,
                created_at=now,
            )
        )
    author = await session_operator(core)
    draft = await broadcasts.new_draft(core, author, "linked")
    await broadcasts.set_text(core, draft.id, "Assemblea giovedì", "Assemblea giovedì")
    await broadcasts.send_now(core, draft.id)


async def session_operator(core: Core) -> int:
    async with core.db.session() as session:
        found = await session.scalar(
            select(Resident.id).where(Resident.telegram_user_id == OPERATOR_CHAT)
        )
        assert found is not None
        return found


def worker(database_url: str, log: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.outbox_worker", database_url, str(log), *extra],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def received(*logs: Path) -> Counter[int]:
    """Messages per resident chat (the operator's progress and report left out)."""
    counts: Counter[int] = Counter()
    for log in logs:
        if log.exists():
            counts.update(int(line) for line in log.read_text().split())
    del counts[OPERATOR_CHAT]
    return counts


def wait_until(condition, seconds: float, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"the worker exited early: {process.communicate()[1][-2000:]}")
        if time.monotonic() > deadline:
            raise AssertionError("the worker did not get there in time")
        time.sleep(0.02)


def finish(process: subprocess.Popen[str], seconds: float = 120) -> None:
    try:
        _, err = process.communicate(timeout=seconds)
    finally:
        process.kill()
    assert process.returncode == 0, err[-2000:]


async def sent_statuses(core: Core) -> Counter[str]:
    async with core.db.session() as session:
        rows = await session.scalars(select(Delivery.status).where(Delivery.kind == "broadcast"))
        return Counter(status.value for status in rows)


async def test_a_bot_killed_mid_broadcast_delivers_to_everyone_after_restart(
    core: Core, clock: FixedClock, database_url: str, tmp_path: Path
):
    await broadcast_to_many(core, clock)
    log = tmp_path / "sent.log"
    first = worker(database_url, str(log), "--rate", "150")
    try:
        wait_until(lambda: sum(received(log).values()) >= 300, 60, first)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        first.kill()
    before_restart = received(log)
    assert 300 <= sum(before_restart.values()) < RECIPIENTS  # killed in the middle

    second = worker(database_url, str(log), "--rate", "150")
    finish(second)
    after = received(log)
    assert set(after) == {100_000 + i for i in range(RECIPIENTS)}  # nobody lost
    duplicates = sum(after.values()) - RECIPIENTS
    in_flight_bound = core.settings.send_concurrency + FLUSH_SIZE
    assert duplicates <= in_flight_bound, duplicates  # only what was in flight at the kill
    assert await sent_statuses(core) == Counter(sent=RECIPIENTS)


@pytest.mark.skipif(
    not os.environ.get("QMONDO_TEST_DATABASE_URL", "").startswith("postgres"),
    reason="several bot processes on one outbox is a PostgreSQL setup",
)
async def test_two_bot_processes_on_one_outbox_send_each_message_once(
    core: Core, clock: FixedClock, database_url: str, tmp_path: Path
):
    await broadcast_to_many(core, clock)
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    processes = [worker(database_url, str(log), "--rate", "100", "--lease", "60") for log in logs]
    for process in processes:
        finish(process)
    together = received(*logs)
    assert together == Counter({100_000 + i: 1 for i in range(RECIPIENTS)})
    assert all(sum(received(log).values()) > 0 for log in logs)  # both took part
    assert await sent_statuses(core) == Counter(sent=RECIPIENTS)
