"""A strict in-process fake of the Telegram Bot API for tests and the terminal demo."""

from bot.fakeapi.html import HTMLParseError, parse_html, visible_text
from bot.fakeapi.server import ApiError, FakeBotAPI
from bot.fakeapi.spec import Spec, Upload, load_spec
from bot.fakeapi.state import FakeChat, FakeMessage, StoredFile
from bot.fakeapi.users import FakeUser

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
