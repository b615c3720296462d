"""Folding Vietnamese text for matching: no diacritics, no case, no punctuation, one spelling of i/y.

``fold("Cấp Phiếu lý lịch tư pháp")`` is ``"cap phieu li lich tu phap"``, and so is what a citizen
types on a keyboard without diacritics ("cap phieu ly lich tu phap") or with the other spelling
("lí lịch"). Unidecode does the transliteration: it maps every Vietnamese vowel with its marks to
the bare vowel and "đ" to "d" (``tests/procedures/test_fold.py`` checks each letter in both cases),
and it also flattens the odd typographic character an export carries (curly quotes, dashes, NBSP).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from unidecode import unidecode

__all__ = ["fold", "sort_key", "tokens"]

# Vietnamese alphabetical order (letters f, j, w, z only occur in loan words); tones break ties in
# the order of CLDR's Vietnamese collation: none, huyền, hỏi, ngã, sắc, nặng.
_ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_RANK = {letter: chr(0x100 + i) for i, letter in enumerate(_ALPHABET)}
_LETTER_MARKS = {"\u0306", "\u0302", "\u031b"}  # breve, circumflex, horn: part of the letter
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}
_NOT_WORD = re.compile(r"[^a-z0-9]+")
# Vietnamese writes a final "i" after a consonant either way (lý/lí, kỹ/kĩ, mỹ/mĩ, quý/quí,
# sỹ/sĩ); both sides of a match use "i". "y" alone ("y tế") and "uy", "yê" keep their "y".
_FINAL_Y = re.compile(r"^(ngh|ch|gh|gi|kh|ng|nh|ph|qu|th|tr|[bcdghklmnpqrstvx])y$")


@lru_cache(maxsize=4096)
def _fold_word(word: str) -> str:
    return _FINAL_Y.sub(r"\1i", word)


def fold(text: str) -> str:
    """Lower-case ASCII words of ``text`` separated by single spaces (empty for no words)."""
    ascii_text = unidecode(unicodedata.normalize("NFC", text)).lower()
    return " ".join(_fold_word(w) for w in _NOT_WORD.split(ascii_text) if w)


def tokens(text: str) -> list[str]:
    """The folded words of ``text``, in order."""
    folded = fold(text)
    return folded.split(" ") if folded else []


def sort_key(text: str) -> tuple[str, tuple[int, ...]]:
    """A key that sorts Vietnamese text in dictionary order: "Hoạt động" < "Hộ tịch" < "Hợp tác xã"."""
    letters, tones = [], []
    for char in unicodedata.normalize("NFC", text).lower():
        parts = unicodedata.normalize("NFD", char)
        letter = unicodedata.normalize("NFC", parts[0] + "".join(m for m in parts[1:] if m in _LETTER_MARKS))
        letters.append(_RANK.get(letter, letter))
        tones.append(max((_TONES.get(m, 0) for m in parts[1:]), default=0))
    return "".join(letters), tuple(tones)
