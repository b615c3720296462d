"""Templates: a commune file gives only what differs; every mistake names its file and line."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

import config

TEMPLATE = Path(config.CITIES_DIR) / "cantho" / "_templates" / "commune.toml"

COMMUNE = """\
[site]
template = "commune"
slug = "xa-an-binh"
name = "Trung tâm Phục vụ hành chính công xã An Bình"
groups = ["Cần Thơ cũ"]

[[counters]]
id = "1"
floor = 0
agencies = ["tu-phap-ho-tich", "van-hoa-xa-hoi"]

[[counters]]
id = "2"
floor = 0
agencies = ["dat-dai-tai-nguyen", "xay-dung-giao-thong"]

[[counters]]
id = "3"
floor = 0
agencies = ["lao-dong-tbxh", "kinh-te"]
"""


@pytest.fixture
def city(tmp_path) -> Path:
    """A city folder holding the shipped commune template, communes go in city/communes/."""
    (tmp_path / "_templates").mkdir()
    shutil.copy(TEMPLATE, tmp_path / "_templates" / "commune.toml")
    (tmp_path / "communes").mkdir()
    return tmp_path


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def line_of(path: Path, needle: str, occurrence: int = 1) -> int:
    """1-based line of the ``occurrence``-th line of ``path`` that contains ``needle``."""
    hits = [n for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in text]
    return hits[occurrence - 1]


def problems_of(path: Path, root: Path | None = None) -> list[config.Problem]:
    with pytest.raises(config.ConfigError) as error:
        config.load_folder(root) if root is not None else config.load_site(path)
    return error.value.details


def test_a_commune_gets_everything_else_from_its_template(city):
    """Only slug, name, groups and counters in the file: hours, voice, policies and the six fields come from the template."""
    site = config.load_site(write(city / "communes", "xa-an-binh.toml", COMMUNE))
    assert (site.slug, site.template, site.groups) == ("xa-an-binh", "commune", ("Cần Thơ cũ",))
    assert [a.slug for a in site.agencies] == ["tu-phap-ho-tich", "dat-dai-tai-nguyen", "xay-dung-giao-thong",
                                              "lao-dong-tbxh", "kinh-te", "van-hoa-xa-hoi"]
    assert site.agency_by_slug["tu-phap-ho-tich"].name == "Tư pháp - Hộ tịch"
    assert [a.prefix for a in site.agencies] == ["A", "B", "C", "D", "E", "G"]
    assert [f"{s:%H:%M}-{e:%H:%M}" for s, e in site.hours["fri"]] == ["07:00-11:00", "13:00-17:00"]
    assert site.hours["sat"] == () and dt.date(2026, 9, 2) in site.holidays
    assert (site.no_show_return_after, site.wait_alert_s, site.target_wait_s) == (3, 1200, 600)
    assert (site.announce.voice, site.announce.repeat) == ("vi-vn-x-south", 2)
    assert [c.agencies for c in site.counters][0] == ("tu-phap-ho-tich", "van-hoa-xa-hoi")
    assert [f.name for f in site.floors] == ["Tầng trệt"]


def test_the_site_overrides_hours_day_by_day_and_keys_one_by_one(city):
    """`sat` adds Saturday, `mon` replaces Monday, `wed = []` closes Wednesday; other days and keys stay the template's."""
    text = COMMUNE.replace('groups = ["Cần Thơ cũ"]', 'groups = ["Cần Thơ cũ"]\nwait_alert_s = 1800') + """
[hours]
mon = ["07:00-11:30", "13:00-17:00"]
wed = []
sat = ["07:00-11:00"]

[announce]
repeat = 1
"""
    site = config.load_site(write(city / "communes", "xa-an-binh.toml", text))
    sessions = {day: [f"{s:%H:%M}-{e:%H:%M}" for s, e in site.hours[day]] for day in ("mon", "tue", "wed", "sat")}
    assert sessions == {"mon": ["07:00-11:30", "13:00-17:00"], "tue": ["07:00-11:00", "13:00-17:00"],
                        "wed": [], "sat": ["07:00-11:00"]}
    assert dt.date(2026, 1, 1) in site.holidays, "holidays still from the template"
    assert (site.wait_alert_s, site.target_wait_s) == (1800, 600)
    assert (site.announce.repeat, site.announce.voice) == (1, "vi-vn-x-south")


