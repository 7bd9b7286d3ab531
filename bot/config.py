"""Settings from QMONDO_* environment variables (a .env file in the working directory too)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

DEFAULT_BOT_API_URL = "https://api.telegram.org/bot"
DEFAULT_DATABASE_URL = "sqlite:///qmondo.sqlite3"


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    telegram_token: str | None = None
    bot_api_url: str = DEFAULT_BOT_API_URL
    bot_username: str | None = None
    database_url: str = DEFAULT_DATABASE_URL
    timezone: str = "Europe/Rome"
    default_locale: str = "it"
    locales_dir: Path = field(default_factory=lambda: default_locales_dir())
    webhook_url: str | None = None
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    webhook_secret: str | None = None
    operator_ids: tuple[int, ...] = ()
    link_code_ttl: timedelta = timedelta(days=7)
    conversation_ttl: timedelta = timedelta(hours=24)
    office_contact: str = ""
    # Delivery path (bot/delivery): Telegram allows about 30 messages/s in bulk; 25 leaves
    # room for interactive replies, which never queue behind the outbox.
    send_rate: float | None = 25.0  # messages per second; None: no cap
    send_concurrency: int = 16  # calls in flight, so the rate holds with slow API answers
    send_max_attempts: int = 5
    send_lease: timedelta = timedelta(seconds=60)  # a claim older than this was lost in a crash
    quiet_start: time = time(20, 0)  # non-urgent messages wait from here...
    quiet_end: time = time(9, 0)  # ...to here, in the configured time zone
    tick_seconds: float = 2.0  # the scheduler's sweep: scheduled broadcasts, progress reports
    # Payment reminders (bot/services/reminders.py): days from each due date (negative:
    # before), at this local time; the operators are alerted at `escalation_days` late.
    reminder_offsets: tuple[int, ...] = (-7, -1, 0, 3, 10)
    reminder_time: time = time(9, 30)
    escalation_days: int = 10
    last_reminder_days: int = 7  # how long the last late reminder stays worth sending
    offer_hours: int = 48  # how long a free course place is held for the next on the list
    training_target: int = 30  # the programme's target of residents enrolled in courses

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        if env is None:
            load_dotenv_file()
            env = os.environ

        def get(name: str) -> str | None:
            value = env.get(f"QMONDO_{name}", "").strip()
            return value or None

        settings = cls(
            telegram_token=get("TELEGRAM_TOKEN"),
            bot_api_url=get("BOT_API_URL") or DEFAULT_BOT_API_URL,
            bot_username=get("BOT_USERNAME"),
            database_url=get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            timezone=get("TIMEZONE") or "Europe/Rome",
            default_locale=get("DEFAULT_LOCALE") or "it",
            locales_dir=Path(get("LOCALES_DIR") or default_locales_dir()),
            webhook_url=get("WEBHOOK_URL"),
            webhook_listen=get("WEBHOOK_LISTEN") or "0.0.0.0",
            webhook_port=_int(get("WEBHOOK_PORT") or "8443", "QMONDO_WEBHOOK_PORT"),
            webhook_secret=get("WEBHOOK_SECRET"),
            operator_ids=tuple(
                _int(part, "QMONDO_OPERATOR_IDS")
                for part in (get("OPERATOR_IDS") or "").replace(";", ",").split(",")
                if part.strip()
            ),
            link_code_ttl=timedelta(
                days=_int(get("LINK_CODE_TTL_DAYS") or "7", "QMONDO_LINK_CODE_TTL_DAYS")
            ),
            office_contact=get("OFFICE_CONTACT") or "",
            send_rate=_number(get("SEND_RATE") or "25", "QMONDO_SEND_RATE") or None,
            send_concurrency=max(
                1, _int(get("SEND_CONCURRENCY") or "16", "QMONDO_SEND_CONCURRENCY")
            ),
            send_max_attempts=max(
                1, _int(get("SEND_MAX_ATTEMPTS") or "5", "QMONDO_SEND_MAX_ATTEMPTS")
            ),
            send_lease=timedelta(
                seconds=_int(get("SEND_LEASE_SECONDS") or "60", "QMONDO_SEND_LEASE_SECONDS")
            ),
            quiet_start=_time(get("QUIET_START") or "20:00", "QMONDO_QUIET_START"),
            quiet_end=_time(get("QUIET_END") or "09:00", "QMONDO_QUIET_END"),
            reminder_offsets=tuple(
                sorted(
                    {
                        _int(part, "QMONDO_REMINDER_OFFSETS")
                        for part in (get("REMINDER_OFFSETS") or "-7,-1,0,3,10").split(",")
                        if part.strip()
                    }
                )
            ),
            reminder_time=_time(get("REMINDER_TIME") or "09:30", "QMONDO_REMINDER_TIME"),
            escalation_days=_int(get("ESCALATION_DAYS") or "10", "QMONDO_ESCALATION_DAYS"),
            offer_hours=max(1, _int(get("OFFER_HOURS") or "48", "QMONDO_OFFER_HOURS")),
            training_target=_int(get("TRAINING_TARGET") or "30", "QMONDO_TRAINING_TARGET"),
        )
        try:
            settings.tz  # noqa: B018 - fail at start, not at the first reminder
        except Exception as exc:
            raise ConfigError(f"QMONDO_TIMEZONE: unknown time zone {settings.timezone!r}") from exc
        return settings


def _int(value: str, name: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise ConfigError(f"{name}: expected a whole number, got {value!r}") from None


def _number(value: str, name: str) -> float:
    try:
        number = float(value.strip())
    except ValueError:
        raise ConfigError(f"{name}: expected a number, got {value!r}") from None
    if number < 0:
        raise ConfigError(f"{name}: expected zero or more, got {value!r}")
    return number


def _time(value: str, name: str) -> time:
    try:
        return time.fromisoformat(value.strip())
    except ValueError:
        raise ConfigError(f"{name}: expected a time like 09:00, got {value!r}") from None


def default_locales_dir() -> Path:
    """The checkout's locales/ (editable install) or the installed `locales` package."""
    checkout = Path(__file__).resolve().parent.parent / "locales"
    if checkout.is_dir():
        return checkout
    import locales  # installed as a data package by pyproject.toml

    return Path(next(iter(locales.__path__)))


def load_dotenv_file() -> None:
    from dotenv import load_dotenv

    load_dotenv(Path.cwd() / ".env", override=False)
