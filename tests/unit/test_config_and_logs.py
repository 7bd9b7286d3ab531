"""Settings from the environment, and logs that never carry the token."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from bot.config import ConfigError, Settings
from bot.logs import RedactingFormatter


def test_settings_read_qmondo_variables():
    settings = Settings.from_env(
        {
            "QMONDO_TELEGRAM_TOKEN": "1:abc",
            "QMONDO_DATABASE_URL": "postgresql://u@h/db",
            "QMONDO_OPERATOR_IDS": "11, 22;33",
            "QMONDO_LINK_CODE_TTL_DAYS": "3",
            "QMONDO_DEFAULT_LOCALE": "en",
        }
    )
    assert settings.telegram_token == "1:abc"
    assert settings.operator_ids == (11, 22, 33)
    assert settings.link_code_ttl == timedelta(days=3)
    assert settings.default_locale == "en"
    assert settings.timezone == "Europe/Rome"


def test_defaults_need_nothing():
    settings = Settings.from_env({})
    assert settings.telegram_token is None
    assert settings.database_url.startswith("sqlite:///")
    assert settings.default_locale == "it"


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"QMONDO_OPERATOR_IDS": "12,abc"}, "QMONDO_OPERATOR_IDS"),
        ({"QMONDO_WEBHOOK_PORT": "http"}, "QMONDO_WEBHOOK_PORT"),
        ({"QMONDO_TIMEZONE": "Mars/Olympus"}, "QMONDO_TIMEZONE"),
    ],
)
def test_malformed_settings_name_the_variable(env: dict[str, str], names: str):
    with pytest.raises(ConfigError, match=names):
        Settings.from_env(env)


def test_token_never_reaches_the_log_even_in_tracebacks():
    token = "987654:SECRET-token"
    formatter = RedactingFormatter([token])
    try:
        raise RuntimeError(f"POST https://api.telegram.org/bot{token}/getMe failed")
    except RuntimeError as exc:
        record = logging.LogRecord(
            "x",
            logging.ERROR,
            __file__,
            1,
            "calling %s",
            (token,),
            (type(exc), exc, exc.__traceback__),
        )
    line = formatter.format(record)
    assert token not in line
    assert "***" in line and "getMe failed" in line
