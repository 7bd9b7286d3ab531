"""Every language is complete and well-formed: a resident never meets English by accident."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.config import default_locales_dir
from bot.fakeapi import parse_html
from bot.i18n import placeholders

LOCALES = default_locales_dir()
CATALOGS = sorted(LOCALES.glob("*/LC_MESSAGES/messages.po"))
KEYWORDS = {"_": None, "n_": (1, 2), "N_": None}
TAG = re.compile(r"</?[a-z-]+")
COMMAND = re.compile(r"(?<![\w/])/[a-z]+")


def load(path: Path) -> Catalog:
    with path.open("rb") as po:
        return read_po(po, locale=path.parent.parent.name)


def source_msgids() -> set[str]:
    root = Path(__file__).resolve().parents[2]
    found: set[str] = set()
    for package in ("bot", "handlers"):
        for _, _, message, _, _ in extract_from_dir(
            root / package, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            found.add(message[0] if isinstance(message, tuple) else message)
    return found


def forms(message: Message) -> list[str]:
    return list(message.string) if isinstance(message.string, tuple | list) else [message.string]


def ids(message: Message) -> list[str]:
    return list(message.id) if isinstance(message.id, tuple | list) else [message.id]


def test_the_eleven_languages_are_there():
    assert {path.parent.parent.name for path in CATALOGS} == {
        "it",
        "en",
        "es",
        "fr",
        "ar",
        "ro",
        "sq",
        "uk",
        "zh",
        "fil",
        "bn",
    }


@pytest.mark.parametrize("path", CATALOGS, ids=lambda p: p.parent.parent.name)
def test_catalog_is_complete_and_matches_the_sources(path: Path):
    catalog = load(path)
    messages = [m for m in catalog if m.id]
    assert {ids(m)[0] for m in messages} == source_msgids(), "run scripts/update-catalogs"
    problems = []
    for message in messages:
        msgid = ids(message)[-1]
        translations = forms(message)
        if message.fuzzy:
            problems.append(f"fuzzy: {msgid!r}")
        if isinstance(message.id, tuple | list) and len(translations) != catalog.num_plurals:
            problems.append(
                f"{len(translations)} plural forms, need {catalog.num_plurals}: {msgid!r}"
            )
        for text in translations:
            if not text:
                problems.append(f"untranslated: {msgid!r}")
                continue
            allowed = set().union(*(placeholders(i) for i in ids(message)))
            if not placeholders(text) <= allowed or placeholders(ids(message)[0]) - {
                "n"
            } - placeholders(text):
                problems.append(f"placeholders {placeholders(text)} vs {allowed}: {msgid!r}")
            if sorted(TAG.findall(text)) != sorted(TAG.findall(msgid)):
                problems.append(f"HTML tags differ: {msgid!r}")
            try:
                parse_html(text)
            except Exception as exc:
                problems.append(f"not valid Telegram HTML ({exc}): {msgid!r}")
            if set(COMMAND.findall(text)) != set(COMMAND.findall(msgid)):
                problems.append(f"commands must stay as they are: {msgid!r}")
    assert problems == []
