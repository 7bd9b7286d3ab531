"""Repayment plans: plans, instalments, payments, operator alerts, files awaiting confirmation.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.db import UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PLAN_STATUS = ("active", "completed", "defaulted", "cancelled")
ALERT_KIND = ("escalation", "help")


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    op.create_table(
        "repayment_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(*PLAN_STATUS, name="planstatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        _fk("repayment_plans", "resident_id", "residents", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repayment_plans")),
        sa.UniqueConstraint("reference", name=op.f("uq_repayment_plans_reference")),
    )
    op.create_index(
        op.f("ix_repayment_plans_resident_id"), "repayment_plans", ["resident_id"], unique=False
    )
    op.create_table(
        "instalments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("paid_cents", sa.BigInteger(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=True),
        _fk("instalments", "plan_id", "repayment_plans", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instalments")),
        sa.UniqueConstraint("plan_id", "number", name=op.f("uq_instalments_plan_id")),
    )
    op.create_index("ix_instalments_due_on", "instalments", ["due_on"], unique=False)
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _fk("payments", "plan_id", "repayment_plans", "CASCADE"),
        _fk("payments", "recorded_by_id", "residents", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("reference", name=op.f("uq_payments_reference")),
    )
    op.create_index(op.f("ix_payments_plan_id"), "payments", ["plan_id"], unique=False)
    op.create_table(
        "plan_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(*ALERT_KIND, name="alertkind", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("key", sa.String(length=64), nullable=True),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.Column("instalment_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("handled_at", UTCDateTime(), nullable=True),
        sa.Column("handled_by_id", sa.Integer(), nullable=True),
        _fk("plan_alerts", "resident_id", "residents", "CASCADE"),
        _fk("plan_alerts", "plan_id", "repayment_plans", "CASCADE"),
        _fk("plan_alerts", "instalment_id", "instalments", "CASCADE"),
        _fk("plan_alerts", "handled_by_id", "residents", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_alerts")),
        sa.UniqueConstraint("key", name=op.f("uq_plan_alerts_key")),
    )
    op.create_index(
        op.f("ix_plan_alerts_resident_id"), "plan_alerts", ["resident_id"], unique=False
    )
    op.create_table(
        "pending_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _fk("pending_imports", "operator_id", "residents", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_imports")),
    )


def downgrade() -> None:
    op.drop_table("pending_imports")
    op.drop_table("plan_alerts")
    op.drop_table("payments")
    op.drop_table("instalments")
    op.drop_table("repayment_plans")
