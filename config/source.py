"""A TOML file as read, and the tables of a site that remember which file gave each key.

Lines are found only when a problem needs one: a one-pass scan of the text maps every table header
(``[hours]``, the 3rd ``[[counters]]``) and every ``key =`` under it to its line. That is a locator,
not a parser; when it cannot tell (a key inside an inline table), the table's header line is used.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .exceptions import Problem

__all__ = ["Doc", "Node", "read_doc"]

_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.-]+)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r'^\s*([A-Za-z0-9_-]+|"[^"]*")\s*=')
_TOML_AT = re.compile(r"\(at line (\d+), column \d+\)")
ARRAYS = ("floors", "agencies", "counters")


class Doc:
    """One file: its path as shown in messages, its text, its data or the reason it has none."""

    def __init__(self, path: str, text: str):
        self.path, self.text = path, text
        self.raw: dict[str, Any] = {}
        self.problem: Problem | None = None
        try:
            self.raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            match = _TOML_AT.search(str(exc))
            self.problem = Problem(path, int(match.group(1)) if match else None, "", f"not valid TOML: {exc}")
        self._lines: dict[tuple, int] | None = None

    @classmethod
    def unreadable(cls, path: str, reason: str) -> Doc:
        doc = cls(path, "")
        doc.problem = Problem(path, None, "", f"cannot read the file: {reason}")
        return doc

    def line(self, section: str, index: int = 0, key: str | None = None) -> int | None:
        """Line (1-based) of ``key`` in the ``index``-th ``[section]``/``[[section]]``, else of its header."""
        if self._lines is None:
            self._lines = self._scan()
        if key is not None and (section, index, key) in self._lines:
            return self._lines[section, index, key]
        return self._lines.get((section, index))

    def _scan(self) -> dict[tuple, int]:
        found: dict[tuple, int] = {}
        seen: dict[str, int] = {}
        section, index = "", 0
        for number, text in enumerate(self.text.splitlines(), 1):
            header = _HEADER.match(text)
            if header:
                section = header.group(2)
                index = seen[section] = seen.get(section, -1) + 1 if header.group(1) == "[[" else 0
                found.setdefault((section, index), number)
                continue
            key = _KEY.match(text)
            if key:
                found.setdefault((section, index, key.group(1).strip('"')), number)
        return found


def read_doc(path: str | Path) -> Doc:
    """The file at ``path``; a file that cannot be read is a :class:`Doc` whose ``problem`` says why."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        return Doc.unreadable(str(path), exc.strerror or str(exc))
    except UnicodeDecodeError as exc:
        return Doc.unreadable(str(path), f"not UTF-8 text ({exc.reason} at byte {exc.start})")
    return Doc(str(path), text)


@dataclass
class Node:
    """A table or an array item of a site, after its template: which file introduced it (``doc``, and
    its position ``index`` there) and which keys another file gave (``keys_from``)."""

    section: str
    data: dict[str, Any]
    doc: Doc
    index: int = 0
    label: str = ""
    keys_from: dict[str, tuple[Doc, int]] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)

    def origin(self, key: str | None = None) -> tuple[Doc, int]:
        return self.keys_from.get(key, (self.doc, self.index)) if key is not None else (self.doc, self.index)

    def problem(self, message: str, key: str | None = None) -> Problem:
        """``message`` placed at ``key`` (or at the table itself) in the file that gave it."""
        doc, index = self.origin(key)
        many = self.section in ARRAYS
        where = f"[[{self.section}]] #{index + 1}" if many else f"[{self.section}]"
        if self.label:
            where += f" ({self.label})"
        return Problem(doc.path, doc.line(self.section, index, key), where, message)
