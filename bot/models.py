"""The tables. Every instant is an aware UTC datetime (see db.UTCDateTime)."""

from __future__ import annotations

import enum
import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
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


# -- job training (bot/services/training.py) ---------------------------------------------------


class CourseStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"  # no sign-ups, not listed for residents; can be reopened


class Course(Base):
    """A job-training or job-search course run by the training agency."""

    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    provider: Mapped[str] = mapped_column(String(120), default="")
    place: Mapped[str] = mapped_column(String(200), default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the first session
    schedule: Mapped[str] = mapped_column(String(200), default="")  # "Mon and Wed 9-12"
    capacity: Mapped[int] = mapped_column(Integer)
    allow_unlinked: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[CourseStatus] = mapped_column(_enum(CourseStatus), default=CourseStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Written first in every transaction that counts places: it takes the row lock on
    # PostgreSQL and the write lock on SQLite before anything is counted.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EnrollmentStatus(enum.StrEnum):
    ENROLLED = "enrolled"
    WAITING = "waiting"
    OFFERED = "offered"  # a free place is held for them until offer_expires_at
    COMPLETED = "completed"
    DROPPED = "dropped"  # removed by an operator
    WITHDRAWN = "withdrawn"  # by the resident
    DECLINED = "declined"  # said no to an offered place
    EXPIRED = "expired"  # did not answer an offer in time
    MOVED = "moved"  # moved to another course by an operator


class Enrollment(Base):
    """One resident's sign-up for one course, with what they told us in the intake."""

    __tablename__ = "enrollments"
    __table_args__ = (
        Index("ix_enrollments_course_status", "course_id", "status"),
        # One row per course and person: signing up again reuses it.
        Index("uq_enrollments_course_resident", "course_id", "resident_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[EnrollmentStatus] = mapped_column(_enum(EnrollmentStatus))
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(20))
    availability: Mapped[str] = mapped_column(String(40))  # "morning,evening"
    schooling: Mapped[str] = mapped_column(String(16))
    work: Mapped[str] = mapped_column(String(16))
    work_note: Mapped[str] = mapped_column(String(300), default="")
    signed_up_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the waiting-list order
    enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    course: Mapped[Course] = relationship()
    resident: Mapped[Resident] = relationship(foreign_keys=[resident_id])


class EnrollmentEvent(Base):
    """What happened to a sign-up (offered, declined, expired...), for operators to read."""

    __tablename__ = "enrollment_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(
        ForeignKey("enrollments.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(String(16))  # an EnrollmentStatus value, or "signed_up"
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class TrainingDraft(Base):
    """An unfinished conversation's answers (a sign-up, or an operator's course form), so a
    restart resumes it. One per person and kind."""

    __tablename__ = "training_drafts"

    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # "signup" or "course"
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    step: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    editing: Mapped[bool] = mapped_column(Boolean, default=False)  # back to the summary after
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


# -- repayment plans (piani di rientro) -------------------------------------------------------


class PlanStatus(enum.StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    DEFAULTED = "defaulted"
    CANCELLED = "cancelled"


class RepaymentPlan(Base):
    """Arrears split into instalments, signed with the municipality. Money in euro cents."""

    __tablename__ = "repayment_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), index=True
    )
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    signed_on: Mapped[date] = mapped_column(Date)
    total_cents: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[PlanStatus] = mapped_column(_enum(PlanStatus), default=PlanStatus.ACTIVE)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    resident: Mapped[Resident] = relationship(foreign_keys=[resident_id])
    instalments: Mapped[list[Instalment]] = relationship(
        back_populates="plan", order_by="Instalment.number", cascade="all, delete-orphan"
    )


class Instalment(Base):
    """One due date of a plan. `paid_cents` is derived from the plan's payments (oldest first)."""

    __tablename__ = "instalments"
    __table_args__ = (
        UniqueConstraint("plan_id", "number"),
        Index("ix_instalments_due_on", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("repayment_plans.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[date] = mapped_column(Date)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    paid_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    paid_on: Mapped[date | None] = mapped_column(Date)  # when it was fully paid

    plan: Mapped[RepaymentPlan] = relationship(back_populates="instalments")

    @property
    def left_cents(self) -> int:
        return self.amount_cents - self.paid_cents


class Payment(Base):
    """Money received for a plan, from an operator in chat or from the municipality's file."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("repayment_plans.id", ondelete="CASCADE"), index=True
    )
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    paid_on: Mapped[date] = mapped_column(Date)
    # The municipality's reference of an imported payment, so a re-import adds nothing twice.
    reference: Mapped[str | None] = mapped_column(String(64), unique=True)
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("residents.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AlertKind(enum.StrEnum):
    ESCALATION = "escalation"  # an instalment is long overdue: someone should call
    HELP = "help"  # the resident pressed "I cannot pay / call me"


class PlanAlert(Base):
    """Something an operator should act on; every operator is told, one marks it handled."""

    __tablename__ = "plan_alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[AlertKind] = mapped_column(_enum(AlertKind))
    # One escalation per instalment ("esc:<instalment id>"); NULL for help requests.
    key: Mapped[str | None] = mapped_column(String(64), unique=True)
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), index=True
    )
    plan_id: Mapped[int | None] = mapped_column(
        ForeignKey("repayment_plans.id", ondelete="CASCADE")
    )
    instalment_id: Mapped[int | None] = mapped_column(
        ForeignKey("instalments.id", ondelete="CASCADE")
    )
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handled_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("residents.id", ondelete="SET NULL")
    )


class PendingImport(Base):
    """A file an operator sent, kept between the preview and the confirmation."""

    __tablename__ = "pending_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(200))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


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
