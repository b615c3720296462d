"""Load a site's procedure catalogue from the CSV or JSON file a center exports, validating every row.

Columns (CSV header, or keys of each JSON object; see docs/procedures.md):

=================  ==========================================================================
code               mã thủ tục — unique; letters, digits and ``. _ / -`` (e.g. ``1.001756``)
name               tên thủ tục
agency             the agency's slug in the site file (``so-tu-phap``) or its exact name ("Sở Tư pháp")
field              lĩnh vực ("Lý lịch tư pháp")
documents          thành phần hồ sơ — in CSV one cell, items separated by ``|`` or by line breaks
                   inside the quoted cell; in JSON a list of strings
processing_time    thời hạn giải quyết, free text ("10 ngày làm việc")
fee                phí, lệ phí, free text ("200.000 đồng/lần", "Không")
online             can be filed online: có/không, yes/no, true/false, 1/0 (JSON: also true/false)
keywords           optional: other words people use, separated like documents ("bằng lái")
note               optional: free text
=================  ==========================================================================

Vietnamese headers are accepted too ("Mã thủ tục", "Tên thủ tục", "Cơ quan", "Lĩnh vực", "Thành
phần hồ sơ", "Thời hạn giải quyết", "Phí, lệ phí", "Trực tuyến", "Từ khóa", "Ghi chú"); other
columns are ignored. CSV is UTF-8 (a BOM is fine), separated by commas, semicolons or tabs
(whichever the header line has most of); a line starting with ``#`` before the header, or a row
whose first cell starts with ``#``, is a comment. JSON is a list of objects or
``{"procedures": [...]}``.

Validation collects every problem with its line (``line 14, procedure '1.001756': unknown agency
'so-tuphap' (did you mean 'so-tu-phap'?)``) and raises :class:`CatalogueError` listing them all.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any, Iterable

from rapidfuzz import fuzz, process

from config import BUILTIN_SITES_DIR, Site

from .exceptions import CatalogueError
from .fold import fold
from .model import Catalogue, Procedure

__all__ = [
    "BUILTIN_CATALOGUE_DIR", "COLUMNS", "check_catalogue", "find_catalogue", "load_catalogue",
    "load_site_catalogue", "parse_catalogue",
]

BUILTIN_CATALOGUE_DIR = BUILTIN_SITES_DIR.parent / "procedures"
REQUIRED = ("code", "name", "agency", "field", "documents", "processing_time", "fee", "online")
COLUMNS = REQUIRED + ("keywords", "note")
_HEADER_NAMES = {fold(c): c for c in COLUMNS} | {fold(vi): c for vi, c in (
    ("mã thủ tục", "code"), ("mã", "code"), ("tên thủ tục", "name"), ("tên", "name"),
    ("cơ quan", "agency"), ("cơ quan thực hiện", "agency"), ("lĩnh vực", "field"),
    ("thành phần hồ sơ", "documents"), ("hồ sơ", "documents"), ("thời hạn giải quyết", "processing_time"),
    ("thời gian giải quyết", "processing_time"), ("phí, lệ phí", "fee"), ("lệ phí", "fee"), ("phí", "fee"),
    ("trực tuyến", "online"), ("từ khóa", "keywords"), ("ghi chú", "note"),
)}
_TRUE = {"co", "yes", "true", "1", "x"}
_FALSE = {"khong", "no", "false", "0"}
_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")
_ITEM_SPLIT = re.compile(r"\s*(?:\||\r?\n)\s*")


def find_catalogue(site_slug: str, *directories: str | Path) -> Path | None:
    """``{slug}.csv`` or ``{slug}.json`` in the last of ``directories`` (then the built-in folder) that has one."""
    for directory in (*reversed([Path(d) for d in directories]), BUILTIN_CATALOGUE_DIR):
        for suffix in (".csv", ".json"):
            candidate = directory / f"{site_slug}{suffix}"
            if candidate.is_file():
                return candidate
    return None


def load_site_catalogue(site: Site, *directories: str | Path) -> Catalogue:
    """The site's catalogue (see :func:`find_catalogue`), or an empty one when it has none."""
    path = find_catalogue(site.slug, *directories)
    return load_catalogue(path, site) if path else Catalogue(site.slug)


