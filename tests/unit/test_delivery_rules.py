"""The delivery path's rules without a database: pacing, quiet hours, backoff, typed dates."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config import ConfigError, Settings
from bot.delivery.limiter import RateLimiter
from bot.delivery.outbox import backoff, quiet
from bot.timeparse import parse_local

ROME = ZoneInfo("Europe/Rome")


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_global_rate_spaces_sends_evenly_with_no_burst_after_idling():
    ticks = Ticks()
    limiter = RateLimiter(25, now=ticks)
    waits = [limiter.reserve(chat) for chat in range(50)]
    assert waits[0] == 0
    assert waits[1] == pytest.approx(0.04)
    assert waits[49] == pytest.approx(49 * 0.04)  # 50 messages take two seconds
    ticks.now += 60  # a long idle does not save up a burst
    assert [limiter.reserve(chat) for chat in range(100, 103)] == pytest.approx([0, 0.04, 0.08])


def test_one_chat_gets_at_most_one_message_a_second():
    ticks = Ticks()
    limiter = RateLimiter(None, now=ticks)
    assert [limiter.reserve(7) for _ in range(3)] == [0, 1, 2]
    assert limiter.reserve(8) == 0  # other chats do not wait for chat 7


def test_flood_control_pauses_every_send_for_the_time_asked():
    ticks = Ticks()
    limiter = RateLimiter(25, now=ticks)
    limiter.pause(3)
    assert limiter.pause_left() == 3
    assert limiter.reserve(1) == pytest.approx(3)
    ticks.now += 5
    assert limiter.pause_left() == 0


@pytest.mark.parametrize(
    ("local", "is_quiet"),
    [
        ("08:59", True),
        ("09:00", False),
        ("13:00", False),
        ("19:59", False),
        ("20:00", True),
        ("23:30", True),
        ("00:10", True),
    ],
)
def test_quiet_hours_are_read_in_rome_time(local: str, is_quiet: bool):
    settings = Settings()
    for day in (datetime(2026, 3, 29), datetime(2026, 7, 1), datetime(2026, 11, 25)):  # DST too
        instant = datetime.combine(day.date(), time.fromisoformat(local), tzinfo=ROME)
        assert quiet(settings, instant) is is_quiet


def test_quiet_hours_can_be_set_or_switched_off():
    daytime = Settings(quiet_start=time(12), quiet_end=time(14))
    assert quiet(daytime, datetime(2026, 11, 25, 13, tzinfo=ROME))
    assert not quiet(daytime, datetime(2026, 11, 25, 21, tzinfo=ROME))
    never = Settings(quiet_start=time(0), quiet_end=time(0))
    assert not quiet(never, datetime(2026, 11, 25, 3, tzinfo=ROME))


def test_the_delivery_settings_come_from_the_environment():
    settings = Settings.from_env(
        {"QMONDO_SEND_RATE": "0", "QMONDO_QUIET_START": "21:30", "QMONDO_SEND_CONCURRENCY": "4"}
    )
    assert settings.send_rate is None and settings.send_concurrency == 4
    assert settings.quiet_start == time(21, 30)
    with pytest.raises(ConfigError, match="QMONDO_QUIET_END"):
        Settings.from_env({"QMONDO_QUIET_END": "nine"})
    with pytest.raises(ConfigError, match="QMONDO_SEND_RATE"):
        Settings.from_env({"QMONDO_SEND_RATE": "-1"})


def test_backoff_doubles_and_is_capped():
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [2, 4, 8, 16]
    assert backoff(30) == timedelta(minutes=10)


NOW = datetime(2026, 11, 25, 10, 0, tzinfo=ROME)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("25/12 18:30", datetime(2026, 12, 25, 18, 30)),
        ("25/12/2026 18.30", datetime(2026, 12, 25, 18, 30)),
        ("25-12-26 ore 18", datetime(2026, 12, 25, 18, 0)),
        ("25 dicembre 18:30", datetime(2026, 12, 25, 18, 30)),
        ("12 marzo 2027, 18:30", datetime(2027, 3, 12, 18, 30)),
        ("3/1 9:00", datetime(2027, 1, 3, 9, 0)),  # January has passed: next year
        ("oggi 18:30", datetime(2026, 11, 25, 18, 30)),
        ("domani 9", datetime(2026, 11, 26, 9, 0)),
        ("29/3/2026 2:30", datetime(2026, 3, 29, 2, 30)),  # in the DST gap: still read
        ("31/02 10:00", None),
        ("25/12 25:00", None),
        ("hello", None),
        ("", None),
    ],
)
def test_operators_type_dates_the_italian_way(typed: str, meant: datetime | None):
    parsed = parse_local(typed, NOW, ROME)
    assert parsed == (meant.replace(tzinfo=ROME) if meant else None)
