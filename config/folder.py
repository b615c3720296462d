"""A folder of site files, read as a whole: every ``*.toml`` below it (recursively) is a site, except
what sits in a ``_templates`` folder (templates) and anything whose name starts with ``_`` or ``.``.

Two files of one folder may not give the same slug; one that does is a problem in both files.
"""

from __future__ import annotations

import os
from pathlib import Path

from .exceptions import ConfigError, Problem
from .inherit import TEMPLATE_DIR, Templates
from .model import Site
from .site import load_site
from .source import read_doc

__all__ = ["discover", "duplicate_slug_problems", "load_folder"]


def discover(root: str | Path) -> tuple[list[Path], list[Path]]:
    """(site files, template files) under ``root``, each in path order."""
    root = Path(root)
    sites: list[Path] = []
    templates: list[Path] = []
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        in_templates = here.name == TEMPLATE_DIR and here != root
        dirs[:] = [] if in_templates else [d for d in dirs if not d.startswith((".", "_")) or d == TEMPLATE_DIR]
        for name in files:
            if name.endswith(".toml") and not name.startswith((".", "_")):
                (templates if in_templates else sites).append(here / name)
    return sorted(sites, key=lambda p: p.parts), sorted(templates, key=lambda p: p.parts)


def duplicate_slug_problems(slug: str, first: str, second: str) -> list[Problem]:
    """The same slug in the files ``first`` and ``second``: one problem in each, naming the other."""
    a, b = (first, read_doc(first).line("site", 0, "slug")), (second, read_doc(second).line("site", 0, "slug"))
    at = lambda place: f"{place[0]}:{place[1]}" if place[1] else place[0]  # noqa: E731
    return [Problem(a[0], a[1], "[site]", f"slug '{slug}' is also used by {at(b)}"),
            Problem(b[0], b[1], "[site]", f"slug '{slug}' is already used by {at(a)}")]


def load_folder(root: str | Path) -> dict[str, Site]:
    """Every site under ``root`` by slug; :class:`ConfigError` lists the problems of all its files."""
    templates = Templates(root)
    sites: dict[str, Site] = {}
    problems: list[Problem] = []
    for path in discover(root)[0]:
        try:
            site = load_site(path, templates)
        except ConfigError as exc:
            problems += exc.details
            continue
        if site.slug in sites:
            problems += duplicate_slug_problems(site.slug, sites[site.slug].source, site.source)
        else:
            sites[site.slug] = site
    if problems:  # a template's problem comes once per site that uses it: say it once
        raise ConfigError(str(root), list(dict.fromkeys(problems)))
    return sites
