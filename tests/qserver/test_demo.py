"""`qserver demo` as a subprocess: it serves, prints every page, comes alive within seconds, runs the
announcer, and stops on --duration or SIGTERM."""

from __future__ import annotations

import os
import re
import signal

import httpx
import pytest

from qserver.simulation.demo import announcer_command, has_audio_device
from tests.support import TIMEOUT, wait_until
from tests.support.demo import answers, start_demo

STATE = "/api/v1/sites/cantho/state"


def test_demo_comes_alive_and_stops_after_duration(tmp_path, redis_server, flushed):
    """Within seconds the state shows calls; pages and a working login are printed; --duration ends it."""
    process, port, log = start_demo(tmp_path, "--duration", "8", "--no-announcer",
                                    env={"QSERVER_REDIS_URL": redis_server.url})
    try:
        wait_until(lambda: (r := answers(process, port, log)) is not None and r.status_code == 200,
                   what="the demo's /healthz")
        state = wait_until(lambda: (r := answers(process, port, log, STATE)) and r.json()["calls"] and r.json(),
                           what="a first call")
        assert state["calls"][0]["counter"] != "12"
        password = log.read_text().split("quanly / ")[1].split()[0]
        login = httpx.post(f"http://127.0.0.1:{port}/api/v1/login", json={"username": "quanly", "password": password})
        assert login.status_code == 200 and login.json()["role"] == "manager"
        assert process.wait(timeout=8 + TIMEOUT) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output = log.read_text()
    for page in ("/d/cantho/floor/0", "/d/cantho/floor/1", "/d/cantho/counter/12", "/k/cantho?token=",
                 "/o/cantho/counter/12?token=", "/m/cantho?token=", "/m/cantho/reports", "/r/cantho/counter/12"):
        assert f"http://127.0.0.1:{port}{page}" in output, page
    assert "canbo12 / " in output and "--no-announcer" in output


def test_demo_runs_the_announcer_and_stops_on_sigterm(tmp_path):
    """With an `announcer` on PATH it runs for floor 0 (WAV files without audio); SIGTERM stops it all."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "announcer"
    fake.write_text(f"#!/bin/sh\necho \"$@\" > {tmp_path}/args.txt\n"
                    f"trap 'echo stopped > {tmp_path}/stopped.txt; exit 0' TERM\n"
                    "while true; do sleep 0.1; done\n")
    fake.chmod(0o755)
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    env_without_redis = {k: v for k, v in os.environ.items() if k != "QSERVER_REDIS_URL"}
    process, port, log = start_demo(tmp_path, env={**env_without_redis, **env})  # the embedded Redis
    try:
        wait_until(lambda: answers(process, port, log) is not None, what="the demo to answer")
        wait_until(lambda: (tmp_path / "args.txt").exists(), what="the announcer to start")
        url_file = tmp_path / "var" / "redis.url"
        assert url_file.exists()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    args = (tmp_path / "args.txt").read_text().split()
    assert args[:8] == ["--url", f"http://127.0.0.1:{port}", "--site", "cantho", "--floor", "0",
                        "--state-file", str(tmp_path / "var" / "announcer-floor-0.last")]
    if not has_audio_device():
        assert args[8:] == ["--wav-dir", str(tmp_path / "var" / "announcements")]
    assert (tmp_path / "stopped.txt").exists()
    assert not url_file.exists()  # the embedded Redis was stopped, not orphaned


def test_announcer_command_when_not_installed(monkeypatch, tmp_path):
    """No `announcer` on PATH: no command (the demo logs it and runs without the voice)."""
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr("qserver.simulation.demo.sys.executable", str(tmp_path / "python"))
    assert announcer_command("http://127.0.0.1:1", tmp_path, audio=False) is None


def test_announcer_command_found_beside_python(monkeypatch, tmp_path):
    """Without the venv on PATH (`make demo`), the announcer beside the running Python is used."""
    (tmp_path / "announcer").write_text("#!/bin/sh\n")
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr("qserver.simulation.demo.sys.executable", str(tmp_path / "python"))
    assert announcer_command("http://h:1", tmp_path, audio=True)[0] == str(tmp_path / "announcer")


@pytest.mark.parametrize("audio", [True, False])
def test_announcer_command_uses_wav_files_without_audio(monkeypatch, tmp_path, audio):
    """Speakers when a sound card exists, WAV files under the data directory otherwise."""
    (tmp_path / "announcer").write_text("#!/bin/sh\n")
    (tmp_path / "announcer").chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    command = announcer_command("http://h:1", tmp_path / "var", audio=audio)
    assert command[1:] == ["--url", "http://h:1", "--site", "cantho", "--floor", "0",
                           "--state-file", str(tmp_path / "var" / "announcer-floor-0.last"),
                           *([] if audio else ["--wav-dir", str(tmp_path / "var" / "announcements")])]


@pytest.mark.browser
def test_floor_display_shows_moving_numbers(tmp_path, redis_server, flushed, chromium_path):
    """In a real browser, the ground-floor hall display of the demo shows one call, then another."""
    from playwright.sync_api import expect, sync_playwright

    process, port, log = start_demo(tmp_path, "--duration", "60", "--no-announcer",
                                    env={"QSERVER_REDIS_URL": redis_server.url})
    try:
        wait_until(lambda: (r := answers(process, port, log)) is not None and r.status_code == 200,
                   what="the demo's /healthz")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium_path, args=["--no-sandbox", "--disable-gpu"])
            try:
                page = browser.new_page(viewport={"width": 1920, "height": 1080}, locale="vi-VN")
                page.set_default_timeout(TIMEOUT * 1000)
                page.goto(f"http://127.0.0.1:{port}/d/cantho/floor/0")
                newest = page.locator(".call.newest")
                expect(newest).to_have_attribute("data-number", re.compile(r"^[A-Z]\d{3}$"), timeout=TIMEOUT * 1000)
                first = newest.get_attribute("data-number")
                expect(newest).not_to_have_attribute("data-number", first, timeout=TIMEOUT * 2000)
                page.screenshot(path=str(tmp_path / "demo-floor-0.png"))
            finally:
                browser.close()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
