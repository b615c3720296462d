"""Helpers of the demo tests: ``qserver demo`` as a subprocess on a free port, and asking it things."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support import TIMEOUT, free_port


def start_demo(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen, int, Path]:
    port = free_port()
    log = tmp_path / "demo.log"
    environ = {**os.environ, "QSERVER_DATA_DIR": str(tmp_path / "var"), **(env or {})}
    environ.pop("QSERVER_ALWAYS_OPEN", None)  # the demo sets it itself
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "qserver", "demo", "--port", str(port), *args],
                                   env=environ, stdout=out, stderr=subprocess.STDOUT)
    return process, port, log


def answers(process: subprocess.Popen, port: int, log: Path, path: str = "/healthz") -> httpx.Response | None:
    if process.poll() is not None:
        raise RuntimeError(f"demo exited early: {log.read_text()[-2000:]}")
    try:
        return httpx.get(f"http://127.0.0.1:{port}{path}", timeout=TIMEOUT)
    except httpx.HTTPError:
        return None
