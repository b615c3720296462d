"""The house rules of the code, checked: light device packages, no import cycles, an engine that
knows nothing of HTTP or presentation, and no one but the engine reading a site's Redis keys."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("starlette", "uvicorn", "redis", "jinja2")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Every module an import statement of the file names (module level or inside functions), absolute."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            found.add(stem)
            found.update(f"{stem}.{alias.name}" for alias in node.names)  # `from pkg import module`
    return found


def package_modules(package: str) -> dict[str, Path]:
    return {module_name(path): path for path in sorted((ROOT / package).rglob("*.py"))}


@pytest.mark.parametrize("module", ["counter_pad", "counter_pad.pad", "counter_pad.cli", "announcer",
                                    "announcer.service", "announcer.cli", "qserver.protocol.client"])
def test_device_packages_load_no_server_library(module):
    """Importing a device package (in a fresh interpreter) loads none of starlette, uvicorn, redis, jinja2."""
    code = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                       cwd=ROOT).stdout)
    heavy = [name for name in loaded if name.split(".")[0] in HEAVY]
    assert heavy == [], f"importing {module} loads {heavy[:8]}"
    assert not [name for name in loaded if name.startswith("qserver.") and not name.startswith("qserver.protocol")]


@pytest.mark.parametrize("package", ["counter_pad", "announcer"])
def test_devices_share_only_the_protocol(package):
    """counter_pad/ and announcer/ import nothing of qserver but its protocol package."""
    offenders = {name: sorted(i for i in imports_of(path) if i.startswith("qserver") and i != "qserver"
                              and not i.startswith("qserver.protocol"))
                 for name, path in package_modules(package).items()}
    assert {name: found for name, found in offenders.items() if found} == {}


def test_no_import_cycle_in_qserver():
    """No two modules of qserver import each other, directly or through others (lazy imports count)."""
    modules = package_modules("qserver")
    graph = {name: sorted(i for i in imports_of(path) if i in modules and i != name) for name, path in modules.items()}
    # a package's __init__ re-exporting its own modules is not a cycle of the design: drop package → child
    graph = {name: [i for i in deps if not i.startswith(name + ".")] for name, deps in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for name in graph:
        if name not in index:
            visit(name)
    assert cycles == []


def test_the_engine_knows_nothing_of_http_or_presentation():
    """qserver.engine imports neither starlette nor the presenter, the labels, the web, live or managers parts."""
    forbidden = ("starlette", "uvicorn", "jinja2", "qserver.present", "qserver.labels", "qserver.web",
                 "qserver.live", "qserver.managers")
    offenders = {name: sorted(i for i in imports_of(path) if i.startswith(forbidden))
                 for name, path in package_modules("qserver/engine").items()}
    assert {name: found for name, found in offenders.items() if found} == {}


#: An engine's private member or its keys used from outside: ``engine._read``, ``engine.keys.events``.
PRIVATE_USE = re.compile(r"\bengines?(\[[^\]]*\])?\._[a-z]|\.keys\.[a-z_]+|SiteKeys\(")


def test_only_the_engine_reads_a_sites_keys():
    """Outside qserver/engine no module builds a site's keys or calls an engine's private methods."""
    offenders = []
    for name, path in package_modules("qserver").items():
        if name.startswith("qserver.engine"):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if PRIVATE_USE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []
