"""The tables. Every instant is an aware UTC datetime (see db.UTCDateTime)."""

from __future__ import annotations

import enum
import json
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Enum, ForeignKey, Index, String
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
