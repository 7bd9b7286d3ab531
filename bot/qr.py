"""QR codes for link letters: a resident who reads little links by scanning with the camera."""

from __future__ import annotations

from io import BytesIO

import segno


def deep_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={code}"


def png(data: str) -> bytes:
    buffer = BytesIO()
    segno.make(data, error="m").save(buffer, kind="png", scale=10, border=4)
    return buffer.getvalue()
