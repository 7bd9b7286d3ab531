"""The outbox table's operations: enqueue, claim, record. The database is the source of truth.

Claiming moves due rows to `sending` in one statement (on PostgreSQL the candidate rows are
locked with FOR UPDATE SKIP LOCKED, so two bot processes never claim the same row). A row
that stays in `sending` longer than the lease was claimed by a process that died: it is
claimed again, so nothing is lost; at most the messages that process had in flight are sent
twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    Integer,
    Select,
    String,
    and_,
    cast,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload
from sqlalchemy.types import JSON

from bot.config import Settings
from bot.core import Core
from bot.delivery.kinds import KINDS
from bot.models import Delivery, DeliveryStatus, Resident

BACKOFF_BASE = timedelta(seconds=2)
BACKOFF_MAX = timedelta(minutes=10)


def quiet(settings: Settings, now: datetime) -> bool:
    """Inside quiet hours (local time), when non-urgent messages wait."""
    start, end = settings.quiet_start, settings.quiet_end
    local = now.astimezone(settings.tz).time()
    if start == end:
        return False
    if start > end:  # the usual case: the night, across midnight
        return local >= start or local < end
    return start <= local < end


def held_until(settings: Settings, now: datetime) -> datetime | None:
    """When quiet hours let a non-urgent notice written now go out; None: at once."""
    if not quiet(settings, now):
        return None
    local = now.astimezone(settings.tz)
    end = datetime.combine(local.date(), settings.quiet_end, tzinfo=settings.tz)
    if end <= now:  # the night has not passed midnight yet: it ends tomorrow
        end = datetime.combine(local.date() + timedelta(days=1), settings.quiet_end, settings.tz)
    return end


def backoff(attempts: int) -> timedelta:
    """2 s, 4 s, 8 s... after the n-th failed attempt, at most 10 minutes."""
    return min(BACKOFF_BASE * 2 ** max(attempts - 1, 0), BACKOFF_MAX)


def insert_or_skip(session: AsyncSession, table: Any) -> Any:
    """The dialect's INSERT, which has ON CONFLICT DO NOTHING on both databases."""
    dialect = session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(table)


def _urgent(kind: str, urgent: bool) -> bool:
    # Kinds registered as always-on (operators' work) ignore quiet hours and opt-out.
    registered = KINDS.get(kind)
    return urgent or (registered is not None and registered.always)


