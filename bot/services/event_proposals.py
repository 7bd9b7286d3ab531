"""Agenda proposals for tenant assemblies: a resident writes a short topic and confirms it;
operators are told (through the delivery path) and approve or decline; an approved topic is
added to the agenda residents see, and the proposer is told either way."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import Core
from bot.delivery import outbox
from bot.models import EventKind, Proposal, ProposalStatus, Resident, Role
from bot.services import DomainError, audiences
from bot.services.event_rsvp import open_invitation
from bot.services.events import MAX_AGENDA_ITEM, lock, open_event, text
from bot.services.residents import authorise

PROPOSED, DECIDED = "event_proposal", "event_proposal_decided"
MAX_PROPOSAL = MAX_AGENDA_ITEM  # it becomes an agenda item as written


class NotAnAssembly(DomainError):
    pass


class NoDraft(DomainError):
    """Nothing being written (confirmed already, or dropped)."""


class AlreadyDecided(DomainError):
    pass


async def start(core: Core, event_id: int, resident_id: int) -> Proposal:
    """Begin a proposal for an assembly the resident is invited to and that has not started."""
    async with core.db.session.begin() as session:
        event, _ = await open_invitation(session, event_id, resident_id, core.clock.now())
        if event.kind != EventKind.ASSEMBLY:
            raise NotAnAssembly(str(event_id))
        await _drop(session, resident_id)
        proposal = Proposal(event_id=event_id, resident_id=resident_id, created_at=core.clock.now())
        session.add(proposal)
        return proposal


async def write(core: Core, resident_id: int, written: str) -> Proposal:
    value = text(" ".join(written.split()), MAX_PROPOSAL)
    async with core.db.session.begin() as session:
        proposal = await _draft(session, resident_id)
        proposal.text = value
        return proposal


async def confirm(core: Core, resident_id: int) -> Proposal:
    """Send it to the operators; the event must still be open to proposals."""
    now = core.clock.now()
    async with core.db.session.begin() as session:
        proposal = await _draft(session, resident_id)
        if proposal.text is None:
            raise NoDraft(str(resident_id))
        await open_invitation(session, proposal.event_id, resident_id, now)
        proposal.status, proposal.created_at = ProposalStatus.PENDING, now
        await session.flush()
        await outbox.enqueue_select(
            session,
            select(Resident.id).where(
                audiences.has_chat(), Resident.role.in_([Role.OPERATOR, Role.ADMIN])
            ),
            kind=PROPOSED,
            key_prefix=f"{PROPOSED}:{proposal.id}:",
            now=now,
            params={"proposal": proposal.id},
        )
        return proposal


async def drop(core: Core, resident_id: int) -> None:
    async with core.db.session.begin() as session:
        await _drop(session, resident_id)


async def _drop(session: AsyncSession, resident_id: int) -> None:
    await session.execute(
        delete(Proposal).where(
            Proposal.resident_id == resident_id, Proposal.status == ProposalStatus.DRAFT
        )
    )


async def _draft(session: AsyncSession, resident_id: int) -> Proposal:
    proposal = await session.scalar(
        select(Proposal)
        .where(Proposal.resident_id == resident_id, Proposal.status == ProposalStatus.DRAFT)
        .order_by(Proposal.id.desc())
        .limit(1)
    )
    if proposal is None:
        raise NoDraft(str(resident_id))
    return proposal


async def decide(core: Core, proposal_id: int, approve: bool, operator_id: int) -> Proposal:
    """An operator's decision; an approved topic joins the agenda. Decided once only."""
    now = core.clock.now()
    async with core.db.session.begin() as session:
        await authorise(session, operator_id)
        await lock(session, Proposal.status, proposal_id)
        proposal = await session.get(Proposal, proposal_id, populate_existing=True)
        if proposal is None or proposal.status != ProposalStatus.PENDING:
            raise AlreadyDecided(str(proposal_id))
        # cancelled or begun: too late for its agenda, and for telling the proposer
        event = await open_event(session, proposal.event_id, now)
        proposal.status = ProposalStatus.APPROVED if approve else ProposalStatus.DECLINED
        proposal.decided_at = now
        if approve:
            assert proposal.text is not None
            event.agenda = [*event.agenda, proposal.text]
        await outbox.enqueue(
            session,
            resident_id=proposal.resident_id,
            kind=DECIDED,
            key=f"{DECIDED}:{proposal.id}",
            now=now,
            params={"proposal": proposal.id},
        )
        return proposal


async def pending(core: Core, event_id: int) -> list[Proposal]:
    async with core.db.session() as session:
        rows = await session.scalars(
            select(Proposal)
            .where(Proposal.event_id == event_id, Proposal.status == ProposalStatus.PENDING)
            .order_by(Proposal.id)
        )
        return list(rows)
