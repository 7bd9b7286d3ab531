"""When reminders fall due: a labelled table across DST, in Rome time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core import Core
from bot.services.event_rsvp import reminder_times
from tests.conftest import ROME


@pytest.mark.parametrize(
    ("start", "day_before_utc", "two_hours_utc"),
    [
        pytest.param(
            datetime(2026, 3, 29, 10, 0, tzinfo=ROME),
            datetime(2026, 3, 28, 17, 0, tzinfo=UTC),  # 18:00 CET, the day before DST starts
            datetime(2026, 3, 29, 6, 0, tzinfo=UTC),  # 08:00 CEST
            id="spring-forward",
        ),
        pytest.param(
            datetime(2026, 10, 25, 10, 0, tzinfo=ROME),
            datetime(2026, 10, 24, 16, 0, tzinfo=UTC),  # 18:00 CEST
            datetime(2026, 10, 25, 7, 0, tzinfo=UTC),  # 08:00 CET
            id="fall-back",
        ),
        pytest.param(
            datetime(2026, 3, 29, 3, 30, tzinfo=ROME),  # just after the skipped hour
            datetime(2026, 3, 28, 17, 0, tzinfo=UTC),
            datetime(2026, 3, 29, 0, 30, tzinfo=UTC),  # two real hours before: 01:30 CET
            id="early-on-the-dst-night",
        ),
        pytest.param(
            datetime(2026, 7, 1, 18, 0, tzinfo=ROME),
            datetime(2026, 6, 30, 16, 0, tzinfo=UTC),
            datetime(2026, 7, 1, 14, 0, tzinfo=UTC),
            id="summer",
        ),
    ],
)
def test_reminder_times(core: Core, start, day_before_utc, two_hours_utc):
    day_before, two_hours = reminder_times(core, start)
    assert day_before == day_before_utc
    assert two_hours == two_hours_utc
