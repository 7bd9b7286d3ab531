"""Event dates as operators type them, and when reminders fall due, across DST (Rome)."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.timeparse import parse_local, parse_time

ROME = ZoneInfo("Europe/Rome")
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=ROME)  # a Wednesday


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("12/03 18:30", datetime(2027, 3, 12, 18, 30)),
        ("12 marzo 18:30", datetime(2027, 3, 12, 18, 30)),
        ("12 mar 18.30", datetime(2027, 3, 12, 18, 30)),
        ("domani 18", datetime(2026, 11, 26, 18, 0)),
        ("domani alle 18", datetime(2026, 11, 26, 18, 0)),
        ("Sabato ore 16:00", datetime(2026, 11, 28, 16, 0)),
        ("mercoledì 20", datetime(2026, 11, 25, 20, 0)),  # today is Wednesday
        ("mar 9", datetime(2026, 12, 1, 9, 0)),  # martedì, not marzo, without a day number
        ("29/03/2026 02:30", datetime(2026, 3, 29, 2, 30)),  # the hour DST skips: kept as typed
        ("31/02 18:30", None),
        ("domani", None),
        ("ieri alle tre", None),
        ("25/12 24:00", None),
    ],
)
def test_italian_dates(typed: str, expected: datetime | None):
    found = parse_local(typed, NOW, ROME)
    assert found == (expected.replace(tzinfo=ROME) if expected else None)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("18:30", time(18, 30)), ("18.30", time(18, 30)), ("ore 9", time(9)), ("alle 21", time(21))],
)
def test_a_time_alone_for_the_day_buttons(typed: str, expected: time):
    assert parse_time(typed) == expected
    assert parse_time("25:00") is None and parse_time("sera") is None
