"""An in-process fake Telegram Bot API server that the real python-telegram-bot stack talks to.

FakeBotAPI is a telegram.request.BaseRequest: pass it to ApplicationBuilder().request(fake)
.get_updates_request(fake) or telegram.Bot(token, request=fake, get_updates_request=fake).
Every call is validated against the official spec (bot.fakeapi.spec); an invalid call gets
Telegram's 400 answer and is appended to fake.violations, so tests can assert it stays empty
even when the bot swallows the BadRequest. Message texts are never logged or printed.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import json
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote

from telegram.error import TimedOut
from telegram.request import BaseRequest, RequestData

from bot.fakeapi.html import parse_html
from bot.fakeapi.spec import JSON, Upload, load_spec
from bot.fakeapi.state import FakeChat, FakeMessage, StoredFile
from bot.fakeapi.users import FakeUser

BLOCKED = "Forbidden: bot was blocked by the user"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
FORWARDS = {"copyMessage", "copyMessages", "forwardMessage", "forwardMessages"}


def is_send(method: str) -> bool:
    """Calls that post into a chat: refused when the user blocked the bot, flood-limited."""
    return method.startswith("send") or method in FORWARDS


class ApiError(Exception):
    """A non-2xx answer. violation: why the call was invalid (None for expected faults)."""

    def __init__(
        self,
        status: int,
        description: str,
        violation: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(description)
        self.status, self.description = status, description
        self.violation, self.retry_after = violation, retry_after


@dataclass
class _Fault:
    method: str
    times: int | None  # None: until clear_faults()
    status: int = 0
    retry_after: int | None = None
    description: str | None = None
    chat_id: int | str | None = None
    timeout: bool = False
    delivered: bool = False  # timeout after the call took effect (response lost)


class FakeBotAPI(BaseRequest):
    def __init__(
        self,
        *,
        bot_username: str = "qmondo_demo_bot",
        bot_id: int = 1000,
        bot_first_name: str = "QMondo Demo",
        latency: float = 0.0,
        cap_per_second: int | None = None,
        max_long_poll: float = 2.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.spec = load_spec()
        self.bot_user: JSON = {
            "id": bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.latency, self.cap_per_second = latency, cap_per_second
        self.max_long_poll, self.clock = max_long_poll, clock
        self.calls: list[tuple[str, JSON]] = []
        self.violations: list[str] = []
        self.errors: list[tuple[str, int, str]] = []  # every non-2xx answer
        self.chats: dict[int, FakeChat] = {}
        self.files: dict[str, StoredFile] = {}
        self.updates: list[JSON] = []  # the getUpdates queue
        self.commands: dict[tuple[str, str], list[JSON]] = {}  # (scope, language) -> commands
        self.callback_answers: list[JSON] = []
        self.webhook_url = ""
        self.on_message: Callable[[int, FakeMessage], Any] | None = None
        self.deliver: Callable[[JSON], Awaitable[Any]] = self.enqueue
        self._faults: list[_Fault] = []
        self._blocked: set[int] = set()
        self._send_times: deque[float] = deque()
        self._open_queries: set[str] = set()
        self._waiters: set[asyncio.Event] = set()
        self._seq = itertools.count(1)  # update ids, file ids, callback query ids

    # -- BaseRequest ----------------------------------------------------------------------

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        """Nothing to open: the fake lives in memory."""

    async def shutdown(self) -> None:
        for event in self._waiters:  # wake long polls so nothing hangs at shutdown
            event.set()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self.latency:
            await asyncio.sleep(self.latency)
        if "/file/bot" in url:
            return self._download(url)
        name = url.rstrip("/").rsplit("/", 1)[-1]
        params, uploads = _decode(request_data)
        self.calls.append((name, params))
        try:
            result = await self._answer(name, params, uploads)
        except ApiError as err:
            return self._error_answer(name, err)
        return HTTPStatus.OK, json.dumps({"ok": True, "result": result}).encode()

    # -- test controls --------------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str = "Amina",
        language_code: str | None = "ar",
        username: str | None = None,
        last_name: str | None = None,
        *,
        chat_id: int | None = None,
        chat_type: str = "private",
        title: str | None = None,
    ) -> FakeUser:
        """A user to drive the bot with; their private chat (chat id = user id) unless chat_id."""
        person = FakeUser(self, user_id, first_name, last_name, username, language_code, user_id)
        if chat_id is None:
            self.add_chat(
                user_id, "private", username=username, first_name=first_name, last_name=last_name
            )
            return person
        return person.in_group(chat_id, chat_type=chat_type, title=title)

    def add_chat(self, chat_id: int, chat_type: str = "private", **info: Any) -> FakeChat:
        if chat_id not in self.chats:
            self.chats[chat_id] = FakeChat(chat_id, chat_type, **info)
        return self.chats[chat_id]

    def chat(self, chat_id: int) -> FakeChat:
        if chat_id not in self.chats:
            raise KeyError(f"no chat {chat_id}: create it with fake.user() or fake.add_chat()")
        return self.chats[chat_id]

    def calls_to(self, method: str) -> list[JSON]:
        return [params for name, params in self.calls if name.lower() == method.lower()]

    def fail(
        self,
        method: str,
        status: int = 429,
        retry_after: int | None = 3,
        times: int | None = 1,
        chat_id: int | str | None = None,
        description: str | None = None,
    ) -> None:
        """Answer the next `times` calls of method ("*" for any) with an HTTP error."""
        self._faults.append(
            _Fault(
                method, times, status, retry_after if status == 429 else None, description, chat_id
            )
        )

    def fail_timeout(
        self,
        method: str,
        times: int | None = 1,
        chat_id: int | str | None = None,
        delivered: bool = False,
    ) -> None:
        """Raise TimedOut like HTTPXRequest; delivered=True: the call took effect first."""
        self._faults.append(
            _Fault(method, times, chat_id=chat_id, timeout=True, delivered=delivered)
        )

    def clear_faults(self) -> None:
        self._faults.clear()

    def block(self, user_id: int) -> None:
        self._blocked.add(user_id)

    def unblock(self, user_id: int) -> None:
        self._blocked.discard(user_id)

    async def enqueue(self, update: JSON) -> None:
        """Default deliver(): queue the update for getUpdates and wake long polls."""
        self.updates.append(update)
        for event in self._waiters:
            event.set()

    def next_id(self) -> int:
        return next(self._seq)

    def store_file(
        self, content: bytes | None, filename: str, mime_type: str | None, folder: str
    ) -> StoredFile:
        seq = self.next_id()
        suffix = PurePosixPath(filename).suffix
        stored = StoredFile(
            f"BQACAgQAAx{seq:08d}",
            f"AgAD{seq:06d}",
            f"{folder}/file_{seq}{suffix}",
            content,
            filename,
            mime_type,
        )
        self.files[stored.file_id] = stored
        return stored

    @property
    def unanswered_callback_queries(self) -> list[str]:
        """Callback queries the bot never answered (the user's client keeps spinning)."""
        return sorted(self._open_queries)

    def open_callback_query(self) -> str:
        query_id = str(4_000_000_000 + self.next_id())
        self._open_queries.add(query_id)
        return query_id

    def notify(self, message: FakeMessage) -> None:
        if self.on_message is not None:
            self.on_message(message.chat_id, message)

    # -- request handling -----------------------------------------------------------------

    async def _answer(self, name: str, params: JSON, uploads: dict[str, Upload]) -> Any:
        method = self.spec.method_name(name)
        if method is None:
            raise ApiError(404, "Not Found", f"{name}: no such Bot API method")
        errors = self.spec.validate_call(method, params, uploads)
        if errors:
            raise ApiError(400, _describe(errors[0]), "; ".join(errors))
        fault = self._take_fault(method, params)
        if fault is not None and not (fault.timeout and fault.delivered):
            if fault.timeout:
                raise TimedOut("Timed out (injected)")
            raise self._fault_error(fault)
        chat_id = params.get("chat_id")
        if isinstance(chat_id, int | str) and "chat_id" in self.spec.methods[method]["params"]:
            self._chat_of(params)
        if is_send(method):
            if chat_id in self._blocked:
                raise ApiError(403, BLOCKED)
            self._flood_control()
        result = await self._perform(method, params, uploads)
        if is_send(method):
            self._send_times.append(time.monotonic())
        if fault is not None:  # timeout with delivered=True: it happened, the answer is lost
            raise TimedOut("Timed out (injected, after delivery)")
        return result

    async def _perform(self, method: str, params: JSON, uploads: dict[str, Upload]) -> Any:
        handler = getattr(self, f"_api_{method}", None)
        if handler is not None:
            result = handler(params, uploads)
        elif self.spec.methods[method]["returns"] == ["Message"] and "chat_id" in params:
            result = self._post(params, caption=params.get("caption"))  # location, contact...
        else:
            return True  # any other valid call: accepted and recorded in self.calls
        if inspect.isawaitable(result):
            result = await result
        problems = self.spec.validate_result(method, result)
        assert not problems, f"the fake built an invalid {method} result: {problems}"
        return result

    def _error_answer(self, name: str, err: ApiError) -> tuple[int, bytes]:
        body: JSON = {"ok": False, "error_code": err.status, "description": err.description}
        if err.retry_after is not None:
            body["parameters"] = {"retry_after": err.retry_after}
        self.errors.append((name, err.status, err.description))
        if err.violation is not None:
            self.violations.append(err.violation)
        return err.status, json.dumps(body).encode()

    def _take_fault(self, method: str, params: JSON) -> _Fault | None:
        for fault in self._faults:
            if fault.method.lower() not in (method.lower(), "*"):
                continue
            if fault.chat_id is not None and params.get("chat_id") != fault.chat_id:
                continue
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
            return fault
        return None

    @staticmethod
    def _fault_error(fault: _Fault) -> ApiError:
        if fault.status == 429:
            retry = fault.retry_after or 1
            text = fault.description or f"Too Many Requests: retry after {retry}"
            return ApiError(429, text, retry_after=retry)
        default = {403: BLOCKED, 400: "Bad Request: injected fault"}.get(fault.status)
        if default is None:
            try:
                default = HTTPStatus(fault.status).phrase
            except ValueError:
                default = f"Error {fault.status}"
        return ApiError(fault.status, fault.description or default)

    def _flood_control(self) -> None:
        if self.cap_per_second is None:
            return
        now = time.monotonic()
        while self._send_times and now - self._send_times[0] >= 1.0:
            self._send_times.popleft()
        if len(self._send_times) >= self.cap_per_second:
            raise ApiError(429, "Too Many Requests: retry after 1", retry_after=1)

    def _download(self, url: str) -> tuple[int, bytes]:
        path = unquote(url.split("/file/bot", 1)[1].split("/", 1)[-1])
        for stored in self.files.values():
            if stored.file_path == path and stored.content is not None:
                return HTTPStatus.OK, stored.content
        self.errors.append(("download", 404, "Not Found"))
        return 404, b'{"ok":false,"error_code":404,"description":"Not Found"}'

    def _chat_of(self, params: JSON) -> FakeChat:
        chat_id = params.get("chat_id")
        if isinstance(chat_id, str) and chat_id.lstrip("-").isdigit():
            chat_id = int(chat_id)  # Telegram reads numeric strings as ids
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            chat = next((c for c in self.chats.values() if c.username == chat_id[1:]), None)
        else:
            chat = self.chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        return chat

    # -- methods (the name after _api_ is the Bot API method) ------------------------------

    def _api_getMe(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        return self.bot_user

    def _api_getChat(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        gifts = ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription")
        return {
            **self._chat_of(params).to_dict(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {**dict.fromkeys(gifts, True), "gifts_from_channels": False},
        }

    def _api_sendMessage(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        return self._post(params, text=params["text"])

    def _api_sendPhoto(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        stored = self._file(params["photo"], uploads, "photos", "photo.jpg")
        return self._post(params, caption=params.get("caption"), photo=stored)

    def _api_sendDocument(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        stored = self._file(params["document"], uploads, "documents", "document")
        return self._post(params, caption=params.get("caption"), document=stored)

    def _api_sendMediaGroup(self, params: JSON, uploads: dict[str, Upload]) -> list[JSON]:
        group_id = str(self.next_id())
        sent = []
        for item in _json(params["media"]):
            kind = item["type"]
            stored = self._file(item["media"], uploads, f"{kind}s", kind)
            files = {kind: stored} if kind in ("photo", "document") else {}
            one = {**params, "parse_mode": item.get("parse_mode")}
            message = self._post(one, caption=item.get("caption"), **files)
            message["media_group_id"] = group_id
            sent.append(message)
        return sent

    def _api_editMessageText(self, params: JSON, uploads: dict[str, Upload]) -> JSON | bool:
        message = self._editable(params)
        if message is None:
            return True
        if message.text is None:
            raise ApiError(
                400,
                "Bad Request: there is no text in the message to edit",
                "editMessageText: the message has no text",
            )
        new = _formatted(params["text"], params.get("parse_mode"), params.get("entities"))
        return self._edit(message, params, "text", new)

    def _api_editMessageCaption(self, params: JSON, uploads: dict[str, Upload]) -> JSON | bool:
        message = self._editable(params)
        if message is None:
            return True
        if "photo" not in message.raw and "document" not in message.raw:
            raise ApiError(
                400,
                "Bad Request: there is no caption in the message to edit",
                "editMessageCaption: the message has no media",
            )
        caption = params.get("caption", "")
        entities = params.get("caption_entities")
        new = _formatted(caption, params.get("parse_mode"), entities) if caption else ("", [])
        return self._edit(message, params, "caption", new)

    def _api_editMessageReplyMarkup(self, params: JSON, uploads: dict[str, Upload]) -> JSON | bool:
        message = self._editable(params)
        return True if message is None else self._edit(message, params, None, None)

    def _api_deleteMessage(self, params: JSON, uploads: dict[str, Upload]) -> bool:
        message = self._chat_of(params).message(params["message_id"])
        if message is None or message.deleted:
            raise ApiError(
                400,
                "Bad Request: message to delete not found",
                f"deleteMessage: no message {params['message_id']}",
            )
        message.deleted = True
        self.notify(message)
        return True

    def _api_answerCallbackQuery(self, params: JSON, uploads: dict[str, Upload]) -> bool:
        query_id = params["callback_query_id"]
        if query_id not in self._open_queries:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
                f"answerCallbackQuery: unknown or already answered query {query_id!r}",
            )
        self._open_queries.discard(query_id)
        self.callback_answers.append(params)
        return True

    def _api_setMyCommands(self, params: JSON, uploads: dict[str, Upload]) -> bool:
        self.commands[_scope_key(params)] = list(params["commands"])
        return True

    def _api_deleteMyCommands(self, params: JSON, uploads: dict[str, Upload]) -> bool:
        self.commands.pop(_scope_key(params), None)
        return True

    def _api_getMyCommands(self, params: JSON, uploads: dict[str, Upload]) -> list[JSON]:
        return self.commands.get(_scope_key(params), [])

    def _api_setWebhook(self, params: JSON, uploads: dict[str, Upload]) -> bool:
        url = params["url"]
        if url and not url.startswith("https://"):
            raise ApiError(
                400,
                "Bad Request: bad webhook: An HTTPS URL must be provided for webhook",
                f"setWebhook: {url!r} is not an HTTPS URL",
            )
        self.webhook_url = url
        return True

    def _api_deleteWebhook(self, params: JSON, uploads: dict[str, Upload]) -> bool:
        self.webhook_url = ""
        if params.get("drop_pending_updates"):
            self.updates.clear()
        return True

    def _api_getWebhookInfo(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self.updates),
        }

    def _api_getFile(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        stored = self.files.get(params["file_id"])
        if stored is None or stored.content is None:
            raise ApiError(
                400,
                "Bad Request: invalid file_id",
                f"getFile: unknown file_id {params['file_id']!r}",
            )
        return {**stored.to_dict(), "file_path": stored.file_path}

    async def _api_getUpdates(self, params: JSON, uploads: dict[str, Upload]) -> list[JSON]:
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
                "getUpdates: called while a webhook is set",
            )
        offset = params.get("offset", 0)
        if offset > 0:  # confirms (forgets) every update before offset, like Telegram
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        timeout = min(float(params.get("timeout", 0)), self.max_long_poll)
        if not self.updates and timeout > 0:
            event = asyncio.Event()
            self._waiters.add(event)
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), timeout)
            finally:
                self._waiters.discard(event)
        allowed = params.get("allowed_updates") or None
        ready = [u for u in self.updates if allowed is None or set(u) & set(allowed)]
        return ready[: params.get("limit", 100)]

    # -- helpers for sent and edited messages ---------------------------------------------

    def _post(
        self,
        params: JSON,
        text: str | None = None,
        caption: str | None = None,
        photo: StoredFile | None = None,
        document: StoredFile | None = None,
    ) -> JSON:
        chat = self._chat_of(params)
        replied = self._replied(chat, params)
        message = FakeMessage(
            chat.next_message_id,
            chat.id,
            int(self.clock()),
            protect_content=bool(params.get("protect_content")),
        )
        message.raw = {
            "message_id": message.message_id,
            "from": self.bot_user,
            "chat": chat.to_dict(),
            "date": message.date,
        }
        if params.get("protect_content"):
            message.raw["has_protected_content"] = True
        if replied is not None:
            message.raw["reply_to_message"] = replied
        mode = params.get("parse_mode")
        if text is not None:
            _set_text(message, "text", text, mode, params.get("entities"))
        if caption:
            _set_text(message, "caption", caption, mode, params.get("caption_entities"))
        if photo is not None:
            message.photo = photo.content
            message.raw["photo"] = [{**photo.to_dict(), "width": 800, "height": 600}]
        if document is not None:
            message.document = (document.filename, document.content)
            message.raw["document"] = {**document.to_dict(), "file_name": document.filename}
            if document.mime_type:
                message.raw["document"]["mime_type"] = document.mime_type
        _set_markup(message, chat, params.get("reply_markup"))
        chat.add(message)
        self.notify(message)
        return message.raw

    @staticmethod
    def _replied(chat: FakeChat, params: JSON) -> JSON | None:
        """The message a send replies to; replying to a missing one fails like Telegram."""
        reply = _json(params.get("reply_parameters")) or {}
        if "message_id" not in reply or reply.get("chat_id", chat.id) != chat.id:
            return None
        target = chat.message(reply["message_id"])
        if target is not None and not target.deleted:
            return {k: v for k, v in target.raw.items() if k != "reply_to_message"}
        if reply.get("allow_sending_without_reply"):
            return None
        raise ApiError(
            400,
            "Bad Request: message to be replied not found",
            f"reply_parameters: no message {reply['message_id']} in chat {chat.id}",
        )

    def _file(
        self, value: Any, uploads: dict[str, Upload], folder: str, default: str
    ) -> StoredFile:
        """The file a send refers to: a fresh upload, a known file_id, or an HTTP URL."""
        if isinstance(value, str) and value.startswith("attach://"):
            value = uploads[value.removeprefix("attach://")]
        if isinstance(value, Upload):
            return self.store_file(
                value.content, value.filename or default, value.mime_type, folder
            )
        if value.startswith(("http://", "https://")):
            return self.store_file(None, PurePosixPath(value).name or default, None, folder)
        if value not in self.files:
            raise ApiError(
                400,
                "Bad Request: wrong file identifier/HTTP URL specified",
                f"unknown file_id {value!r}",
            )
        return self.files[value]

    def _editable(self, params: JSON) -> FakeMessage | None:
        """The bot message an edit targets (None for inline messages, which we don't track)."""
        if "inline_message_id" in params:
            return None
        if "chat_id" not in params or "message_id" not in params:
            raise ApiError(
                400,
                "Bad Request: message identifier is not specified",
                "edit: needs chat_id and message_id, or inline_message_id",
            )
        message = self._chat_of(params).message(params["message_id"])
        if message is None or message.deleted:
            raise ApiError(
                400,
                "Bad Request: message to edit not found",
                f"edit: no message {params['message_id']} in chat {params['chat_id']}",
            )
        if message.from_user:
            raise ApiError(
                400,
                "Bad Request: message can't be edited",
                f"edit: message {message.message_id} was sent by the user",
            )
        return message

    def _edit(
        self,
        message: FakeMessage,
        params: JSON,
        key: str | None,
        new: tuple[str, list[JSON]] | None,
    ) -> JSON:
        """Apply an edit in place; an edit that changes nothing is refused like Telegram does."""
        markup = _json(params.get("reply_markup"))
        entities_key = "entities" if key == "text" else "caption_entities"
        before = (
            message.raw.get(key, "") if key else None,
            message.raw.get(entities_key, []),
            message.raw.get("reply_markup"),
        )
        after = (new[0] if new else before[0], new[1] if new else before[1], markup or None)
        if before == after:
            raise ApiError(400, NOT_MODIFIED, f"edit: message {message.message_id} not modified")
        if key is not None and new is not None:
            _set_text(
                message,
                key,
                params.get(key, ""),
                params.get("parse_mode"),
                params.get(entities_key),
            )
        message.inline_keyboard = []
        message.raw.pop("reply_markup", None)
        _set_markup(message, None, markup)
        message.edited = True
        message.raw["edit_date"] = int(self.clock())
        self.notify(message)
        return message.raw


def _decode(request_data: RequestData | None) -> tuple[JSON, dict[str, Upload]]:
    """Parameters as Python values, and the multipart file parts as Upload objects.

    PTB posts a plain InputFile under the parameter's own name (leaving it out of
    .parameters) and media files under a random name referenced as attach://<name>.
    """
    if request_data is None:
        return {}, {}
    params: JSON = dict(request_data.parameters)
    uploads: dict[str, Upload] = {}
    for name, (filename, content, mime_type) in request_data.multipart_data.items():
        data = content if isinstance(content, bytes) else content.read()
        uploads[name] = Upload(filename or "", data, mime_type)
    attached = json.dumps(params, default=str)
    for name, upload in uploads.items():
        if name not in params and f"attach://{name}" not in attached:
            params[name] = upload
    return params, uploads


def _describe(error: str) -> str:
    """Telegram-style description for a validation error "path: detail"."""
    _, _, detail = error.partition(": ")
    if detail.startswith("can't parse entities"):
        return f"Bad Request: {detail}"
    return f"Bad Request: {error}"


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _formatted(text: str, mode: str | None, entities: Any) -> tuple[str, list[JSON]]:
    """Visible text and entities, as Telegram would store them."""
    if isinstance(mode, str) and mode.lower() == "html":
        parsed = parse_html(text)
        return parsed.text, parsed.entities
    return text, list(_json(entities) or [])


def _set_text(message: FakeMessage, key: str, raw: str, mode: str | None, entities: Any) -> None:
    visible, parsed = _formatted(raw, mode, entities)
    setattr(message, key, visible or None)
    message.raw.pop(key, None)
    if visible:  # Telegram omits an empty caption
        message.raw[key] = visible
    entities_key = "entities" if key == "text" else "caption_entities"
    message.raw.pop(entities_key, None)
    if parsed:
        message.raw[entities_key] = parsed
    if key == "text":
        message.raw_text, message.parse_mode = raw, mode


def _set_markup(message: FakeMessage, chat: FakeChat | None, markup: Any) -> None:
    """Inline keyboards stay on the message; reply keyboards change what the chat shows."""
    markup = _json(markup)
    if not markup:
        return
    if "inline_keyboard" in markup:
        message.inline_keyboard = [
            [(b["text"], b.get("callback_data", b.get("url"))) for b in row]
            for row in markup["inline_keyboard"]
        ]
        message.raw["reply_markup"] = markup
    elif "keyboard" in markup and chat is not None:
        rows = [
            [b["text"] if isinstance(b, dict) else b for b in row] for row in markup["keyboard"]
        ]
        message.reply_keyboard = chat.keyboard = rows
    elif markup.get("remove_keyboard") and chat is not None:
        message.keyboard_removed, chat.keyboard = True, None


def _scope_key(params: JSON) -> tuple[str, str]:
    scope = _json(params.get("scope")) or {"type": "default"}
    return json.dumps(scope, sort_keys=True), params.get("language_code", "")
