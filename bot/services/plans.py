"""Repayment plans (piani di rientro): what a resident owes and when, payments, operator alerts.

Money is in euro cents (int). A plan's payments settle its instalments oldest first; the paid
amount of each instalment is derived from the payments (`allocate`), so a re-import or a late
correction never leaves the figures inconsistent. Debt data goes only to the linked resident
(in a private chat) and to operators.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    cast,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.core import Core
from bot.delivery import outbox
from bot.delivery.channel import Outgoing
from bot.delivery.kinds import register
from bot.i18n import N_, Translator
from bot.models import (
    AlertKind,
    Delivery,
    Instalment,
    Payment,
    PendingImport,
    PlanAlert,
    PlanStatus,
    RepaymentPlan,
    Resident,
    Role,
)
from bot.services import DomainError, audiences
from bot.services.residents import authorise

ALERT = "plan_alert"
SEARCH_LIMIT = 10
NOTE_MAX = 500


class UnknownTenant(DomainError):
    pass


class NoActivePlan(DomainError):
    pass


class TooMuch(DomainError):
    """The payment is more than what is left to pay on the plan."""

    def __init__(self, left_cents: int) -> None:
        super().__init__(str(left_cents))
        self.left_cents = left_cents


class Stale(DomainError):
    """The plan changed since the operator saw the preview: show it again."""


class AlreadyHandled(DomainError):
    def __init__(self, by: str) -> None:
        super().__init__(by)
        self.by = by


class RequestOpen(DomainError):
    """The resident already has a request the operators have not handled yet."""


def today(core: Core) -> date:
    return core.clock.now().astimezone(core.settings.tz).date()


# -- reading -----------------------------------------------------------------------------------


@dataclass
class Schedule:
    """A plan with its instalments and payments, as both residents and operators see it."""

    plan: RepaymentPlan
    payments: list[Payment] = field(default_factory=list)

    @property
    def instalments(self) -> list[Instalment]:
        return self.plan.instalments

    @property
    def paid_cents(self) -> int:
        return sum(i.paid_cents for i in self.instalments)

    @property
    def left_cents(self) -> int:
        return sum(i.left_cents for i in self.instalments)

    @property
    def closed_by_office(self) -> bool:
        """Completed with something left: the municipality closed it, nothing is due or late."""
        return self.plan.status == PlanStatus.COMPLETED and self.left_cents > 0

    @property
    def next(self) -> Instalment | None:
        """The oldest instalment not fully paid."""
        return next((i for i in self.instalments if i.left_cents > 0), None)


async def _schedules(session: AsyncSession, condition: ColumnElement[bool]) -> list[Schedule]:
    plans = list(
        await session.scalars(
            select(RepaymentPlan)
            .options(selectinload(RepaymentPlan.instalments), selectinload(RepaymentPlan.resident))
            .where(condition)
            .order_by(RepaymentPlan.signed_on.desc(), RepaymentPlan.id.desc())
        )
    )
    if not plans:
        return []
    payments = await session.scalars(
        select(Payment)
        .where(Payment.plan_id.in_([p.id for p in plans]))
        .order_by(Payment.paid_on, Payment.id)
    )
    by_plan: dict[int, list[Payment]] = {p.id: [] for p in plans}
    for payment in payments:
        by_plan[payment.plan_id].append(payment)
    return [Schedule(plan, by_plan[plan.id]) for plan in plans]


async def of_resident(core: Core, resident_id: int) -> list[Schedule]:
    """A resident's plans (cancelled ones left out), newest first."""
    async with core.db.session() as session:
        return await _schedules(
            session,
            and_(
                RepaymentPlan.resident_id == resident_id,
                RepaymentPlan.status != PlanStatus.CANCELLED,
            ),
        )


async def search(core: Core, query: str, *, operator_id: int) -> list[Schedule]:
    """Plans by tenant code (exact) or by a part of the name, for operators."""
    query = query.strip()
    pattern = f"%{query.lower()}%"
    async with core.db.session() as session:
        await authorise(session, operator_id)
        ids = select(Resident.id).where(
            or_(
                func.lower(Resident.tenant_code) == query.lower(),
                func.lower(Resident.full_name).like(pattern),
            )
        )
        found = await _schedules(session, RepaymentPlan.resident_id.in_(ids))
        return found[:SEARCH_LIMIT]


async def schedule(core: Core, plan_id: int, *, operator_id: int) -> Schedule | None:
    """Any plan, for operators (a resident sees their own through `of_resident`)."""
    async with core.db.session() as session:
        await authorise(session, operator_id)
        found = await _schedules(session, RepaymentPlan.id == plan_id)
        return found[0] if found else None


