"""The intake form: the choices offered as buttons, phone numbers, and unfinished answers kept
in the database (so a restart, or the resident coming back later, resumes the form)."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import delete

from bot.core import Core
from bot.i18n import N_
from bot.models import TrainingDraft
from bot.timeparse import parse_local

AVAILABILITY = {
    "morning": N_("Mornings"),
    "afternoon": N_("Afternoons"),
    "evening": N_("Evenings"),
}
SCHOOLING = {
    "none": N_("I did not go to school"),
    "primary": N_("Primary school"),
    "middle": N_("Middle school"),
    "high": N_("Secondary school diploma"),
    "degree": N_("University"),
}
WORK = {
    "cleaning": N_("Cleaning"),
    "kitchen": N_("Kitchens and restaurants"),
    "care": N_("Care of children or elderly people"),
    "warehouse": N_("Warehouse and deliveries"),
    "building": N_("Building and repairs"),
    "shop": N_("Shops and sales"),
    "office": N_("Office work"),
    "any": N_("Any work"),
}
MAX_NAME, MAX_NOTE = 200, 300
# The operator's course form: text fields' lengths (as in the table), places at most.
LIMITS = {"title": 120, "description": 300, "provider": 120, "place": 200, "schedule": 200}
MAX_CAPACITY = 500
_SEPARATORS = re.compile(r"[\s\-./()]")


def normalize_phone(text: str) -> str | None:
    """An Italian or international number in E.164 form (+39...), or None.

    Italian numbers may be typed without the country code: mobiles start with 3 (9-10
    digits), landlines with 0 (6-11 digits). Others need +country or 00country.
    """
    # Arabic-Indic or Bengali digits, as those keyboards type them, become 0-9; invisible
    # direction marks that right-to-left keyboards add are dropped.
    number = "".join(
        str(unicodedata.decimal(ch, ch))
        for ch in _SEPARATORS.sub("", text)
        if unicodedata.category(ch) != "Cf"
    )
    if number.startswith("00"):
        number = "+" + number[2:]
    if not number.lstrip("+").isdigit():
        return None
    if not number.startswith("+"):
        return "+39" + number if _italian(number) else None
    digits = number[1:]
    if digits.startswith("39"):
        return number if _italian(digits[2:]) else None
    return number if 8 <= len(digits) <= 15 and not digits.startswith("0") else None


def _italian(national: str) -> bool:
    if national.startswith("3"):
        return len(national) in (9, 10)
    return national.startswith("0") and 6 <= len(national) <= 11


def clean_name(text: str) -> str | None:
    """A name as typed, tidied; None for what is not one: a command, one character, or no
    letter at all (a phone number typed one question early)."""
    name = " ".join(text.split())
    if len(name) < 2 or name.startswith("/") or not any(ch.isalpha() for ch in name):
        return None
    return name[:MAX_NAME]


def course_value(field: str, text: str, now: datetime, tz: tzinfo) -> Any:
    """A typed value for a course field, or None if it is not acceptable."""
    text = text.strip() if field == "description" else " ".join(text.split())
    if field in LIMITS:
        return text if 0 < len(text) <= LIMITS[field] else None
    if field == "capacity":
        return int(text) if text.isdigit() and 0 < int(text) <= MAX_CAPACITY else None
    if field == "starts_at":
        when = parse_local(text, now, tz)
        return when if when is not None and when > now else None
    return None


# -- drafts -----------------------------------------------------------------------------------


async def draft(core: Core, resident_id: int, kind: str) -> TrainingDraft | None:
    """The unfinished answers. Older than a conversation's time to live, they go with it."""
    stale = core.clock.now() - core.settings.conversation_ttl
    async with core.db.session.begin() as session:
        found = await session.get(TrainingDraft, (resident_id, kind))
        if found is not None and found.updated_at < stale:
            await session.delete(found)
            return None
        return found


async def save(
    core: Core,
    resident_id: int,
    kind: str,
    step: str,
    *,
    course_id: int | None = None,
    editing: bool | None = None,
    fresh: bool = False,
    **answers: Any,
) -> TrainingDraft:
    """Record the step reached and merge new answers; `fresh` starts a new form."""
    async with core.db.session.begin() as session:
        row = await session.get(TrainingDraft, (resident_id, kind), with_for_update=True)
        if row is None or fresh:
            if row is not None:
                await session.delete(row)
                await session.flush()
            row = TrainingDraft(resident_id=resident_id, kind=kind, data={}, editing=False)
            session.add(row)
        row.step, row.updated_at = step, core.clock.now()
        if course_id is not None:
            row.course_id = course_id
        if editing is not None:
            row.editing = editing
        row.data = {**(row.data or {}), **answers}
        return row


async def drop(core: Core, resident_id: int, kind: str) -> None:
    async with core.db.session.begin() as session:
        await session.execute(
            delete(TrainingDraft).where(
                TrainingDraft.resident_id == resident_id, TrainingDraft.kind == kind
            )
        )
