"""``qserver check-config``: every file of the given folders and files, each ok or with its problems.

A template is checked once on its own; a site whose template has problems says so in one line
instead of repeating them (they are listed under the template's file). Slugs must be unique across
everything checked together. ``extras`` checks the files that belong to each valid site (qserver passes
its procedure catalogue and printers check): their results follow the site's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .exceptions import ConfigError, Problem
from .folder import discover, duplicate_slug_problems
from .inherit import Templates, is_template_file, layout_of
from .model import Site
from .site import load_site
from .source import Doc, read_doc
from .validate import Validator

__all__ = ["FileResult", "Report", "check_paths", "check_template"]


@dataclass
class FileResult:
    path: str
    site: Site | None = None
    template_uses: int | None = None  # set for a template file
    problems: list[Problem] = field(default_factory=list)
    kind: str = "site"                # "site", "template", or what an extra check names ("catalogue" ...)
    ok_line: str = ""                 # what an extra file says when it has no problem

    def lines(self) -> list[str]:
        if self.problems:
            return [f"{self.path}: {len(self.problems)} problem(s)", *(f"  {p}" for p in self.problems)]
        if self.ok_line:
            return [f"{self.path}: ok — {self.ok_line}"]
        if self.template_uses is not None:
            return [f"{self.path}: ok — template '{Path(self.path).stem}', used by {_count(self.template_uses, 'site')}"]
        site = self.site
        via = f", template '{site.template}'" if site.template else ""
        groups = f", groups: {', '.join(site.groups)}" if site.groups else ""
        counts = ", ".join(_count(len(items), word) for items, word in (
            (site.floors, "floor"), (site.agencies, "agency"), (site.counters, "counter")))
        return [f"{self.path}: ok — site '{site.slug}', {counts}{via}{groups}"]


@dataclass
class Report:
    files: list[FileResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.files) and not any(f.problems for f in self.files)

    def lines(self) -> list[str]:
        out = [line for result in self.files for line in result.lines()]
        sites = sum(1 for f in self.files if f.kind == "site")
        templates = sum(1 for f in self.files if f.kind == "template")
        others: dict[str, int] = {}
        for f in self.files:
            if f.kind not in ("site", "template"):
                others[f.kind] = others.get(f.kind, 0) + 1
        bad = [f for f in self.files if f.problems]
        what = f"checked {_count(sites, 'site file')}" + "".join(
            f", {_count(n, kind + ' file')}" for kind, n in others.items()) + f" and {_count(templates, 'template')}"
        if not bad:
            return [*out, f"{what}: all ok"]
        problems = sum(len(f.problems) for f in bad)
        return [*out, f"{what}: {_count(len(bad), 'file')} with {_count(problems, 'problem')}"]


def _count(number: int, word: str) -> str:
    plural = word[:-1] + "ies" if word.endswith("y") else word + "s"
    return f"{number} {word if number == 1 else plural}"


def check_template(doc: Doc, templates: Templates) -> list[Problem]:
    """The template's own problems: what would be wrong in it whatever site uses it."""
    if doc.problem is not None:
        return [doc.problem]
    layout = layout_of(Doc("<site using the template>", ""), templates, template=doc)
    return [p for p in Validator(layout, partial=True).check() if p.file == doc.path]


def check_paths(paths: list[str | Path], extras: Callable[[Site], list[FileResult]] | None = None) -> Report:
    """Check files and folders (recursively) together; never raises for a bad file. ``extras(site)``
    gives the results of the files belonging to each site that validated."""
    report, by_slug = Report(), {}
    template_problems: dict[str, set[Problem]] = {}
    for source in map(Path, paths):
        if source.is_dir():
            site_files, template_files = discover(source)
            templates = Templates(source)
            if not site_files and not template_files:
                report.files.append(FileResult(str(source), problems=[
                    Problem(str(source), None, "", "no site files (*.toml) in this folder")]))
        elif is_template_file(source):
            site_files, template_files, templates = [], [source], Templates()
        else:
            site_files, template_files, templates = [source], [], Templates()
        template_results = []
        for path in template_files:
            doc = templates.doc(path)
            found = check_template(doc, templates)
            template_problems[doc.path] = set(found)
            template_results.append((path, FileResult(doc.path, problems=found, kind="template")))
        site_results = []
        for path in site_files:
            result = _check_site(path, templates, template_problems)
            site_results.append(result)
            slug = result.site.slug if result.site is not None else _raw_slug(path)
            if slug in by_slug:
                first = by_slug[slug]
                a, b = duplicate_slug_problems(slug, first.path, result.path)
                first.problems.append(a)
                result.problems.append(b)
            elif slug is not None:
                by_slug[slug] = result
        for path, result in template_results:
            result.template_uses = templates.uses.get(path.resolve(), 0)
            report.files.append(result)
        for result in site_results:
            report.files.append(result)
            if extras is not None and result.site is not None:
                report.files += extras(result.site)
    return report


def _raw_slug(path: Path) -> str | None:
    """The slug a file that did not validate gives itself, for the duplicate check."""
    head = read_doc(path).raw.get("site")
    slug = head.get("slug") if isinstance(head, dict) else None
    return slug if isinstance(slug, str) else None


def _check_site(path: Path, templates: Templates, template_problems: dict[str, set[Problem]]) -> FileResult:
    try:
        return FileResult(str(path), site=load_site(path, templates))
    except ConfigError as exc:
        problems = exc.details
    own = [p for p in problems if p not in template_problems.get(p.file, ())]
    if len(own) < len(problems):
        inherited = {p.file for p in problems if p not in own}
        line = read_doc(path).line("site", 0, "template")
        own.insert(0, Problem(str(path), line, "[site]", "its template has problems, listed under "
                              + ", ".join(sorted(inherited))))
    return FileResult(str(path), problems=own)