@dataclass(frozen=True)
class Overdue:
    name: str
    tenant_code: str
    reference: str
    number: int
    due_on: date
    left_cents: int
    days_late: int


def _late(on: date) -> ColumnElement[bool]:
    return and_(
        Instalment.due_on < on,
        Instalment.paid_cents < Instalment.amount_cents,
        RepaymentPlan.status == PlanStatus.ACTIVE,
    )


async def overdue(core: Core, *, operator_id: int) -> list[Overdue]:
    """Late instalments of active plans, most days late first."""
    on = today(core)
    async with core.db.session() as session:
        await authorise(session, operator_id)
        rows = await session.execute(
            select(Instalment, RepaymentPlan.reference, Resident)
            .join(RepaymentPlan, RepaymentPlan.id == Instalment.plan_id)
            .join(Resident, Resident.id == RepaymentPlan.resident_id)
            .where(_late(on))
            .order_by(Instalment.due_on, Resident.full_name, Instalment.number)
        )
        return [
            Overdue(
                resident.name,
                resident.tenant_code or "",
                reference,
                instalment.number,
                instalment.due_on,
                instalment.left_cents,
                (on - instalment.due_on).days,
            )
            for instalment, reference, resident in rows
        ]


def overdue_csv(rows: list[Overdue]) -> bytes:
    """For a spreadsheet in Italian settings: semicolons, decimal comma, dd/mm/yyyy."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(
        ["codice_inquilino", "nominativo", "numero_piano", "rata", "scadenza", "residuo", "giorni"]
    )
    for row in rows:
        euros, cents = divmod(row.left_cents, 100)
        writer.writerow(
            [
                row.tenant_code,
                row.name,
                row.reference,
                row.number,
                row.due_on.strftime("%d/%m/%Y"),
                f"{euros},{cents:02d}",
                row.days_late,
            ]
        )
    return buffer.getvalue().encode("utf-8-sig")  # the BOM makes Excel read UTF-8


# -- payments ----------------------------------------------------------------------------------


async def allocate(session: AsyncSession, plan: RepaymentPlan) -> None:
    """Spread the plan's payments over its instalments, oldest due date first.

    A partial payment stays on the instalment as a partial amount. An active plan is completed
    when nothing is left. A completed plan with something left was closed by the municipality
    and stays so (a plans file that grows the schedule reopens it: plan_import._status_after).
    """
    payments = await session.execute(
        select(Payment.amount_cents, Payment.paid_on)
        .where(Payment.plan_id == plan.id)
        .order_by(Payment.paid_on, Payment.id)
    )
    pool = [[amount, paid_on] for amount, paid_on in payments]
    for instalment in sorted(plan.instalments, key=lambda i: (i.due_on, i.number)):
        instalment.paid_cents, instalment.paid_on = 0, None
        while pool and instalment.paid_cents < instalment.amount_cents:
            take = min(pool[0][0], instalment.amount_cents - instalment.paid_cents)
            instalment.paid_cents += take
            pool[0][0] -= take
            if instalment.paid_cents == instalment.amount_cents:
                instalment.paid_on = pool[0][1]
            if pool[0][0] == 0:
                pool.pop(0)
    if plan.status == PlanStatus.ACTIVE and all(i.left_cents == 0 for i in plan.instalments):
        plan.status = PlanStatus.COMPLETED


@dataclass(frozen=True)
class PaymentPreview:
    plan_id: int
    reference: str
    resident_name: str
    tenant_code: str
    amount_cents: int
    paid_on: date
    paid_before: int  # the plan's paid total when previewed: confirming checks it is unchanged
    settles: list[tuple[int, int, bool]]  # (instalment number, cents, fully paid after)


async def _plan_of_tenant(session: AsyncSession, tenant_code: str) -> RepaymentPlan:
    resident = await session.scalar(
        select(Resident).where(func.lower(Resident.tenant_code) == tenant_code.strip().lower())
    )
    if resident is None:
        raise UnknownTenant(tenant_code)
    plan = await session.scalar(
        select(RepaymentPlan)
        .options(selectinload(RepaymentPlan.instalments), selectinload(RepaymentPlan.resident))
        .where(RepaymentPlan.resident_id == resident.id, RepaymentPlan.status == PlanStatus.ACTIVE)
        .order_by(RepaymentPlan.signed_on, RepaymentPlan.id)
        .limit(1)
    )
    if plan is None:
        raise NoActivePlan(tenant_code)
    return plan


def _spread(plan: RepaymentPlan, cents: int) -> list[tuple[int, int, bool]]:
    left = sum(i.left_cents for i in plan.instalments)
    if cents > left:
        raise TooMuch(left)
    settles = []
    for instalment in sorted(plan.instalments, key=lambda i: (i.due_on, i.number)):
        if cents <= 0:
            break
        take = min(cents, instalment.left_cents)
        if take:
            settles.append((instalment.number, take, take == instalment.left_cents))
            cents -= take
    return settles


async def preview_payment(
    core: Core, tenant_code: str, cents: int, paid_on: date, *, operator_id: int
) -> PaymentPreview:
    async with core.db.session() as session:
        await authorise(session, operator_id)
        plan = await _plan_of_tenant(session, tenant_code)
        return PaymentPreview(
            plan.id,
            plan.reference,
            plan.resident.name,
            plan.resident.tenant_code or "",
            cents,
            paid_on,
            sum(i.paid_cents for i in plan.instalments),
            _spread(plan, cents),
        )


async def record_payment(
    core: Core,
    plan_id: int,
    cents: int,
    paid_on: date,
    paid_before: int,
    *,
    operator_id: int,
) -> Schedule:
    """Record what the operator confirmed; refused if the plan changed since the preview
    (a second tap on the same button records nothing)."""
    async with core.db.session.begin() as session:
        await authorise(session, operator_id)
        plan = await session.get(
            RepaymentPlan,
            plan_id,
            with_for_update=True,
            options=[selectinload(RepaymentPlan.instalments)],
        )
        if plan is None or plan.status != PlanStatus.ACTIVE:
            raise Stale(str(plan_id))
        if sum(i.paid_cents for i in plan.instalments) != paid_before:
            raise Stale(str(plan_id))
        _spread(plan, cents)
        now = core.clock.now()
        session.add(
            Payment(
                plan_id=plan.id,
                amount_cents=cents,
                paid_on=paid_on,
                recorded_by_id=operator_id,
                created_at=now,
            )
        )
        await session.flush()
        await allocate(session, plan)
        plan.updated_at = now
    async with core.db.session() as session:
        [found] = await _schedules(session, RepaymentPlan.id == plan_id)
    return found


# -- files awaiting an operator's confirmation ----------------------------------------------------

IMPORT_TTL = timedelta(days=1)


async def purge_imports(core: Core) -> None:
    """Files never confirmed nor cancelled hold every tenant's debt: gone after a day."""
    async with core.db.session.begin() as session:
        await session.execute(
            delete(PendingImport).where(PendingImport.created_at < core.clock.now() - IMPORT_TTL)
        )


