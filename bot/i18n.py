"""Translations and locale formatting.

Catalogs are read from locales/<locale>/LC_MESSAGES/messages.po and compiled in memory at
start, so a fresh checkout needs no compile step and adding a language needs no code change.
There is no global current locale: each message is rendered with the recipient's Translator.
"""

from __future__ import annotations

import html
import logging
import string
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal
from io import BytesIO
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from babel.support import NullTranslations, Translations

log = logging.getLogger(__name__)

DOMAIN = "messages"
FSI, PDI, RLM = "\u2068", "\u2069", "\u200f"
# Telegram language tags that name a language we carry under another code.
ALIASES = {"tl": "fil"}


def N_(msgid: str) -> str:
    """Mark a module-level string for extraction; it is translated when rendered."""
    return msgid


def load_catalog(path: Path) -> Translations:
    with path.open("rb") as po:
        catalog = read_po(po, locale=path.parent.parent.name)
    buffer = BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


@dataclass(frozen=True)
class Translator:
    """Everything needed to render text for one person: language, direction, time zone."""

    locale: str
    babel_locale: Locale
    translations: NullTranslations
    tz: tzinfo

    @property
    def rtl(self) -> bool:
        return self.babel_locale.character_order == "right-to-left"

    def _(self, msgid: str, **params: object) -> str:
        """Translate, then fill named placeholders (escaped for Telegram HTML)."""
        return self._render(self.translations.gettext(msgid), msgid, params)

    def n_(self, singular: str, plural: str, n: int, **params: object) -> str:
        text = self.translations.ngettext(singular, plural, n)
        return self._render(text, singular if n == 1 else plural, {"n": self.number(n), **params})

    def _render(self, text: str, fallback: str, params: dict[str, object]) -> str:
        values = {key: self._insert(value) for key, value in params.items()}
        try:
            text = text.format(**values)
        except (KeyError, IndexError, ValueError):
            log.warning("broken placeholder in %s catalog for %r", self.locale, fallback[:40])
            text = fallback.format(**values)
        return self.leading(text)

    def leading(self, text: str) -> str:
        """Text that may begin a message. Telegram takes the direction from the first strong
        character: a right-to-left reader's text that starts in Latin letters gets an RLM."""
        if self.rtl and not _starts_rtl(text):
            text = RLM + text
        return text

    def _insert(self, value: object) -> str:
        text = html.escape(str(value), quote=False)
        # Left-to-right inserts (codes, numbers, names in Latin script) stay in place in RTL text.
        return f"{FSI}{text}{PDI}" if self.rtl else text

    # Formatting: always in the recipient's locale and the configured time zone.
    def date(self, value: date | datetime, fmt: str = "full") -> str:
        if isinstance(value, datetime):
            value = value.astimezone(self.tz)
        return format_date(value, format=fmt, locale=self.babel_locale)

    def time(self, value: datetime) -> str:
        return format_time(value, format="short", tzinfo=self.tz, locale=self.babel_locale)

    def datetime(self, value: datetime, fmt: str = "medium") -> str:
        return format_datetime(value, format=fmt, tzinfo=self.tz, locale=self.babel_locale)

    def moment(self, value: datetime) -> str:
        """A full date with a short time ("giovedì 26 novembre 2026 10:00"), the locale's way."""
        pattern = str(self.babel_locale.datetime_formats["full"]).replace("'", "")
        return pattern.format(self.time(value), self.date(value, "full"))

    def money(self, cents: int, currency: str = "EUR") -> str:
        amount = Decimal(cents) / 100
        return format_currency(amount, currency, locale=self.babel_locale)

    def number(self, value: int | Decimal) -> str:
        return format_decimal(value, locale=self.babel_locale)


def _starts_rtl(text: str) -> bool:
    for char in text:
        direction = unicodedata.bidirectional(char)
        if direction in ("R", "AL"):
            return True
        if direction == "L":
            return False
    return False


class Catalogs:
    """All languages found under locales/, with the default first."""

    def __init__(self, locales_dir: Path, default_locale: str, tz: tzinfo) -> None:
        self.tz = tz
        found = {
            po.parent.parent.name: po
            for po in sorted(locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
        }
        if default_locale not in found:
            raise FileNotFoundError(f"no catalog for the default locale {default_locale!r}")
        self.default = default_locale
        self.locales = [default_locale, *sorted(code for code in found if code != default_locale)]
        self._translators = {
            code: Translator(code, Locale.parse(code), load_catalog(found[code]), tz)
            for code in self.locales
        }

    def translator(self, locale: str | None) -> Translator:
        return self._translators.get(locale or "", self._translators[self.default])

    def all(self) -> list[Translator]:
        return [self._translators[code] for code in self.locales]

    def native_name(self, locale: str) -> str:
        name = Locale.parse(locale).get_display_name(locale) or locale
        return name[:1].upper() + name[1:]

    def match(self, language_tag: str | None) -> str:
        """Our locale for a Telegram language_code (an IETF tag such as pt-br or zh-hans)."""
        if not language_tag:
            return self.default
        try:
            parsed = Locale.parse(language_tag.replace("_", "-"), sep="-")
            candidates = [str(parsed), parsed.language]
        except (ValueError, UnknownLocaleError):
            candidates = [language_tag.split("-")[0].lower()]
        for code in candidates:
            code = ALIASES.get(code, code)
            if code in self._translators:
                return code
        return self.default


def placeholders(text: str) -> set[str]:
    """The named {placeholders} of a message, for the catalog completeness check."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}
