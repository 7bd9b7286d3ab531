"""Import of the municipality's spreadsheets: repayment plans, and payments received.

Files are CSV (`;` or `,`, UTF-8 or Windows-1252) or XLSX, with a header row in Italian (see
README, "Repayment plans"). Amounts are written the Italian way (`1.234,56`), dates as
dd/mm/yyyy. Every row is checked before anything is written: one bad row rejects the whole
file, with every error listed by line and column. Importing the same file again changes
nothing: plans are matched by their reference, instalments by their number, payments by the
municipality's payment reference.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.core import Core
from bot.i18n import N_
from bot.models import Instalment, Payment, PlanStatus, RepaymentPlan, Resident
from bot.services import DomainError
from bot.services.plans import allocate

PLANS, PAYMENTS = "plans", "payments"
MAX_BYTES = 5_000_000

# Field -> the header names it goes by (compared without case, accents or punctuation).
PLAN_COLUMNS = {
    "tenant_code": ("codice inquilino", "cod inquilino", "codice"),
    "name": ("nominativo", "cognome e nome", "inquilino", "nome"),
    "reference": ("numero piano", "n piano", "piano", "riferimento piano"),
    "signed_on": ("data firma", "data sottoscrizione", "firmato il"),
    "total": ("importo totale", "debito totale", "totale"),
    "number": ("rata", "n rata", "numero rata"),
    "due_on": ("scadenza", "data scadenza"),
    "amount": ("importo rata",),
    "status": ("stato",),
    "notes": ("note",),
}
PLAN_REQUIRED = ("tenant_code", "reference", "signed_on", "total", "number", "due_on", "amount")
PAYMENT_COLUMNS = {
    "tenant_code": PLAN_COLUMNS["tenant_code"],
    "reference": PLAN_COLUMNS["reference"],
    "paid_on": ("data pagamento", "data versamento", "pagato il"),
    "amount": ("importo pagato", "importo versato", "importo"),
    "payment_ref": ("riferimento pagamento", "riferimento", "id pagamento", "ricevuta"),
}
PAYMENT_REQUIRED = ("tenant_code", "paid_on", "amount", "payment_ref")
STATUSES = {
    "attivo": PlanStatus.ACTIVE,
    "active": PlanStatus.ACTIVE,
    "completato": PlanStatus.COMPLETED,
    "estinto": PlanStatus.COMPLETED,
    "completed": PlanStatus.COMPLETED,
    "decaduto": PlanStatus.DEFAULTED,
    "defaulted": PlanStatus.DEFAULTED,
    "annullato": PlanStatus.CANCELLED,
    "revocato": PlanStatus.CANCELLED,
    "cancelled": PlanStatus.CANCELLED,
}

# Why a cell or a file was refused (translated for operators, in English on the command line).
NOT_READABLE = N_("The file is not a CSV or XLSX spreadsheet I can read.")
NO_ROWS = N_("The file has no rows under the header.")
UNKNOWN_KIND = N_("The header does not look like a plans file or a payments file.")
MISSING_COLUMN = N_("The column is missing.")
EMPTY = N_("The cell is empty.")
BAD_AMOUNT = N_("Not an amount: {value} (write it like 1.234,56).")
BAD_DATE = N_("Not a date: {value} (write it like 31/01/2027).")
BAD_NUMBER = N_("Not an instalment number: {value}.")
BAD_STATUS = N_("Unknown status: {value} (attivo, completato, decaduto, annullato).")
DIFFERENT = N_("Differs from the plan's first row (line {line}).")
DUPLICATE_INSTALMENT = N_("Instalment {number} appears twice in plan {reference}.")
TOTAL_MISMATCH = N_("The instalments add up to {sum}, not to the total {total}.")
NEW_TENANT_NEEDS_NAME = N_("Unknown tenant code {value}: add the name to create the record.")
UNKNOWN_TENANT = N_("Unknown tenant code: {value}.")
OTHER_TENANT = N_("Plan {value} belongs to another tenant.")
NO_PLAN = N_("No active plan for this tenant: {value}.")
UNKNOWN_PLAN = N_("Unknown plan {value} for this tenant.")
DUPLICATE_PAYMENT = N_("Payment reference {value} appears twice in the file.")
TOO_MUCH = N_("Payments exceed what is left on plan {value}.")


class NotASpreadsheet(DomainError):
    pass


@dataclass(frozen=True)
class RowError:
    line: int  # 1 is the header; 0: the whole file
    column: str  # the header as written in the file, or ""
    message: str  # msgid
    params: dict[str, Any] = field(default_factory=dict)

    def english(self) -> str:
        where = f"line {self.line}" if self.line else "file"
        if self.column:
            where += f", column {self.column!r}"
        return f"{where}: {self.message.format(**self.params)}"


@dataclass
class Summary:
    kind: str
    rows: int = 0
    new_plans: int = 0
    updated_plans: int = 0
    unchanged_plans: int = 0
    instalments: int = 0
    new_tenants: int = 0
    new_payments: int = 0
    known_payments: int = 0
    errors: list[RowError] = field(default_factory=list)
    applied: bool = False


def describe(summary: Summary) -> str:
    """The summary in English, for the command line."""
    if summary.kind == PLANS:
        return (
            f"plans file, {summary.rows} rows: {summary.new_plans} new plans, "
            f"{summary.updated_plans} updated, {summary.unchanged_plans} unchanged; "
            f"{summary.instalments} instalments; {summary.new_tenants} new tenant records"
        )
    return (
        f"payments file, {summary.rows} rows: {summary.new_payments} new payments, "
        f"{summary.known_payments} already recorded"
    )


# -- reading cells -------------------------------------------------------------------------------


def parse_amount(value: Any) -> int:
    """Euro cents from "1.234,56", "1234,5", "€ 150", "150.50" or a spreadsheet number."""
    if isinstance(value, float) and abs(value - round(value, 2)) < 1e-9 * max(1.0, abs(value)):
        # A spreadsheet's binary fraction: a SUM shows 300,30 but holds 300.29999999999995.
        amount = Decimal(str(round(value, 2)))
    elif isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        amount = Decimal(str(value))
    else:
        text = re.sub(r"[\s€\u00a0]|EUR", "", str(value or ""), flags=re.IGNORECASE)
        if "," in text and "." in text:  # the last separator is the decimal one
            decimal = "," if text.rfind(",") > text.rfind(".") else "."
            text = text.replace("." if decimal == "," else ",", "").replace(",", ".")
        elif "," in text:
            text = text.replace(",", ".")
        elif re.fullmatch(r"\d{1,3}(\.\d{3})+", text):  # 1.234 is a thousand, the Italian way
            text = text.replace(".", "")
        if not re.fullmatch(r"\d+(\.\d{1,2})?", text):
            raise ValueError(value)
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise ValueError(value) from None
    cents = amount * 100
    if cents != cents.to_integral_value() or cents <= 0:
        raise ValueError(value)
    return int(cents)


def parse_date(value: Any) -> date:
    """A date from dd/mm/yyyy (also with - or .), yyyy-mm-dd, or a spreadsheet date; a time
    after it (a date-time column exported as text, "15/11/2026 00:00:00") is ignored."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = re.sub(r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$", "", str(value or "").strip())
    match = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", text)
    try:
        if match:
            day, month, year = (int(part) for part in match.groups())
            return date(year, month, day)
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(value) from None


