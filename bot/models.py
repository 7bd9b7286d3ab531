"""The tables. Every instant is an aware UTC datetime (see db.UTCDateTime)."""

from __future__ import annotations

import enum
import json
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.db import Base, UTCDateTime


class Role(enum.StrEnum):
    RESIDENT = "resident"
    OPERATOR = "operator"
    ADMIN = "admin"


def _enum(cls: type[enum.Enum]) -> Enum:
    # Stored as plain strings: no native PostgreSQL enum to migrate when a value is added.
    return Enum(cls, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


class Resident(Base):
    """A person: a tenant record (from the municipality), a Telegram chat, or both once linked."""

    __tablename__ = "residents"

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_user_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    display_name: Mapped[str | None] = mapped_column(String(200))
    full_name: Mapped[str | None] = mapped_column(String(200))
    locale: Mapped[str | None] = mapped_column(String(16))
    role: Mapped[Role] = mapped_column(_enum(Role), default=Role.RESIDENT)
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_refused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    unreachable: Mapped[bool] = mapped_column(Boolean, default=False)
    tenant_code: Mapped[str | None] = mapped_column(String(32), unique=True)
    building: Mapped[str | None] = mapped_column(String(32))
    stair: Mapped[str | None] = mapped_column(String(16))
    unit: Mapped[str | None] = mapped_column(String(16))
    # Hash of a link code received before consent (deep link); redeemed once consent is given.
    pending_link_hash: Mapped[str | None] = mapped_column(String(64))
    linked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @property
    def is_operator(self) -> bool:
        return self.role in (Role.OPERATOR, Role.ADMIN)

    @property
    def is_linked(self) -> bool:
        return self.tenant_code is not None and self.telegram_user_id is not None

    @property
    def name(self) -> str:
        return self.full_name or self.display_name or ""


class LinkCode(Base):
    """A single-use code that links a chat to a tenant record; only its hash is stored."""

    __tablename__ = "link_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    resident: Mapped[Resident] = relationship(foreign_keys=[resident_id])


class LinkAttempt(Base):
    """A failed code entry, for the lockout after too many wrong codes."""

    __tablename__ = "link_attempts"
    __table_args__ = (Index("ix_link_attempts_chat_at", "chat_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


def conversation_key(*parts: int) -> str:
    """How a PTB conversation key (chat id, user id) is stored."""
    return json.dumps(list(parts))


class ConversationState(Base):
    """Where a chat is in a conversation, so a restart resumes it (see bot/persistence.py)."""

    __tablename__ = "conversation_states"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class BroadcastStatus(enum.StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    DONE = "done"
    CANCELLED = "cancelled"


class Broadcast(Base):
    """A notice written by an operator for an audience, sent now or at `send_at`."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="SET NULL"))
    # "segment" or "segment:option", see bot/services/audiences.py
    audience: Mapped[str] = mapped_column(String(100), default="linked")
    # Locale -> the operator's text (Telegram HTML); the default locale's text is required.
    texts: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    draft_locale: Mapped[str | None] = mapped_column(String(16))  # the version being written
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[BroadcastStatus] = mapped_column(
        _enum(BroadcastStatus), default=BroadcastStatus.DRAFT
    )
    send_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last text of the progress message (a delivery of kind broadcast_progress), so it
    # is edited only when the figures change.
    progress_text: Mapped[str | None] = mapped_column(Text)


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"  # the resident blocked the bot
    EXPIRED = "expired"  # not sent before its expiry
    SKIPPED = "skipped"  # opted out, unreachable or no chat when its turn came


class Delivery(Base):
    """The outbox: one message for one resident, rendered in their language when sent."""

    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_due", "status", "next_attempt_at"),
        Index("ix_deliveries_broadcast_status", "broadcast_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), index=True
    )
    # Unique per message and recipient, so enqueueing twice never sends twice.
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    broadcast_id: Mapped[int | None] = mapped_column(
        ForeignKey("broadcasts.id", ondelete="CASCADE")
    )
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[DeliveryStatus] = mapped_column(
        _enum(DeliveryStatus), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A short reason code (bot/delivery/outbox.py REASONS), never personal data.
    last_error: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message_id: Mapped[int | None] = mapped_column(BigInteger)

    resident: Mapped[Resident] = relationship(foreign_keys=[resident_id])


# -- events and tenant assemblies (issue 6) -------------------------------------------------


class EventKind(enum.StrEnum):
    SOCIAL = "social"
    ASSEMBLY = "assembly"


class EventStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class Event(Base):
    """A social event or a tenant assembly; operators write title and description per locale."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="SET NULL"))
    kind: Mapped[EventKind] = mapped_column(_enum(EventKind), default=EventKind.SOCIAL)
    status: Mapped[EventStatus] = mapped_column(_enum(EventStatus), default=EventStatus.DRAFT)
    # Locale -> the operator's text; the default locale's version is required.
    titles: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    descriptions: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    draft_locale: Mapped[str | None] = mapped_column(String(16))  # the version being written
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_minutes: Mapped[int] = mapped_column(Integer, default=120)
    place: Mapped[str | None] = mapped_column(String(200))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    capacity: Mapped[int | None] = mapped_column(Integer)
    agenda: Mapped[list[str]] = mapped_column(JSON, default=list)
    audience: Mapped[str] = mapped_column(String(100), default="linked")
    # Bumped by every edit residents are told about, so each notice has its own key.
    version: Mapped[int] = mapped_column(Integer, default=1)
    # An operator's edit in progress ("time" or "place"), kept here to survive restarts.
    editing_by: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="SET NULL"))
    editing_field: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Answer(enum.StrEnum):
    YES = "yes"
    MAYBE = "maybe"
    NO = "no"


class Invitation(Base):
    """One resident invited to one event, with their answer and whether they came."""

    __tablename__ = "invitations"
    __table_args__ = (UniqueConstraint("event_id", "resident_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), index=True
    )
    answer: Mapped[Answer | None] = mapped_column(_enum(Answer))
    # A Yes beyond capacity waits here (first come, first served) until a place frees up.
    waiting: Mapped[bool] = mapped_column(Boolean, default=False)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attended: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    resident: Mapped[Resident] = relationship(foreign_keys=[resident_id])


class ProposalStatus(enum.StrEnum):
    DRAFT = "draft"  # written, not yet confirmed by the resident
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"


class Proposal(Base):
    """A topic a resident proposes for an assembly's agenda; operators approve or decline."""

    __tablename__ = "event_proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    text: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[ProposalStatus] = mapped_column(
        _enum(ProposalStatus), default=ProposalStatus.DRAFT
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
