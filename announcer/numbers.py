"""Vietnamese readings of numbers, digits and ticket-number letters — pure functions.

Reference readings are in shared/CENTER.md ("Reading numbers aloud"). Two dialects:

- ``south`` (Cần Thơ, the default): *lẻ* for a zero tens digit (105 một trăm lẻ năm), *ngàn* for 1000;
- ``north``: *linh* and *nghìn*.

Both use *mốt* for a final 1 after twenty (21 hai mươi mốt), *lăm* for a final 5 after ten (15 mười
lăm, 25 hai mươi lăm) and *không trăm* for an inner group under a hundred (1023 một ngàn không trăm
hai mươi ba — a popular library says "một nghìn lẻ hai mươi ba", which is wrong). *tư* for a final 4
after twenty (24 hai mươi tư) is an option of either dialect, off by default.
"""

from __future__ import annotations

import re

__all__ = [
    "DIALECTS", "DIGITS", "LETTER_NAMES", "read_digits", "read_letter", "read_number",
    "read_ticket_number", "read_token", "speak_digits_in_text",
]

DIALECTS = ("south", "north")

DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")

#: Vietnamese names of the letters used in ticket prefixes (CENTER.md), plus the other Latin and
#: Vietnamese letters so that no configured prefix is ever spelled the English way.
LETTER_NAMES = {
    "A": "a", "Ă": "á", "Â": "ớ", "B": "bê", "C": "xê", "D": "dê", "Đ": "đê", "E": "e", "Ê": "ê",
    "G": "giê", "H": "hát", "I": "i", "K": "ca", "L": "e-lờ", "M": "em-mờ", "N": "en-nờ", "O": "o",
    "Ô": "ô", "Ơ": "ơ", "P": "pê", "Q": "quy", "R": "e-rờ", "S": "ét-xì", "T": "tê", "U": "u",
    "Ư": "ư", "V": "vê", "X": "ích-xì", "Y": "i dài",
    # Not Vietnamese letters, but possible in a prefix: their usual Vietnamese names.
    "F": "ép", "J": "gi", "W": "vê kép", "Z": "dét",
}

_WORDS = {
    "south": {"zero_tens": "lẻ", "thousand": "ngàn"},
    "north": {"zero_tens": "linh", "thousand": "nghìn"},
}
_TOKEN_RE = re.compile(r"\d+|[^\W\d_]+|[^\w\s]+|\s+|_+")


def _check_dialect(dialect: str) -> dict[str, str]:
    try:
        return _WORDS[dialect]
    except KeyError:
        raise ValueError(f"dialect {dialect!r} is not one of {', '.join(DIALECTS)}") from None


def _tens_and_units(n: int, *, four_as_tu: bool) -> list[str]:
    """Words for 1..99 (never called with 0)."""
    tens, unit = divmod(n, 10)
    if tens == 0:
        return [DIGITS[unit]]
    words = ["mười"] if tens == 1 else [DIGITS[tens], "mươi"]
    if unit == 0:
        return words
    if unit == 5:
        words.append("lăm")
    elif unit == 1 and tens >= 2:
        words.append("mốt")
    elif unit == 4 and tens >= 2 and four_as_tu:
        words.append("tư")
    else:
        words.append(DIGITS[unit])
    return words


def _group(n: int, *, full: bool, zero_tens: str, four_as_tu: bool) -> list[str]:
    """Words for a three-digit group 1..999; ``full`` reads the hundreds even when zero."""
    hundreds, rest = divmod(n, 100)
    words: list[str] = []
    if hundreds or full:
        words += [DIGITS[hundreds], "trăm"]
        if 0 < rest < 10:
            return words + [zero_tens, DIGITS[rest]]
    if rest:
        words += _tens_and_units(rest, four_as_tu=four_as_tu)
    return words


def read_number(n: int, dialect: str = "south", *, four_as_tu: bool = False) -> str:
    """A whole number ≥ 0 in Vietnamese words: 1023 → "một ngàn không trăm hai mươi ba"."""
    words_for = _check_dialect(dialect)
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"cannot read {n!r}: a whole number ≥ 0 is needed")
    if n == 0:
        return DIGITS[0]
    if n >= 10**12:
        raise ValueError(f"cannot read {n}: numbers from a million million up are not supported")
    scales = ("", words_for["thousand"], "triệu", "tỷ")
    groups: list[int] = []
    while n:
        n, group = divmod(n, 1000)
        groups.append(group)
    words: list[str] = []
    for index in range(len(groups) - 1, -1, -1):
        if groups[index]:
            words += _group(groups[index], full=bool(words), zero_tens=words_for["zero_tens"],
                            four_as_tu=four_as_tu)
            if index:
                words.append(scales[index])
    return " ".join(words)


def read_digits(digits: str) -> str:
    """Digit by digit: "1023" → "một không hai ba"."""
    if not digits or not digits.isascii() or not digits.isdigit():
        raise ValueError(f"{digits!r} is not a string of digits")
    return " ".join(DIGITS[int(d)] for d in digits)


def read_letter(letter: str) -> str:
    """The Vietnamese name of one letter: "V" → "vê"; unknown letters are returned lower-cased."""
    return LETTER_NAMES.get(letter.upper(), letter.lower())


def read_token(token: str, reading: str = "words", dialect: str = "south", *,
               four_as_tu: bool = False) -> str:
    """A ticket number or counter id read aloud: letters by name, digit runs per ``reading``.

    ``reading`` is ``"digits"`` (V007 → "vê không không bảy") or ``"words"`` (V007 → "vê bảy",
    1023 → "một ngàn không trăm hai mươi ba"). Other characters (a dash) become a short pause.
    """
    if reading not in ("digits", "words"):
        raise ValueError(f"number reading {reading!r} is not 'digits' or 'words'")
    _check_dialect(dialect)
    words: list[str] = []
    for part in _TOKEN_RE.findall(token.strip()):
        if part.isdigit() and part.isascii():
            if reading == "digits":
                words.append(read_digits(part))
            else:
                words.append(read_number(int(part), dialect, four_as_tu=four_as_tu))
        elif part.isalpha():
            words += [read_letter(letter) for letter in part]
        elif part.strip() and words:
            words[-1] += ","
    text = " ".join(words).rstrip(",")
    if not text:
        raise ValueError(f"{token!r} has nothing to read aloud")
    return text


def read_ticket_number(number: str, reading: str = "digits", dialect: str = "south", *,
                       four_as_tu: bool = False) -> str:
    """A ticket number such as "V007" read as the site chooses (see :func:`read_token`)."""
    return read_token(number, reading, dialect, four_as_tu=four_as_tu)


def speak_digits_in_text(text: str, dialect: str = "south") -> str:
    """Free text (a floor name, "Tầng 1") with every run of digits read in words ("Tầng một")."""
    return re.sub(r"\d+", lambda m: read_number(int(m.group()), dialect), text)