async def keep_import(core: Core, filename: str, content: bytes, *, operator_id: int) -> int:
    """A checked file kept for the operator who sent it, until they confirm it."""
    now = core.clock.now()
    await purge_imports(core)
    async with core.db.session.begin() as session:
        await authorise(session, operator_id)
        pending = PendingImport(
            operator_id=operator_id, filename=filename[:200], content=content, created_at=now
        )
        session.add(pending)
        await session.flush()
        return pending.id


async def take_import(core: Core, pending_id: int, *, operator_id: int) -> tuple[str, bytes] | None:
    """The operator's own file, once: taken out so a second tap imports nothing."""
    async with core.db.session.begin() as session:
        await authorise(session, operator_id)
        pending = await session.get(PendingImport, pending_id, with_for_update=True)
        if pending is None or pending.operator_id != operator_id:
            return None
        await session.delete(pending)
        if pending.created_at < core.clock.now() - IMPORT_TTL:
            return None
        return pending.filename, pending.content


# -- alerts to operators ------------------------------------------------------------------------


def operators() -> ColumnElement[bool]:
    return and_(Resident.role.in_([Role.OPERATOR, Role.ADMIN]), audiences.has_chat())


async def alert_operators(session: AsyncSession, alerts: list[int], now: datetime) -> None:
    """Tell every operator about these alerts, through the outbox, whatever the hour."""
    if not alerts:
        return
    # The few operators first: joined blindly with the alerts, SQLite would scan every resident.
    staff = list(await session.scalars(select(Resident.id).where(operators())))
    if not staff:
        return
    key = (
        literal(f"{ALERT}:")
        + cast(PlanAlert.id, String(20))
        + literal(":")
        + cast(Resident.id, String(20))
    )
    pairs = (
        select(Resident.id, key)
        .select_from(PlanAlert)
        .join(Resident, true())
        .where(PlanAlert.id.in_(alerts), Resident.id.in_(staff))
    )
    await outbox.enqueue_keyed(session, pairs, kind=ALERT, now=now)


