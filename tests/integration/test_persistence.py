"""Conversation states survive a restart; stale ones are dropped."""

from __future__ import annotations

from datetime import timedelta

from bot.core import Core
from bot.persistence import ConversationPersistence


async def test_states_round_trip_and_end(core: Core):
    store = ConversationPersistence(core)
    await store.update_conversation("onboarding", (42, 42), "onboarding:consent")
    await store.update_conversation("onboarding", (43, 43), "onboarding:code")
    await store.update_conversation("onboarding", (42, 42), "onboarding:code")
    assert await ConversationPersistence(core).get_conversations("onboarding") == {
        (42, 42): "onboarding:code",
        (43, 43): "onboarding:code",
    }
    await store.update_conversation("onboarding", (43, 43), None)
    assert await store.get_conversations("onboarding") == {(42, 42): "onboarding:code"}
    assert await store.get_conversations("other") == {}


async def test_stale_states_are_dropped_on_load(core: Core, clock):
    store = ConversationPersistence(core)
    await store.update_conversation("onboarding", (42, 42), "onboarding:consent")
    clock.advance(core.settings.conversation_ttl - timedelta(minutes=1))
    await store.update_conversation("onboarding", (44, 44), "onboarding:language")
    clock.advance(timedelta(minutes=2))
    assert await store.get_conversations("onboarding") == {(44, 44): "onboarding:language"}
