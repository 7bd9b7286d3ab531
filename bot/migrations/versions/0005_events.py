"""Events and tenant assemblies: events, invitations (RSVP, attendance), agenda proposals.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.db import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=16)


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("kind", _enum("eventkind", "social", "assembly"), nullable=False),
        sa.Column(
            "status", _enum("eventstatus", "draft", "published", "cancelled"), nullable=False
        ),
        sa.Column("titles", sa.JSON(), nullable=False),
        sa.Column("descriptions", sa.JSON(), nullable=False),
        sa.Column("draft_locale", sa.String(length=16), nullable=True),
        sa.Column("starts_at", UTCDateTime(), nullable=True),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("agenda", sa.JSON(), nullable=False),
        sa.Column("audience", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("editing_by", sa.Integer(), nullable=True),
        sa.Column("editing_field", sa.String(length=16), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=True),
        sa.Column("cancelled_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["residents.id"],
            name=op.f("fk_events_author_id_residents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["editing_by"],
            ["residents.id"],
            name=op.f("fk_events_editing_by_residents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_table(
        "invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("answer", _enum("answer", "yes", "maybe", "no"), nullable=True),
        sa.Column("waiting", sa.Boolean(), nullable=False),
        sa.Column("answered_at", UTCDateTime(), nullable=True),
        sa.Column("attended", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_invitations_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["residents.id"],
            name=op.f("fk_invitations_resident_id_residents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("event_id", "resident_id", name=op.f("uq_invitations_event_id")),
    )
    op.create_index(op.f("ix_invitations_event_id"), "invitations", ["event_id"], unique=False)
    op.create_index(
        op.f("ix_invitations_resident_id"), "invitations", ["resident_id"], unique=False
    )
    op.create_table(
        "event_proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=300), nullable=True),
        sa.Column(
            "status",
            _enum("proposalstatus", "draft", "pending", "approved", "declined"),
            nullable=False,
        ),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_proposals_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["residents.id"],
            name=op.f("fk_event_proposals_resident_id_residents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_proposals")),
    )
    op.create_index(
        op.f("ix_event_proposals_event_id"), "event_proposals", ["event_id"], unique=False
    )


def downgrade() -> None:
    op.drop_table("event_proposals")
    op.drop_table("invitations")
    op.drop_table("events")
