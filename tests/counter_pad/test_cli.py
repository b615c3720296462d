"""``counter-pad``: exits with status 2 and a clear message only for configuration errors."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from counter_pad.checks import check_grant, check_layout
from counter_pad.cli import main
from counter_pad.exceptions import BadToken, UnknownCounter
from tests.support import TIMEOUT

from tests.support.pad import config_data, to_toml


def write_config(tmp_path, **tables) -> str:
    path = tmp_path / "pad.toml"
    path.write_text(to_toml(config_data(**tables)), encoding="utf-8")
    return str(path)


def test_pin_used_twice_exits_2(tmp_path, mock_factory, capsys):
    """A pin used twice stops the pad before it touches the GPIO, naming both uses."""
    path = write_config(tmp_path, leds={"online": 5})
    assert main(["--config", path]) == 2
    err = capsys.readouterr().err
    assert "configuration error" in err and "leds.online: GPIO5 is already used by buttons.call_next" in err


def test_missing_config_file_exits_2(tmp_path, capsys):
    """A config path that does not exist is named."""
    assert main(["--config", str(tmp_path / "nope.toml"), "--site", "cantho"]) == 2
    assert "nope.toml' does not exist" in capsys.readouterr().err


def test_unknown_counter_exits_2(tmp_path, server, mock_factory, capsys):
    """--counter 99 is not a counter of cantho: exit 2 naming it (checked with GET /sites/cantho)."""
    path = write_config(tmp_path, qserver={"url": server.base_url})
    token = server.token(role="officer", counters=["12"])
    assert main(["--config", path, "--counter", "99", "--token", token]) == 2
    assert "counter '99' is not configured for site 'cantho'" in capsys.readouterr().err


def test_unknown_site_exits_2(tmp_path, server, mock_factory, capsys):
    """--site hanoi does not exist on the server."""
    path = write_config(tmp_path, qserver={"url": server.base_url})
    assert main(["--config", path, "--site", "hanoi"]) == 2
    assert "site 'hanoi' does not exist" in capsys.readouterr().err


@pytest.mark.parametrize("role, counters, message", [
    (None, None, "qserver refused the token (HTTP 401)"),
    ("officer", ["13"], "the token is for counter(s) 13, not '12'"),
    ("kiosk", [], "the token is a 'kiosk' token"),
])
def test_bad_token_exits_2(tmp_path, server, mock_factory, capsys, role, counters, message):
    """An unknown token (401), another counter's token or a kiosk token: exit 2."""
    token = server.token(role=role, counters=counters) if role else "not-a-token"
    path = write_config(tmp_path, qserver={"url": server.base_url, "token": token})
    assert main(["--config", path]) == 2
    assert message in capsys.readouterr().err


def test_checks_are_pure_functions():
    """The layout and grant checks name what is wrong."""
    check_layout({"counters": [{"id": "12"}]}, "cantho", "12")
    with pytest.raises(UnknownCounter, match="its counters: 1, 2"):
        check_layout({"counters": [{"id": "1"}, {"id": "2"}]}, "cantho", "12")
    check_grant({"role": "manager", "site": "*", "counters": []}, "cantho", "12")
    with pytest.raises(BadToken, match="site 'hanoi', not 'cantho'"):
        check_grant({"role": "officer", "site": "hanoi", "counters": ["12"]}, "cantho", "12")


def test_runs_until_sigterm_then_exits_0(tmp_path, server):
    """The console script connects, keeps running, and stops cleanly on SIGTERM (what systemd sends)."""
    token = server.token(role="officer", counters=["12"])
    path = write_config(tmp_path, qserver={"url": server.base_url, "token": token})
    env = {**os.environ, "GPIOZERO_PIN_FACTORY": "mock"}
    process = subprocess.Popen([sys.executable, "-m", "counter_pad",
                                "--config", path], env=env, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        deadline = time.monotonic() + TIMEOUT
        while not any("configuration checked" in line for line in lines):
            assert time.monotonic() < deadline, "".join(lines)
            lines.append(process.stderr.readline())
        process.send_signal(signal.SIGTERM)
        assert process.wait(TIMEOUT) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stderr.close()