def load_catalogue(path: str | Path, site: Site) -> Catalogue:
    """Read and validate a ``.csv`` or ``.json`` catalogue; raises :class:`CatalogueError` listing every problem."""
    path = Path(path)
    kind = path.suffix.lower().lstrip(".")
    if kind not in ("csv", "json"):
        raise CatalogueError(str(path), [f"'{path.name}' is not a .csv or .json file"])
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise CatalogueError(str(path), [f"cannot read the file: {exc.strerror}"]) from exc
    except UnicodeDecodeError as exc:
        raise CatalogueError(str(path), [f"not UTF-8 text (byte {exc.start}): save it as UTF-8"]) from exc
    return parse_catalogue(text, site, kind=kind, source=str(path))


def check_catalogue(path: str | Path, site: Site) -> list[str]:
    """Every problem of a catalogue file, each with its line; empty when the file is usable."""
    try:
        load_catalogue(path, site)
    except CatalogueError as exc:
        return list(exc.problems)
    return []


def parse_catalogue(text: str, site: Site, *, kind: str = "csv", source: str = "<string>") -> Catalogue:
    """Validate the text of a catalogue (``kind`` "csv" or "json") for ``site``."""
    checker = _Checker(site, source)
    rows = _csv_rows(text, checker) if kind == "csv" else _json_rows(text, checker)
    procedures = [p for p in (checker.procedure(raw, line) for line, raw in rows) if p is not None]
    if not procedures and not checker.problems:
        checker.problems.append("the catalogue has no procedures")
    if checker.problems:
        raise CatalogueError(source, checker.problems)
    return Catalogue(site.slug, tuple(procedures), source)


def _csv_rows(text: str, checker: _Checker) -> Iterable[tuple[int, dict[str, Any]]]:
    lines = text.splitlines(keepends=True)
    start = 0
    while start < len(lines) and (not lines[start].strip() or lines[start].lstrip().startswith("#")):
        start += 1
    if start == len(lines):
        return
    header_line = lines[start]
    delimiter = max(",;\t", key=header_line.count)  # "Phí, lệ phí" may sit in a ;-separated header
    reader = csv.reader(lines[start:], delimiter=delimiter)
    header = next(reader)
    columns = []
    for cell in header:
        column = _HEADER_NAMES.get(fold(cell))
        if column is not None and column in columns:
            checker.problems.append(f"line {start + 1}: column '{column}' appears twice in the header")
        columns.append(column)
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        checker.problems.append(f"line {start + 1}: the header lacks column(s) {', '.join(missing)} "
                                f"(needed: {', '.join(REQUIRED)})")
        return
    ended = reader.line_num
    for cells in reader:
        line, ended = start + ended + 1, reader.line_num
        if not any(c.strip() for c in cells) or cells[0].lstrip().startswith("#"):
            continue
        if len(cells) > len(columns) and any(c.strip() for c in cells[len(columns):]):
            checker.problems.append(f"line {line}: {len(cells)} cells but the header has {len(columns)} "
                                    "(a comma inside a cell needs the cell in double quotes)")
            continue
        yield line, {c: v for c, v in zip(columns, cells) if c is not None}


def _json_rows(text: str, checker: _Checker) -> Iterable[tuple[int, dict[str, Any]]]:
    decoder = json.JSONDecoder()
    try:
        whole = json.loads(text)
    except json.JSONDecodeError as exc:
        checker.problems.append(f"line {exc.lineno}: not valid JSON: {exc.msg}")
        return
    if isinstance(whole, dict) and isinstance(whole.get("procedures"), list):
        match = re.search(r'"procedures"\s*:\s*\[', text)
        index = match.end() if match else 0
    elif isinstance(whole, list):
        index = text.index("[") + 1
    else:
        checker.problems.append('line 1: expected a list of procedures or {"procedures": [...]}')
        return
    # Walk the array element by element so each record keeps the line it starts on.
    while True:
        while index < len(text) and text[index] in " \t\r\n,":
            index += 1
        if index >= len(text) or text[index] == "]":
            return
        line = text.count("\n", 0, index) + 1
        item, index = decoder.raw_decode(text, index)
        if not isinstance(item, dict):
            checker.problems.append(f"line {line}: a procedure must be an object, not {item!r}")
            continue
        yield line, item


