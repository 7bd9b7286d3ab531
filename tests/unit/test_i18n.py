"""Language matching, right-to-left text and locale formatting, as labelled tables."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.config import default_locales_dir
from bot.i18n import FSI, PDI, RLM, Catalogs

ROME = ZoneInfo("Europe/Rome")
NBSP, NNBSP = "\u00a0", "\u202f"


@pytest.fixture(scope="module")
def catalogs() -> Catalogs:
    return Catalogs(default_locales_dir(), "it", ROME)


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("en", "en"),
        ("en-GB", "en"),
        ("pt-br", "it"),  # not carried: the default
        ("zh-hans", "zh"),
        ("zh-TW", "zh"),
        ("ar", "ar"),
        ("tl", "fil"),
        ("fil", "fil"),
        ("uk", "uk"),
        ("", "it"),
        (None, "it"),
        ("!!", "it"),
    ],
)
def test_telegram_language_tag_is_matched(catalogs: Catalogs, tag: str | None, expected: str):
    assert catalogs.match(tag) == expected


def test_all_eleven_languages_are_loaded_default_first(catalogs: Catalogs):
    assert catalogs.locales[0] == "it"
    assert sorted(catalogs.locales) == sorted(
        ["it", "en", "es", "fr", "ar", "ro", "sq", "uk", "zh", "fil", "bn"]
    )


def test_languages_are_named_in_their_own_language(catalogs: Catalogs):
    names = {code: catalogs.native_name(code) for code in catalogs.locales}
    assert names["ar"] == "العربية"
    assert names["it"] == "Italiano"
    assert names["zh"] == "中文"
    assert names["uk"] == "Українська"


def test_arabic_reads_right_to_left_with_isolated_inserts(catalogs: Catalogs):
    t = catalogs.translator("ar")
    text = t._("There is no tenant record with code {code}.", code="A101")
    assert f"{FSI}A101{PDI}" in text
    assert t.rtl and not catalogs.translator("it").rtl
    # The first strong character decides the direction in Telegram: it must be Arabic.
    first = text.lstrip(RLM)[0]
    assert "\u0600" <= first <= "\u06ff"


def test_inserted_values_are_escaped_for_telegram_html(catalogs: Catalogs):
    t = catalogs.translator("en")
    assert t._("There is no tenant record with code {code}.", code="<b>&") == (
        "There is no tenant record with code &lt;b&gt;&amp;."
    )


def test_a_rendered_sentence_inside_another_is_escaped_once(catalogs: Catalogs):
    t = catalogs.translator("en")
    inner = t._("There is no tenant record with code {code}.", code="A&B")
    line = t._("· {where}: {message}", where=t._("line {line}", line=3), message=inner)
    assert line == "· line 3: There is no tenant record with code A&amp;B."


@pytest.mark.parametrize(
    ("locale", "cents", "expected"),
    [
        ("it", 123456, f"1.234,56{NBSP}€"),
        ("en", 123456, "€1,234.56"),
        ("fr", 123456, f"1{NNBSP}234,56{NBSP}€"),
        ("es", 5000, f"50,00{NBSP}€"),
    ],
)
def test_money_is_formatted_in_the_resident_locale(
    catalogs: Catalogs, locale: str, cents: int, expected: str
):
    assert catalogs.translator(locale).money(cents) == expected


@pytest.mark.parametrize(
    ("label", "instant", "locale", "expected_date", "expected_time"),
    [
        # 17:30 UTC is 18:30 in Rome in winter (UTC+1) and 19:30 in summer (UTC+2).
        (
            "winter",
            datetime(2026, 1, 15, 17, 30, tzinfo=ZoneInfo("UTC")),
            "it",
            "giovedì 15 gennaio 2026",
            "18:30",
        ),
        (
            "summer",
            datetime(2026, 7, 15, 17, 30, tzinfo=ZoneInfo("UTC")),
            "it",
            "mercoledì 15 luglio 2026",
            "19:30",
        ),
        (
            "late night UTC is next day in Rome",
            datetime(2026, 3, 28, 23, 30, tzinfo=ZoneInfo("UTC")),
            "en",
            "Sunday, March 29, 2026",
            f"12:30{NNBSP}AM",
        ),
    ],
)
def test_dates_and_times_are_local_to_rome(
    catalogs: Catalogs,
    label: str,
    instant: datetime,
    locale: str,
    expected_date: str,
    expected_time: str,
):
    t = catalogs.translator(locale)
    assert t.date(instant) == expected_date, label
    assert t.time(instant) == expected_time, label


def test_plural_forms_follow_the_language(catalogs: Catalogs):
    en = catalogs.translator("en")
    singular = "This code is not right. Check it and try again. You have {n} try left."
    plural = "This code is not right. Check it and try again. You have {n} tries left."
    assert en.n_(singular, plural, 1).endswith("1 try left.")
    assert en.n_(singular, plural, 4).endswith("4 tries left.")
    # Every language renders a number into both forms.
    for t in catalogs.all():
        assert t.number(3) in t.n_(singular, plural, 3)


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("it", "giovedì 26 novembre 2026 18:30"),
        ("en", "Thursday, November 26, 2026, 6:30\u202fPM"),
        ("zh", "2026年11月26日星期四 18:30"),
    ],
)
def test_a_moment_is_a_full_date_with_a_short_time(
    catalogs: Catalogs, locale: str, expected: str
):
    instant = datetime(2026, 11, 26, 17, 30, tzinfo=ZoneInfo("UTC"))  # 18:30 in Rome
    assert catalogs.translator(locale).moment(instant) == expected
