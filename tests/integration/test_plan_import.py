"""Importing the municipality's spreadsheets: real formats, all-or-nothing, idempotent."""

from __future__ import annotations

import asyncio
import io
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select, text

from bot import cli
from bot.config import Settings
from bot.core import Core
from bot.models import Instalment, Payment, PlanStatus, RepaymentPlan, Resident
from bot.services import plan_import, plans
from bot.services.plan_import import parse_amount, parse_date
from tests.conftest import empty_tables
from tests.support import staff

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = (ROOT / "docs" / "sample-plans.csv").read_bytes()
PAYMENTS = (ROOT / "docs" / "sample-payments.csv").read_bytes()


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("1.234,56", 123456),
        ("1234,5", 123450),
        ("€ 150", 15000),
        ("150.50", 15050),
        ("1.234", 123400),  # a thousand, written the Italian way
        ("1,234.56", 123456),
        (782.22, 78222),
        (400, 40000),
        (100.1 + 200.2, 30030),  # a spreadsheet SUM: 300.29999999999995
        (0.1 * 3, 30),
        ("150,00 €", 15000),
    ],
)
def test_amounts_are_read_the_italian_way(text, cents):
    assert parse_amount(text) == cents


@pytest.mark.parametrize("text", ["", "abc", "-5", "0", "1,234,56", "12,345", 1000 / 3])
def test_bad_amounts_are_refused(text):
    with pytest.raises(ValueError):
        parse_amount(text)


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("31/01/2027", date(2027, 1, 31)),
        ("1-2-2027", date(2027, 2, 1)),
        ("2027-02-01", date(2027, 2, 1)),
        (datetime(2027, 2, 1, 0, 0), date(2027, 2, 1)),
        ("01/02/2027 00:00:00", date(2027, 2, 1)),  # a date-time column saved as text
        ("1/2/2027 0:00", date(2027, 2, 1)),
        ("2027-02-01 00:00:00", date(2027, 2, 1)),
    ],
)
def test_dates(text, day):
    assert parse_date(text) == day


async def plans_in_db(core: Core) -> list[tuple[str, str, int, str, list[tuple]]]:
    async with core.db.session() as session:
        rows = await session.execute(
            select(RepaymentPlan, Resident.tenant_code)
            .join(Resident, Resident.id == RepaymentPlan.resident_id)
            .order_by(RepaymentPlan.reference)
        )
        result = []
        for plan, code in rows:
            instalments = await session.execute(
                select(Instalment.number, Instalment.due_on, Instalment.amount_cents)
                .where(Instalment.plan_id == plan.id)
                .order_by(Instalment.number)
            )
            result.append(
                (plan.reference, code, plan.total_cents, plan.status.value, list(instalments))
            )
        return result


async def test_a_semicolon_csv_with_italian_decimals_imports_and_reimports_without_change(
    core: Core,
):
    dry = await plan_import.run(core, "piani.csv", SAMPLE)
    assert (dry.kind, dry.errors, dry.applied) == ("plans", [], False)
    assert (dry.rows, dry.new_plans, dry.instalments, dry.new_tenants) == (6, 2, 6, 2)
    assert await plans_in_db(core) == []  # a dry run writes nothing

    done = await plan_import.run(core, "piani.csv", SAMPLE, apply=True)
    assert done.applied and done.new_plans == 2
    assert await plans_in_db(core) == [
        (
            "PR-2026-014",
            "A101",
            120000,
            "active",
            [
                (1, date(2026, 11, 15), 40000),
                (2, date(2026, 12, 15), 40000),
                (3, date(2027, 1, 15), 40000),
            ],
        ),
        (
            "PR-2026-021",
            "B204",
            234567,
            "active",
            [
                (1, date(2026, 11, 30), 78222),
                (2, date(2026, 12, 31), 78222),
                (3, date(2027, 1, 31), 78123),
            ],
        ),
    ]
    before = await plans_in_db(core)
    again = await plan_import.run(core, "piani.csv", SAMPLE, apply=True)
    assert (again.new_plans, again.updated_plans, again.unchanged_plans) == (0, 0, 2)
    assert again.new_tenants == 0
    assert await plans_in_db(core) == before
    async with core.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Resident)) == 2


