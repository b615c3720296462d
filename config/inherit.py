"""Templates: a site file that says ``template = "commune"`` in ``[site]`` gets every table and key it
does not give itself from ``_templates/commune.toml``, the nearest such file in the site's folder or a
folder above it (not above the folder being loaded). ``template = "../../sites/cantho.toml"`` (a path
ending in ``.toml``) names one file instead, relative to the site file.

How the two files combine (docs/deploy-city.md says the same for people writing them):

- ``[site]``, ``[hours]``, ``[announce]``, ``[online]``, ``[appointments]``, ``[webhook]``: key by key, the site's value wins (``sat = [...]`` in the
  site adds Saturday to the template's weekdays; ``mon = []`` closes Monday).
- ``[[floors]]``, ``[[counters]]``: the site's list, when it has one, replaces the template's.
- ``[[agencies]]``: the template's, in its order; a site entry with the same slug changes only the keys
  it gives, one with a new slug is added, and ``drop_agencies = [...]`` in ``[site]`` removes some.

A file inside a ``_templates`` folder is a template: it may not hold ``slug`` or ``name`` (they belong
to one site), and no template may name a template of its own.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from .exceptions import Problem
from .source import ARRAYS, Doc, Node, read_doc

__all__ = ["TEMPLATE_DIR", "Layout", "Templates", "layout_of"]

TEMPLATE_DIR = "_templates"
TABLES = ("site", "hours", "announce", "online", "appointments", "webhook")
SECTIONS = (*TABLES, *ARRAYS)
SITE_ONLY = ("template", "drop_agencies")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


@dataclass
class Layout:
    """The tables of one site with its template applied, and the problems found while applying it.

    ``usable`` is False when the template could not be had at all (missing, unreadable, not TOML):
    the site's own tables are then not worth checking one by one.
    """

    doc: Doc
    template: Doc | None = None
    template_name: str = ""
    tables: dict[str, Node] = field(default_factory=dict)
    arrays: dict[str, list[Node] | None] = field(default_factory=dict)
    drop_agencies: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    usable: bool = True

    def nodes(self) -> Iterator[Node]:
        yield from self.tables.values()
        for items in self.arrays.values():
            yield from items or ()


class Templates:
    """Finds and reads templates for one load, each file once: 1,000 communes share one parse."""

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root).resolve() if root is not None else None
        self._docs: dict[Path, Doc] = {}
        self._found: dict[tuple[Path, str], Path | None] = {}
        self.uses: dict[Path, int] = {}  # resolved template path -> how many site files named it

    def find(self, name: str, site_path: str) -> tuple[Path | None, str]:
        """The template file for ``name`` as used by the site at ``site_path``, or (None, why not)."""
        folder = Path(site_path).parent
        if name.endswith(".toml"):
            path = folder / name
            if not path.is_file():
                return None, f"template {name!r} does not exist ({path})"
            self._count(path)
            return path, ""
        if not NAME_RE.match(name):
            return None, (f"template {name!r} is neither a template name (a-z, 0-9, -, _) "
                          "nor a path to a .toml file")
        start = folder.resolve()
        if (start, name) not in self._found:
            self._found[start, name] = self._search(start, name)
        found = self._found[start, name]
        if found is None:
            if self.root is None:
                above = " nor in any folder above it"
            else:
                above = f" nor above it up to {_shown(self.root, site_path)}" if self.root != start else ""
            return None, f"unknown template {name!r}: no {TEMPLATE_DIR}/{name}.toml in {folder or '.'}{above}"
        self._count(found)
        return Path(_shown(found, site_path)), ""

    def _count(self, path: Path) -> None:
        key = path.resolve()
        self.uses[key] = self.uses.get(key, 0) + 1

    def _search(self, folder: Path, name: str) -> Path | None:
        while True:
            candidate = folder / TEMPLATE_DIR / f"{name}.toml"
            if candidate.is_file():
                return candidate
            if folder == self.root or folder.parent == folder:
                return None
            folder = folder.parent

    def doc(self, path: Path) -> Doc:
        key = path.resolve()
        if key not in self._docs:
            self._docs[key] = read_doc(path)
        return self._docs[key]


def _shown(path: Path, like: str) -> str:
    """``path`` relative to the working folder when the site's own path was relative."""
    return str(path) if Path(like).is_absolute() else os.path.relpath(path)


def is_template_file(path: str | Path) -> bool:
    return Path(path).parent.name == TEMPLATE_DIR


