"""A site's catalogue and printers found beside its file, checked by `qserver check-config` (every problem
with its file and line), and a broken one stopping the server's start."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pytest

import config
from qserver.procedures import CatalogueError, catalogue_path, load_catalogues
from qserver.settings import Settings
from qserver.web.app import create_app

SAMPLE = config.BUILTIN_SITES_DIR.parent / "procedures" / "cantho.csv"
HEADER = "code,name,agency,field,documents,processing_time,fee,online\n"


def qserver(*args: str):
    return subprocess.run([sys.executable, "-m", "qserver", *args], capture_output=True, text=True)


@pytest.fixture
def site_dir(tmp_path):
    """A copy of the Cần Thơ site file in its own folder (no catalogue or printers beside it yet)."""
    folder = tmp_path / "sites"
    folder.mkdir()
    shutil.copy(config.BUILTIN_SITES_DIR / "cantho.toml", folder / "cantho.toml")
    return folder


def test_the_catalogue_beside_the_site_file_wins_over_the_built_in_one(site_dir):
    """procedures/<slug>.csv beside the site file is the site's catalogue; without it, the built-in one."""
    site = config.load_site(site_dir / "cantho.toml")
    assert catalogue_path(site) == SAMPLE
    (site_dir / "procedures").mkdir()
    own = site_dir / "procedures" / "cantho.csv"
    own.write_text(HEADER + "TP-1,Cấp Phiếu lý lịch tư pháp,so-tu-phap,Lý lịch tư pháp,Tờ khai,10 ngày,200.000 đồng,có\n",
                   encoding="utf-8")
    assert catalogue_path(site) == own
    loaded = load_catalogues({"cantho": site})["cantho"]
    assert [p.code for p in loaded.catalogue] == ["TP-1"]
    assert loaded.search("ly lich").procedures[0].code == "TP-1"


def test_check_config_explains_a_broken_catalogue_with_its_lines(site_dir):
    """Duplicate code, unknown agency, a bad yes/no: each as FILE:LINE under the catalogue; exit 1; the site
    itself stays ok."""
    (site_dir / "procedures").mkdir()
    bad = site_dir / "procedures" / "cantho.csv"
    bad.write_text(HEADER
                   + "TP-1,Cấp Phiếu lý lịch tư pháp,so-tu-phap,Lý lịch tư pháp,Tờ khai,10 ngày,200.000 đồng,có\n"
                   + "TP-1,Trích lục hộ tịch,so-tu-phap,Hộ tịch,Tờ khai,1 ngày,8.000 đồng,có\n"
                   + "XD-1,Giấy phép xây dựng,so-xay-dug,Hoạt động xây dựng,Đơn,20 ngày,150.000 đồng,maybe\n",
                   encoding="utf-8")
    result = qserver("check-config", str(site_dir / "cantho.toml"))
    out = result.stdout.splitlines()
    assert result.returncode == 1, result.stdout
    assert f"{site_dir}/cantho.toml: ok — site 'cantho', 2 floors, 16 agencies, 35 counters" in out
    assert f"{bad}: 3 problem(s)" in out
    assert f"  {bad}:3: procedure 'TP-1': code 'TP-1' is already used on line 2" in out
    assert (f"  {bad}:4: procedure 'XD-1': unknown agency 'so-xay-dug': not an agency of site 'cantho' "
            "(did you mean 'so-xay-dung'?)") in out
    assert (f"  {bad}:4: procedure 'XD-1': online = 'maybe' is not yes or no "
            "(use có/không, yes/no, true/false or 1/0)") in out
    assert out[-1] == "checked 1 site file, 1 catalogue file and 0 templates: 1 file with 3 problems"


def test_check_config_explains_a_broken_printers_file(site_dir):
    """printers/<slug>.toml: a bad port and an unknown key of the second printer, with its table's line."""
    (site_dir / "printers").mkdir()
    printers = site_dir / "printers" / "cantho.toml"
    printers.write_text('[[printers]]\nname = "kiosk-1"\nhost = "10.0.0.5"\n\n'
                        '[[printers]]\nname = "kiosk-2"\nhost = "10.0.0.6"\nport = 70000\ncolour = "red"\n',
                        encoding="utf-8")
    result = qserver("check-config", str(site_dir / "cantho.toml"))
    assert result.returncode == 1
    assert f"{printers}: 2 problem(s)" in result.stdout
    assert f"  {printers}:5: [[printers]] #2 (name 'kiosk-2'): port = 70000 is not a TCP port" in result.stdout
    assert f"  {printers}:5: [[printers]] #2 (name 'kiosk-2'): unknown setting 'colour'" in result.stdout
    printers.write_text('[[printers]]\nname = "kiosk-1"\nhost = "10.0.0.5"\n', encoding="utf-8")
    fixed = qserver("check-config", str(site_dir / "cantho.toml"))
    assert fixed.returncode == 0, fixed.stdout
    assert f"{printers}: ok — printers of site 'cantho': kiosk-1 (10.0.0.5:9100)" in fixed.stdout


def test_the_built_in_catalogue_is_checked_with_the_built_in_site():
    """`qserver check-config config/sites/cantho.toml` also checks the sample catalogue: all ok."""
    result = qserver("check-config", "config/sites/cantho.toml")
    assert result.returncode == 0, result.stdout
    assert "config/procedures/cantho.csv: ok — catalogue of site 'cantho', 163 procedures for 16 agencies" \
        in result.stdout


def test_a_broken_catalogue_stops_the_start(site_dir, tmp_path):
    """create_app refuses a site whose catalogue has problems, naming them (no half-working kiosk)."""
    (site_dir / "procedures").mkdir()
    (site_dir / "procedures" / "cantho.csv").write_text(
        HEADER + "TP 1,Tên,so-tu-phap,Lĩnh vực,Tờ khai,1 ngày,0,có\n", encoding="utf-8")
    with pytest.raises(CatalogueError) as caught:
        create_app(Settings(data_dir=tmp_path / "var", config=(str(site_dir / "cantho.toml"),)))
    assert "line 2, procedure 'TP 1': code 'TP 1' is not letters, digits and . _ / - (at most 64)" in str(caught.value)
    assert isinstance(caught.value, config.ConfigError)


async def test_a_site_without_a_catalogue_offers_no_search(site_dir, tmp_path):
    """A site with no catalogue file gets an empty one: its kiosk page has no "Tìm thủ tục" button, the
    sample site's has."""
    import httpx

    text = (site_dir / "cantho.toml").read_text(encoding="utf-8").replace('slug = "cantho"', 'slug = "vi-thanh"')
    (site_dir / "vi-thanh.toml").write_text(text, encoding="utf-8")
    app = create_app(Settings(data_dir=tmp_path / "var", config=(str(site_dir / "vi-thanh.toml"),)))
    assert len(app.state.catalogues["vi-thanh"]) == 0 and len(app.state.catalogues["cantho"]) == 163
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        without = (await client.get("/k/vi-thanh")).text
        with_search = (await client.get("/k/cantho")).text
    def boot(page: str) -> dict:
        return json.loads(re.search(r'<script id="qs-boot" type="application/json">(.*?)</script>', page, re.S).group(1))

    assert 'id="find-procedure"' not in without and boot(without)["procedures"] == 0
    assert 'id="find-procedure"' in with_search and boot(with_search)["procedures"] == 163
