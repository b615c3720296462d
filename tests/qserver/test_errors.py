"""Every error code the server can send is in one registry, has its Vietnamese sentence for the pages,
reaches the pages in their boot JSON, and is listed in the README."""

from __future__ import annotations

import ast
import importlib
import json
import pkgutil
import re
from pathlib import Path

import httpx

from qserver import labels
import qserver
from qserver.exceptions import ERROR_CODES, QServerError
from qserver.web.app import create_app

ROOT = Path(__file__).resolve().parents[2]
VIETNAMESE = re.compile(r"[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]", re.I)


def codes_in_the_source() -> set[str]:
    """Codes the server's code can produce: Lua ``fail('x'``, ``code="x"`` arguments, and the ``code`` of
    every subclass of QServerError in any qserver module."""
    found = set()
    for path in (ROOT / "qserver").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        found.update(re.findall(r"fail\('([a-z_]+)'", text))
        for node in ast.walk(ast.parse(text)):
            if (isinstance(node, ast.keyword) and node.arg == "code" and isinstance(node.value, ast.Constant)
                    and isinstance(node.value.value, str)):  # not a websocket close code
                found.add(node.value.value)
    for module in pkgutil.walk_packages(qserver.__path__, "qserver."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    classes = [QServerError]
    while classes:
        cls = classes.pop()
        found.add(cls.code)
        classes += cls.__subclasses__()
    # placeholders of base classes whose every raise names its own code
    return found - {"internal_error", "conflict", "staffing_error"}


def test_every_code_the_source_sends_is_registered():
    """The registry lists every code a Lua script, a raise or an error class can produce, and no other."""
    assert codes_in_the_source() == set(ERROR_CODES)


def test_every_code_has_a_vietnamese_sentence_for_the_pages():
    """The pages' sentences cover exactly the registered codes, each in Vietnamese."""
    assert set(labels.ERROR_TEXT) == set(ERROR_CODES)
    assert [code for code, text in labels.ERROR_TEXT.items() if not VIETNAMESE.search(text)] == []
    assert all(status in labels.HTTP_STATUS_TEXT for status in set(ERROR_CODES.values()) - {500})


def test_the_readme_lists_the_codes():
    """The README's table of error codes (status | codes) is the registry."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("| status | codes |"):]
    listed = {}
    for line in table.splitlines()[2:]:
        if not line.startswith("|"):
            break
        status, codes = (cell.strip() for cell in line.strip("|").split("|"))
        for code in re.findall(r"`([a-z_]+)`", re.sub(r"\(.*?\)", "", codes)):
            listed[code] = int(status)
    assert listed == ERROR_CODES


async def test_pages_receive_the_sentences_in_their_boot_data(tmp_path):
    """A page's boot JSON carries every code's sentence; no page script keeps its own list."""
    from qserver.settings import Settings

    app = create_app(Settings(data_dir=tmp_path))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        page = (await client.get("/o/cantho/counter/12")).text
    boot = json.loads(re.search(r'<script id="qs-boot" type="application/json">(.*?)</script>', page, re.S).group(1))
    assert boot["labels"]["errors"] == labels.ERROR_TEXT
    scripts = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "displays/static").glob("*.js"))
    sentences_in_scripts = [text for text in labels.ERROR_TEXT.values() if text in scripts]
    assert sentences_in_scripts == []
