"""What the 7-segment display can draw, and how a ticket number is laid out on its digits (pure).

The font is gpiozero's own 7-segment font (digits, space and A B C D E F G H I J L N O P Q R S T U Y)
plus the letters it lacks, drawn the usual way for 7-segment displays, so every agency prefix shows:

====  ==========  =========================================================
char  segments    looks like
====  ==========  =========================================================
``-`` g           a dash: "----" means no citizen is being served
``_`` d           a low bar: a character nothing can draw (``#``, ``?``, ...)
``K`` a c e f g   an H with a hat and no upper-right stroke
``M`` a c e       a wide "n" with a hat (the classic 7-segment M)
``V`` c d e       a small "u" (``U`` is taken by the full U)
``W`` b d f       three strokes, the classic 7-segment W
``X`` b c e f g   the same as ``H`` (no better drawing exists)
``Z`` a b d e g   the same as ``2`` (no better drawing exists)
====  ==========  =========================================================

Lower-case letters are shown as capitals; Vietnamese letters lose their marks (``Đ`` → ``D``).
A number longer than the display keeps its last digits (they tell citizens apart) and lights the
first digit's decimal point, when one is wired, to say that something was cut: ``V1007`` on four
digits reads ``1.007``.
"""

from __future__ import annotations

import unicodedata
from importlib import resources

from gpiozero.fonts import load_font_7seg

__all__ = ["FONT", "BLANK", "IDLE", "UNKNOWN_CHAR", "cells", "text_cells"]

#: Segment states (a, b, c, d, e, f, g) per character.
FONT: dict[str, tuple[int, ...]] = {}
with resources.files("gpiozero.fonts").joinpath("7seg.txt").open() as _fh:
    FONT.update(load_font_7seg(_fh))


def _segments(lit: str) -> tuple[int, ...]:
    return tuple(int(name in lit) for name in "abcdefg")


FONT.update({
    "-": _segments("g"),
    "_": _segments("d"),
    "K": _segments("acefg"),
    "M": _segments("ace"),
    "V": _segments("cde"),
    "W": _segments("bdf"),
    "X": FONT["H"],
    "Z": FONT["2"],
})

UNKNOWN_CHAR = "_"
BLANK = " "
IDLE = "-"


def _plain(char: str) -> str:
    """One display character for any input character (capital, no diacritics, or ``_``)."""
    if char == BLANK:
        return char
    char = char.upper().replace("Đ", "D")
    char = "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))
    return char if len(char) == 1 and char in FONT else UNKNOWN_CHAR


def text_cells(text: str, width: int) -> tuple[str, ...]:
    """Words the officer reads (``NGHI``, ``----``): right-aligned, cut to ``width``."""
    chars = [_plain(c) for c in text][:width]
    return (BLANK,) * (width - len(chars)) + tuple(chars)


def cells(number: str | None, width: int, *, dp: bool = False) -> tuple[str, ...]:
    """The value of each digit for a ticket number: ``"V007"`` → ``('V', '0', '0', '7')``.

    ``None`` (nobody served) is a row of dashes. A short number is right-aligned; a long one keeps
    its last ``width`` characters and, when ``dp`` is wired, lights the first decimal point.
    """
    if number is None:
        return (IDLE,) * width
    chars = [_plain(c) for c in number.strip()]
    if len(chars) <= width:
        return (BLANK,) * (width - len(chars)) + tuple(chars)
    kept = chars[-width:]
    if dp:
        kept[0] += "."
    return tuple(kept)
