"""Two bot processes on one PostgreSQL database sweep the same plans: every reminder and
every operator alert is enqueued once and sent once."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from bot.clock import FixedClock
from bot.core import Core
from bot.models import (
    Delivery,
    DeliveryStatus,
    Instalment,
    PlanStatus,
    RepaymentPlan,
    Resident,
    Role,
)
from tests.conftest import ROME
from tests.e2e.test_delivery_processes import finish

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 8, 10, 0, tzinfo=ROME)
OPERATOR_CHAT = 1
# due date -> how many residents have an unpaid instalment then (7 days, 1 day, today, 10 late)
DUE = {
    date(2026, 12, 15): 120,
    date(2026, 12, 9): 80,
    date(2026, 12, 8): 60,
    date(2026, 11, 28): 4,  # the operator gets one alert each, at most one a second
}


async def many_plans(core: Core, clock: FixedClock) -> dict[int, int]:
    """Residents with plans; returns chat id -> messages expected."""
    clock.set(NOW)
    now = clock.now()
    expected: dict[int, int] = {}
    people, chat = [], 200_000
    for due, count in DUE.items():
        for _ in range(count):
            people.append((chat, due))
            expected[chat] = 1
            chat += 1
    async with core.db.session.begin() as session:
        await session.execute(
            insert(Resident),
            [
                {
                    "telegram_user_id": chat_id, "chat_id": chat_id, "full_name": f"R {chat_id}",
                    "locale": ("it", "ar", "uk")[chat_id % 3], "consent_at": now,
                    "tenant_code": f"K{chat_id}", "linked_at": now, "created_at": now,
                    "role": Role.RESIDENT, "opted_out": False, "unreachable": False,
                }
                for chat_id, _ in people
            ],
        )  # fmt: skip
        session.add(
            Resident(
                telegram_user_id=OPERATOR_CHAT, chat_id=OPERATOR_CHAT, consent_at=now,
                role=Role.OPERATOR, created_at=now,
            )
        )  # fmt: skip
        rows = await session.execute(select(Resident.chat_id, Resident.id))
        ids = {chat: resident for chat, resident in rows}
        for chat_id, due in people:
            session.add(
                RepaymentPlan(
                    resident_id=ids[chat_id], reference=f"P{chat_id}", signed_on=date(2026, 1, 1),
                    total_cents=10000, status=PlanStatus.ACTIVE, created_at=now, updated_at=now,
                    instalments=[Instalment(number=1, due_on=due, amount_cents=10000,
                                            paid_cents=0)],
                )
            )  # fmt: skip
    expected[OPERATOR_CHAT] = DUE[date(2026, 11, 28)]  # one escalation each
    return expected


def worker(database_url: str, log: Path) -> subprocess.Popen[str]:
    command = ["-m", "tests.reminder_worker", database_url, str(log), NOW.isoformat()]
    return subprocess.Popen(
        [sys.executable, *command, "--sweeps", "30"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.skipif(
    not os.environ.get("QMONDO_TEST_DATABASE_URL", "").startswith("postgres"),
    reason="several bot processes on one database is a PostgreSQL setup",
)
async def test_two_processes_sweeping_the_same_plans_send_each_reminder_once(
    core: Core, clock: FixedClock, database_url: str, tmp_path: Path
):
    expected = await many_plans(core, clock)
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    processes = [worker(database_url, log) for log in logs]
    for process in processes:
        finish(process)
    together = Counter[int]()
    for log in logs:
        together.update(int(line) for line in log.read_text().split())
    assert together == Counter(expected)
    async with core.db.session() as session:
        statuses = await session.execute(
            select(Delivery.kind, Delivery.status, func.count()).group_by(
                Delivery.kind, Delivery.status
            )
        )
        assert sorted(tuple(row) for row in statuses) == [
            ("payment_reminder", DeliveryStatus.SENT, sum(DUE.values())),
            ("plan_alert", DeliveryStatus.SENT, DUE[date(2026, 11, 28)]),
        ]