def test_agencies_are_changed_added_and_dropped_by_slug(city):
    """A same-slug entry changes only its keys, a new slug is added, drop_agencies removes one."""
    text = COMMUNE.replace('groups = ["Cần Thơ cũ"]', 'groups = ["Cần Thơ cũ"]\ndrop_agencies = ["kinh-te"]')
    text = text.replace('["lao-dong-tbxh", "kinh-te"]', '["lao-dong-tbxh", "nong-nghiep"]') + """
[[agencies]]
slug = "tu-phap-ho-tich"
prefix = "TP"

[[agencies]]
slug = "nong-nghiep"
name = "Nông nghiệp - Môi trường"
floor = 0
prefix = "N"
"""
    site = config.load_site(write(city / "communes", "xa-an-binh.toml", text))
    assert [a.slug for a in site.agencies] == ["tu-phap-ho-tich", "dat-dai-tai-nguyen", "xay-dung-giao-thong",
                                              "lao-dong-tbxh", "van-hoa-xa-hoi", "nong-nghiep"]
    changed = site.agency_by_slug["tu-phap-ho-tich"]
    assert (changed.prefix, changed.name, changed.number_format.format(prefix=changed.prefix, seq=7)) == (
        "TP", "Tư pháp - Hộ tịch", "TP007")


def test_a_template_field_no_counter_serves_is_an_error(city):
    """With a template, an agency nobody serves is named (with the fix), at the site's template line."""
    path = write(city / "communes", "xa-an-binh.toml", COMMUNE.replace('["lao-dong-tbxh", "kinh-te"]', '["lao-dong-tbxh"]'))
    [problem] = problems_of(path)
    assert (problem.file, problem.line) == (str(path), line_of(path, "template = "))
    assert "agency 'kinh-te' is served by no counter" in problem.message and "drop_agencies" in problem.message


def test_unknown_template_names_the_file_line_and_where_it_looked(city):
    """`template = "comune"`: the site's file and line, and the folders searched."""
    path = write(city / "communes", "xa-an-binh.toml", COMMUNE.replace('"commune"', '"comune"'))
    [problem] = problems_of(path, root=city)
    assert (problem.file, problem.line) == (str(path), 2)
    assert "unknown template 'comune': no _templates/comune.toml in" in problem.message
    assert str(city) in problem.message


def test_a_missing_template_path_is_named(city):
    """`template = "../nope.toml"`: says the file does not exist, at the template line."""
    path = write(city / "communes", "xa-an-binh.toml", COMMUNE.replace('"commune"', '"../nope.toml"'))
    [problem] = problems_of(path)
    assert problem.line == 2 and "template '../nope.toml' does not exist" in problem.message


def test_duplicate_slug_across_two_files_names_both(city):
    """Two files of one folder with one slug: a problem in each, naming the other file and line."""
    first = write(city / "communes", "a.toml", COMMUNE)
    second = write(city / "communes" / "more", "b.toml", COMMUNE)
    problems = problems_of(first, root=city)
    assert [(p.file, p.line) for p in problems] == [(str(first), 3), (str(second), 3)]
    assert problems[0].message == f"slug 'xa-an-binh' is also used by {second}:3"
    assert problems[1].message == f"slug 'xa-an-binh' is already used by {first}:3"


def test_unknown_agency_on_a_counter_is_at_the_counter_line(city):
    """An agency the template does not have: the site file, the counter's agencies line, the counter named."""
    path = write(city / "communes", "xa-an-binh.toml",
                 COMMUNE.replace('["lao-dong-tbxh", "kinh-te"]', '["lao-dong-tbxh", "kinh-te", "kinh-doanh"]'))
    [problem] = problems_of(path)
    assert (problem.file, problem.line) == (str(path), line_of(path, '"kinh-doanh"'))
    assert problem.where == '[[counters]] #3 (id "3")'
    assert problem.message == "unknown agency 'kinh-doanh' on counter 3"