def layout_of(doc: Doc, templates: Templates, template: Doc | None = None) -> Layout:
    """Apply the template ``doc`` names (or ``template``, for checking a template on its own)."""
    layout = Layout(doc)
    own_head = doc.raw.get("site")
    name = own_head.get("template") if isinstance(own_head, dict) else None
    site_node = Node("site", own_head if isinstance(own_head, dict) else {}, doc)
    if template is None and name is not None:
        if not isinstance(name, str) or not name:
            layout.problems.append(site_node.problem(f"'template' = {name!r} is not a template name", "template"))
            layout.usable = False
            return layout
        path, why = templates.find(name, doc.path)
        if path is None:
            layout.problems.append(site_node.problem(why, "template"))
            layout.usable = False
            return layout
        template = templates.doc(path)
        if template.problem is not None:
            layout.problems += [template.problem, site_node.problem(f"template {name!r} cannot be used", "template")]
            layout.usable = False
            return layout
    layout.template, layout.template_name = template, name if isinstance(name, str) else ""
    _unknown_sections(layout, doc, template)
    base = _template_part(layout, template) if template is not None else {}
    for section in TABLES:
        layout.tables[section] = _table(layout, section, doc, template, base.get(section))
    head = layout.tables["site"]
    for key in SITE_ONLY:
        head.data.pop(key, None)
    drop = own_head.get("drop_agencies") if isinstance(own_head, dict) else None
    if drop is not None:
        if template is None:
            layout.problems.append(site_node.problem("drop_agencies needs a template to drop from", "drop_agencies"))
        elif not isinstance(drop, list) or not all(isinstance(s, str) for s in drop):
            layout.problems.append(site_node.problem(f"'drop_agencies' = {drop!r} is not a list of agency slugs",
                                                     "drop_agencies"))
        else:
            layout.drop_agencies = drop
    for section in ("floors", "counters"):
        own = _items(layout, section, doc)
        layout.arrays[section] = own if own is not None else _items(layout, section, template, base)
    layout.arrays["agencies"] = _agencies(layout, doc, template, base, site_node)
    return layout


def _unknown_sections(layout: Layout, *docs: Doc | None) -> None:
    for doc in docs:
        for key in (doc.raw if doc is not None else {}):
            if key not in SECTIONS:
                line = doc.line(key) or doc.line("", 0, key)
                layout.problems.append(Problem(doc.path, line, f"[{key}]",
                                               f"unknown table (a site has {', '.join(SECTIONS)})"))


def _template_part(layout: Layout, template: Doc) -> dict[str, Any]:
    """The template's data less what a template may not say (each such key reported once per use)."""
    head = template.raw.get("site")
    if not isinstance(head, dict):
        return template.raw
    node = Node("site", head, template)
    forbidden = {"template": "a template cannot name a template of its own",
                 "drop_agencies": "drop_agencies belongs in a site file, not in a template"}
    if is_template_file(template.path):
        forbidden.update({key: f"'{key}' belongs in each site's own file, not in a template"
                          for key in ("slug", "name")})
    for key, message in forbidden.items():
        if key in head:
            layout.problems.append(node.problem(message, key))
    return {**template.raw, "site": {k: v for k, v in head.items() if k not in forbidden}}


def _table(layout: Layout, section: str, doc: Doc, template: Doc | None, base: Any) -> Node:
    own = _as_table(layout, section, doc, doc.raw.get(section))
    base = _as_table(layout, section, template, base) if template is not None else None
    if base is None:
        return Node(section, dict(own or {}), doc)
    if own is None:
        return Node(section, dict(base), template)
    return Node(section, {**base, **own}, doc, keys_from={k: (template, 0) for k in base if k not in own})


def _as_table(layout: Layout, section: str, doc: Doc, value: Any) -> dict | None:
    if value is None or isinstance(value, dict):
        return value
    layout.problems.append(Problem(doc.path, doc.line("", 0, section), "",
                                   f"'{section}' must be a [{section}] table, not {value!r}"))
    return None


def _items(layout: Layout, section: str, doc: Doc | None, raw: dict | None = None) -> list[Node] | None:
    if doc is None:
        return None
    value = (raw if raw is not None else doc.raw).get(section)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        layout.problems.append(Problem(doc.path, doc.line(section) or doc.line("", 0, section), f"[[{section}]]",
                                       f"'{section}' must be a list of [[{section}]] tables"))
        return []
    return [Node(section, dict(item), doc, index) for index, item in enumerate(value)]


def _agencies(layout: Layout, doc: Doc, template: Doc | None, base: dict, site_node: Node) -> list[Node] | None:
    own = _items(layout, "agencies", doc)
    inherited = _items(layout, "agencies", template, base)
    if inherited is None:
        return own
    by_slug = {node.data.get("slug"): node for node in inherited if isinstance(node.data.get("slug"), str)}
    result = list(inherited)
    for node in own or ():
        match = by_slug.get(node.data.get("slug"))
        if match is None:
            result.append(node)
            continue
        match.data.update(node.data)
        match.keys_from.update({key: (doc, node.index) for key in node.data if key != "slug"})
    for slug in layout.drop_agencies:
        if slug not in by_slug:
            layout.problems.append(site_node.problem(
                f"drop_agencies: the template has no agency '{slug}' (it has {', '.join(map(str, by_slug))})",
                "drop_agencies"))
    dropped = set(layout.drop_agencies)
    return [node for node in result if node.data.get("slug") not in dropped]
