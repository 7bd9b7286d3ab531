"""A strict in-process fake of the Telegram Bot API for tests and the terminal demo."""

from bot.fakeapi.html import HTMLParseError, parse_html, visible_text
from bot.fakeapi.server import ApiError, FakeBotAPI, FakeChat, FakeMessage, FakeUser, StoredFile
from bot.fakeapi.spec import Spec, Upload, load_spec

__all__ = [
    "ApiError",
    "FakeBotAPI",
    "FakeChat",
    "FakeMessage",
    "FakeUser",
    "HTMLParseError",
    "Spec",
    "StoredFile",
    "Upload",
    "load_spec",
    "parse_html",
    "visible_text",
]
