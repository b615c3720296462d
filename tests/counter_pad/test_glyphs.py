"""Ticket numbers on a 4-digit 7-segment display."""

from __future__ import annotations

from collections import Counter

import pytest

from counter_pad.glyphs import FONT, cells, text_cells


@pytest.mark.parametrize("number, expected", [
    ("V007", ("V", "0", "0", "7")),
    ("A12", (" ", "A", "1", "2")),
    ("v007", ("V", "0", "0", "7")),
    ("Đ001", ("D", "0", "0", "1")),
    ("K#01", ("K", "_", "0", "1")),
    (None, ("-", "-", "-", "-")),
])
def test_numbers_fill_the_digits(number, expected):
    """Capitals, right-aligned; Vietnamese marks dropped; undrawable characters as a low bar."""
    assert cells(number, 4) == expected


def test_a_long_number_keeps_its_last_digits_and_lights_the_dp():
    """V1007 on four digits: 1.007 with a decimal point, or 1007 without one."""
    assert cells("V1007", 4, dp=True) == ("1.", "0", "0", "7")
    assert cells("V1007", 4) == ("1", "0", "0", "7")


def test_every_agency_prefix_of_the_alphabet_is_drawn_distinctly():
    """Every letter a prefix may use has a glyph, distinct from every other letter's but X=H, Z=2."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWY"
    assert all(letter in FONT for letter in letters + "XZ-_")
    patterns = Counter(FONT[letter] for letter in letters)
    assert [letter for letter in letters if patterns[FONT[letter]] > 1] == []
    assert FONT["V"] != FONT["U"] and FONT["X"] == FONT["H"] and FONT["Z"] == FONT["2"]


def test_words_for_the_officer():
    """NGHI (tạm nghỉ) and DONG (đóng) can be drawn."""
    assert text_cells("NGHI", 4) == ("N", "G", "H", "I")
    assert text_cells("nghỉ", 4) == ("N", "G", "H", "I")
    assert text_cells("ĐÓNG", 4) == ("D", "O", "N", "G")
