"""The command line against a running server: tokens and users work at once."""

from __future__ import annotations

import os
import subprocess
import sys

SITE = "/api/v1/sites/cantho"


def qserver(server, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "QSERVER_REDIS_URL": server.redis_url}
    return subprocess.run([sys.executable, "-m", "qserver", *args], env=env, capture_output=True, text=True,
                          timeout=60)


def test_token_create_prints_the_token_last_and_works_at_once(server):
    """`qserver token create` prints the token alone on its last line; the running server accepts it."""
    kiosk = qserver(server, "token", "create", "--role", "kiosk").stdout.strip().splitlines()[-1]
    officer = qserver(server, "token", "create", "--role", "officer", "--counter", "12", "--counter", "13",
                      "--name", "an").stdout.strip().splitlines()[-1]
    assert server.call("POST", f"{SITE}/tickets", kiosk, {"agency": "so-noi-vu"}).status_code == 201
    assert server.call("POST", f"{SITE}/counters/13/call-next", officer).json()["number"] == "E001"
    assert server.call("POST", f"{SITE}/counters/14/call-next", officer).status_code == 403


def test_token_create_refuses_unknown_counters_and_roles(server):
    """A counter the site does not have, or an officer without a counter, is a clear error."""
    unknown = qserver(server, "token", "create", "--role", "officer", "--counter", "99")
    assert unknown.returncode != 0 and "counter '99' is not configured for site 'cantho'" in unknown.stderr
    bare = qserver(server, "token", "create", "--role", "officer")
    assert bare.returncode == 2 and bare.stderr.strip() == "error: an officer token needs at least one --counter"


def test_user_add_then_login(server):
    """`qserver user add` makes a login the pages can use."""
    added = qserver(server, "user", "add", "lan", "--role", "manager", "--password", "mat-khau-9")
    assert added.returncode == 0, added.stderr
    login = server.call("POST", "/api/v1/login", json={"username": "lan", "password": "mat-khau-9"})
    assert login.status_code == 200 and login.json()["role"] == "manager"
    assert "lan" in qserver(server, "user", "list").stdout.split()