@pytest.mark.parametrize("encoding", ["cp1252", "utf-8-sig"])
async def test_excel_csv_in_windows_1252_or_with_a_bom_euro_signs_and_blank_lines(
    core: Core, encoding: str
):
    content = (
        "Codice inquilino;Nominativo;Numero piano;Data firma;Importo totale;Rata;Scadenza;"
        "Importo rata\r\n"
        "A102;Niccolò Società;PR-9;15/10/2026;€ 1.200,00;1;15/11/2026;€ 600,00\r\n"
        "A102;Niccolò Società;PR-9;15/10/2026;€ 1.200,00;2;15/12/2026; 600,00 € \r\n"
        "\r\n;;;;;;;\r\n\r\n"
    ).encode(encoding)
    summary = await plan_import.run(core, "piani.csv", content, apply=True)
    assert [e.english() for e in summary.errors] == [] and summary.rows == 2
    assert await plans_in_db(core) == [
        ("PR-9", "A102", 120000, "active",
         [(1, date(2026, 11, 15), 60000), (2, date(2026, 12, 15), 60000)]),
    ]  # fmt: skip
    async with core.db.session() as session:
        assert await session.scalar(select(Resident.full_name)) == "Niccolò Società"


async def test_a_changed_file_updates_the_plan_in_place(core: Core):
    await plan_import.run(core, "piani.csv", SAMPLE, apply=True)
    changed = SAMPLE.decode().replace("15/01/2027;400,00", "20/01/2027;400,00").encode()
    summary = await plan_import.run(core, "piani.csv", changed, apply=True)
    assert (summary.updated_plans, summary.unchanged_plans) == (1, 1)
    plan = (await plans_in_db(core))[0]
    assert plan[4][2] == (3, date(2027, 1, 20), 40000)
    async with core.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Instalment)) == 6


async def statuses(core: Core) -> dict[str, str]:
    async with core.db.session() as session:
        rows = await session.execute(select(RepaymentPlan.reference, RepaymentPlan.status))
        return {reference: status.value for reference, status in rows}


async def test_a_status_written_in_the_file_is_kept_and_reimporting_it_changes_nothing(
    core: Core,
):
    closed = (
        b"Codice inquilino;Nominativo;Numero piano;Data firma;Importo totale;Rata;Scadenza;"
        b"Importo rata;Stato\n"
        b"A101;Amina Haddad;PR-2025-003;15/10/2025;1.200,00;1;15/11/2025;600,00;completato\n"
        b"A101;Amina Haddad;PR-2025-003;15/10/2025;1.200,00;2;15/12/2025;600,00;completato\n"
        b"B204;Mihai Popescu;PR-2025-009;02/11/2025;100,00;1;30/11/2025;100,00;decaduto\n"
    )
    await plan_import.run(core, "piani.csv", closed, apply=True)
    # closed by the municipality: no payments here, yet neither active nor late
    assert await statuses(core) == {"PR-2025-003": "completed", "PR-2025-009": "defaulted"}
    assert await plans.overdue(core, operator_id=(await staff(core)).id) == []
    again = await plan_import.run(core, "piani.csv", closed, apply=True)
    assert (again.updated_plans, again.unchanged_plans) == (0, 2)
    assert await statuses(core) == {"PR-2025-003": "completed", "PR-2025-009": "defaulted"}
    # its payments, imported later, do not reopen it
    paid = b"Codice inquilino;Numero piano;Data pagamento;Importo;Riferimento\n" + (
        b"A101;PR-2025-003;14/11/2025;600,00;MAV-1\n"
    )
    assert (await plan_import.run(core, "pagamenti.csv", paid, apply=True)).applied
    assert await statuses(core) == {"PR-2025-003": "completed", "PR-2025-009": "defaulted"}
    # a file without the status that adds an instalment does
    grown = b"\n".join(
        line.rsplit(b";", 1)[0].replace(b"1.200,00", b"1.500,00")
        for line in closed.splitlines()[:3]
    ) + b"\nA101;Amina Haddad;PR-2025-003;15/10/2025;1.500,00;3;15/01/2026;300,00\n"
    assert (await plan_import.run(core, "piani.csv", grown, apply=True)).updated_plans == 1
    assert (await statuses(core))["PR-2025-003"] == "active"


async def test_a_plan_paid_off_stays_completed_when_the_file_still_says_active(core: Core):
    await plan_import.run(core, "piani.csv", SAMPLE, apply=True)
    office = (await staff(core)).id
    schedule = (await plans.search(core, "A101", operator_id=office))[0]
    await plans.record_payment(
        core, schedule.plan.id, 120000, date(2026, 11, 20), 0, operator_id=office
    )
    assert (await statuses(core))["PR-2026-014"] == "completed"
    again = await plan_import.run(core, "piani.csv", SAMPLE, apply=True)  # "attivo" in the file
    assert (again.updated_plans, again.unchanged_plans) == (0, 2)
    assert (await statuses(core))["PR-2026-014"] == "completed"


def xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def test_an_xlsx_file_with_real_dates_and_numbers(core: Core):
    content = xlsx(
        [
            ["CODICE INQUILINO", "Nominativo", "N. piano", "Data firma", "Importo totale",
             "N. rata", "Data scadenza", "Importo rata"],
            ["C305", "Li Wei", "PR-2026-030", datetime(2026, 11, 3), 300.5, 1,
             datetime(2026, 12, 1), 150.25],
            ["C305", "Li Wei", "PR-2026-030", datetime(2026, 11, 3), 300.5, 2,
             datetime(2027, 1, 1), "150,25"],
        ]
    )  # fmt: skip
    summary = await plan_import.run(core, "piani.xlsx", content, apply=True)
    assert summary.errors == [] and summary.applied
    assert await plans_in_db(core) == [
        (
            "PR-2026-030",
            "C305",
            30050,
            "active",
            [(1, date(2026, 12, 1), 15025), (2, date(2027, 1, 1), 15025)],
        )
    ]


def as_excel_writes_it(content: bytes, shown: str, stored: str) -> bytes:
    """Excel saves a cell's double with 17 digits (openpyxl writes the shortest form)."""
    source, target = zipfile.ZipFile(io.BytesIO(content)), io.BytesIO()
    with zipfile.ZipFile(target, "w") as out:
        for item in source.infolist():
            data = source.read(item)
            if item.filename.startswith("xl/worksheets/"):
                data = data.replace(f"<v>{shown}</v>".encode(), f"<v>{stored}</v>".encode())
            out.writestr(item, data)
    return target.getvalue()


async def test_an_xlsx_total_computed_by_a_formula_is_read_to_the_cent(core: Core):
    total = 100.1 + 200.2  # what a SUM cell holds: 300.29999999999995
    header = ["Codice inquilino", "Nominativo", "Numero piano", "Data firma", "Importo totale",
              "Rata", "Scadenza", "Importo rata"]
    content = xlsx(
        [
            header,
            ["C305", "Li Wei", "PR-2026-031", datetime(2026, 11, 3), total, 1.0,
             datetime(2026, 12, 1), 100.1],
            ["C305", "Li Wei", "PR-2026-031", datetime(2026, 11, 3), total, 2.0,
             datetime(2027, 1, 1), 200.2],
        ]
    )  # fmt: skip
    content = as_excel_writes_it(content, "300.3", repr(total))
    summary = await plan_import.run(core, "piani.xlsx", content, apply=True)
    assert [e.english() for e in summary.errors] == [] and summary.applied
    assert await plans_in_db(core) == [
        (
            "PR-2026-031",
            "C305",
            30030,
            "active",
            [(1, date(2026, 12, 1), 10010), (2, date(2027, 1, 1), 20020)],
        )
    ]


async def test_a_file_with_bad_rows_is_rejected_whole_with_every_error_by_line_and_column(
    core: Core,
):
    bad = (
        "Codice inquilino;Nominativo;Numero piano;Data firma;Importo totale;Rata;Scadenza;"
        "Importo rata\n"
        "A101;Amina Haddad;PR-1;15/10/2026;800,00;1;15/11/2026;400,00\n"
        "A101;Amina Haddad;PR-1;15/10/2026;800,00;2;31/02/2027;quattrocento\n"
        "B204;Mihai Popescu;PR-2;02/11/2026;100,00;1;30/11/2026;50,00\n"
        "B204;Mihai Popescu;PR-2;02/11/2026;100,00;1;30/12/2026;50,00\n"
        ";Nessuno;PR-3;02/11/2026;100,00;1;30/11/2026;100,00\n"
    ).encode("cp1252")
    summary = await plan_import.run(core, "piani.csv", bad, apply=True)
    assert not summary.applied
    assert [error.english() for error in summary.errors] == [
        "line 3, column 'Scadenza': Not a date: 31/02/2027 (write it like 31/01/2027).",
        "line 3, column 'Importo rata': Not an amount: quattrocento (write it like 1.234,56).",
        "line 5, column 'Rata': Instalment 1 appears twice in plan PR-2.",
        "line 6, column 'Codice inquilino': The cell is empty.",
    ]
    assert await plans_in_db(core) == []  # not one row of the good plans either


async def test_totals_that_do_not_add_up_and_missing_columns_are_reported(core: Core):
    mismatch = SAMPLE.decode().replace("2.345,67", "2.345,00").encode()
    summary = await plan_import.run(core, "piani.csv", mismatch)
    assert [e.english() for e in summary.errors] == [
        "line 5, column 'Importo totale': The instalments add up to 2.345,67, not to the total "
        "2.345,00."
    ]
    missing = b"Codice inquilino;Scadenza\nA101;15/11/2026\n"
    errors = (await plan_import.run(core, "piani.csv", missing)).errors
    assert [e.english() for e in errors] == [
        "line 1, column 'Numero piano': The column is missing.",
        "line 1, column 'Data firma': The column is missing.",
        "line 1, column 'Importo totale': The column is missing.",
        "line 1, column 'Rata': The column is missing.",
        "line 1, column 'Importo rata': The column is missing.",
    ]
    assert (await plan_import.run(core, "x.csv", b"\x00\xff\xfe garbage")).errors