def _key(header: Any) -> str:
    text = unicodedata.normalize("NFKD", str(header or "")).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# -- reading files ---------------------------------------------------------------------------------


def read_rows(filename: str, content: bytes) -> list[list[Any]]:
    """The rows of a CSV or the first sheet of an XLSX file, header first."""
    if len(content) > MAX_BYTES:
        raise NotASpreadsheet(filename)
    if content[:2] == b"PK":  # a zip: XLSX
        return _xlsx(content)
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise NotASpreadsheet(filename)
    header = text.split("\n", 1)[0]
    delimiter = ";" if header.count(";") >= header.count(",") else ","
    return [row for row in csv.reader(io.StringIO(text), delimiter=delimiter)]


def _xlsx(content: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # a broken zip or another kind of zip (docx...)
        raise NotASpreadsheet("xlsx") from exc
    try:
        return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()


def detect(rows: list[list[Any]]) -> str | None:
    """Plans or payments, from the header. A payment date first: a payments export may also
    carry the due date of the instalment paid, a plans file never has a payment date."""
    keys = {_key(cell) for cell in rows[0]} if rows else set()
    if keys & set(PAYMENT_COLUMNS["paid_on"]):
        return PAYMENTS
    if keys & set(PLAN_COLUMNS["due_on"]):
        return PLANS
    return None


@dataclass
class _Table:
    """Rows as dicts of field -> cell, with the header name of each field for the errors."""

    rows: list[tuple[int, dict[str, Any]]]
    headers: dict[str, str]
    errors: list[RowError]


def _table(rows: list[list[Any]], columns: dict[str, tuple[str, ...]], required: tuple) -> _Table:
    header = [_key(cell) for cell in rows[0]]
    positions: dict[str, int] = {}
    for name, aliases in columns.items():
        for alias in aliases:
            if alias in header and header.index(alias) not in positions.values():
                positions[name] = header.index(alias)
                break
    # A missing column is named as README documents it ("Data firma"), not by our field name.
    errors = [
        RowError(1, columns[name][0].capitalize(), MISSING_COLUMN)
        for name in required
        if name not in positions
    ]
    headers = {name: str(rows[0][i]).strip() for name, i in positions.items()}
    body = []
    for line, row in enumerate(rows[1:], start=2):
        if all(_blank(cell) for cell in row):
            continue
        body.append(
            (line, {name: row[i] if i < len(row) else None for name, i in positions.items()})
        )
    return _Table(body, headers, errors)


def _cell(table: _Table, line: int, row: dict[str, Any], name: str, parse: Any) -> Any:
    """A parsed cell, or None after recording the error."""
    value = row.get(name)
    column = table.headers.get(name, name)
    if _blank(value):
        table.errors.append(RowError(line, column, EMPTY))
        return None
    try:
        return parse(value)
    except ValueError:
        message = {parse_amount: BAD_AMOUNT, parse_date: BAD_DATE, _number: BAD_NUMBER}.get(
            parse, BAD_STATUS
        )
        table.errors.append(RowError(line, column, message, {"value": str(value).strip()}))
        return None


def _number(value: Any) -> int:
    text = str(value).strip()
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    if not text.isdigit() or int(text) <= 0:
        raise ValueError(value)
    return int(text)


def _status(value: Any) -> PlanStatus:
    found = STATUSES.get(_key(value))
    if found is None:
        raise ValueError(value)
    return found


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a code typed as a number in a spreadsheet
    return str(value).strip()


# -- plans -----------------------------------------------------------------------------------------


@dataclass
class _Plan:
    line: int
    tenant_code: str
    name: str | None
    reference: str
    signed_on: date
    total: int
    status: PlanStatus | None
    notes: str | None
    instalments: dict[int, tuple[date, int]] = field(default_factory=dict)


def _plans(table: _Table) -> dict[str, _Plan]:
    plans: dict[str, _Plan] = {}
    broken: set[str | None] = set()  # plans with a bad row: their total is not checked
    for line, row in table.rows:
        values = {
            "tenant_code": _cell(table, line, row, "tenant_code", _text),
            "reference": _cell(table, line, row, "reference", _text),
            "signed_on": _cell(table, line, row, "signed_on", parse_date),
            "total": _cell(table, line, row, "total", parse_amount),
            "number": _cell(table, line, row, "number", _number),
            "due_on": _cell(table, line, row, "due_on", parse_date),
            "amount": _cell(table, line, row, "amount", parse_amount),
        }
        status = None if _blank(row.get("status")) else _cell(table, line, row, "status", _status)
        if any(value is None for value in values.values()):
            broken.add(values["reference"])
            continue
        name = None if _blank(row.get("name")) else _text(row["name"])
        notes = None if _blank(row.get("notes")) else _text(row["notes"])
        plan = plans.setdefault(
            values["reference"],
            _Plan(
                line,
                values["tenant_code"],
                name,
                values["reference"],
                values["signed_on"],
                values["total"],
                status,
                notes,
            ),
        )
        for name_, value in (
            ("tenant_code", values["tenant_code"]),
            ("signed_on", values["signed_on"]),
            ("total", values["total"]),
        ):
            if getattr(plan, name_) != value:
                column = table.headers.get(name_, name_)
                table.errors.append(RowError(line, column, DIFFERENT, {"line": plan.line}))
        if values["number"] in plan.instalments:
            broken.add(plan.reference)
            table.errors.append(
                RowError(
                    line,
                    table.headers.get("number", "number"),
                    DUPLICATE_INSTALMENT,
                    {"number": values["number"], "reference": plan.reference},
                )
            )
        plan.instalments[values["number"]] = (values["due_on"], values["amount"])
    for plan in plans.values():
        added = sum(amount for _, amount in plan.instalments.values())
        if added != plan.total and plan.reference not in broken:
            table.errors.append(
                RowError(
                    plan.line,
                    table.headers.get("total", "total"),
                    TOTAL_MISMATCH,
                    {"sum": _euro(added), "total": _euro(plan.total)},
                )
            )
    return plans


def _euro(cents: int) -> str:
    euros, rest = divmod(cents, 100)
    return f"{euros:,}".replace(",", ".") + f",{rest:02d}"


async def _tenants(session: AsyncSession, codes: set[str]) -> dict[str, Resident]:
    if not codes:
        return {}
    found = await session.scalars(
        select(Resident).where(func.lower(Resident.tenant_code).in_([c.lower() for c in codes]))
    )
    return {resident.tenant_code.lower(): resident for resident in found if resident.tenant_code}


async def _import_plans(
    core: Core, session: AsyncSession, table: _Table, summary: Summary, apply: bool
) -> None:
    plans = _plans(table)
    tenants = await _tenants(session, {p.tenant_code for p in plans.values()})
    existing = {
        plan.reference: plan
        for plan in await session.scalars(
            select(RepaymentPlan)
            .options(selectinload(RepaymentPlan.instalments))
            .where(RepaymentPlan.reference.in_(list(plans)))
        )
    }
    code_column = table.headers.get("tenant_code", "tenant_code")
    for plan in plans.values():
        tenant = tenants.get(plan.tenant_code.lower())
        if tenant is None and not plan.name:
            table.errors.append(
                RowError(plan.line, code_column, NEW_TENANT_NEEDS_NAME, {"value": plan.tenant_code})
            )
        old = existing.get(plan.reference)
        if old is not None and (tenant is None or old.resident_id != tenant.id):
            column = table.headers.get("reference", "reference")
            table.errors.append(
                RowError(plan.line, column, OTHER_TENANT, {"value": plan.reference})
            )
    summary.errors = table.errors
    summary.instalments = sum(len(p.instalments) for p in plans.values())
    now = core.clock.now()
    for plan in plans.values():
        tenant = tenants.get(plan.tenant_code.lower())
        if tenant is None:
            summary.new_tenants += 1
            tenant = Resident(tenant_code=plan.tenant_code, full_name=plan.name, created_at=now)
            if apply and not summary.errors:
                session.add(tenant)
                await session.flush()
        old = existing.get(plan.reference)
        if old is None:
            summary.new_plans += 1
            if apply and not summary.errors:
                old = RepaymentPlan(
                    resident_id=tenant.id,
                    reference=plan.reference,
                    signed_on=plan.signed_on,
                    total_cents=plan.total,
                    status=plan.status or PlanStatus.ACTIVE,
                    notes=plan.notes,
                    created_at=now,
                    updated_at=now,
                    instalments=[],
                )
                session.add(old)
        elif _changed(old, plan):
            summary.updated_plans += 1
        else:
            summary.unchanged_plans += 1
            continue
        if apply and not summary.errors and old is not None:
            await _update(session, old, plan, now)


def _status_after(before: PlanStatus, new: _Plan, paid_cents: int) -> PlanStatus:
    """The plan's status once imported. Payments recorded here complete an active plan (the
    municipality's file often lags behind them); a status written in the file is kept
    otherwise, "completato" too: the municipality closed the plan, so no more reminders. With
    no status in the file, a completed plan whose schedule grew is active again."""
    status = new.status or before
    settled = paid_cents >= sum(amount for _, amount in new.instalments.values())
    if status == PlanStatus.ACTIVE and settled:
        return PlanStatus.COMPLETED
    if status == PlanStatus.COMPLETED and not settled and new.status is None:
        return PlanStatus.ACTIVE
    return status


def _changed(old: RepaymentPlan, new: _Plan) -> bool:
    schedule = {i.number: (i.due_on, i.amount_cents) for i in old.instalments}
    paid = sum(i.paid_cents for i in old.instalments)
    return (
        old.signed_on != new.signed_on
        or old.total_cents != new.total
        or _status_after(old.status, new, paid) != old.status
        or (new.notes is not None and old.notes != new.notes)
        or schedule != new.instalments
    )


async def _update(session: AsyncSession, old: RepaymentPlan, new: _Plan, now: datetime) -> None:
    before = old.status
    old.signed_on, old.total_cents, old.updated_at = new.signed_on, new.total, now
    if new.notes is not None:
        old.notes = new.notes
    by_number = {i.number: i for i in old.instalments}
    for number, (due_on, amount) in new.instalments.items():
        instalment = by_number.pop(number, None)
        if instalment is None:
            old.instalments.append(
                Instalment(number=number, due_on=due_on, amount_cents=amount, paid_cents=0)
            )
        else:
            instalment.due_on, instalment.amount_cents = due_on, amount
    for gone in by_number.values():  # no longer in the plan: payments are reallocated
        old.instalments.remove(gone)
    await session.flush()
    await allocate(session, old)
    old.status = _status_after(before, new, sum(i.paid_cents for i in old.instalments))


# -- payments --------------------------------------------------------------------------------------


async def _import_payments(
    core: Core, session: AsyncSession, table: _Table, summary: Summary, apply: bool
) -> None:
    rows = []
    for line, row in table.rows:
        values = {
            "tenant_code": _cell(table, line, row, "tenant_code", _text),
            "paid_on": _cell(table, line, row, "paid_on", parse_date),
            "amount": _cell(table, line, row, "amount", parse_amount),
            "payment_ref": _cell(table, line, row, "payment_ref", _text),
        }
        plan_ref = None if _blank(row.get("reference")) else _text(row["reference"])
        if all(value is not None for value in values.values()):
            rows.append((line, values, plan_ref))
    tenants = await _tenants(session, {values["tenant_code"] for _, values, _ in rows})
    plans = {
        plan.id: plan
        for plan in await session.scalars(
            select(RepaymentPlan)
            .options(selectinload(RepaymentPlan.instalments))
            .where(RepaymentPlan.resident_id.in_([t.id for t in tenants.values()]))
            .order_by(RepaymentPlan.signed_on, RepaymentPlan.id)
        )
    }
    known = set(
        await session.scalars(
            select(Payment.reference).where(
                Payment.reference.in_([values["payment_ref"] for _, values, _ in rows])
            )
        )
    )
    seen: set[str] = set()
    added: dict[int, int] = defaultdict(int)
    new: list[Payment] = []
    column = table.headers.get
    for line, values, plan_ref in rows:
        ref = values["payment_ref"]
        if ref in seen:
            table.errors.append(
                RowError(line, column("payment_ref", ""), DUPLICATE_PAYMENT, {"value": ref})
            )
            continue
        seen.add(ref)
        tenant = tenants.get(values["tenant_code"].lower())
        if tenant is None:
            table.errors.append(
                RowError(
                    line,
                    column("tenant_code", ""),
                    UNKNOWN_TENANT,
                    {"value": values["tenant_code"]},
                )
            )
            continue
        if ref in known:
            summary.known_payments += 1
            continue
        mine = [p for p in plans.values() if p.resident_id == tenant.id]
        if plan_ref is not None:
            plan = next((p for p in mine if p.reference == plan_ref), None)
            if plan is None:
                table.errors.append(
                    RowError(line, column("reference", ""), UNKNOWN_PLAN, {"value": plan_ref})
                )
                continue
        else:
            plan = next((p for p in mine if p.status == PlanStatus.ACTIVE), None)
            if plan is None:
                table.errors.append(
                    RowError(
                        line, column("tenant_code", ""), NO_PLAN, {"value": values["tenant_code"]}
                    )
                )
                continue
        added[plan.id] += values["amount"]
        if added[plan.id] > sum(i.left_cents for i in plan.instalments):
            table.errors.append(
                RowError(line, column("amount", ""), TOO_MUCH, {"value": plan.reference})
            )
            continue
        summary.new_payments += 1
        new.append(
            Payment(
                plan_id=plan.id,
                amount_cents=values["amount"],
                paid_on=values["paid_on"],
                reference=ref,
                created_at=core.clock.now(),
            )
        )
    summary.errors = table.errors
    if apply and not summary.errors:
        session.add_all(new)
        await session.flush()
        for plan_id in added:
            await allocate(session, plans[plan_id])
            plans[plan_id].updated_at = core.clock.now()


# -- the entry point -------------------------------------------------------------------------------


async def run(
    core: Core, filename: str, content: bytes, *, kind: str | None = None, apply: bool = False
) -> Summary:
    """Check a file and, with `apply` and no error at all, write it in one transaction."""
    try:
        rows = read_rows(filename, content)
    except NotASpreadsheet:
        return Summary(kind or "", errors=[RowError(0, "", NOT_READABLE)])
    except csv.Error:
        return Summary(kind or "", errors=[RowError(0, "", NOT_READABLE)])
    found = detect(rows)
    kind = kind or found
    if kind is None:
        return Summary("", errors=[RowError(1, "", UNKNOWN_KIND)])
    columns, required = (
        (PLAN_COLUMNS, PLAN_REQUIRED) if kind == PLANS else (PAYMENT_COLUMNS, PAYMENT_REQUIRED)
    )
    table = _table(rows, columns, required)
    summary = Summary(kind, rows=len(table.rows))
    if table.errors:
        summary.errors = table.errors
        return summary
    if not table.rows:
        summary.errors = [RowError(0, "", NO_ROWS)]
        return summary
    work = _import_plans if kind == PLANS else _import_payments
    async with core.db.session() as session:
        await work(core, session, table, summary, apply)
        summary.errors.sort(key=lambda e: e.line)  # stable: columns stay in file order
        if apply and not summary.errors:
            await session.commit()
            summary.applied = True
            await refresh_statistics(session)
    return summary


async def refresh_statistics(session: AsyncSession) -> None:
    """After a bulk load, tell PostgreSQL's planner how large the tables now are: with the
    statistics of a near-empty table it loops over every plan in the reminder sweep (1.7 s
    instead of 0.1 s for 100,000 instalments) until autovacuum comes round."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("ANALYZE residents, repayment_plans, instalments, payments"))
        await session.commit()