async def enqueue(
    session: AsyncSession,
    *,
    resident_id: int,
    kind: str,
    key: str,
    now: datetime,
    params: dict[str, Any] | None = None,
    broadcast_id: int | None = None,
    urgent: bool = False,
    not_before: datetime | None = None,
    expires_at: datetime | None = None,
) -> bool:
    """Put one message in the outbox; False if the same key was enqueued before."""
    statement = (
        insert_or_skip(session, Delivery)
        .values(
            resident_id=resident_id,
            dedupe_key=key,
            kind=kind,
            params=params or {},
            broadcast_id=broadcast_id,
            urgent=_urgent(kind, urgent),
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=not_before or now,
            expires_at=expires_at,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(Delivery.id)
    )
    return (await session.execute(statement)).first() is not None


async def enqueue_select(
    session: AsyncSession,
    recipients: Select[tuple[int]],
    *,
    kind: str,
    key_prefix: str,
    now: datetime,
    **options: Any,
) -> int:
    """One message to each resident id the query selects, in a single statement.

    The dedupe key is `key_prefix` + resident id: enqueueing again adds only the missing.
    """
    ids = recipients.subquery()
    keyed = select(ids.c[0], literal(key_prefix) + cast(ids.c[0], String(20)))
    return await enqueue_keyed(session, keyed, kind=kind, now=now, **options)


async def enqueue_keyed(
    session: AsyncSession,
    rows: Select[tuple[int, str]],
    *,
    kind: str,
    now: datetime,
    broadcast_id: int | None = None,
    urgent: bool = False,
    expires_at: datetime | None = None,
    params: dict[str, Any] | None = None,
) -> int:
    """A message to each (resident id, dedupe key) the query selects, in one INSERT ... SELECT;
    keys enqueued before are skipped. Returns how many rows were added."""
    source = rows.subquery()
    stamp = Delivery.__table__.c.created_at.type
    values = (
        select(
            source.c[0],
            source.c[1],
            literal(kind),
            literal(params or {}, JSON),
            literal(broadcast_id, Integer),
            literal(_urgent(kind, urgent), Boolean),
            literal(DeliveryStatus.PENDING.value),
            literal(0),
            literal(now, stamp),
            literal(expires_at, stamp),
            literal(now, stamp),
        )
        .where(true())  # SQLite needs a WHERE to tell the upsert clause from a join's ON
        # One order for every process: two inserting the same keys wait, never deadlock.
        .order_by(source.c[1])
    )
    columns = [
        "resident_id",
        "dedupe_key",
        "kind",
        "params",
        "broadcast_id",
        "urgent",
        "status",
        "attempts",
        "next_attempt_at",
        "expires_at",
        "created_at",
    ]
    statement = (
        insert_or_skip(session, Delivery)
        .from_select(columns, values)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(Delivery.id)  # rowcount is not reliable here with every driver
    )
    return len((await session.execute(statement)).all())


async def claim(core: Core, limit: int) -> list[Delivery]:
    """Move up to `limit` due rows to `sending` and return them with their residents."""
    now = core.clock.now()
    settings = core.settings
    async with core.db.session.begin() as session:
        await session.execute(
            update(Delivery)
            .where(
                Delivery.status == DeliveryStatus.PENDING,
                Delivery.expires_at.is_not(None),
                Delivery.expires_at <= now,
            )
            .values(status=DeliveryStatus.EXPIRED, last_error="expired")
        )
        due = and_(Delivery.status == DeliveryStatus.PENDING, Delivery.next_attempt_at <= now)
        if quiet(settings, now):
            due = and_(due, Delivery.urgent.is_(True))
        lost = and_(
            Delivery.status == DeliveryStatus.SENDING,
            Delivery.claimed_at < now - settings.send_lease,
        )
        candidates = (
            select(Delivery.id)
            .where(or_(due, lost))
            .order_by(Delivery.urgent.desc(), Delivery.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        claimed = await session.scalars(
            update(Delivery)
            .where(Delivery.id.in_(candidates.scalar_subquery()))
            .values(status=DeliveryStatus.SENDING, claimed_at=now)
            .returning(Delivery.id)
            .execution_options(synchronize_session=False)
        )
        ids = list(claimed)
        if not ids:
            return []
        rows = await session.scalars(
            select(Delivery)
            .options(joinedload(Delivery.resident))
            .where(Delivery.id.in_(ids))
            .order_by(Delivery.urgent.desc(), Delivery.id)
        )
        return list(rows)


@dataclass
class Outcome:
    """What became of one claimed row; written back in batches by `record`."""

    id: int
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None = None
    sent_at: datetime | None = None
    message_id: int | None = None
    blocked_resident: int | None = field(default=None, compare=False)

    def row(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "attempts": self.attempts,
            "next_attempt_at": self.next_attempt_at,
            "last_error": self.last_error,
            "sent_at": self.sent_at,
            "message_id": self.message_id,
            "claimed_at": None,
        }


async def record(core: Core, outcomes: list[Outcome]) -> None:
    if not outcomes:
        return
    async with core.db.session.begin() as session:
        await session.execute(
            # Only rows still claimed: a row may be gone meanwhile (its resident erased with
            # /delete); with a WHERE, a missing row is skipped instead of failing the batch.
            update(Delivery)
            .where(Delivery.status == DeliveryStatus.SENDING)
            .execution_options(synchronize_session=False),
            [outcome.row() for outcome in outcomes],
        )
        blocked = {o.blocked_resident for o in outcomes if o.blocked_resident is not None}
        if blocked:
            await session.execute(
                update(Resident).where(Resident.id.in_(blocked)).values(unreachable=True)
            )


async def release(core: Core, ids: list[int]) -> None:
    """Claimed rows that were not sent (the process is stopping) go back to the queue."""
    await _update_held(core, ids, status=DeliveryStatus.PENDING, claimed_at=None)


async def renew(core: Core, ids: list[int]) -> None:
    """Extend the lease of rows this process still holds."""
    await _update_held(core, ids, claimed_at=core.clock.now())


async def _update_held(core: Core, ids: list[int], **values: Any) -> None:
    if not ids:
        return
    async with core.db.session.begin() as session:
        await session.execute(
            update(Delivery)
            .where(Delivery.id.in_(ids), Delivery.status == DeliveryStatus.SENDING)
            .values(**values)
        )
