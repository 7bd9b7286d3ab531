"""The intake form's rules, as labelled tables: phone numbers and the operator's course fields."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.services.training_forms import clean_name, course_value, normalize_phone
from tests.conftest import ROME

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=ROME)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        pytest.param("333 123 4567", "+393331234567", id="Italian mobile"),
        pytest.param("333-123-456", "+39333123456", id="Italian mobile, 9 digits"),
        pytest.param("+39 333 1234567", "+393331234567", id="Italian mobile with +39"),
        pytest.param("0039 02 1234567", "+39021234567", id="Milan landline with 0039"),
        pytest.param("02/1234567", "+39021234567", id="Milan landline"),
        pytest.param("(+212) 612.345.678", "+212612345678", id="Moroccan mobile"),
        pytest.param("+380 67 123 4567", "+380671234567", id="Ukrainian mobile"),
        pytest.param("0086 139 1234 5678", "+8613912345678", id="Chinese mobile with 00"),
        pytest.param("٣٣٣ ١٢٣ ٤٥٦٧", "+393331234567", id="Arabic-Indic digits"),
        pytest.param("০০৮৮০ ১৭১১ ২৩৪৫৬৭", "+8801711234567", id="Bengali digits"),
        pytest.param("\u200f+212 612 345 678\u200e", "+212612345678", id="direction marks"),
        pytest.param("12345", None, id="too short"),
        pytest.param("3331234", None, id="Italian mobile too short"),
        pytest.param("+39 12", None, id="+39 and too short"),
        pytest.param("+0 123 456 789", None, id="country code 0"),
        pytest.param("+1234567890123456", None, id="longer than E.164"),
        pytest.param("telefono", None, id="words"),
        pytest.param("333 12a 4567", None, id="a letter inside"),
        pytest.param("", None, id="empty"),
    ],
)
def test_phone_numbers(typed: str, stored: str | None):
    assert normalize_phone(typed) == stored


@pytest.mark.parametrize(
    ("text", "name"),
    [
        pytest.param("  Amina   Haddad ", "Amina Haddad", id="spaces tidied"),
        pytest.param("أمينة حداد", "أمينة حداد", id="Arabic script"),
        pytest.param("李伟", "李伟", id="Chinese, two characters"),
        pytest.param("A", None, id="one letter"),
        pytest.param("/start", None, id="a command"),
        pytest.param("333 123 4567", None, id="a phone number, one question early"),
        pytest.param("٣٣٣ ١٢٣", None, id="Arabic-Indic digits only"),
        pytest.param("Li 2", "Li 2", id="letters and a digit"),
    ],
)
def test_names(text: str, name: str | None):
    assert clean_name(text) == name


@pytest.mark.parametrize(
    ("field", "text", "value"),
    [
        pytest.param("title", " Cucina   base ", "Cucina base", id="title tidied"),
        pytest.param("title", "x" * 121, None, id="title too long"),
        pytest.param("description", "Riga 1\nRiga 2", "Riga 1\nRiga 2", id="description lines"),
        pytest.param("capacity", "12", 12, id="places"),
        pytest.param("capacity", "0", None, id="no places"),
        pytest.param("capacity", "501", None, id="too many places"),
        pytest.param("capacity", "dodici", None, id="places in words"),
        pytest.param(
            "starts_at", "01/12 9:30", datetime(2026, 12, 1, 9, 30, tzinfo=ROME), id="date"
        ),
        pytest.param("starts_at", "oggi 9:00", None, id="in the past"),
        pytest.param("starts_at", "31/02 9:30", None, id="no such day"),
    ],
)
def test_course_fields(field: str, text: str, value: object):
    assert course_value(field, text, NOW, ROME) == value
