"""Logging without secrets or personal data.

The token is masked in every line, tracebacks included. Libraries that log request payloads
at DEBUG (PTB logs every Bot API call with its text; httpx logs URLs, which carry the token)
are held above that level whatever level the bot runs at.
"""

from __future__ import annotations

import logging

# logger -> the most detailed level it may log at
LIBRARY_FLOORS = {
    "telegram": logging.INFO,
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "apscheduler": logging.WARNING,
    "aiosqlite": logging.INFO,
}


class RedactingFormatter(logging.Formatter):
    def __init__(self, secrets: list[str]) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.secrets = [secret for secret in secrets if secret]

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text


def limit_libraries(level: int) -> None:
    for name, floor in LIBRARY_FLOORS.items():
        logging.getLogger(name).setLevel(max(level, floor))


def setup(token: str | None, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(RedactingFormatter([token or ""]))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    limit_libraries(level)
