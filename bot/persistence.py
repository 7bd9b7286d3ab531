"""Conversation states in the database, so a restart resumes every chat where it was.

Only conversation states are stored (one row per conversation and chat); residents, locales
and domain data live in our own tables. States older than the configured time to live are
dropped when loaded: PTB does not persist its own conversation timeouts.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, select
from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import ConversationDict, ConversationKey

from bot.core import Core
from bot.models import ConversationState, conversation_key


class ConversationPersistence(BasePersistence[dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    def __init__(self, core: Core) -> None:
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=False, user_data=False, callback_data=False
            )
        )
        self.core = core

    async def get_conversations(self, name: str) -> ConversationDict:
        stale = self.core.clock.now() - self.core.settings.conversation_ttl
        async with self.core.db.session.begin() as session:
            await session.execute(
                delete(ConversationState).where(
                    ConversationState.name == name, ConversationState.updated_at < stale
                )
            )
            rows = await session.execute(
                select(ConversationState.key, ConversationState.state).where(
                    ConversationState.name == name
                )
            )
            return {tuple(json.loads(key)): state for key, state in rows}

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        stored_key = conversation_key(*(int(part) for part in key))
        async with self.core.db.session.begin() as session:
            if new_state is None:
                await session.execute(
                    delete(ConversationState).where(
                        ConversationState.name == name, ConversationState.key == stored_key
                    )
                )
                return
            await session.merge(
                ConversationState(
                    name=name,
                    key=stored_key,
                    state=str(new_state),
                    updated_at=self.core.clock.now(),
                )
            )

    # Nothing else is persisted through PTB.
    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        return {}

    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        return {}

    async def get_bot_data(self) -> dict[Any, Any]:
        return {}

    async def get_callback_data(self) -> None:
        return None

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        pass

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        pass

    async def update_bot_data(self, data: dict[Any, Any]) -> None:
        pass

    async def update_callback_data(self, data: Any) -> None:
        pass

    async def drop_chat_data(self, chat_id: int) -> None:
        pass

    async def drop_user_data(self, user_id: int) -> None:
        pass

    async def refresh_user_data(self, user_id: int, user_data: dict[Any, Any]) -> None:
        pass

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        pass

    async def refresh_bot_data(self, bot_data: dict[Any, Any]) -> None:
        pass

    async def flush(self) -> None:
        pass
