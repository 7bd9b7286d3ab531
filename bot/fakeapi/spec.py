"""Validation of Bot API calls and objects against the checked-in spec (botapi_spec.json).

The spec is derived from Telegram's official api.json by scripts/make_botapi_spec.py.
Every check returns a list of Telegram-style error descriptions; an empty list means valid.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from bot.fakeapi.html import HTMLParseError, parse_html, utf16_len

PARSE_MODES = {"html", "markdown", "markdownv2"}
TEXT_FIELDS = {"text", "caption", "message_text"}  # formatted by a sibling "parse_mode"
COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
LANGUAGE_RE = re.compile(r"^(|[a-z]{2})$")
# Exactly one of these makes an inline button do something (Telegram rejects text-only ones).
INLINE_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)

JSON = dict[str, Any]  # a decoded Bot API object


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request (what PTB sends for an InputFile)."""

    filename: str
    content: bytes
    mime_type: str | None = None


@dataclass
class _Context:
    uploads: dict[str, Upload]
    used: set[str] = field(default_factory=set)  # attach:// names referenced by the call


@cache
def load_spec() -> Spec:
    text = resources.files("bot.fakeapi").joinpath("botapi_spec.json").read_text("utf-8")
    return Spec(json.loads(text))


class Spec:
    def __init__(self, data: dict[str, Any]) -> None:
        self.version: str = data["version"]
        self.methods: dict[str, Any] = data["methods"]
        self.types: dict[str, Any] = data["types"]
        self._lower = {name.lower(): name for name in self.methods}

    def method_name(self, name: str) -> str | None:
        """Canonical method name; Telegram matches method names case-insensitively."""
        return self._lower.get(name.lower())

    def validate_call(
        self, method: str, params: dict[str, Any], uploads: dict[str, Upload] | None = None
    ) -> list[str]:
        """Errors of a call; params may hold Upload values for files posted under their name."""
        ctx = _Context(uploads or {})
        errors = self._fields(self.methods[method]["params"], params, method, ctx)
        unused = set(ctx.uploads) - ctx.used - set(params)
        errors += [f"{method}: unexpected file part {name!r}" for name in sorted(unused)]
        if "language_code" in params and "My" in method:
            code = params["language_code"]
            if not isinstance(code, str) or not LANGUAGE_RE.match(code):
                errors.append(f"{method}.language_code: {code!r} is not empty or a 2-letter code")
        commands = params.get("commands")
        if method == "setMyCommands" and isinstance(commands, list) and len(commands) > 100:
            errors.append(f"{method}.commands: more than 100 commands")
        return errors

    def validate_object(self, type_name: str, value: Any, path: str | None = None) -> list[str]:
        """Errors of a value of a spec type (e.g. an Update dict the fake hands to the bot)."""
        return self._check([type_name], value, path or type_name, _Context({}))

    def validate_result(self, method: str, value: Any) -> list[str]:
        """Errors of a result the fake returns for method (guards the fake's own realism)."""
        return self._check(self.methods[method]["returns"], value, f"{method}()", _Context({}))

    # -- internals ------------------------------------------------------------------------

    def _check(self, types: list[str], value: Any, path: str, ctx: _Context) -> list[str]:
        """A value listed with several types must match one of them (objects: exactly one)."""
        results = [(t, self._check_one(t, value, path, ctx)) for t in types]
        matches = [t for t, errors in results if not errors]
        objects = [t for t in matches if t in self.types]
        if len(objects) > 1:
            return [f"{path}: ambiguous value, matches {' and '.join(objects)}"]
        if matches:
            return []
        if len(results) == 1:
            return results[0][1]
        # Report the errors of the variant the value looks most like (fewest errors).
        closest = min(results, key=lambda r: len(r[1]))[1]
        return [*closest, f"{path}: expected {' or '.join(types)}"]

    def _check_one(self, type_: str, value: Any, path: str, ctx: _Context) -> list[str]:
        if type_.startswith("Array of "):
            value = _maybe_json(value)
            if not isinstance(value, list):
                return [f"{path}: expected {type_}"]
            inner = type_.removeprefix("Array of ")
            return [
                e
                for i, item in enumerate(value)
                for e in self._check([inner], item, f"{path}[{i}]", ctx)
            ]
        if type_ == "Integer":
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif type_ == "Float":
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        elif type_ == "Boolean":
            ok = isinstance(value, bool)
        elif type_ == "String":
            ok = isinstance(value, str)
            if ok and value.startswith("attach://"):
                return self._attach(value, path, ctx)
        elif type_ == "InputFile":
            if isinstance(value, Upload):
                return []
            if isinstance(value, str) and value.startswith("attach://"):
                return self._attach(value, path, ctx)
            return [f"{path}: expected a file upload (InputFile)"]
        elif type_ in self.types:
            return self._object(type_, value, path, ctx)
        else:
            return [f"{path}: unknown spec type {type_}"]
        return [] if ok else [f"{path}: expected {type_}, got {type(value).__name__}"]

    def _attach(self, value: str, path: str, ctx: _Context) -> list[str]:
        name = value.removeprefix("attach://")
        if name not in ctx.uploads:
            return [f"{path}: {value} refers to no uploaded file"]
        ctx.used.add(name)
        return []

    def _object(self, type_: str, value: Any, path: str, ctx: _Context) -> list[str]:
        value = _maybe_json(value)
        spec = self.types[type_]
        if "subtypes" in spec:
            return self._abstract(type_, spec["subtypes"], value, path, ctx)
        if not isinstance(value, dict):
            return [f"{path}: expected {type_} object, got {type(value).__name__}"]
        errors = self._fields(spec["fields"], value, path, ctx)
        command = value.get("command")
        if type_ == "BotCommand" and isinstance(command, str) and not COMMAND_RE.match(command):
            errors.append(f"{path}.command: {command!r} must match [a-z0-9_]{{1,32}}")
        if type_ == "InlineKeyboardButton":
            actions = [a for a in INLINE_BUTTON_ACTIONS if a in value]
            if len(actions) != 1:
                errors.append(f"{path}: exactly one button action needed, got {actions or 'none'}")
        return errors

    def _abstract(
        self, type_: str, subtypes: list[str], value: Any, path: str, ctx: _Context
    ) -> list[str]:
        """Pick the subtypes whose constant discriminator (e.g. type="chat") fits the value."""
        candidates = []
        for sub in subtypes:
            fields = self.types.get(sub, {}).get("fields", {})
            consts = {k: f["const"] for k, f in fields.items() if "const" in f}
            if isinstance(value, dict) and any(value.get(k) != c for k, c in consts.items()):
                continue
            candidates.append(sub)
        if not candidates:
            return [f"{path}: matches no {type_} subtype"]
        results = [self._check_one(sub, value, path, _Context(ctx.uploads)) for sub in candidates]
        if any(not errors for errors in results):
            # Re-run the matching one with the real context so its attach:// uses count.
            return self._check_one(candidates[results.index([])], value, path, ctx)
        if len(candidates) == 1:
            return results[0]
        return [f"{path}: matches no {type_} subtype ({', '.join(candidates)})"]

    def _fields(
        self, fields: dict[str, Any], obj: dict[str, Any], path: str, ctx: _Context
    ) -> list[str]:
        errors = [f"{path}: unknown field {name!r}" for name in obj if name not in fields]
        for name, spec in fields.items():
            sub = f"{path}.{name}"
            if name not in obj:
                if spec["required"]:
                    errors.append(f"{sub}: required")
                continue
            value = obj[name]
            errors += self._check(spec["types"], value, sub, ctx)
            if not isinstance(value, str):
                continue
            is_mode = name == "parse_mode" or name.endswith("_parse_mode")
            if is_mode and value.lower() not in PARSE_MODES:
                errors.append(f"{sub}: unsupported parse_mode {value!r}")
            errors += _text_checks(name, spec, value, _parse_mode_of(name, obj), sub)
        return errors


def _text_checks(
    name: str, spec: dict[str, Any], value: str, mode: str | None, path: str
) -> list[str]:
    """HTML validity and the documented length limits (UTF-16 characters or UTF-8 bytes)."""
    visible = value
    if mode == "html":
        try:
            visible = parse_html(value).text
        except HTMLParseError as exc:
            return [f"{path}: {exc}"]
    if "unit" not in spec:
        return []
    size = utf16_len(visible) if spec["unit"] == "characters" else len(visible.encode("utf-8"))
    if spec["min"] > 0 and name in TEXT_FIELDS and not visible.strip():
        return [f"{path}: text must be non-empty"]  # Telegram: "message text is empty"
    if not spec["min"] <= size <= spec["max"]:
        return [f"{path}: {size} {spec['unit']}, allowed {spec['min']}-{spec['max']}"]
    return []


def _parse_mode_of(name: str, obj: dict[str, Any]) -> str | None:
    mode = obj.get(f"{name}_parse_mode")
    if mode is None and name in TEXT_FIELDS:
        mode = obj.get("parse_mode")
    return mode.lower() if isinstance(mode, str) else None


def _maybe_json(value: Any) -> Any:
    """Telegram accepts objects and arrays as JSON-serialized strings too."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
