"""Telegram's HTML parse mode, as strict as the Bot API: parse, validate, get the visible text.

Supported: b strong i em u ins s strike del span(class="tg-spoiler") tg-spoiler a(href)
code pre blockquote(expandable) tg-emoji(emoji-id); entities &lt; &gt; &amp; &quot; and
numeric ones. Anything else is an error, reported like Telegram does ("can't parse entities").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}

_ENTITY_RE = re.compile(r"&(?:([a-zA-Z]+)|#([0-9]+)|#[xX]([0-9a-fA-F]+));")
_START_RE = re.compile(
    r"<([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^\s=>]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>\"']+))?)*)\s*>"
)
_ATTR_RE = re.compile(r"([^\s=>]+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>\"']+)))?")
_END_RE = re.compile(r"</([a-zA-Z][a-zA-Z0-9-]*)\s*>")


class HTMLParseError(ValueError):
    """The text is not valid Telegram HTML; str(error) is Telegram's description."""


@dataclass
class ParsedHTML:
    text: str  # visible text, tags removed and entities decoded
    entities: list[dict[str, Any]] = field(default_factory=list)  # Telegram MessageEntity dicts


def utf16_len(text: str) -> int:
    """Telegram measures text in UTF-16 code units (emoji outside the BMP count twice)."""
    return len(text.encode("utf-16-le")) // 2


def _fail(text: str, pos: int, reason: str) -> HTMLParseError:
    offset = len(text[:pos].encode("utf-8"))
    return HTMLParseError(f"can't parse entities: {reason} at byte offset {offset}")


def _decode_entities(text: str, start: int, end: int) -> str:
    """Decode the entities of text[start:end] (tag attribute values or plain text)."""
    out: list[str] = []
    i = start
    while i < end:
        if text[i] != "&":
            out.append(text[i])
            i += 1
            continue
        match = _ENTITY_RE.match(text, i, end)
        if not match:
            raise _fail(text, i, "Unsupported HTML entity or unescaped '&'")
        name, dec, hexa = match.groups()
        if name is not None:
            if name not in NAMED_ENTITIES:
                raise _fail(text, i, f'Unsupported HTML entity "&{name};"')
            out.append(NAMED_ENTITIES[name])
        else:
            code = int(dec) if dec is not None else int(hexa, 16)
            if not 0 < code <= 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                raise _fail(text, i, "Invalid numeric HTML entity")
            out.append(chr(code))
        i = match.end()
    return "".join(out)


def _attributes(raw: str) -> dict[str, str]:
    attrs: dict[str, str] = {}
    for match in _ATTR_RE.finditer(raw):
        value = next((g for g in match.groups()[1:] if g is not None), "")
        attrs[match[1].lower()] = _decode_entities(value, 0, len(value))
    return attrs


def _entity(tag: str, attrs: dict[str, str], text: str, pos: int) -> dict[str, Any]:
    """The MessageEntity a start tag opens (offset/length are filled in when it closes)."""
    entity: dict[str, Any] = {"type": ENTITY_TYPES[tag]}
    if tag == "span" and attrs.get("class") != "tg-spoiler":
        raise _fail(text, pos, 'Tag "span" must have class "tg-spoiler"')
    if tag == "a":
        if not attrs.get("href"):
            raise _fail(text, pos, 'Tag "a" must have attribute "href"')
        entity["url"] = attrs["href"]
    if tag == "tg-emoji":
        if not attrs.get("emoji-id", "").isdigit():
            raise _fail(text, pos, 'Tag "tg-emoji" must have a numeric attribute "emoji-id"')
        entity["custom_emoji_id"] = attrs["emoji-id"]
    if tag == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    if tag == "code" and attrs.get("class", "").startswith("language-"):
        entity["language"] = attrs["class"].removeprefix("language-")
    return entity


def parse_html(text: str) -> ParsedHTML:
    """Parse Telegram HTML; raise HTMLParseError with Telegram's wording if it is invalid."""
    out: list[str] = []
    stack: list[tuple[str, dict[str, Any], int]] = []  # (tag, entity, utf16 start)
    entities: list[dict[str, Any]] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "&":
            match = _ENTITY_RE.match(text, i)
            end = match.end() if match else i + 1
            out.append(_decode_entities(text, i, end))
            i = end
        elif char == ">":
            raise _fail(text, i, "Unescaped '>' (use &gt;)")
        elif char != "<":
            out.append(char)
            i += 1
        elif text.startswith("</", i):
            match = _END_RE.match(text, i)
            if not match:
                raise _fail(text, i, "Unclosed end tag")
            tag = match[1].lower()
            if not stack:
                raise _fail(text, i, f'Unexpected end tag "{tag}"')
            if stack[-1][0] != tag:
                expected = stack[-1][0]
                raise _fail(
                    text, i, f'Unmatched end tag, expected "</{expected}>", found "</{tag}>"'
                )
            _, entity, start = stack.pop()
            length = utf16_len("".join(out)) - start
            if length > 0:  # Telegram drops empty entities
                entities.append({**entity, "offset": start, "length": length})
            i = match.end()
        else:
            match = _START_RE.match(text, i)
            name = match[1].lower() if match else text[i + 1 : i + 2].strip()
            if not match or name not in ENTITY_TYPES:
                raise _fail(text, i, f'Unsupported start tag "{name}"')
            entity = _entity(name, _attributes(match[2]), text, i)
            stack.append((name, entity, utf16_len("".join(out))))
            i = match.end()
    if stack:
        tag = stack[-1][0]
        raise HTMLParseError(
            f"can't parse entities: Can't find end tag corresponding to start tag \"{tag}\""
        )
    # Telegram merges <pre><code class="language-x"> into one pre entity with a language.
    entities = _merge_pre_code(entities)
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return ParsedHTML("".join(out), entities)


def _merge_pre_code(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    pres = {(e["offset"], e["length"]): e for e in entities if e["type"] == "pre"}
    merged: list[dict[str, Any]] = []
    for entity in entities:
        pre = pres.get((entity["offset"], entity["length"]))
        if entity["type"] == "code" and pre is not None:
            if "language" in entity:
                pre["language"] = entity["language"]
            continue
        if entity["type"] == "code":
            entity.pop("language", None)  # standalone code can't have a language
        merged.append(entity)
    return merged


def visible_text(text: str, parse_mode: str | None) -> str:
    """What the user sees: for HTML the parsed text, otherwise the raw text."""
    if parse_mode and parse_mode.lower() == "html":
        return parse_html(text).text
    return text
