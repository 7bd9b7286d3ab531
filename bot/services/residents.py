"""Residents: first contact, language, consent, roles, tenant records, forgetting."""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import Core
from bot.models import (
    ConversationState,
    Enrollment,
    Event,
    Invitation,
    Resident,
    Role,
    TrainingDraft,
    conversation_key,
)
from bot.services import DomainError


class UnknownLocale(DomainError):
    pass


class DuplicateTenant(DomainError):
    pass


class UnknownResident(DomainError):
    pass


class NotAllowed(DomainError):
    """Not an operator (a forged button, or the role was taken away)."""


async def authorise(session: AsyncSession, operator_id: int) -> None:
    """Every operator action checks the role here, in its own transaction, besides the
    handlers' check at the door: callback data is forgeable, and a role can be taken away."""
    actor = await session.get(Resident, operator_id, populate_existing=True)
    if actor is None or not actor.is_operator:
        raise NotAllowed(str(operator_id))


async def by_telegram_id(session: AsyncSession, telegram_user_id: int) -> Resident | None:
    return await session.scalar(
        select(Resident).where(Resident.telegram_user_id == telegram_user_id)
    )


async def find(core: Core, telegram_user_id: int) -> Resident | None:
    async with core.db.session() as session:
        return await by_telegram_id(session, telegram_user_id)


async def touch(
    core: Core, telegram_user_id: int, chat_id: int, language_tag: str | None
) -> Resident:
    """The resident behind a private chat, created on first contact with a guessed language.

    Before consent only the Telegram id and the language are kept.
    """
    async with core.db.session.begin() as session:
        resident = await by_telegram_id(session, telegram_user_id)
        if resident is None:
            resident = Resident(
                telegram_user_id=telegram_user_id,
                chat_id=chat_id,
                locale=core.catalogs.match(language_tag),
                created_at=core.clock.now(),
            )
            session.add(resident)
        elif resident.chat_id != chat_id:
            resident.chat_id = chat_id
        return resident


async def restart(core: Core, resident_id: int) -> Resident:
    """/start again: the resident wants messages again, and can be reached again."""
    return await _update(core, resident_id, opted_out=False, unreachable=False)


async def opt_out(core: Core, resident_id: int) -> Resident:
    """/stop: no more notices, but the urgent ones the office must send by law."""
    return await _update(core, resident_id, opted_out=True)


async def choose_locale(core: Core, resident_id: int, locale: str) -> Resident:
    if locale not in core.catalogs.locales:
        raise UnknownLocale(locale)
    return await _update(core, resident_id, locale=locale)


async def give_consent(core: Core, resident_id: int, display_name: str | None) -> Resident:
    return await _update(
        core,
        resident_id,
        consent_at=core.clock.now(),
        consent_refused_at=None,
        display_name=(display_name or "")[:200] or None,
    )


async def refuse_consent(core: Core, resident_id: int) -> Resident:
    """Keep only the refusal (and the language, to speak to them if they come back)."""
    return await _update(
        core,
        resident_id,
        consent_at=None,
        consent_refused_at=core.clock.now(),
        display_name=None,
        pending_link_hash=None,
    )


async def forget(core: Core, telegram_user_id: int) -> None:
    """Erase what the chat gave us. A tenant record belongs to the office and stays, unlinked."""
    async with core.db.session.begin() as session:
        resident = await by_telegram_id(session, telegram_user_id)
        if resident is None:
            return
        key = conversation_key(
            telegram_user_id, telegram_user_id
        )  # private chat: chat id = user id
        await session.execute(delete(ConversationState).where(ConversationState.key == key))
        if resident.tenant_code is None and resident.role == Role.RESIDENT:
            await session.delete(resident)
            return
        # Course sign-ups hold what the chat told us (phone, schooling, notes): they go too, and
        # a place they held is offered to the next by the scheduler's sweep.
        for table in (Enrollment, TrainingDraft):
            await session.execute(delete(table).where(table.resident_id == resident.id))
        # So do their answers to events still to come (who came to past ones is the office's).
        coming = select(Event.id).where(Event.starts_at > core.clock.now())
        await session.execute(
            delete(Invitation).where(
                Invitation.resident_id == resident.id, Invitation.event_id.in_(coming)
            )
        )
        for attribute in (
            "telegram_user_id",
            "chat_id",
            "display_name",
            "consent_at",
            "consent_refused_at",
            "pending_link_hash",
            "linked_at",
        ):
            setattr(resident, attribute, None)
        if resident.role != Role.RESIDENT:  # an operator keeps the role, so keeps the id
            resident.telegram_user_id = telegram_user_id


async def add_record(
    core: Core,
    tenant_code: str,
    full_name: str,
    building: str | None = None,
    stair: str | None = None,
    unit: str | None = None,
) -> Resident:
    """A tenant record from the municipality, not yet linked to any chat."""
    tenant_code = normalize_tenant_code(tenant_code)
    async with core.db.session.begin() as session:
        if await session.scalar(select(Resident.id).where(Resident.tenant_code == tenant_code)):
            raise DuplicateTenant(tenant_code)
        resident = Resident(
            tenant_code=tenant_code,
            full_name=full_name.strip()[:200],
            building=building,
            stair=stair,
            unit=unit,
            created_at=core.clock.now(),
        )
        session.add(resident)
        return resident


def normalize_tenant_code(code: str) -> str:
    return code.strip().upper()


async def set_role(core: Core, telegram_user_id: int, role: Role) -> Resident:
    """Make a Telegram user an operator (or back), even before their first message."""
    async with core.db.session.begin() as session:
        resident = await by_telegram_id(session, telegram_user_id)
        if resident is None:
            if role == Role.RESIDENT:
                raise UnknownResident(str(telegram_user_id))
            resident = Resident(
                telegram_user_id=telegram_user_id,
                chat_id=telegram_user_id,
                created_at=core.clock.now(),
            )
            session.add(resident)
        resident.role = role
        return resident


async def operator(core: Core, telegram_user_id: int) -> Resident | None:
    """The operator behind this Telegram user, checked in the database on every call."""
    resident = await find(core, telegram_user_id)
    return resident if resident is not None and resident.is_operator else None


async def operators(core: Core) -> list[Resident]:
    async with core.db.session() as session:
        rows = await session.scalars(
            select(Resident)
            .where(Resident.role.in_([Role.OPERATOR, Role.ADMIN]))
            .order_by(Resident.id)
        )
        return list(rows)


async def _update(core: Core, resident_id: int, **values: object) -> Resident:
    async with core.db.session.begin() as session:
        await session.execute(update(Resident).where(Resident.id == resident_id).values(**values))
        resident = await session.get(Resident, resident_id, populate_existing=True)
        if resident is None:
            raise UnknownResident(str(resident_id))
        return resident
