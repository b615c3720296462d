"""Vietnamese readings of numbers, digits and prefix letters, against shared/CENTER.md."""

import pytest

from announcer.numbers import (LETTER_NAMES, read_digits, read_letter, read_number, read_ticket_number,
                               read_token, speak_digits_in_text)

#: Every reference reading of CENTER.md "Reading numbers aloud": number, southern, northern.
REFERENCE = [
    (5, "năm", "năm"),
    (10, "mười", "mười"),
    (11, "mười một", "mười một"),
    (15, "mười lăm", "mười lăm"),
    (21, "hai mươi mốt", "hai mươi mốt"),
    (24, "hai mươi bốn", "hai mươi bốn"),
    (25, "hai mươi lăm", "hai mươi lăm"),
    (105, "một trăm lẻ năm", "một trăm linh năm"),
    (1000, "một ngàn", "một nghìn"),
    (1005, "một ngàn không trăm lẻ năm", "một nghìn không trăm linh năm"),
    (1010, "một ngàn không trăm mười", "một nghìn không trăm mười"),
    (1023, "một ngàn không trăm hai mươi ba", "một nghìn không trăm hai mươi ba"),
    (2004, "hai ngàn không trăm lẻ bốn", "hai nghìn không trăm linh bốn"),
    (1111, "một ngàn một trăm mười một", "một nghìn một trăm mười một"),
]

#: CENTER.md's letter names for prefixes.
CENTER_LETTERS = {
    "A": "a", "B": "bê", "C": "xê", "D": "dê", "Đ": "đê", "E": "e", "G": "giê", "H": "hát", "K": "ca",
    "L": "e-lờ", "M": "em-mờ", "N": "en-nờ", "P": "pê", "Q": "quy", "S": "ét-xì", "T": "tê", "V": "vê",
    "X": "ích-xì",
}


@pytest.mark.parametrize("number, south, north", REFERENCE)
def test_reference_reading_south(number, south, north):
    """Each reference number reads as CENTER.md's southern reading (the default dialect)."""
    assert read_number(number) == south
    assert read_number(number, "south") == south


@pytest.mark.parametrize("number, south, north", REFERENCE)
def test_reference_reading_north(number, south, north):
    """Each reference number reads as CENTER.md's northern reading (linh, nghìn)."""
    assert read_number(number, "north") == north


def test_twenty_four_may_be_tu():
    """24 may be read "hai mươi tư" when asked; 14 stays "mười bốn" (tư only after twenty)."""
    assert read_number(24, four_as_tu=True) == "hai mươi tư"
    assert read_number(14, four_as_tu=True) == "mười bốn"
    assert read_number(1024, "north", four_as_tu=True) == "một nghìn không trăm hai mươi tư"


def test_1023_is_not_the_popular_library_reading():
    """1023 is never "một nghìn lẻ hai mươi ba" (the wrong reading CENTER.md warns about)."""
    assert "lẻ" not in read_number(1023) and "linh" not in read_number(1023, "north")


@pytest.mark.parametrize("number, words", [
    (0, "không"), (1, "một"), (20, "hai mươi"), (31, "ba mươi mốt"), (55, "năm mươi lăm"),
    (100, "một trăm"), (101, "một trăm lẻ một"), (110, "một trăm mười"), (115, "một trăm mười lăm"),
    (999, "chín trăm chín mươi chín"), (10000, "mười ngàn"), (100005, "một trăm ngàn không trăm lẻ năm"),
    (1000000, "một triệu"), (2000000001, "hai tỷ không trăm lẻ một"),
])
def test_more_numbers(number, words):
    """Round numbers, mốt/lăm after tens, lẻ after hundreds, large scales read the usual way."""
    assert read_number(number) == words


@pytest.mark.parametrize("bad", [-1, 1.5, True, "12", 10**12])
def test_read_number_rejects(bad):
    """Negative, fractional, boolean, textual and huge numbers are refused with ValueError."""
    with pytest.raises(ValueError):
        read_number(bad)


def test_unknown_dialect_is_refused():
    """A dialect other than south/north is a ValueError naming it."""
    with pytest.raises(ValueError, match="central"):
        read_number(5, "central")


def test_digit_by_digit():
    """Digits are read one by one: 1023 → "một không hai ba", leading zeros kept."""
    assert read_digits("1023") == "một không hai ba"
    assert read_digits("007") == "không không bảy"
    with pytest.raises(ValueError):
        read_digits("1a")


@pytest.mark.parametrize("letter, name", sorted(CENTER_LETTERS.items()))
def test_letter_names(letter, name):
    """Every prefix letter of CENTER.md has its Vietnamese name, upper or lower case."""
    assert LETTER_NAMES[letter] == name
    assert read_letter(letter.lower()) == name


@pytest.mark.parametrize("number, reading, dialect, spoken", [
    ("V007", "digits", "south", "vê không không bảy"),
    ("V007", "words", "south", "vê bảy"),
    ("A1023", "words", "south", "a một ngàn không trăm hai mươi ba"),
    ("L105", "words", "north", "e-lờ một trăm linh năm"),
    ("S021", "words", "south", "ét-xì hai mươi mốt"),
    ("X999", "digits", "north", "ích-xì chín chín chín"),
    ("1023", "digits", "south", "một không hai ba"),
])
def test_ticket_numbers(number, reading, dialect, spoken):
    """A ticket number reads its prefix by letter names and its digits as the site chooses."""
    assert read_ticket_number(number, reading, dialect) == spoken


def test_token_with_separator_and_bad_reading():
    """A dash in a counter id becomes a pause; an unknown reading mode is refused."""
    assert read_token("12-A") == "mười hai, a"
    with pytest.raises(ValueError):
        read_token("12", "roman")
    with pytest.raises(ValueError):
        read_token("--")


def test_digits_inside_free_text():
    """Digits inside a floor name are read in words, other text kept: "Tầng 1" → "Tầng một"."""
    assert speak_digits_in_text("Tầng 1") == "Tầng một"
    assert speak_digits_in_text("Tầng trệt") == "Tầng trệt"
    assert speak_digits_in_text("Lầu 1005", "north") == "Lầu một nghìn không trăm linh năm"
