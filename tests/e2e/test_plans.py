"""Operators and repayment plans: /plans, /overdue with CSV, /paid, importing a file in chat."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot.core import Core
from bot.fakeapi import FakeBotAPI
from bot.models import Payment, RepaymentPlan, Role
from bot.services import residents
from tests.support import Harness, linked, plan, seen

ROOT = Path(__file__).resolve().parents[2]


async def setup(core: Core, fake: FakeBotAPI):
    op = await linked(core, fake, 9001, "it", "Giulia Operatrice", building="Z")
    await residents.set_role(core, 9001, Role.OPERATOR)
    await linked(core, fake, 5001, "it", "Amina Haddad")
    await plan(
        core,
        "T5001",
        [(date(2026, 11, 5), 40000), (date(2026, 12, 15), 40000)],
        reference="PR-1",
    )
    await linked(core, fake, 5002, "it", "Marco Rossi")
    await plan(core, "T5002", [(date(2026, 10, 1), 10050)], reference="PR-2")
    return op, core.catalogs.translator("it")


async def payments(core: Core) -> int:
    async with core.db.session() as session:
        return await session.scalar(select(func.count()).select_from(Payment)) or 0


async def test_plans_search_shows_the_schedule_and_overdue_lists_the_latest_first(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    op, it = await setup(core, fake)
    await op.send("/plans amina")
    text = op.last.text or ""
    assert text.startswith(
        seen(it, "<b>Plan {reference}</b> · {name} ({tenant})", reference="PR-1",
             name="Amina Haddad", tenant="T5001")
    )  # fmt: skip
    assert op.last.protect_content and op.last.buttons == [it._("💶 Record a payment")]
    await op.send("/plans zzz")
    assert op.last.text == seen(it, "No plan found for «{query}».", query="zzz")
    await op.send("/plans a")  # both names: a choice of names, codes and plans
    assert op.last.text == seen(it, "Which plan?") and op.last.protect_content
    assert op.last.buttons == ["Marco Rossi · T5002 · PR-2", "Amina Haddad · T5001 · PR-1"]

    await op.send("/overdue")
    lines = (op.last.text or "").split("\n")
    assert lines[1].startswith("· Marco Rossi (T5002) · ") and "55" in lines[1]
    assert lines[2].startswith("· Amina Haddad (T5001) · ")
    await op.press(it._("⬇️ Export as CSV"))
    name, content = op.last.document
    assert name == "overdue-2026-11-25.csv" and op.last.protect_content
    assert content.decode("utf-8-sig").splitlines() == [
        "codice_inquilino;nominativo;numero_piano;rata;scadenza;residuo;giorni",
        "T5002;Marco Rossi;PR-2;1;01/10/2026;100,50;55",
        "T5001;Amina Haddad;PR-1;1;05/11/2026;400,00;20",
    ]


async def test_paid_records_a_partial_payment_once_after_confirmation(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    op, it = await setup(core, fake)
    await op.send("/paid T5001 quattro")
    assert op.last.text == seen(it, PAID_USAGE)
    await op.send("/paid T5001 450,00 24/11/2026")
    preview = op.last
    assert it.money(45000) in (preview.text or "")
    assert seen(it, "· instalment {number}: {amount}, now paid", number=1,
                amount=it.money(40000)) in (preview.text or "")  # fmt: skip
    assert seen(it, "· instalment {number}: {amount}, partly paid", number=2,
                amount=it.money(5000)) in (preview.text or "")  # fmt: skip
    assert await payments(core) == 0  # nothing before the confirmation
    confirm = preview.raw["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    await op.press(it._("✅ Confirm"))
    assert op.last.text == seen(
        it,
        "Payment recorded. Plan {reference}: paid {paid}, left {left}.",
        reference="PR-1",
        paid=it.money(45000),
        left=it.money(35000),
    )
    assert op.last.protect_content  # every message with plan data
    await op.press_data(confirm, preview.message_id)
    assert await payments(core) == 1  # a second tap on the same preview records nothing
    await op.send("/paid T5001 5000")
    assert op.last.text == seen(
        it,
        "That is more than what is left to pay on the plan ({left}). Please check the amount.",
        left=it.money(35000),
    )
    assert op.last.protect_content
    await op.send("/paid T9999 10")
    assert op.last.text == seen(it, "There is no tenant record with code {code}.", code="T9999")


async def test_paid_takes_an_amount_written_with_a_euro_sign_or_spaces(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    op, it = await setup(core, fake)
    question = (
        "Record a payment of <b>{amount}</b> on {date} for {name} ({tenant}), plan {reference}?"
    )
    for typed, cents, day in [
        ("/paid T5001 € 150,00", 15000, date(2026, 11, 25)),
        ("/paid T5001 150,00 € 24/11/2026", 15000, date(2026, 11, 24)),
        ("/paid T5001 1 234,56", None, None),  # read, then refused: more than is left
        ("/paid T5001 EUR 20 24.11.2026", 2000, date(2026, 11, 24)),
    ]:
        await op.send(typed)
        text = (op.last.text or "").split("\n")[0]
        if cents is None:
            assert op.last.text == seen(
                it,
                "That is more than what is left to pay on the plan ({left}). Please check the "
                "amount.",
                left=it.money(80000),
            ), typed
            continue
        assert text == seen(
            it, question, amount=it.money(cents), date=it.date(day, "medium"),
            name="Amina Haddad", tenant="T5001", reference="PR-1",
        ), typed  # fmt: skip
    await op.send("/paid T5001 150 31/02/2026")
    wrong = seen(it, "I could not read the date {value}.", value="31/02/2026")
    assert op.messages[-2].text == wrong
    assert await payments(core) == 0


PAID_USAGE = (
    "Write it like this: /paid TENANT_CODE AMOUNT [DATE], for example /paid A101 150,00 "
    "24/11/2026. Or open the plan with /plans and tap «Record a payment»."
)


async def test_a_payment_with_buttons_only(harness: Harness, core: Core, fake: FakeBotAPI):
    op, it = await setup(core, fake)
    await op.send("/plans T5002")
    await op.press(it._("💶 Record a payment"))
    assert op.last.buttons == [it.money(10050), it._("❌ Cancel")] and op.last.protect_content
    await op.press(it.money(10050))
    await op.press(it._("Yesterday"))
    assert it.date(date(2026, 11, 24), "medium") in (op.last.text or "")
    await op.press(it._("✅ Confirm"))
    async with core.db.session() as session:
        paid_on = await session.scalar(select(Payment.paid_on))
        status = await session.scalar(
            select(RepaymentPlan.status).where(RepaymentPlan.reference == "PR-2")
        )
    assert paid_on == date(2026, 11, 24) and status.value == "completed"


async def test_residents_cannot_use_operator_commands_or_buttons(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    _, it = await setup(core, fake)
    resident = fake.user(5001, first_name="Amina", language_code="it")
    for command in ("/plans Amina", "/overdue", "/paid T5001 10"):
        await resident.send(command)
        assert resident.last.text == seen(
            it, "I don't know this command. Send /help to see what I can do."
        )
    async with core.db.session() as session:
        plan_id = await session.scalar(select(RepaymentPlan.id).limit(1))
    await resident.press_data(f"pl:pay:{plan_id}:100:20261124:0")
    await resident.press_data("pl:csv")
    assert await payments(core) == 0
    assert fake.callback_answers[-1]["text"] == it._("This button is no longer active.")
    await resident.send_document("piani.csv", (ROOT / "docs" / "sample-plans.csv").read_bytes())
    assert resident.last.text == seen(
        it, "I can only read text and buttons. Please use the buttons below."
    )


async def test_an_operator_imports_a_file_in_chat_after_a_preview(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    op, it = await setup(core, fake)
    sample = (ROOT / "docs" / "sample-plans.csv").read_bytes()
    await op.send_document("piani.csv", sample, "text/csv")
    summary = seen(
        it,
        "Plans file, {rows} rows: {new} new plans, {updated} updated, {same} unchanged; "
        "{instalments} instalments; {tenants} new tenant records.",
        rows=6, new=2, updated=0, same=0, instalments=6, tenants=2,
    )  # fmt: skip
    assert op.last.text == summary + "\n\n" + seen(it, "Import it?")
    async with core.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(RepaymentPlan)) == 2
    await op.press(it._("✅ Import"))
    assert op.last.text == seen(it, "Imported.") + "\n\n" + summary
    assert op.last.protect_content
    async with core.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(RepaymentPlan)) == 4

    bad = b"Codice inquilino;Data pagamento;Importo;Riferimento\nA101;31/02/2026;10;X1\n"
    await op.send_document("pagamenti.csv", bad, "text/csv")
    assert op.last.text == "\n".join(
        [
            seen(it, "<b>The file was not imported</b>: please correct it and send it again."),
            seen(it, "· {where}: {message}",
                 where=it._("line {line}, column «{column}»", line=2, column="Data pagamento"),
                 message=it._("Not a date: {value} (write it like 31/01/2027).",
                              value="31/02/2026")),
        ]
    )  # fmt: skip


async def test_long_lists_stay_within_one_telegram_message(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    op, _ = await setup(core, fake)
    user = await linked(core, fake, 5003, "uk", "Olena Kovalenko")
    await plan(
        core, "T5003", [(date(2020, 1, 1) + timedelta(days=30 * i), 1000) for i in range(120)]
    )
    await op.send("/overdue")
    assert len(op.last.raw_text or "") <= 4096
    assert (op.last.text or "").endswith(".") and "…" in (op.last.text or "")
    await user.send("/payments")
    assert len(user.last.raw_text or "") <= 4096
    bad = "Codice inquilino;Data pagamento;Importo;Riferimento\n" + "".join(
        f"ZZ{i};1/1/2026;5;R{i}\n" for i in range(200)
    )
    await op.send_document("pagamenti.csv", bad.encode(), "text/csv")
    assert len(op.last.raw_text or "") <= 4096 and "…" in (op.last.text or "")


async def test_a_file_never_confirmed_is_deleted_after_a_day(
    harness: Harness, core: Core, fake: FakeBotAPI, clock
):
    from types import SimpleNamespace

    from bot.app import housekeeping
    from bot.models import PendingImport

    op, it = await setup(core, fake)
    await op.send_document("piani.csv", (ROOT / "docs" / "sample-plans.csv").read_bytes())
    assert op.last.buttons == [it._("✅ Import"), it._("❌ Cancel")]  # and never tapped

    async def kept() -> int:
        async with core.db.session() as session:
            return await session.scalar(select(func.count()).select_from(PendingImport)) or 0

    await housekeeping(SimpleNamespace(core=core))  # type: ignore[arg-type]
    assert await kept() == 1
    clock.set(clock.now() + timedelta(days=1, minutes=1))
    await housekeeping(SimpleNamespace(core=core))  # type: ignore[arg-type]
    assert await kept() == 0  # every tenant's debt, held no longer than needed


async def test_a_payments_spreadsheet_sent_in_chat_is_previewed_then_imported_once(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    from datetime import datetime

    from tests.integration.test_plan_import import xlsx

    op, it = await setup(core, fake)
    content = xlsx(
        [
            ["Codice inquilino", "Numero piano", "Data pagamento", "Importo pagato", "Ricevuta"],
            ["T5001", "PR-1", datetime(2026, 11, 4), 400.0, "MAV-1"],
            ["T5002", None, datetime(2026, 11, 20), 50.25, "MAV-2"],  # partial, the active plan
        ]
    )
    await op.send_document("pagamenti.xlsx", content)
    summary = seen(
        it,
        "Payments file, {rows} rows: {new} new payments, {known} already recorded.",
        rows=2, new=2, known=0,
    )  # fmt: skip
    assert op.last.text == summary + "\n\n" + seen(it, "Import it?")
    assert op.last.protect_content and await payments(core) == 0
    await op.press(it._("✅ Import"))
    assert op.last.text == seen(it, "Imported.") + "\n\n" + summary
    await op.send_document("pagamenti.xlsx", content)  # the same file again
    assert op.last.text == seen(
        it,
        "Payments file, {rows} rows: {new} new payments, {known} already recorded.",
        rows=2, new=0, known=2,
    ) + "\n\n" + seen(it, "Import it?")  # fmt: skip
    await op.press(it._("✅ Import"))
    assert await payments(core) == 2
    await op.send("/plans T5002")
    assert seen(it, "paid so far: {paid}", paid=it.money(5025)) in (op.last.text or "")
