"""The shipped Cần Thơ city folder, `qserver check-config DIR`, and the time to load a big city."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import config

CITY = Path(config.CITIES_DIR) / "cantho"
REPO = Path(__file__).resolve().parents[2]
TIMEOUT_SCALE = float(os.environ.get("QSERVER_TEST_TIMEOUT", "10")) / 10
PROVINCES = {"Cần Thơ cũ", "Hậu Giang cũ", "Sóc Trăng cũ"}


def qserver(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qserver", *args], capture_output=True, text=True, cwd=REPO)


def test_the_city_folder_gives_104_sites():
    """Built-in sites + the city folder: the center (same layout as the built-in, now in groups) and 103 communes."""
    sites = config.load_sites(CITY)
    assert len(sites) == 104
    center, builtin = sites["cantho"], config.load_sites()["cantho"]
    assert (center.agencies, center.counters, center.hours) == (builtin.agencies, builtin.counters, builtin.hours)
    assert center.groups == ("Trung tâm thành phố", "Cần Thơ cũ", "Khu vực Ninh Kiều") and builtin.groups == ()
    communes = [s for s in sites.values() if s.template == "commune"]
    assert len(communes) == 103
    assert sum(s.name.startswith("Trung tâm Phục vụ hành chính công phường ") for s in communes) == 31
    for site in communes:
        assert site.slug.isascii() and not site.name.isascii(), site.slug
        assert unicodedata.is_normalized("NFC", site.name)
        assert 5 <= len(site.counters) <= 10, site.slug
        assert {slug for c in site.counters for slug in c.agencies} == set(site.agency_by_slug), site.slug
        assert len({a.prefix for a in site.agencies}) == len(site.agencies)
        assert len(set(site.groups) & PROVINCES) == 1 and any(g.startswith("Khu vực ") for g in site.groups)
    assert {"phuong-ninh-kieu", "phuong-cai-khe", "phuong-vi-thanh", "phuong-nga-bay", "phuong-soc-trang",
            "xa-phong-dien", "xa-thoi-lai", "xa-co-do", "xa-vinh-thanh", "xa-long-my"} <= set(sites)
    shared = sum(len(c.agencies) > 1 for s in communes for c in s.counters)
    assert 0 < shared < sum(len(s.counters) for s in communes), "some desks serve two fields, not all"
    assert 5 < sum(bool(s.hours["sat"]) for s in communes) < 60, "some communes open on Saturday morning"
    longer = [s for s in communes if s.hours["mon"][0][1].strftime("%H:%M") == "11:30"]
    assert 5 < len(longer) < 60, "some communes keep longer hours"
    assert sum(len(config.sites_in_group(sites, p)) for p in PROVINCES) == 104, "each site in one former province"


def test_the_shipped_communes_are_what_the_generator_makes(tmp_path):
    """tools/make_city.py --check passes on the shipped folder and fails after a hand edit."""
    tool = [sys.executable, str(REPO / "tools" / "make_city.py")]
    assert subprocess.run([*tool, "--check"], capture_output=True, text=True).returncode == 0
    copy = tmp_path / "cantho"
    shutil.copytree(CITY, copy)
    edited = copy / "can-tho-cu" / "phuong-ninh-kieu.toml"
    edited.write_text(edited.read_text(encoding="utf-8").replace('id = "1"', 'id = "01"'), encoding="utf-8")
    result = subprocess.run([*tool, "--check", "--out", str(copy)], capture_output=True, text=True)
    assert result.returncode == 1 and f"{edited}: differs from tools/make_city.py" in result.stdout


def test_check_config_on_the_city_folder_is_all_ok():
    """One ok line per file (the template first, with its users; the center's procedure catalogue after it)
    and a summary; exit 0."""
    result = qserver("check-config", "config/cities/cantho")
    lines = result.stdout.splitlines()
    assert result.returncode == 0, result.stdout
    assert lines[0] == "config/cities/cantho/_templates/commune.toml: ok — template 'commune', used by 103 sites"
    assert len(lines) == 1 + 104 + 1 + 1 and all(": ok — " in line for line in lines[:-1])
    assert "config/procedures/cantho.csv: ok — catalogue of site 'cantho', 163 procedures for 16 agencies" in result.stdout
    assert "config/cities/cantho/can-tho-cu/phuong-ninh-kieu.toml: ok — site 'phuong-ninh-kieu', 1 floor, " \
           "6 agencies, " in result.stdout
    assert lines[-1] == "checked 104 site files, 1 catalogue file and 1 template: all ok"


def test_check_config_lists_every_problem_with_file_and_line(tmp_path):
    """Unknown template, duplicate slug, unknown agency, a broken template: FILE:LINE for each, exit 1."""
    city = tmp_path / "city"
    shutil.copytree(CITY / "_templates", city / "_templates")
    commune = (CITY / "can-tho-cu" / "xa-thoi-lai.toml").read_text(encoding="utf-8")
    (city / "a").mkdir()
    (city / "a" / "xa-thoi-lai.toml").write_text(commune, encoding="utf-8")
    (city / "a" / "copy.toml").write_text(commune, encoding="utf-8")
    (city / "a" / "typo.toml").write_text(commune.replace('"xa-thoi-lai"', '"xa-typo"').replace(
        'template = "commune"', 'template = "comune"'), encoding="utf-8")
    bad_agency = commune.replace('"xa-thoi-lai"', '"xa-bad"').replace('"kinh-te"', '"kinh-te-x"', 1)
    (city / "a" / "bad.toml").write_text(bad_agency, encoding="utf-8")
    result = qserver("check-config", str(city))
    out = result.stdout
    assert result.returncode == 1
    assert f"{city}/a/copy.toml: 1 problem(s)" in out
    assert f"  {city}/a/copy.toml:6: [site]: slug 'xa-thoi-lai' is also used by {city}/a/xa-thoi-lai.toml:6" in out
    assert f"  {city}/a/xa-thoi-lai.toml:6: [site]: slug 'xa-thoi-lai' is already used by {city}/a/copy.toml:6" in out
    assert f"  {city}/a/typo.toml:5: [site]: unknown template 'comune'" in out
    bad_line = next(n for n, text in enumerate(bad_agency.splitlines(), 1) if '"kinh-te-x"' in text)
    assert f"  {city}/a/bad.toml:{bad_line}: [[counters]] #" in out and "unknown agency 'kinh-te-x'" in out
    assert out.splitlines()[-1] == "checked 4 site files and 1 template: 4 files with 5 problems"

    template = city / "_templates" / "commune.toml"
    template.write_text(template.read_text(encoding="utf-8").replace('rate = 150', 'rate = 1500'), encoding="utf-8")
    rate_line = next(n for n, t in enumerate(template.read_text(encoding="utf-8").splitlines(), 1) if "rate = 1500" in t)
    out = qserver("check-config", str(city)).stdout
    assert f"{template}: 1 problem(s)\n  {template}:{rate_line}: [announce]: 'rate' = 1500 is not words per minute" in out
    assert out.count(f"[site]: its template has problems, listed under {template}") == 3  # typo.toml uses none
    assert out.count("'rate' = 1500") == 1, "the template's problem is listed once, not once per site"


def test_check_config_exit_status_for_files_and_missing_paths(tmp_path):
    """A good file exits 0; a missing path or an empty folder is a problem (exit 1)."""
    assert qserver("check-config", "config/cities/cantho/cantho.toml").returncode == 0
    missing = qserver("check-config", str(tmp_path / "nope.toml"))
    assert missing.returncode == 1 and "cannot read the file" in missing.stdout
    empty = qserver("check-config", str(tmp_path))
    assert empty.returncode == 1 and "no site files (*.toml) in this folder" in empty.stdout


def test_a_thousand_generated_communes_load_fast(tmp_path):
    """1,000 commune files sharing one template load in well under 2 s (read once, lines found only on error)."""
    shutil.copytree(CITY / "_templates", tmp_path / "_templates")
    commune = (CITY / "can-tho-cu" / "phuong-ninh-kieu.toml").read_text(encoding="utf-8")
    for number in range(1000):
        folder = tmp_path / f"khu-{number // 100}"
        folder.mkdir(exist_ok=True)
        (folder / f"xa-{number:04d}.toml").write_text(commune.replace("phuong-ninh-kieu", f"xa-{number:04d}"),
                                                      encoding="utf-8")
    started = time.perf_counter()
    sites = config.load_sites(tmp_path)
    elapsed = time.perf_counter() - started
    assert len(sites) == 1001 and sites["xa-0999"].template == "commune"
    assert elapsed < 2.0 * TIMEOUT_SCALE, f"{elapsed:.2f} s for 1,000 sites"
