"""Factories and readers shared by the event tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy import select

from bot.core import Core
from bot.fakeapi import FakeBotAPI, FakeUser
from bot.i18n import Translator
from bot.models import Delivery, Event, EventKind, Invitation, Role
from bot.services import event_drafts, events, residents
from tests.support import Harness, linked, seen

INVITED = "🎉 You are invited!"
ASSEMBLY_INVITED = "🏛 You are invited to a tenant assembly."


async def operator(core: Core, fake: FakeBotAPI, user_id: int = 9001) -> FakeUser:
    user = await linked(core, fake, user_id, "it", name="Giulia Operatrice", building="Z")
    await residents.set_role(core, user_id, Role.OPERATOR)
    return user


async def published(
    core: Core,
    start: datetime,
    *,
    title: str = "Festa del cortile",
    kind: EventKind = EventKind.SOCIAL,
    capacity: int | None = None,
    pin: tuple[float, float] | None = None,
    audience: str = "role:resident",
    author_telegram_id: int = 9001,
) -> Event:
    """An event published by the operator (created by `operator` first)."""
    author = await residents.find(core, author_telegram_id)
    assert author is not None
    draft = await event_drafts.new_draft(core, author.id, kind)
    await event_drafts.set_title(core, draft.id, title)
    await event_drafts.set_description(core, draft.id, "Musica e cibo da tutto il mondo")
    await event_drafts.set_start(core, draft.id, start)
    await event_drafts.set_place(core, draft.id, "Cortile scala B")
    await event_drafts.set_capacity(core, draft.id, capacity)
    if pin:
        await event_drafts.set_pin(core, draft.id, *pin)
    if kind == EventKind.ASSEMBLY:
        await event_drafts.set_agenda(core, draft.id, "Pulizie\nParcheggio")
    await event_drafts.set_audience(core, draft.id, audience)
    await event_drafts.publish(core, draft.id, author.id)
    found = await events.get(core, draft.id)
    assert found is not None
    return found


def texts(user: FakeUser) -> list[str]:
    return [m.text or "" for m in user.messages]


def starting(user: FakeUser, t: Translator, msgid: str, **params: object) -> list[str]:
    """The bot's messages to this user that begin with this (translated) text."""
    head = seen(t, msgid, **params)
    return [text for text in texts(user) if text.startswith(head)]


def invitations(user: FakeUser, t: Translator, kind: EventKind = EventKind.SOCIAL) -> list[str]:
    return starting(user, t, INVITED if kind == EventKind.SOCIAL else ASSEMBLY_INVITED)


async def invitation(core: Core, event_id: int, telegram_id: int) -> Invitation:
    resident = await residents.find(core, telegram_id)
    assert resident is not None
    async with core.db.session() as session:
        found = await session.scalar(
            select(Invitation).where(
                Invitation.event_id == event_id, Invitation.resident_id == resident.id
            )
        )
        assert found is not None
        return found


async def kinds(core: Core) -> list[tuple[str, str]]:
    """(kind, status) of every outbox row, in order."""
    async with core.db.session() as session:
        rows = await session.execute(select(Delivery.kind, Delivery.status).order_by(Delivery.id))
        return [(kind, status.value) for kind, status in rows]


@pytest.fixture(autouse=True)
def brisk_pacing(harness: Harness) -> Iterator[None]:
    """One message per second per chat is the delivery path's rule (tested there); these
    tests send a resident several notices in a row and need not wait a second for each.
    Afterwards: every button press was answered (no client left spinning)."""
    harness.app.sender.limiter.per_chat = 0.02
    yield
    assert harness.fake.unanswered_callback_queries == []
