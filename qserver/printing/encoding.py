"""Vietnamese text as bytes for a printer's own font (text mode).

CP1258 (Windows Vietnamese) holds the base letters with their shape marks (ă â ê ô ơ ư đ) and the
five tones only as combining marks, so "ệ" is sent as "ê" + combining dot below — Python's cp1258
codec refuses the precomposed letter. Printers that have the code page (Epson: ESC t 52; others
differ, hence a setting) print it right. "ascii" drops the marks: readable, but not right, for a
printer with no Vietnamese at all (raster mode is the better choice there).
"""

from __future__ import annotations

import unicodedata

from unidecode import unidecode

__all__ = ["encode_text"]

_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def _cp1258(char: str) -> bytes:
    try:
        return char.encode("cp1258")
    except UnicodeEncodeError:
        pass
    parts = unicodedata.normalize("NFD", char)
    base = unicodedata.normalize("NFC", "".join(p for p in parts if p not in _TONES))
    tones = "".join(p for p in parts if p in _TONES)
    try:
        return (base + tones).encode("cp1258")
    except UnicodeEncodeError:
        return unidecode(char).encode("ascii", errors="replace") or b"?"


def encode_text(text: str, encoding: str = "cp1258") -> bytes:
    """``text`` as the printer's bytes in ``encoding`` ("cp1258" or "ascii")."""
    text = unicodedata.normalize("NFC", text)
    if encoding == "ascii":
        return unidecode(text).encode("ascii", errors="replace")
    return b"".join(_cp1258(char) for char in text)
