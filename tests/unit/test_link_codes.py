"""How typed link codes are read: forgiving of spaces, dashes and case; strict about the rest."""

from __future__ import annotations

import pytest

from bot.services.linking import ALPHABET, normalize


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("ABCD2345", "ABCD2345"),
        ("abcd-2345", "ABCD2345"),
        (" ab cd 23 45 ", "ABCD2345"),
        ("ABCD234", None),  # too short
        ("ABCD23456", None),  # too long
        ("ABCD0345", None),  # 0 is not in the alphabet (looks like O)
        ("ABCDI345", None),  # I is not in the alphabet (looks like 1)
        ("", None),
        ("ciao come stai", None),
    ],
)
def test_typed_codes_are_normalized(typed: str, expected: str | None):
    assert normalize(typed) == expected


def test_alphabet_has_no_look_alikes():
    assert not set("01OIL") & set(ALPHABET)
    assert len(set(ALPHABET)) == len(ALPHABET) == 31
