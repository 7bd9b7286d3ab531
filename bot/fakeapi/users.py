"""Users of the fake Bot API: they type, tap, press buttons and send files, like a person would."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from bot.fakeapi.html import utf16_len
from bot.fakeapi.spec import JSON
from bot.fakeapi.state import FakeChat, FakeMessage

if TYPE_CHECKING:
    from bot.fakeapi.server import FakeBotAPI


class FakeUser:
    """A Telegram user driving the bot: each action records the user's message in the chat,
    builds a Telegram-shaped update (checked against the spec) and awaits fake.deliver(update).
    """

    def __init__(
        self,
        fake: FakeBotAPI,
        user_id: int,
        first_name: str,
        last_name: str | None,
        username: str | None,
        language_code: str | None,
        chat_id: int,
    ) -> None:
        self.fake, self.id, self.chat_id = fake, user_id, chat_id
        self.first_name, self.last_name = first_name, last_name
        self.username, self.language_code = username, language_code

    def to_dict(self) -> JSON:
        data: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        return data

    def in_group(
        self, chat_id: int, chat_type: str = "group", title: str | None = None
    ) -> FakeUser:
        """The same person, acting in a group chat (created if the fake doesn't know it yet)."""
        self.fake.add_chat(chat_id, chat_type, title=title or f"Group {chat_id}")
        return FakeUser(
            self.fake,
            self.id,
            self.first_name,
            self.last_name,
            self.username,
            self.language_code,
            chat_id,
        )

    # -- what the user sees ---------------------------------------------------------------

    @property
    def chat(self) -> FakeChat:
        return self.fake.chat(self.chat_id)

    @property
    def messages(self) -> list[FakeMessage]:
        """The bot's messages in this chat that were not deleted."""
        return [m for m in self.chat.messages if not m.from_user and not m.deleted]

    @property
    def last(self) -> FakeMessage | None:
        return self.messages[-1] if self.messages else None

    @property
    def buttons(self) -> list[str]:
        """Labels of the inline buttons on the last bot message that has some."""
        message = self._keyboard_message()
        return message.buttons if message else []

    @property
    def keyboard(self) -> list[str]:
        """Labels of the reply keyboard currently shown, flattened."""
        return [label for row in self.chat.keyboard or [] for label in row]

    # -- actions --------------------------------------------------------------------------

    async def send(self, text: str) -> JSON:
        extra: JSON = {"text": text}
        if text.startswith("/"):  # Telegram marks the leading command; CommandHandler needs it
            command = text.split(maxsplit=1)[0]
            extra["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(command)}]
        return await self._send_message(extra, text=text, raw_text=text)

    async def tap(self, label: str) -> JSON:
        """Tap a reply-keyboard button: only possible if it is on the keyboard shown."""
        if label not in self.keyboard:
            raise AssertionError(f"no reply keyboard button {label!r}; keyboard: {self.keyboard}")
        return await self.send(label)

    async def press(self, label: str, message_id: int | None = None) -> JSON:
        """Press the inline button labelled `label` on the last bot message with a keyboard."""
        message = self._keyboard_message(message_id)
        if message is None:
            raise AssertionError(f"no bot message with inline buttons in chat {self.chat_id}")
        rows = message.raw.get("reply_markup", {}).get("inline_keyboard", [])
        button = next((b for row in rows for b in row if b["text"] == label), None)
        if button is None:
            raise AssertionError(f"no inline button {label!r}; buttons: {message.buttons}")
        if "callback_data" not in button:
            raise AssertionError(f"button {label!r} is not a callback button: {button}")
        return await self._callback(button["callback_data"], message)

    async def press_data(self, data: str, message_id: int | None = None) -> JSON:
        """A raw (possibly forged) callback query, as a modified client could send."""
        message = (
            self.chat.message(message_id)
            if message_id is not None
            else self._keyboard_message() or self.last
        )
        return await self._callback(data, message)

    async def send_document(
        self,
        filename: str,
        content: bytes,
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
    ) -> JSON:
        stored = self.fake.store_file(content, filename, mime_type, "documents")
        extra: JSON = {
            "document": {**stored.to_dict(), "file_name": filename, "mime_type": mime_type}
        }
        if caption:
            extra["caption"] = caption
        return await self._send_message(extra, document=(filename, content), caption=caption)

    async def send_location(self, latitude: float, longitude: float) -> JSON:
        """Share a map point (📎, then Location)."""
        location: JSON = {"latitude": latitude, "longitude": longitude}
        return await self._send_message({"location": location})

    async def send_contact(
        self, phone: str, first_name: str | None = None, last_name: str | None = None
    ) -> JSON:
        """Share a contact; with the defaults it is the user's own (user_id set, like Telegram)."""
        contact: JSON = {
            "phone_number": phone,
            "first_name": first_name or self.first_name,
            "user_id": self.id,
        }
        if last_name:
            contact["last_name"] = last_name
        return await self._send_message({"contact": contact}, contact=contact)

    # -- internals ------------------------------------------------------------------------

    def _keyboard_message(self, message_id: int | None = None) -> FakeMessage | None:
        candidates = [m for m in self.messages if m.inline_keyboard]
        if message_id is not None:
            candidates = [m for m in candidates if m.message_id == message_id]
        return candidates[-1] if candidates else None

    async def _send_message(self, extra: JSON, **fields: Any) -> JSON:
        chat = self.chat
        message = FakeMessage(
            chat.next_message_id,
            chat.id,
            int(self.fake.clock()),
            from_user=True,
            sender_id=self.id,
            **fields,
        )
        message.raw = {
            "message_id": message.message_id,
            "from": self.to_dict(),
            "chat": chat.to_dict(),
            "date": message.date,
            **extra,
        }
        chat.add(message)
        return await self._deliver("message", message.raw)

    async def _callback(self, data: str, message: FakeMessage | None) -> JSON:
        query: JSON = {
            "id": self.fake.open_callback_query(),
            "from": self.to_dict(),
            "chat_instance": str(abs(self.chat_id) * 31 + 7),
            "data": data,
        }
        if message is not None:
            query["message"] = json.loads(json.dumps(message.raw))  # a snapshot, like Telegram
        return await self._deliver("callback_query", query)

    async def _deliver(self, kind: str, payload: JSON) -> JSON:
        update = {"update_id": self.fake.next_id(), kind: payload}
        errors = self.fake.spec.validate_object("Update", update)
        if errors:  # a bug in the fake itself, not in the bot
            raise AssertionError(f"the fake built an invalid update: {errors}")
        await self.fake.deliver(update)
        return update