def test_a_problem_inside_the_template_names_the_template_file_and_line(city):
    """Overlapping hours and a duplicated prefix in the template: reported at the template's lines, not the site's."""
    template = city / "_templates" / "commune.toml"
    text = template.read_text(encoding="utf-8")
    text = text.replace('tue = ["07:00-11:00", "13:00-17:00"]', 'tue = ["07:00-11:00", "10:00-17:00"]')
    template.write_text(text.replace('prefix = "G"', 'prefix = "A"'), encoding="utf-8")
    site = write(city / "communes", "xa-an-binh.toml", COMMUNE)
    problems = problems_of(site)
    assert {(p.file, p.line) for p in problems} == {(str(template), line_of(template, "tue = ")),
                                                    (str(template), line_of(template, 'prefix = "A"', 2))}
    assert any("tue: sessions 07:00-11:00 and 10:00-17:00 overlap" in p.message for p in problems)
    assert any(p.where == '[[agencies]] #6 (slug "van-hoa-xa-hoi")' and "prefix 'A' is already used" in p.message
               for p in problems)
    with pytest.raises(config.ConfigError) as error:
        config.load_site(site)
    assert all(text.startswith(f"{template}: line ") for text in error.value.problems), "the sentences name the template"


def test_a_template_may_not_name_a_site_and_a_broken_one_is_not_used(city):
    """A slug in a template is an error in the template; a template that is not TOML stops the site at once."""
    template = city / "_templates" / "commune.toml"
    original = template.read_text(encoding="utf-8")
    template.write_text(original.replace("[site]\n", '[site]\nslug = "xa-mau"\n', 1), encoding="utf-8")
    site = write(city / "communes", "xa-an-binh.toml", COMMUNE)
    [problem] = problems_of(site)
    assert (problem.file, problem.line) == (str(template), line_of(template, 'slug = "xa-mau"'))
    assert "'slug' belongs in each site's own file, not in a template" in problem.message
    template.write_text(original.replace("[hours]", "[hours"), encoding="utf-8")
    broken, stop = problems_of(site)
    assert (broken.file, broken.line) == (str(template), line_of(template, "[hours"))
    assert "not valid TOML" in broken.message
    assert (stop.file, stop.line, stop.message) == (str(site), 2, "template 'commune' cannot be used")


def test_an_unknown_key_is_named_with_the_likely_one(city):
    """`group = ...` instead of `groups`: named at its line with a suggestion (it would otherwise be ignored)."""
    path = write(city / "communes", "xa-an-binh.toml", COMMUNE.replace("groups =", "group ="))
    [problem] = problems_of(path)
    assert (problem.line, problem.message) == (5, "unknown key 'group' (did you mean 'groups'?)")


def test_groups_choose_sites(city):
    """group_names lists every group once, in order; sites_in_group picks by name and names an unknown group."""
    write(city / "communes", "a.toml", COMMUNE)
    write(city / "communes", "b.toml", COMMUNE.replace("xa-an-binh", "xa-vi-thuy").replace(
        '["Cần Thơ cũ"]', '["Hậu Giang cũ", "Khu vực Vị Thủy"]'))
    sites = config.load_folder(city)
    assert config.group_names(sites) == ["Cần Thơ cũ", "Hậu Giang cũ", "Khu vực Vị Thủy"]
    assert list(config.sites_in_group(sites, "Hậu Giang cũ")) == ["xa-vi-thuy"]
    with pytest.raises(KeyError, match="no site is in group 'Sóc Trăng cũ'"):
        config.sites_in_group(sites, "Sóc Trăng cũ")
    bad = write(city / "x", "c.toml", COMMUNE.replace('["Cần Thơ cũ"]', '["Cần Thơ cũ", "Cần Thơ cũ"]'))
    assert "name a group twice" in problems_of(bad)[0].message