async def request_help(core: Core, resident_id: int, note: str | None) -> PlanAlert:
    """ "I cannot pay / call me": a request every operator sees at once."""
    now = core.clock.now()
    note = (note or "").strip()[:NOTE_MAX] or None
    async with core.db.session.begin() as session:
        resident = await session.get(Resident, resident_id, with_for_update=True)
        assert resident is not None
        open_request = await session.scalar(
            select(PlanAlert.id).where(
                PlanAlert.resident_id == resident_id,
                PlanAlert.kind == AlertKind.HELP,
                PlanAlert.handled_at.is_(None),
            )
        )
        if open_request is not None:
            raise RequestOpen(str(open_request))
        plan_id = await session.scalar(
            select(RepaymentPlan.id)
            .where(RepaymentPlan.resident_id == resident_id)
            .order_by(RepaymentPlan.status != PlanStatus.ACTIVE, RepaymentPlan.signed_on.desc())
            .limit(1)
        )
        alert = PlanAlert(
            kind=AlertKind.HELP, resident_id=resident_id, plan_id=plan_id, note=note, created_at=now
        )
        session.add(alert)
        await session.flush()
        await alert_operators(session, [alert.id], now)
        return alert


async def mark_handled(core: Core, alert_id: int, *, operator_id: int) -> PlanAlert:
    async with core.db.session.begin() as session:
        await authorise(session, operator_id)
        alert = await session.get(PlanAlert, alert_id, with_for_update=True)
        if alert is None:
            raise Stale(str(alert_id))
        if alert.handled_at is not None:
            by = await session.get(Resident, alert.handled_by_id) if alert.handled_by_id else None
            raise AlreadyHandled(by.name if by else "")
        alert.handled_at, alert.handled_by_id = core.clock.now(), operator_id
        return alert


async def alert_text(session: AsyncSession, t: Translator, alert: PlanAlert, on: date) -> str:
    """What operators read about an alert: who, which plan, what happened."""
    resident = await session.get(Resident, alert.resident_id)
    plan = await session.get(RepaymentPlan, alert.plan_id) if alert.plan_id else None
    assert resident is not None
    who = t._(
        "{name} ({tenant}), plan {reference}",
        name=resident.name or t._("(no name)"),
        tenant=resident.tenant_code or "",
        reference=plan.reference if plan else "—",
    )
    if alert.kind == AlertKind.ESCALATION:
        instalment = await session.get(Instalment, alert.instalment_id)
        assert instalment is not None
        lines = [
            t._("⚠️ <b>A payment is long overdue: please call.</b>"),
            who,
            t.n_(
                "Instalment {number} of {amount}, due on {date}: {n} day late.",
                "Instalment {number} of {amount}, due on {date}: {n} days late.",
                (on - instalment.due_on).days,
                number=instalment.number,
                amount=t.money(instalment.left_cents),
                date=t.date(instalment.due_on, "short"),
            ),
        ]
    else:
        lines = [t._("📞 <b>A resident asks to be called about their payments.</b>"), who]
        if alert.note:
            lines.append(t._("Their note: {note}", note=alert.note))
    return "\n".join(lines)


HANDLED = N_("✅ Mark handled")


@register(ALERT, always=True)
async def render_alert(
    core: Core, session: AsyncSession, row: Delivery, resident: Resident, t: Translator
) -> Outgoing | None:
    alert = await session.get(PlanAlert, int(row.dedupe_key.split(":")[1]))
    if alert is None or alert.handled_at is not None or not resident.is_operator:
        return None
    if alert.kind == AlertKind.ESCALATION:
        instalment = await session.get(Instalment, alert.instalment_id)
        if instalment is None or instalment.left_cents <= 0:  # paid meanwhile
            return None
    text = await alert_text(session, t, alert, today(core))
    return Outgoing(text, ((((t._(HANDLED), f"pl:done:{alert.id}"),),)), protect_content=True)


# -- broadcast audiences (the notice itself never shows amounts) -----------------------------


def _with_plan(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists(
        select(RepaymentPlan.id)
        .join(Instalment, Instalment.plan_id == RepaymentPlan.id, isouter=True)
        .where(RepaymentPlan.resident_id == Resident.id, condition)
    )


audiences.register(
    audiences.Segment(
        "plan_active",
        N_("Residents with an active plan"),
        lambda *_: _with_plan(RepaymentPlan.status == PlanStatus.ACTIVE),
    )
)
audiences.register(
    audiences.Segment(
        "plan_late",
        N_("Residents with a late instalment"),
        lambda core, _: _with_plan(_late(today(core))),
    )
)
