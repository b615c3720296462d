"""``announcer`` command line: configuration errors stop it at once with one clear line (status 2)."""

import pytest

from announcer.cli import build_parser, main

SMALL_SITE = """
[site]
slug = "xa-an-binh"
name = "Bộ phận một cửa xã An Bình"
[[floors]]
number = 0
name = "Tầng trệt"
[[agencies]]
slug = "tu-phap"
name = "Tư pháp - Hộ tịch"
floor = 0
prefix = "A"
[[counters]]
id = "1"
floor = 0
agencies = ["tu-phap"]
[announce]
voice = "vi-khong-co"
"""


@pytest.mark.parametrize("argv, message", [
    (["--site", "hanoi", "--floor", "0"], "site 'hanoi' is not configured (known: cantho)"),
    (["--floor", "7"], "floor 7 is not a floor of site 'cantho' (floors: 0, 1)"),
    (["--floor", "1", "--voice", "vi-khong-co"], "voice 'vi-khong-co' is not installed"),
    (["--floor", "1", "--voice", "vi-khong-co", "--engine", "pyttsx3"], "voice 'vi-khong-co' is not installed"),
    (["--floor", "1", "--device", "hw:1", "--play-cmd", "paplay"], "--device needs aplay"),
    (["--floor", "1", "--play-cmd", "khong-co-lenh"], "play program 'khong-co-lenh' is not installed"),
    (["--floor", "1", "--max-merge", "0"], "--max-merge 0 must be at least 1"),
    (["--floor", "1", "--config", "/khong/co/tep.toml"], "cannot read the file"),
])
def test_configuration_errors_exit_2(argv, message, capsys, tmp_path):
    """Unknown site, floor, voice, player or config file: exit status 2 and a message naming it."""
    assert main(["--wav-dir", str(tmp_path), *argv] if "--play-cmd" not in argv and "--device" not in argv
                else argv, environ={}) == 2
    err = capsys.readouterr().err
    assert err.startswith("announcer: error: ") and message in err


def test_extra_site_from_config_folder(capsys, tmp_path):
    """--config adds a site from a folder of TOML files; its [announce] voice is used (and checked)."""
    (tmp_path / "sites").mkdir()
    (tmp_path / "sites" / "xa.toml").write_text(SMALL_SITE, encoding="utf-8")
    assert main(["--site", "xa-an-binh", "--floor", "0", "--config", str(tmp_path / "sites"),
                 "--wav-dir", str(tmp_path / "out")], environ={}) == 2
    assert "voice 'vi-khong-co' is not installed" in capsys.readouterr().err


def test_settings_from_environment():
    """URL, token and config default to QSERVER_URL, QSERVER_TOKEN and QSERVER_CONFIG; flags win."""
    environ = {"QSERVER_URL": "http://qserver.local:8000", "QSERVER_TOKEN": "t0k", "QSERVER_CONFIG": "/etc/q"}
    args = build_parser(environ).parse_args(["--floor", "1"])
    assert (args.url, args.token, args.config) == ("http://qserver.local:8000", "t0k", "/etc/q")
    assert build_parser(environ).parse_args(["--floor", "1", "--url", "http://x:1"]).url == "http://x:1"
    defaults = build_parser({}).parse_args(["--floor", "0"])
    assert (defaults.url, defaults.site, defaults.engine, defaults.play_cmd, defaults.cross_floor) == \
        ("http://127.0.0.1:8000", "cantho", "espeak-ng", "aplay -q", "ticket")