async def test_payments_settle_the_oldest_instalment_first_and_keep_partial_ones(core: Core):
    await plan_import.run(core, "piani.csv", SAMPLE, apply=True)
    summary = await plan_import.run(core, "pagamenti.csv", PAYMENTS, apply=True)
    assert (summary.kind, summary.new_payments, summary.errors) == ("payments", 2, [])
    again = await plan_import.run(core, "pagamenti.csv", PAYMENTS, apply=True)
    assert (again.new_payments, again.known_payments) == (0, 2)
    async with core.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Payment)) == 2
        rows = await session.execute(
            select(RepaymentPlan.reference, Instalment.number, Instalment.paid_cents,
                   Instalment.paid_on)
            .join(RepaymentPlan, RepaymentPlan.id == Instalment.plan_id)
            .order_by(RepaymentPlan.reference, Instalment.number)
        )  # fmt: skip
        assert list(rows) == [
            ("PR-2026-014", 1, 40000, date(2026, 11, 14)),
            ("PR-2026-014", 2, 0, None),
            ("PR-2026-014", 3, 0, None),
            ("PR-2026-021", 1, 50000, None),  # partial: kept as such
            ("PR-2026-021", 2, 0, None),
            ("PR-2026-021", 3, 0, None),
        ]
        plan = await session.scalar(
            select(RepaymentPlan).where(RepaymentPlan.reference == "PR-2026-014")
        )
        assert plan is not None and plan.status == PlanStatus.ACTIVE


async def test_a_payments_file_that_also_shows_the_due_date_is_a_payments_file(core: Core):
    await plan_import.run(core, "piani.csv", SAMPLE, apply=True)
    content = (
        b"Codice inquilino;Numero piano;Rata;Scadenza;Data pagamento;Importo pagato;Riferimento\n"
        b"A101;PR-2026-014;1;15/11/2026;14/11/2026;400,00;MAV-2026-88120\n"
    )
    summary = await plan_import.run(core, "pagamenti.csv", content, apply=True)
    assert (summary.kind, summary.errors, summary.new_payments) == ("payments", [], 1)


def test_the_command_line_import_with_dry_run(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
):
    monkeypatch.setenv("QMONDO_DATABASE_URL", settings.database_url)
    monkeypatch.chdir(tmp_path)  # no .env from the developer's directory
    sample = ROOT / "docs" / "sample-plans.csv"
    try:
        assert cli.main(["import", "plans", str(sample), "--dry-run"]) == 0
        assert capsys.readouterr().out.strip() == (
            "plans file, 6 rows: 2 new plans, 0 updated, 0 unchanged; 6 instalments; "
            "2 new tenant records (dry run: nothing written)"
        )
        assert cli.main(["import", "plans", str(sample)]) == 0
        assert "2 new plans" in capsys.readouterr().out
        assert cli.main(["import", "payments", str(ROOT / "docs" / "sample-payments.csv")]) == 0
        assert "2 new payments" in capsys.readouterr().out
        bad = tmp_path / "bad.csv"
        bad.write_text("Codice inquilino;Data pagamento;Importo;Riferimento\nZZZ;1/1/2026;5;X\n")
        assert cli.main(["import", "payments", str(bad)]) == 1
        assert "line 2, column 'Codice inquilino': Unknown tenant code: ZZZ." in (
            capsys.readouterr().err
        )
    finally:
        core = Core.create(settings)

        async def clean() -> None:
            await empty_tables(core)
            await core.close()

        asyncio.run(clean())


async def test_an_import_refreshes_the_planner_statistics_on_postgresql(core: Core):
    """So the reminder sweep's plan fits the tables' new size at once (see benchmarks/)."""
    if core.db.engine.dialect.name != "postgresql":
        pytest.skip("planner statistics are PostgreSQL's")

    async def analysed() -> int:
        async with core.db.session() as session:
            return await session.scalar(
                text("SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'instalments'")
            )

    before = await analysed()
    await plan_import.run(core, "piani.csv", SAMPLE)  # a dry run changes nothing
    assert await analysed() == before
    assert (await plan_import.run(core, "piani.csv", SAMPLE, apply=True)).applied
    assert await analysed() == before + 1
