"""One site file read and validated: :func:`load_site` and :func:`parse_site`.

Validation collects every problem with its place in the file (``line 212, [[counters]] #12 (id
"12"): unknown agency 'so-xyz'``) so ``qserver check-config`` can explain them all at once. A file
may name a template (``[site] template = "commune"``, see :mod:`config.inherit`); a problem that
comes from the template names the template's file and line.
"""

from __future__ import annotations

from pathlib import Path

from .exceptions import ConfigError
from .inherit import Templates, layout_of
from .model import Agency, Announce, Counter, Floor, Site
from .source import Doc, read_doc
from .validate import WEEKDAYS, Validator

__all__ = [
    "Agency", "Announce", "ConfigError", "Counter", "Floor", "Site", "WEEKDAYS", "load_site", "parse_site",
    "site_of",
]


def load_site(path: str | Path, templates: Templates | None = None) -> Site:
    """Read and validate one site file; raises :class:`ConfigError` listing every problem.

    ``templates`` shares template reads between the files of one folder (and bounds the search).
    """
    return site_of(read_doc(path), templates)


def parse_site(text: str, source: str = "<string>", templates: Templates | None = None) -> Site:
    """Validate the TOML text of one site (a template it names is looked up beside ``source``)."""
    return site_of(Doc(source, text), templates)


def site_of(doc: Doc, templates: Templates | None = None) -> Site:
    if doc.problem is not None:
        raise ConfigError(doc.path, [doc.problem])
    return Validator(layout_of(doc, templates or Templates())).site()
