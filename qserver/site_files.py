"""The files that belong to a site besides its layout, checked by ``qserver check-config`` beside it:
its procedure catalogue (``procedures/<slug>.csv``, or the built-in one) and its thermal printers
(``printers/<slug>.toml``), each problem with its file and line."""

from __future__ import annotations

import re
from pathlib import Path

from config import FileResult, Problem, Site

from .procedures import CatalogueError, catalogue_path, load_catalogue
from .printing.sites import printers_path, read_printers

__all__ = ["check_site_files"]

_LINE_RE = re.compile(r"^line (\d+)(?:, ([^:]*))?: (.*)$", re.S)


def _located(problem: Problem) -> Problem:
    """A catalogue problem "line 5, procedure 'X': ..." as a Problem with its line (``file:5: ...``)."""
    found = _LINE_RE.match(problem.message)
    if not found:
        return problem
    return Problem(problem.file, int(found.group(1)), found.group(2) or "", found.group(3))


def _shown(path: Path) -> str:
    """The path as the user would type it: relative to the working folder when it is inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def check_site_files(site: Site) -> list[FileResult]:
    """One result per file of ``site`` besides its layout (none when it has no such file)."""
    results = []
    path = catalogue_path(site)
    if path is not None:
        try:
            catalogue = load_catalogue(path, site)
        except CatalogueError as exc:
            problems = [_located(Problem(_shown(path), p.line, p.where, p.message)) for p in exc.details]
            results.append(FileResult(_shown(path), kind="catalogue", problems=problems))
        else:
            results.append(FileResult(_shown(path), kind="catalogue",
                                      ok_line=f"catalogue of site '{site.slug}', {catalogue.summary()}"))
    path = printers_path(site)
    if path is not None:
        printers, problems = read_printers(path)
        names = ", ".join(f"{name} ({settings.label if not settings.host else f'{settings.host}:{settings.port}'})"
                          for name, settings in printers.items())
        results.append(FileResult(str(path), kind="printers", problems=problems,
                                  ok_line=f"printers of site '{site.slug}': {names}"))
    return results
