"""Delivery path: the outbox and operator broadcasts.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.db import UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BROADCAST_STATUS = ("draft", "scheduled", "sending", "done", "cancelled")
DELIVERY_STATUS = ("pending", "sending", "sent", "failed", "blocked", "expired", "skipped")


def upgrade() -> None:
    op.create_table(
        "broadcasts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("audience", sa.String(length=100), nullable=False),
        sa.Column("texts", sa.JSON(), nullable=False),
        sa.Column("draft_locale", sa.String(length=16), nullable=True),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(*BROADCAST_STATUS, name="broadcaststatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("send_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("progress_text", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["residents.id"],
            name=op.f("fk_broadcasts_author_id_residents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broadcasts")),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=160), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("broadcast_id", sa.Integer(), nullable=True),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(*DELIVERY_STATUS, name="deliverystatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("claimed_at", UTCDateTime(), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["broadcast_id"],
            ["broadcasts.id"],
            name=op.f("fk_deliveries_broadcast_id_broadcasts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["residents.id"],
            name=op.f("fk_deliveries_resident_id_residents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_deliveries_dedupe_key")),
    )
    op.create_index(
        "ix_deliveries_broadcast_status", "deliveries", ["broadcast_id", "status"], unique=False
    )
    op.create_index("ix_deliveries_due", "deliveries", ["status", "next_attempt_at"], unique=False)
    op.create_index(op.f("ix_deliveries_resident_id"), "deliveries", ["resident_id"], unique=False)


def downgrade() -> None:
    op.drop_table("deliveries")
    op.drop_table("broadcasts")
