"""Dates and times as Italian operators type them: "25/12 18:30", "25/12/2026 18.30",
"25 dicembre 18:30", "oggi 18:30", "domani 9", "domani alle 18", "sabato 16". Read in the
configured time zone."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, tzinfo

MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("gennaio", "gen"),
            ("febbraio", "feb"),
            ("marzo", "mar"),
            ("aprile", "apr"),
            ("maggio", "mag"),
            ("giugno", "giu"),
            ("luglio", "lug"),
            ("agosto", "ago"),
            ("settembre", "set"),
            ("ottobre", "ott"),
            ("novembre", "nov"),
            ("dicembre", "dic"),
        ),
        start=1,
    )
    for name in names
}
NUMERIC = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})(?:[/.\-](\d{2}|\d{4}))?$")
WORDS = re.compile(r"^(\d{1,2})\s+([a-z]+)\.?(?:\s+(\d{4}))?$")
TIME = re.compile(r"^(?:(?:ore|alle)\s+)?(\d{1,2})(?:[:.](\d{2}))?$")
RELATIVE = {"oggi": 0, "domani": 1, "dopodomani": 2}
WEEKDAYS = {
    name: number
    for number, names in enumerate(
        (
            ("lunedì", "lunedi", "lun"),
            ("martedì", "martedi", "mar"),
            ("mercoledì", "mercoledi", "mer"),
            ("giovedì", "giovedi", "gio"),
            ("venerdì", "venerdi", "ven"),
            ("sabato", "sab"),
            ("domenica", "dom"),
        )
    )
    for name in names
}


def parse_local(text: str, now: datetime, tz: tzinfo) -> datetime | None:
    """The instant meant by `text`, or None if it is not a date and time we can read.

    A date without a year is the next such date (today included).
    """
    words = " ".join(text.lower().replace(",", " ").split())
    match = re.match(r"^(.*?)\s*(?:(?:ore|alle)\s+)?(\d{1,2}(?:[:.]\d{2})?)$", words)
    if match is None:
        return None
    day_part, time_part = match.groups()
    clock = _time(time_part)
    today = now.astimezone(tz).date()
    day = _date(day_part, today) if day_part else today
    if clock is None or day is None:
        return None
    return datetime.combine(day, clock, tzinfo=tz)


def parse_time(text: str) -> time | None:
    """A time of day alone ("18", "18:30", "ore 18.30"), for a date picked with buttons."""
    return _time(" ".join(text.lower().split()))


def _time(text: str) -> time | None:
    match = TIME.match(text)
    if match is None:
        return None
    hour, minute = int(match[1]), int(match[2] or 0)
    return time(hour, minute) if hour < 24 and minute < 60 else None


def _date(text: str, today: date) -> date | None:
    if text in RELATIVE:
        return today + timedelta(days=RELATIVE[text])
    if text in WEEKDAYS:  # the next such day, today included
        return today + timedelta(days=(WEEKDAYS[text] - today.weekday()) % 7)
    if match := NUMERIC.match(text):
        day, month, year = int(match[1]), int(match[2]), match[3]
    elif (match := WORDS.match(text)) and match[2] in MONTHS:
        day, month, year = int(match[1]), MONTHS[match[2]], match[3]
    else:
        return None
    if year is not None:
        full = int(year) + (2000 if len(year) == 2 else 0)
        return _valid(full, month, day)
    this_year = _valid(today.year, month, day)
    if this_year is not None and this_year < today:
        return _valid(today.year + 1, month, day)
    return this_year


def _valid(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None
