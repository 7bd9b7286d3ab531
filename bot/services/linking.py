"""Link codes: an operator issues one for a tenant record; the resident's chat redeems it.

Codes are 8 characters from an alphabet without look-alikes (0/O, 1/I/L), stored only as a
hash, valid for a limited time and once. Five wrong codes in an hour lock the chat for an hour.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import Core
from bot.db import Base
from bot.models import LinkAttempt, LinkCode, Resident, Role
from bot.services import DomainError, training
from bot.services.residents import normalize_tenant_code

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
MAX_FAILURES = 5
LOCKOUT = timedelta(hours=1)


class UnknownTenant(DomainError):
    pass


class Outcome(enum.StrEnum):
    LINKED = "linked"
    ALREADY_LINKED = "already_linked"
    OTHER_RECORD = "other_record"  # this chat is linked to a different tenant record
    MALFORMED = "malformed"  # not shaped like a code: a hint, not a failed attempt
    WRONG = "wrong"
    USED = "used"
    EXPIRED = "expired"
    LOCKED = "locked"


@dataclass(frozen=True)
class LinkResult:
    outcome: Outcome
    resident: Resident | None = None
    locked_until: datetime | None = None
    attempts_left: int | None = None


@dataclass(frozen=True)
class IssuedCode:
    code: str
    expires_at: datetime
    resident: Resident

    @property
    def display(self) -> str:
        return f"{self.code[:4]}-{self.code[4:]}"


def normalize(text: str) -> str | None:
    """A typed code in canonical form, or None if it cannot be one (spaces and dashes ignored)."""
    code = "".join(ch for ch in text.upper() if ch.isalnum())
    if len(code) != CODE_LENGTH or any(ch not in ALPHABET for ch in code):
        return None
    return code


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


async def issue(core: Core, tenant_code: str) -> IssuedCode:
    """A new code for a tenant record; earlier unused codes of that record stop working."""
    now = core.clock.now()
    async with core.db.session.begin() as session:
        resident = await session.scalar(
            select(Resident).where(Resident.tenant_code == normalize_tenant_code(tenant_code))
        )
        if resident is None:
            raise UnknownTenant(tenant_code)
        await session.execute(
            update(LinkCode)
            .where(LinkCode.resident_id == resident.id, LinkCode.used_at.is_(None))
            .where(LinkCode.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        session.add(
            LinkCode(
                resident_id=resident.id,
                code_hash=code_hash(code),
                created_at=now,
                expires_at=now + core.settings.link_code_ttl,
            )
        )
        return IssuedCode(code, now + core.settings.link_code_ttl, resident)


async def hold_for_consent(core: Core, resident_id: int, text: str) -> bool:
    """Keep a code that came with a deep link until the resident has consented."""
    code = normalize(text)
    if code is None:
        return False
    async with core.db.session.begin() as session:
        await session.execute(
            update(Resident)
            .where(Resident.id == resident_id)
            .values(pending_link_hash=code_hash(code))
        )
    return True


async def redeem_held(core: Core, resident_id: int, chat_id: int) -> LinkResult | None:
    async with core.db.session() as session:
        held = await session.scalar(
            select(Resident.pending_link_hash).where(Resident.id == resident_id)
        )
    if held is None:
        return None
    return await _redeem_hash(core, resident_id, chat_id, held)


async def redeem(core: Core, resident_id: int, chat_id: int, text: str) -> LinkResult:
    code = normalize(text)
    if code is None:
        return LinkResult(Outcome.MALFORMED)
    return await _redeem_hash(core, resident_id, chat_id, code_hash(code))


async def _redeem_hash(core: Core, resident_id: int, chat_id: int, hashed: str) -> LinkResult:
    now = core.clock.now()
    async with core.db.session.begin() as session:
        locked_until = await _locked_until(session, chat_id, now)
        if locked_until is not None:
            return LinkResult(Outcome.LOCKED, locked_until=locked_until)
        chat = await session.get(Resident, resident_id)
        assert chat is not None
        chat.pending_link_hash = None
        link = await session.scalar(
            select(LinkCode).where(LinkCode.code_hash == hashed).with_for_update()
        )
        if link is None or link.revoked_at is not None:
            return await _failed(session, chat_id, now)
        record = await session.get(Resident, link.resident_id)
        assert record is not None
        if record.telegram_user_id == chat.telegram_user_id:
            return LinkResult(Outcome.ALREADY_LINKED, resident=record)
        if link.used_at is not None:
            return LinkResult(Outcome.USED)
        if link.expires_at <= now:
            return LinkResult(Outcome.EXPIRED)
        if chat.tenant_code is not None:
            return LinkResult(Outcome.OTHER_RECORD, resident=chat)
        await training.before_merge(core, session, chat.id, record.id)
        await _merge_chat_into_record(session, chat, record)
        link.used_at = now
        record.linked_at = now
        return LinkResult(Outcome.LINKED, resident=record)


async def _locked_until(session: AsyncSession, chat_id: int, now: datetime) -> datetime | None:
    recent = list(
        await session.scalars(
            select(LinkAttempt.at)
            .where(LinkAttempt.chat_id == chat_id, LinkAttempt.at > now - LOCKOUT)
            .order_by(LinkAttempt.at.desc())
            .limit(MAX_FAILURES)
        )
    )
    if len(recent) < MAX_FAILURES:
        return None
    # Unlocked once the oldest of the last five failures is an hour old.
    return recent[-1] + LOCKOUT


async def _failed(session: AsyncSession, chat_id: int, now: datetime) -> LinkResult:
    session.add(LinkAttempt(chat_id=chat_id, at=now))
    await session.flush()
    locked_until = await _locked_until(session, chat_id, now)
    if locked_until is not None:
        return LinkResult(Outcome.LOCKED, locked_until=locked_until)
    failures = await session.scalar(
        select(func.count())
        .select_from(LinkAttempt)
        .where(LinkAttempt.chat_id == chat_id, LinkAttempt.at > now - LOCKOUT)
    )
    return LinkResult(Outcome.WRONG, attempts_left=MAX_FAILURES - (failures or 0))


async def _merge_chat_into_record(session: AsyncSession, chat: Resident, record: Resident) -> None:
    """The chat's row folds into the tenant record; whatever pointed at it now points at the record.

    A record that was linked to another phone before is moved to this chat (a new phone).
    """
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name == Resident.__tablename__:
                await session.execute(
                    update(table).where(fk.parent == chat.id).values({fk.parent.name: record.id})
                )
    identity = {
        "telegram_user_id": chat.telegram_user_id,
        "chat_id": chat.chat_id,
        "display_name": chat.display_name,
        "locale": chat.locale,
        "consent_at": chat.consent_at,
        "role": max(chat.role, record.role, key=list(Role).index),
    }
    await session.delete(chat)
    await session.flush()  # the Telegram id is unique: free it before the record takes it
    for attribute, value in identity.items():
        setattr(record, attribute, value)


async def purge(core: Core) -> None:
    """Housekeeping: forget old failures and long-dead codes."""
    now = core.clock.now()
    async with core.db.session.begin() as session:
        await session.execute(delete(LinkAttempt).where(LinkAttempt.at < now - timedelta(days=1)))
        await session.execute(
            delete(LinkCode).where(LinkCode.expires_at < now - timedelta(days=30))
        )
