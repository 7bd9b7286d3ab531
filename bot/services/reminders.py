"""Payment reminders: a set-based sweep that enqueues each reminder once, in the outbox.

Each instalment has reminder points at `Settings.reminder_offsets` days from its due date
(default -7, -1, 0, +3, +10), at `Settings.reminder_time` (09:30) local time, computed per
date in the configured zone, so the hour is right on both sides of a DST change.

Staleness (what is still sent after downtime) - a point's reminder is meaningful from its
moment until:
- before the due date: the moment of the next point (a "due in 7 days" is not sent once the
  "due tomorrow" moment has come);
- on the due date: the end of that day (the "due today" is sent on the day, and only then);
- after the due date: the moment of the next late point; the last one stays meaningful for
  `Settings.last_reminder_days` days.
The sweep enqueues, for each offset, the unpaid instalments whose due date puts `now` inside
that window, with one INSERT ... SELECT ... ON CONFLICT DO NOTHING per offset (the dedupe key
is `payment_reminder:<instalment>:<offset>`), so a sweep costs a few indexed statements
whatever the number of instalments, and two processes sweeping at once enqueue each reminder
once. The renderer checks the window and the payment again at send time: a reminder held by
quiet hours past its window, or paid meanwhile, is skipped, not sent.

The escalation point (`Settings.escalation_days` late, same window rule) opens one alert per
instalment for the operators (bot/services/plans.py), so a person calls: also for tenants who
do not use the bot, who get no reminders.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import String, cast, literal, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.core import Core
from bot.delivery import outbox
from bot.delivery.channel import Outgoing
from bot.delivery.kinds import register
from bot.i18n import N_, Translator
from bot.models import (
    AlertKind,
    Delivery,
    Instalment,
    PlanAlert,
    PlanStatus,
    RepaymentPlan,
    Resident,
)
from bot.services import audiences, plans

KIND = "payment_reminder"
# The notification's text: nothing about money, for the lock screen.
TEASER = N_("🔔 You have a new message from the QMondo office: tap to read.")
READ = N_("📩 Read")
HELP = N_("📞 I cannot pay / call me")  # the same button as under "My payments"


def moment(settings: Settings, day: date) -> datetime:
    """The reminder time on that day, as an aware instant (the zone's offset of that date)."""
    return datetime.combine(day, settings.reminder_time, tzinfo=settings.tz)


def window(settings: Settings, offset: int, now: datetime) -> tuple[date, date] | None:
    """The due dates (first, last, inclusive) for which this offset's reminder is meaningful."""
    local = now.astimezone(settings.tz)
    today = local.date()
    # The latest date whose reminder moment has come.
    reached = today if local.time() >= settings.reminder_time else today - timedelta(days=1)
    if offset == 0:
        return (today, today) if reached == today else None
    later = [o for o in settings.reminder_offsets if o > offset]
    if offset < 0:
        days = min(later[0], 0) - offset if later else -offset
    else:
        days = later[0] - offset if later else settings.last_reminder_days
    last = reached - timedelta(days=offset)
    return last - timedelta(days=days - 1), last


def meaningful(settings: Settings, offset: int, due_on: date, now: datetime) -> bool:
    found = window(settings, offset, now)
    return found is not None and found[0] <= due_on <= found[1]


def _due(first: date, last: date, reachable: bool = True) -> Any:
    """Unpaid instalments of active plans with a due date in the window (with `reachable`,
    only for a linked chat: operators call tenants who do not use the bot as well)."""
    return (
        select(Instalment.id, RepaymentPlan.id.label("plan_id"), RepaymentPlan.resident_id)
        .join(RepaymentPlan, RepaymentPlan.id == Instalment.plan_id)
        .join(Resident, Resident.id == RepaymentPlan.resident_id)
        .where(
            Instalment.due_on >= first,
            Instalment.due_on <= last,
            Instalment.paid_cents < Instalment.amount_cents,
            RepaymentPlan.status == PlanStatus.ACTIVE,
            audiences.has_chat() if reachable else true(),
        )
    )


async def _enqueue(
    session: AsyncSession, offset: int, first: date, last: date, now: datetime
) -> int:
    due = _due(first, last).subquery()
    key = literal(f"{KIND}:") + cast(due.c.id, String(20)) + literal(f":{offset}")
    return await outbox.enqueue_keyed(session, select(due.c.resident_id, key), kind=KIND, now=now)


async def _escalate(session: AsyncSession, first: date, last: date, now: datetime) -> list[int]:
    due = _due(first, last, reachable=False).subquery()
    rows = (
        select(
            literal(AlertKind.ESCALATION.value),
            literal("esc:") + cast(due.c.id, String(20)),
            due.c.resident_id,
            due.c.plan_id,
            due.c.id,
            literal(now, PlanAlert.__table__.c.created_at.type),
        )
        .where(true())
        .order_by(due.c.id)
    )
    statement = (
        outbox.insert_or_skip(session, PlanAlert)
        .from_select(["kind", "key", "resident_id", "plan_id", "instalment_id", "created_at"], rows)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(PlanAlert.id)
    )
    return list((await session.execute(statement)).scalars())


async def sweep(core: Core) -> int:
    """The scheduler's turn: enqueue the reminders now due; returns how many were new."""
    settings, now = core.settings, core.clock.now()
    enqueued = 0
    async with core.db.session.begin() as session:
        for offset in settings.reminder_offsets:
            found = window(settings, offset, now)
            if found is not None:
                enqueued += await _enqueue(session, offset, *found, now)
        found = window(settings, settings.escalation_days, now)
        if found is not None:
            alerts = await _escalate(session, *found, now)
            await plans.alert_operators(session, alerts, now)
    return enqueued


def parse_key(key: str) -> tuple[int, int]:
    """(instalment id, offset) from a reminder's dedupe key."""
    _, instalment_id, offset = key.split(":")
    return int(instalment_id), int(offset)


@register(KIND)
async def render(
    core: Core, session: AsyncSession, row: Delivery, resident: Resident, t: Translator
) -> Outgoing | None:
    instalment_id, offset = parse_key(row.dedupe_key)
    instalment = await session.get(Instalment, instalment_id)
    if instalment is None or instalment.left_cents <= 0:
        return None
    plan = await session.get(RepaymentPlan, instalment.plan_id)
    if plan is None or plan.status != PlanStatus.ACTIVE or plan.resident_id != resident.id:
        return None
    if not meaningful(core.settings, offset, instalment.due_on, core.clock.now()):
        return None
    # Buttons never show on the lock screen: "I cannot pay" is offered with every reminder.
    rows = (((t._(READ), f"pay:read:{instalment.id}"),), ((t._(HELP), "pay:help"),))
    return Outgoing(t._(TEASER), rows, protect_content=True)
