"""Publishing, answers and the audience segments against the real database: one statement per
audience, capacity never exceeded under concurrent answers, the sweep idempotent."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.core import Core
from bot.models import Answer, Delivery, Invitation, Resident, Role
from bot.services import (
    audiences,
    event_drafts,
    event_notices,
    event_proposals,
    event_rsvp,
    events,
    residents,
)
from tests.conftest import ROME

START = datetime(2026, 11, 27, 18, 0, tzinfo=ROME)


async def people(core: Core, n: int) -> list[int]:
    now = core.clock.now()
    async with core.db.session.begin() as session:
        rows = [
            Resident(
                telegram_user_id=10_000 + i,
                chat_id=10_000 + i,
                locale=("it", "ar", "zh", "uk")[i % 4],
                consent_at=now,
                tenant_code=f"T{i}",
                created_at=now,
                role=Role.OPERATOR if i == 0 else Role.RESIDENT,
            )
            for i in range(n)
        ]
        session.add_all(rows)
    return [r.id for r in rows]


async def event(core: Core, author: int, capacity: int | None = None, audience: str = "linked"):
    draft = await event_drafts.new_draft(core, author, event_notices.EventKind.SOCIAL)
    await event_drafts.set_title(core, draft.id, "Festa")
    await event_drafts.set_start(core, draft.id, START)
    await event_drafts.set_place(core, draft.id, "Cortile")
    await event_drafts.set_capacity(core, draft.id, capacity)
    await event_drafts.set_audience(core, draft.id, audience)
    return draft


async def count(core: Core, *where) -> int:
    async with core.db.session() as session:
        return await session.scalar(select(func.count()).select_from(where[0]).where(*where[1:]))


async def test_publishing_invites_the_whole_audience_in_one_go(core: Core):
    ids = await people(core, 400)
    draft = await event(core, ids[0])
    began = time.perf_counter()
    assert await event_drafts.publish(core, draft.id, ids[0]) == 400
    elapsed = time.perf_counter() - began
    assert await count(core, Invitation, Invitation.event_id == draft.id) == 400
    assert await count(core, Delivery, Delivery.kind == events.INVITATION) == 400
    assert elapsed < 2.0, elapsed  # two INSERT ... SELECT statements, not 800 round trips
    with pytest.raises(events.NotADraft):
        await event_drafts.publish(core, draft.id, ids[0])  # a second press invites nobody twice
    assert await count(core, Delivery, Delivery.kind == events.INVITATION) == 400


async def test_the_audience_segments_follow_the_answers(core: Core):
    ids = await people(core, 6)
    draft = await event(core, ids[0])
    await event_drafts.publish(core, draft.id, ids[0])
    await event_rsvp.answer(core, draft.id, ids[1], Answer.YES)
    await event_rsvp.answer(core, draft.id, ids[2], Answer.MAYBE)
    await event_rsvp.answer(core, draft.id, ids[3], Answer.NO)
    async with core.db.session() as session:
        coming = set(await session.scalars(audiences.members(core, f"event_coming:{draft.id}")))
        silent = set(await session.scalars(audiences.members(core, f"event_unanswered:{draft.id}")))
        forged = set(await session.scalars(audiences.members(core, "event_coming:x")))
    assert coming == {ids[1], ids[2]}
    assert silent == {ids[0], ids[4], ids[5]}
    assert forged == set()


async def test_concurrent_yes_answers_never_overfill_an_event(core: Core):
    ids = await people(core, 12)
    draft = await event(core, ids[0], capacity=3)
    await event_drafts.publish(core, draft.id, ids[0])
    results = await asyncio.gather(
        *(event_rsvp.answer(core, draft.id, rid, Answer.YES) for rid in ids[1:])
    )
    assert sum(not r.waiting for r in results) == 3
    placed = await count(
        core,
        Invitation,
        Invitation.event_id == draft.id,
        Invitation.answer == Answer.YES,
        Invitation.waiting.is_(False),
    )
    assert placed == 3
    first_placed = next(r for r in results if not r.waiting)
    await event_rsvp.answer(core, draft.id, first_placed.resident_id, Answer.NO)
    assert await count(core, Delivery, Delivery.kind == event_rsvp.PROMOTED) == 1
    assert (
        await count(
            core,
            Invitation,
            Invitation.event_id == draft.id,
            Invitation.answer == Answer.YES,
            Invitation.waiting.is_(False),
        )
        == 3
    )


async def test_the_reminder_sweep_adds_each_reminder_once(core: Core, clock):
    ids = await people(core, 5)
    draft = await event(core, ids[0])
    await event_drafts.publish(core, draft.id, ids[0])
    for rid in ids[1:4]:
        await event_rsvp.answer(core, draft.id, rid, Answer.YES)
    clock.set(START - timedelta(hours=20))  # after 18:00 the day before
    assert await event_rsvp.plan_reminders(core) == 3
    assert await event_rsvp.plan_reminders(core) == 0
    clock.set(START - timedelta(hours=1))
    assert await event_rsvp.plan_reminders(core) == 3
    assert await event_rsvp.plan_reminders(core) == 0
    await event_rsvp.answer(core, draft.id, ids[4], Answer.YES)  # late: just read it all
    assert await event_rsvp.plan_reminders(core) == 0
    clock.set(START + timedelta(minutes=1))
    assert await event_rsvp.plan_reminders(core) == 0  # started: nothing more


async def test_an_operator_edits_one_event_at_a_time(core: Core):
    ids = await people(core, 2)
    first = await event(core, ids[0])
    await event_drafts.publish(core, first.id, ids[0])  # a new draft drops an unpublished one
    second = await event(core, ids[0])
    await event_drafts.publish(core, second.id, ids[0])
    await events.begin_edit(core, second.id, ids[0], "place")
    await events.begin_edit(core, first.id, ids[0], "time")  # the first edit was abandoned
    editing = await events.editing(core, ids[0])
    assert editing is not None and (editing.id, editing.editing_field) == (first.id, "time")
    await events.stop_editing(core, ids[0])
    assert await events.editing(core, ids[0]) is None


async def test_operator_services_refuse_anyone_but_an_operator(core: Core, clock):
    """The handlers check the role, and so do the services: callback data is forgeable, a
    role can be taken away between two presses, and a new entry point may forget the door."""
    ids = await people(core, 3)
    operator, resident = ids[0], ids[1]
    draft = await event(core, operator)
    with pytest.raises(residents.NotAllowed):
        await event_drafts.publish(core, draft.id, resident)
    await event_drafts.publish(core, draft.id, operator)
    await event_rsvp.answer(core, draft.id, resident, Answer.YES)
    refused = [
        events.cancel(core, draft.id, resident),
        events.move(core, draft.id, START + timedelta(days=1), resident),
        events.change_place(core, draft.id, "Altrove", resident),
        events.begin_edit(core, draft.id, resident, "place"),
        events.detail(core, draft.id, resident),
        event_drafts.new_draft(core, resident, event_notices.EventKind.SOCIAL),
    ]
    for call in refused:
        with pytest.raises(residents.NotAllowed):
            await call
    clock.set(START + timedelta(minutes=5))  # started: attendance is open
    with pytest.raises(residents.NotAllowed):
        await events.attendance(core, draft.id, resident)
    with pytest.raises(residents.NotAllowed):
        await events.toggle_attendance(core, draft.id, resident, resident)
    found = await events.get(core, draft.id)
    assert found is not None and found.status.value == "published" and found.place == "Cortile"
    assert not (await events.attendance(core, draft.id, operator)).figures.attended

    assembly = await event_drafts.new_draft(core, operator, event_notices.EventKind.ASSEMBLY)
    await event_drafts.set_title(core, assembly.id, "Assemblea")
    await event_drafts.set_start(core, assembly.id, START + timedelta(days=2))
    await event_drafts.set_place(core, assembly.id, "Sala")
    await event_drafts.set_audience(core, assembly.id, "linked")
    await event_drafts.publish(core, assembly.id, operator)
    proposal = await event_proposals.start(core, assembly.id, resident)
    await event_proposals.write(core, resident, "Le luci")
    await event_proposals.confirm(core, resident)
    with pytest.raises(residents.NotAllowed):
        await event_proposals.decide(core, proposal.id, True, resident)
    decided = await event_proposals.decide(core, proposal.id, True, operator)
    assert decided.status.value == "approved"
