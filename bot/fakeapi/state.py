"""What the fake Bot API remembers: chats, the messages they show, and uploaded files."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.fakeapi.spec import JSON

Button = tuple[str, str | None]  # (label, callback_data or url)


@dataclass
class FakeMessage:
    """A message as a chat sees it. text/caption are the visible texts (HTML parsed)."""

    message_id: int
    chat_id: int
    date: int
    from_user: bool = False  # sent by a user (True) or by the bot (False)
    sender_id: int | None = None
    text: str | None = None
    raw_text: str | None = None
    parse_mode: str | None = None
    inline_keyboard: list[list[Button]] = field(default_factory=list)
    reply_keyboard: list[list[str]] | None = None
    keyboard_removed: bool = False
    photo: bytes | None = None
    document: tuple[str, bytes | None] | None = None  # (filename, content)
    caption: str | None = None
    contact: JSON | None = None
    protect_content: bool = False
    edited: bool = False
    deleted: bool = False
    raw: JSON = field(default_factory=dict, repr=False)  # the Telegram Message dict

    @property
    def buttons(self) -> list[str]:
        return [label for row in self.inline_keyboard for label, _ in row]


@dataclass
class FakeChat:
    id: int
    type: str = "private"
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    messages: list[FakeMessage] = field(default_factory=list)
    keyboard: list[list[str]] | None = None  # reply keyboard currently shown
    next_message_id: int = 1

    def to_dict(self) -> JSON:
        data: JSON = {"id": self.id, "type": self.type}
        for key in ("title", "username", "first_name", "last_name"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        return data

    def message(self, message_id: int) -> FakeMessage | None:
        return next((m for m in self.messages if m.message_id == message_id), None)

    def add(self, message: FakeMessage) -> FakeMessage:
        self.messages.append(message)
        self.next_message_id += 1
        return message


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes | None
    filename: str
    mime_type: str | None

    def to_dict(self) -> JSON:
        data: JSON = {"file_id": self.file_id, "file_unique_id": self.file_unique_id}
        if self.content is not None:
            data["file_size"] = len(self.content)
        return data
