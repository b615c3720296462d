"""The thermal printers the server drives for a site's kiosks: ``printers/<slug>.toml`` beside the site file.

::

    # /etc/qserver/sites/printers/cantho.toml
    [[printers]]
    name = "kiosk-1"          # a kiosk opened with /k/cantho?printer=network:kiosk-1 prints here
    host = "192.168.10.51"    # raw port 9100 (JetDirect / AppSocket)
    documents = true          # list the documents to bring under the procedure

Every other key of :class:`PrinterSettings` may be given too (``text_mode``, ``codepage``, ``width_px``
...). A kiosk names a printer; the server only ever connects to the addresses listed here (a kiosk
cannot make it connect anywhere else). Problems are :class:`config.ConfigError` with the file and line
of the printer's table, so ``qserver check-config`` explains them beside the site's own.

Imported by the server only (the kiosk PC's agent does not need it).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from config import ConfigError, Problem, Site

from .exceptions import PrinterConfigError
from .settings import PrinterSettings

__all__ = ["FOLDER", "check_printers", "load_printers", "printers_path", "read_printers"]

#: The folder beside a site file that holds its printers.
FOLDER = "printers"
_TABLE_RE = re.compile(r"^\s*\[\[\s*printers\s*\]\]")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def printers_path(site: Site) -> Path | None:
    """``printers/<slug>.toml`` in the folder of the site's file, when there is one."""
    source = Path(site.source) if site.source else None
    if source is None or not source.is_file():
        return None
    path = source.parent / FOLDER / f"{site.slug}.toml"
    return path if path.is_file() else None


def read_printers(path: str | Path) -> tuple[dict[str, PrinterSettings], list[Problem]]:
    """The printers of a file by name, and every problem of it (each with its line)."""
    path = Path(path)
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return {}, [Problem(source, None, "", f"cannot read the file: {exc}")]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        return {}, [Problem(source, int(found.group(1)) if found else None, "", f"not valid TOML: {exc}")]
    lines = [number for number, line in enumerate(text.splitlines(), 1) if _TABLE_RE.match(line)]
    problems = [Problem(source, None, "", f"unknown table or key '{key}' (a printers file has [[printers]] only)")
                for key in data if key != "printers"]
    tables = data.get("printers", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        return {}, problems + [Problem(source, None, "", "'printers' must be [[printers]] tables")]
    printers: dict[str, PrinterSettings] = {}
    first_line: dict[str, int | None] = {}
    for i, table in enumerate(tables):
        line = lines[i] if i < len(lines) else None
        name = table.get("name")
        where = f"[[printers]] #{i + 1}" + (f" (name {name!r})" if isinstance(name, str) else "")
        if not isinstance(name, str) or not _NAME_RE.match(name):
            problems.append(Problem(source, line, where, f"name = {name!r} is not a name of letters, digits and . _ - "
                                                         "(at most 64): the kiosk's ?printer=network:<name>"))
            name = None
        elif name in first_line:
            problems.append(Problem(source, line, where, f"name {name!r} is already used on line {first_line[name]}"))
            name = None
        try:
            settings = PrinterSettings.from_mapping(table, where)
        except PrinterConfigError as exc:
            problems += [Problem(source, line, where, problem) for problem in exc.problems]
            settings = None
        if settings is not None and not (settings.host or settings.device):
            problems.append(Problem(source, line, where, "set host (a network printer) or device (a printer on "
                                                         "this server's USB port)"))
            settings = None
        if name is not None:
            first_line[name] = line
            if settings is not None:
                printers[name] = settings
    if not tables:
        problems.append(Problem(source, None, "", "no [[printers]] table"))
    return printers, problems


def check_printers(path: str | Path) -> list[Problem]:
    """Every problem of a printers file; empty when it is usable."""
    return read_printers(path)[1]


def load_printers(site: Site) -> dict[str, PrinterSettings]:
    """The site's printers by name (none without a file); :class:`ConfigError` lists every problem."""
    path = printers_path(site)
    if path is None:
        return {}
    printers, problems = read_printers(path)
    if problems:
        raise ConfigError(str(path), problems)
    return printers
