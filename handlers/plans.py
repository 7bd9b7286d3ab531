"""The operators' side of repayment plans: /plans, /overdue, /paid, file imports, alerts.

Operators only, checked in the database on every step. Every button carries what it needs
(plan, amount, date), so nothing is kept between steps and a restart loses nothing; the
service re-checks each step (a payment is refused if the plan changed since its preview, so a
second tap records nothing).

Recording a payment with buttons: /plans NAME → plan → "Record a payment" → amount (the next
instalment, or all that is left) → date (today, yesterday) → preview → confirm. Any other
amount or date: /paid TENANT_CODE AMOUNT [DATE].
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.i18n import N_, Translator
from bot.models import PlanStatus, Resident
from bot.services import plan_import, plans
from handlers import fallback
from handlers.common import (
    INACTIVE,
    BotContext,
    answer_query,
    buttons,
    callback_parts,
    operators_only,
    reply,
    who,
)
from handlers.payments import clip, line

PRIVATE = filters.ChatType.PRIVATE
STATUS = {
    PlanStatus.ACTIVE: N_("active"),
    PlanStatus.COMPLETED: N_("completed"),
    PlanStatus.DEFAULTED: N_("defaulted"),
    PlanStatus.CANCELLED: N_("cancelled"),
}
PAID_USAGE = N_(
    "Write it like this: /paid TENANT_CODE AMOUNT [DATE], for example /paid A101 150,00 "
    "24/11/2026. Or open the plan with /plans and tap «Record a payment»."
)


def _ints(update: Update, count: int) -> list[int] | None:
    """The numeric arguments of a button (callback data is user input)."""
    try:
        values = [int(part) for part in callback_parts(update)[2:]]
    except ValueError:
        return None
    return values if len(values) == count else None


# -- /plans --------------------------------------------------------------------------------------


def plan_text(t: Translator, schedule: plans.Schedule, on: date) -> str:
    plan, resident = schedule.plan, schedule.plan.resident
    lines = [
        t._(
            "<b>Plan {reference}</b> · {name} ({tenant})",
            reference=plan.reference,
            name=resident.name or t._("(no name)"),
            tenant=resident.tenant_code or "",
        ),
        t._(
            "Status: {status} · signed on {date}",
            status=t._(STATUS[plan.status]),
            date=t.date(plan.signed_on, "medium"),
        ),
        t._(
            "Total: {total} · paid: {paid} · left: {left}",
            total=t.money(plan.total_cents),
            paid=t.money(schedule.paid_cents),
            left=t.money(schedule.left_cents),
        ),
    ]
    if plan.notes:
        lines.append(t._("Notes: {notes}", notes=plan.notes))
    lines += ["", t._("<b>Instalments</b>")]
    lines += [line(t, instalment, on) for instalment in schedule.instalments]
    lines += ["", t._("<b>Payments</b>")]
    lines += [
        t._(
            "· {date} · {amount} · {source}",
            date=t.date(payment.paid_on, "medium"),
            amount=t.money(payment.amount_cents),
            source=payment.reference or t._("recorded in chat"),
        )
        for payment in schedule.payments
    ] or [t._("None yet.")]
    return clip(t, lines, [])


async def _send_plan(update: Update, context: BotContext, t: Translator, s: plans.Schedule) -> None:
    rows = []
    if s.plan.status == PlanStatus.ACTIVE and s.left_cents > 0:
        rows.append([(t._("💶 Record a payment"), f"pl:pp:{s.plan.id}")])
    await reply(
        update,
        plan_text(t, s, plans.today(context.core)),
        reply_markup=buttons(*rows) if rows else None,
        protect_content=True,
    )


@operators_only
async def find(update: Update, context: BotContext, operator: Resident, t: Translator) -> None:
    """/plans TENANT_CODE or part of a name."""
    query = " ".join(context.args or [])
    if not query:
        await reply(update, t._("Write it like this: /plans TENANT_CODE or /plans NAME"))
        return
    found = await plans.search(context.core, query, operator_id=operator.id)
    if not found:
        await reply(update, t._("No plan found for «{query}».", query=query))
    elif len(found) == 1:
        await _send_plan(update, context, t, found[0])
    else:
        rows = [
            [
                (
                    f"{s.plan.resident.name} · {s.plan.resident.tenant_code} · {s.plan.reference}",
                    f"pl:show:{s.plan.id}",
                )
            ]
            for s in found
        ]
        await reply(update, t._("Which plan?"), reply_markup=buttons(*rows), protect_content=True)


@operators_only
async def open_plan(update: Update, context: BotContext, operator: Resident, t: Translator) -> None:
    ids = _ints(update, 1)
    found = await plans.schedule(context.core, ids[0], operator_id=operator.id) if ids else None
    if found is None:
        await answer_query(update, t._(INACTIVE))
        return
    await answer_query(update)
    await _send_plan(update, context, t, found)


# -- /overdue ------------------------------------------------------------------------------------


@operators_only
async def overdue(update: Update, context: BotContext, operator: Resident, t: Translator) -> None:
    rows = await plans.overdue(context.core, operator_id=operator.id)
    if not rows:
        await reply(update, t._("No late instalments. 🎉"))
        return
    lines = [t._("<b>Late instalments</b> (most days late first)")]
    lines += [
        t._(
            "· {name} ({tenant}) · plan {reference}, instalment {number} · {amount} · {late}",
            name=row.name or t._("(no name)"),
            tenant=row.tenant_code,
            reference=row.reference,
            number=row.number,
            amount=t.money(row.left_cents),
            late=t.n_("{n} day late", "{n} days late", row.days_late),
        )
        for row in rows
    ]
    await reply(
        update,
        clip(t, lines, []),
        reply_markup=buttons([(t._("⬇️ Export as CSV"), "pl:csv")]),
        protect_content=True,
    )


@operators_only
async def export(update: Update, context: BotContext, operator: Resident, t: Translator) -> None:
    await answer_query(update)
    rows = await plans.overdue(context.core, operator_id=operator.id)
    assert update.effective_chat is not None
    day = plans.today(context.core).isoformat()
    await update.effective_chat.send_document(
        plans.overdue_csv(rows), filename=f"overdue-{day}.csv", protect_content=True
    )


# -- payments ------------------------------------------------------------------------------------


# The last word of /paid is a date if it looks like one: 24/11/2026, 24-11, 24.11.2026, ISO.
DATE_LIKE = re.compile(
    r"\d{1,2}[/-]\d{1,2}([/-]\d{2,4})?|\d{1,2}\.\d{1,2}\.\d{2,4}|\d{4}-\d{2}-\d{2}"
)


def paid_args(args: list[str]) -> tuple[str, str, str | None] | None:
    """Tenant code, amount and date as typed: the amount may hold spaces or a € sign
    ("€ 150,00", "1 234,56", "150,00 €"), so it is every word between the code and the date."""
    if len(args) < 2:
        return None
    words = args[1:]
    day = words.pop() if len(words) > 1 and DATE_LIKE.fullmatch(words[-1]) else None
    return args[0], " ".join(words), day


@operators_only
async def paid(update: Update, context: BotContext, operator: Resident, t: Translator) -> None:
    """/paid TENANT_CODE AMOUNT [DATE]: a preview to confirm."""
    found = paid_args(context.args or [])
    if found is None:
        await reply(update, t._(PAID_USAGE))
        return
    tenant_code, amount, day = found
    try:
        cents = plan_import.parse_amount(amount)
    except ValueError:
        await reply(update, t._("I could not read the amount {value}.", value=amount))
        await reply(update, t._(PAID_USAGE))
        return
    on = plans.today(context.core)
    try:
        paid_on = plan_import.parse_date(day) if day is not None else on
    except ValueError:
        await reply(update, t._("I could not read the date {value}.", value=day))
        await reply(update, t._(PAID_USAGE))
        return
    await _preview(update, context, operator, t, tenant_code, None, cents, paid_on)


async def _preview(
    update: Update,
    context: BotContext,
    operator: Resident,
    t: Translator,
    tenant_code: str | None,
    plan_id: int | None,
    cents: int,
    paid_on: date,
) -> None:
    core = context.core
    if paid_on > plans.today(core):
        await reply(update, t._("A payment cannot be in the future. Please check the date."))
        return
    try:
        if tenant_code is None:
            found = await plans.schedule(core, plan_id or 0, operator_id=operator.id)
            tenant_code = found.plan.resident.tenant_code if found else None
        preview = await plans.preview_payment(
            core, tenant_code or "", cents, paid_on, operator_id=operator.id
        )
    except plans.UnknownTenant:
        await reply(update, t._("There is no tenant record with code {code}.", code=tenant_code))
        return
    except plans.NoActivePlan:
        await reply(update, t._("This tenant has no active plan."))
        return
    except plans.TooMuch as error:
        await reply(
            update,
            t._(
                "That is more than what is left to pay on the plan ({left}). Please check the "
                "amount.",
                left=t.money(error.left_cents),
            ),
            protect_content=True,
        )
        return
    lines = [
        t._(
            "Record a payment of <b>{amount}</b> on {date} for {name} ({tenant}), plan "
            "{reference}?",
            amount=t.money(preview.amount_cents),
            date=t.date(preview.paid_on, "medium"),
            name=preview.resident_name or t._("(no name)"),
            tenant=preview.tenant_code,
            reference=preview.reference,
        )
    ]
    for number, settled, whole in preview.settles:
        amount = t.money(settled)
        if whole:
            lines.append(
                t._("· instalment {number}: {amount}, now paid", number=number, amount=amount)
            )
        else:
            lines.append(
                t._("· instalment {number}: {amount}, partly paid", number=number, amount=amount)
            )
    data = f"pl:pay:{preview.plan_id}:{cents}:{paid_on:%Y%m%d}:{preview.paid_before}"
    await reply(
        update,
        "\n".join(lines),
        reply_markup=buttons([(t._("✅ Confirm"), data), (t._("❌ Cancel"), "pl:no")]),
        protect_content=True,
    )


@operators_only
async def confirm(update: Update, context: BotContext, operator: Resident, t: Translator) -> None:
    parts = callback_parts(update)
    try:
        plan_id, cents, paid_before = int(parts[2]), int(parts[3]), int(parts[5])
        paid_on = date(int(parts[4][:4]), int(parts[4][4:6]), int(parts[4][6:]))
    except (IndexError, ValueError):
        await answer_query(update, t._(INACTIVE))
        return
    try:
        schedule = await plans.record_payment(
            context.core, plan_id, cents, paid_on, paid_before, operator_id=operator.id
        )
    except (plans.Stale, plans.TooMuch):
        await answer_query(update, t._(INACTIVE))
        return
    await answer_query(update)
    assert update.callback_query is not None
    await update.callback_query.edit_message_reply_markup(None)
    await reply(
        update,
        t._(
            "Payment recorded. Plan {reference}: paid {paid}, left {left}.",
            reference=schedule.plan.reference,
            paid=t.money(schedule.paid_cents),
            left=t.money(schedule.left_cents),
        ),
        protect_content=True,
    )


@operators_only
async def dismiss(update: Update, context: BotContext, operator: Resident, t: Translator) -> None:
    await _dismissed(update, t)


async def _dismissed(update: Update, t: Translator) -> None:
    await answer_query(update)
    assert update.callback_query is not None
    await update.callback_query.edit_message_reply_markup(None)
    await reply(update, t._("Cancelled. Nothing was recorded."))


@operators_only
async def pick_amount(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> None:
    ids = _ints(update, 1)
    found = await plans.schedule(context.core, ids[0], operator_id=operator.id) if ids else None
    following = found.next if found else None
    if found is None or following is None or found.plan.status != PlanStatus.ACTIVE:
        await answer_query(update, t._(INACTIVE))
        return
    await answer_query(update)
    plan_id = found.plan.id
    choices = {following.left_cents, found.left_cents}
    rows = [[(t.money(cents), f"pl:pa:{plan_id}:{cents}")] for cents in sorted(choices)]
    await reply(
        update,
        t._(
            "How much was paid? For another amount, write /paid {tenant} AMOUNT.",
            tenant=found.plan.resident.tenant_code or "",
        ),
        reply_markup=buttons(*rows, [(t._("❌ Cancel"), "pl:no")]),
        protect_content=True,
    )


@operators_only
async def pick_date(update: Update, context: BotContext, operator: Resident, t: Translator) -> None:
    ids = _ints(update, 2)
    if ids is None:
        await answer_query(update, t._(INACTIVE))
        return
    await answer_query(update)
    on = plans.today(context.core)
    rows = [
        [
            (t._("Today"), f"pl:pd:{ids[0]}:{ids[1]}:{on:%Y%m%d}"),
            (t._("Yesterday"), f"pl:pd:{ids[0]}:{ids[1]}:{on - timedelta(days=1):%Y%m%d}"),
        ]
    ]
    await reply(update, t._("When was it paid?"), reply_markup=buttons(*rows))


@operators_only
async def picked(update: Update, context: BotContext, operator: Resident, t: Translator) -> None:
    parts = callback_parts(update)
    try:
        plan_id, cents = int(parts[2]), int(parts[3])
        paid_on = date(int(parts[4][:4]), int(parts[4][4:6]), int(parts[4][6:]))
    except (IndexError, ValueError):
        await answer_query(update, t._(INACTIVE))
        return
    await answer_query(update)
    await _preview(update, context, operator, t, None, plan_id, cents, paid_on)


# -- importing files ------------------------------------------------------------------------------


def summary_text(t: Translator, summary: plan_import.Summary) -> str:
    if summary.errors:
        lines = [t._("<b>The file was not imported</b>: please correct it and send it again.")]
        for error in summary.errors:
            message = t._(error.message, **error.params)
            if error.line and error.column:
                where = t._("line {line}, column «{column}»", line=error.line, column=error.column)
            elif error.line:
                where = t._("line {line}", line=error.line)
            else:
                where = t._("file")
            lines.append(t._("· {where}: {message}", where=where, message=message))
        return clip(t, lines, [])
    if summary.kind == plan_import.PLANS:
        return t._(
            "Plans file, {rows} rows: {new} new plans, {updated} updated, {same} unchanged; "
            "{instalments} instalments; {tenants} new tenant records.",
            rows=t.number(summary.rows),
            new=t.number(summary.new_plans),
            updated=t.number(summary.updated_plans),
            same=t.number(summary.unchanged_plans),
            instalments=t.number(summary.instalments),
            tenants=t.number(summary.new_tenants),
        )
    return t._(
        "Payments file, {rows} rows: {new} new payments, {known} already recorded.",
        rows=t.number(summary.rows),
        new=t.number(summary.new_payments),
        known=t.number(summary.known_payments),
    )


async def document(update: Update, context: BotContext) -> None:
    """A spreadsheet from an operator: a preview of what would change, then a confirmation."""
    resident, t = await who(update, context)
    if not resident.is_operator:
        await fallback.not_text(update, context)
        return
    message = update.message
    assert message is not None and message.document is not None
    name = message.document.file_name or "file"
    if (message.document.file_size or 0) > plan_import.MAX_BYTES:
        await reply(update, t._(plan_import.NOT_READABLE))
        return
    content = bytes(await (await message.document.get_file()).download_as_bytearray())
    summary = await plan_import.run(context.core, name, content)
    if summary.errors:
        await reply(update, summary_text(t, summary), protect_content=True)
        return
    pending = await plans.keep_import(context.core, name, content, operator_id=resident.id)
    await reply(
        update,
        summary_text(t, summary) + "\n\n" + t._("Import it?"),
        reply_markup=buttons(
            [(t._("✅ Import"), f"pl:imp:{pending}"), (t._("❌ Cancel"), f"pl:drop:{pending}")]
        ),
        protect_content=True,
    )


@operators_only
async def do_import(update: Update, context: BotContext, operator: Resident, t: Translator) -> None:
    ids = _ints(update, 1)
    pending = (
        await plans.take_import(context.core, ids[0], operator_id=operator.id) if ids else None
    )
    if pending is None:
        await answer_query(update, t._(INACTIVE))
        return
    await answer_query(update)
    assert update.callback_query is not None
    await update.callback_query.edit_message_reply_markup(None)
    summary = await plan_import.run(context.core, pending[0], pending[1], apply=True)
    done = t._("Imported.") if summary.applied else ""
    await reply(
        update, "\n\n".join(filter(None, [done, summary_text(t, summary)])), protect_content=True
    )


@operators_only
async def drop_import(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> None:
    ids = _ints(update, 1)
    if ids:
        await plans.take_import(context.core, ids[0], operator_id=operator.id)
    await _dismissed(update, t)


# -- alerts ----------------------------------------------------------------------------------------


@operators_only
async def handled(update: Update, context: BotContext, operator: Resident, t: Translator) -> None:
    """ "Mark handled" under an escalation or a help request: one operator takes it."""
    ids = _ints(update, 1)
    query = update.callback_query
    assert query is not None
    if ids is None:
        await query.answer(t._(INACTIVE))
        return
    try:
        await plans.mark_handled(context.core, ids[0], operator_id=operator.id)
    except plans.AlreadyHandled as error:
        await query.answer(t._("Already handled by {name}.", name=error.by or "—"))
        await query.edit_message_reply_markup(None)
        return
    except plans.Stale:
        await query.answer(t._(INACTIVE))
        return
    await query.answer()
    text = (query.message.text_html if query.message else "") or ""  # type: ignore[union-attr]
    await query.edit_message_text(
        text + "\n\n" + t._("✅ Handled by {name}.", name=operator.name),
        parse_mode=ParseMode.HTML,
    )


def handlers() -> list[BaseHandler[Update, BotContext, object]]:
    def on(pattern: str, callback: object) -> CallbackQueryHandler[BotContext, object]:
        return CallbackQueryHandler(callback, pattern=f"^pl:{pattern}$")  # type: ignore[arg-type]

    return [
        CommandHandler("plans", find, filters=PRIVATE),
        CommandHandler("overdue", overdue, filters=PRIVATE),
        CommandHandler("paid", paid, filters=PRIVATE),
        MessageHandler(filters.Document.ALL & PRIVATE, document),
        on(r"show:\d+", open_plan),
        on("csv", export),
        on(r"pp:\d+", pick_amount),
        on(r"pa:\d+:\d+", pick_date),
        on(r"pd:\d+:\d+:\d{8}", picked),
        on(r"pay:\d+:\d+:\d{8}:\d+", confirm),
        on("no", dismiss),
        on(r"imp:\d+", do_import),
        on(r"drop:\d+", drop_import),
        on(r"done:\d+", handled),
    ]