class _Checker:
    """Turns raw rows into procedures, recording every problem instead of stopping at the first."""

    def __init__(self, site: Site, source: str):
        self.site, self.source = site, source
        self.problems: list[str] = []
        self.first_line_of: dict[str, int] = {}
        self.agency_by_name = {fold(a.name): a.slug for a in site.agencies}

    def procedure(self, raw: dict[str, Any], line: int) -> Procedure | None:
        code = raw.get("code")
        place = f"line {line}, procedure '{code.strip()}'" if isinstance(code, str) and code.strip() \
            else f"line {line}"
        before = len(self.problems)
        values = {name: self.text(raw, name, place) for name in ("code", "name", "agency", "field",
                                                                  "processing_time", "fee")}
        code, agency = values["code"], values["agency"]
        if code is not None:
            if not _CODE_RE.match(code):
                self.problem(place, f"code {code!r} is not letters, digits and . _ / - (at most 64)")
            elif code in self.first_line_of:
                self.problem(place, f"code '{code}' is already used on line {self.first_line_of[code]}")
            else:
                self.first_line_of[code] = line
        if agency is not None:
            agency = self.agency(agency, place)
        documents = self.items(raw, "documents", place, required=True)
        keywords = self.items(raw, "keywords", place, required=False)
        online = self.boolean(raw, "online", place)
        note = raw.get("note", "")
        if not isinstance(note, str):
            self.problem(place, f"note = {note!r} is not text")
        if len(self.problems) > before:
            return None
        return Procedure(code=code, name=values["name"], agency=agency, field=values["field"],
                         documents=documents, processing_time=values["processing_time"], fee=values["fee"],
                         online=online, keywords=keywords, note=note.strip(), line=line)

    def problem(self, place: str, message: str) -> None:
        self.problems.append(f"{place}: {message}")

    def text(self, raw: dict[str, Any], name: str, place: str) -> str | None:
        if name not in raw:
            self.problem(place, f"'{name}' is missing")
            return None
        value = raw[name]
        if not isinstance(value, str):
            self.problem(place, f"{name} = {value!r} is not text")
            return None
        value = " ".join(value.split())
        if not value:
            self.problem(place, f"{name} is empty")
            return None
        return value

    def items(self, raw: dict[str, Any], name: str, place: str, *, required: bool) -> tuple[str, ...]:
        value = raw.get(name, [] if not required else None)
        if value is None:
            self.problem(place, f"'{name}' is missing")
            return ()
        if isinstance(value, str):
            value = _ITEM_SPLIT.split(value)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(place, f"{name} = {value!r} is not a list of text")
            return ()
        result = tuple(" ".join(v.split()) for v in value if v.strip())
        if required and not result:
            self.problem(place, f"{name} is empty (list at least one item, separated by |)")
        return result

    def boolean(self, raw: dict[str, Any], name: str, place: str) -> bool:
        if name not in raw:
            self.problem(place, f"'{name}' is missing")
            return False
        value = raw[name]
        if isinstance(value, bool):
            return value
        word = fold(value) if isinstance(value, str) else None
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        what = f"{name} is empty" if word == "" else f"{name} = {value!r} is not yes or no"
        self.problem(place, f"{what} (use có/không, yes/no, true/false or 1/0)")
        return False

    def agency(self, value: str, place: str) -> str | None:
        if value in self.site.agency_by_slug:
            return value
        slug = self.agency_by_name.get(fold(value))
        if slug:
            return slug
        known = list(self.site.agency_by_slug)
        guess = process.extractOne(value, known, scorer=fuzz.ratio, score_cutoff=80)
        hint = f" (did you mean '{guess[0]}'?)" if guess else ""
        self.problem(place, f"unknown agency '{value}': not an agency of site '{self.site.slug}'{hint}")
        return None
