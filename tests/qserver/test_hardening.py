"""A hostile hall: login floods, ticket floods, anonymous floods, oversized bodies and frames, idle
sockets — each bounded with a clear answer, the event loop never stalled, nothing changed by a refusal."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from qserver.engine import SiteKeys
from qserver.server import raise_open_files_limit
from tests.support import TIMEOUT, LiveApp, ServerProcess, wait_until

SITE = "/api/v1/sites/cantho"
EVENTS = SiteKeys("cantho").events


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def add_user(server, name: str, password: str = "mật-khẩu-đúng", *extra: str) -> None:
    subprocess.run([sys.executable, "-m", "qserver", "user", "add", name, "--role", "officer", "--counter", "12",
                    "--password", password, *extra], env=server.env, check=True, capture_output=True)


def qserver(server, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qserver", *args], env=server.env, capture_output=True, text=True)


@pytest.fixture
async def limited(redis_server, flushed, tmp_path, clock):
    """The app with small limits, so a test reaches them quickly."""
    app = LiveApp(redis_server.url, tmp_path, clock, limit_login_per_address="8/minute",
                  limit_login_failures="3/15 minutes", limit_issue_per_kiosk="5/minute",
                  limit_reads_per_address="12/minute")
    await app.start()
    yield app
    await app.stop()


async def test_password_hashing_never_stalls_the_event_loop(live):
    """Twenty wrong-password logins at once: the event loop keeps answering (scrypt runs on a worker thread)."""
    await live.app.state.auth.add_user("lan", "mật-khẩu-đúng", "officer", "cantho", ("12",))
    lags: list[float] = []
    stop = asyncio.Event()

    async def measure() -> None:
        while not stop.is_set():
            started = time.perf_counter()
            await asyncio.sleep(0.005)
            lags.append(time.perf_counter() - started - 0.005)

    async with live.client() as http:
        probe = asyncio.create_task(measure())
        answers = await asyncio.gather(*(http.post("/api/v1/login", json={"username": "lan", "password": f"sai{i}"})
                                         for i in range(20)))
        stop.set()
        await probe
    assert {r.status_code for r in answers} <= {401, 429}
    # 20 scrypt runs of ~50 ms on the loop would block it for a second; on the worker it barely notices.
    assert max(lags) < 0.2, f"the event loop stalled {max(lags) * 1000:.0f} ms"


async def test_login_limits_and_lockout(limited):
    """Failed logins lock the user name out (429 with Retry-After, even with the right password), the
    console shows it, and the address limit answers 429 past its count."""
    await limited.app.state.auth.add_user("lan", "mật-khẩu-đúng", "officer", "cantho", ("12",))
    async with limited.client() as http:
        for _ in range(3):
            assert (await http.post("/api/v1/login", json={"username": "lan", "password": "sai"})).status_code == 401
        locked = await http.post("/api/v1/login", json={"username": "lan", "password": "mật-khẩu-đúng"})
        assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
        assert locked.json()["error"]["code"] == "rate_limited" and "tạm khóa" in locked.json()["error"]["message"]
        console = (await http.get(f"{SITE}/console", headers=bearer(limited.token("manager")))).json()
        assert [a["user"] for a in console["alerts"] if a["kind"] == "lockout"] == ["lan"]
        audit = (await http.get(f"{SITE}/audit?kind=access", headers=bearer(limited.token("manager")))).json()
        assert any("Tạm khóa tài khoản lan" in e["detail"] for e in audit["entries"])
        others = [await http.post("/api/v1/login", json={"username": "minh", "password": "x"}) for _ in range(5)]
        assert [r.status_code for r in others][-1] == 429  # 8 attempts a minute from this address
        assert "Retry-After" in others[-1].headers


async def test_a_kiosk_cannot_flood_tickets(limited):
    """Past its limit a kiosk token gets 429 with Retry-After and no ticket; another kiosk is not affected."""
    async with limited.client() as http:
        kiosk = bearer(limited.token("kiosk"))
        answers = [await http.post(f"{SITE}/tickets", json={"agency": "so-noi-vu"}, headers=kiosk) for _ in range(7)]
        assert [r.status_code for r in answers] == [201] * 5 + [429] * 2
        assert int(answers[-1].headers["Retry-After"]) > 0
        length = await limited.app.state.redis.xlen(EVENTS)
        assert (await http.post(f"{SITE}/tickets", json={"agency": "so-noi-vu"}, headers=kiosk)).status_code == 429
        assert await limited.app.state.redis.xlen(EVENTS) == length  # a refusal appends nothing
        other = await http.post(f"{SITE}/tickets", json={"agency": "so-noi-vu"}, headers=bearer(limited.token("kiosk")))
        assert other.status_code == 201


async def test_anonymous_reads_are_limited_per_address_but_not_health(limited):
    """Anonymous reads past the address's limit get 429; /healthz and authorised reads still answer."""
    async with limited.client() as http:
        statuses = [(await http.get(f"{SITE}/state")).status_code for _ in range(14)]
        assert statuses[:12] == [200] * 12 and statuses[12:] == [429, 429]
        assert (await http.get("/healthz")).status_code == 200
        assert (await http.get(f"{SITE}/state", headers=bearer(limited.token("display")))).status_code == 200


async def test_oversized_bodies_get_413_before_they_are_read(live):
    """A 1 MiB body (declared, or chunked without a length) is refused with 413 and changes nothing."""
    async with live.client() as http:
        kiosk = bearer(live.token("kiosk"))
        big = json.dumps({"agency": "so-noi-vu", "pad": "x" * (1 << 20)})
        declared = await http.post(f"{SITE}/tickets", content=big, headers={**kiosk, "Content-Type": "application/json"})
        assert declared.status_code == 413 and declared.json()["error"]["code"] == "too_large"

        async def chunks():
            for _ in range(64):
                yield b"x" * 16384
        chunked = await http.post(f"{SITE}/tickets", content=chunks(), headers=kiosk)
        assert chunked.status_code == 413 and chunked.json()["error"]["code"] == "too_large"
        assert await live.app.state.redis.xlen(EVENTS) == 0
        small = await http.post(f"{SITE}/tickets", json={"agency": "so-noi-vu"}, headers=kiosk)
        assert small.status_code == 201


@pytest.fixture
def served(redis_server, flushed, tmp_path):
    """``qserver run`` (its uvicorn options: frame limit, headers deadline) with a short headers deadline."""
    process = ServerProcess(redis_server.url, tmp_path, extra_env={"QSERVER_HEADERS_TIMEOUT_S": "1"})
    process.start()
    yield process
    process.close()


async def test_an_oversized_websocket_frame_closes_that_socket_with_1009(served):
    """A 100 KiB frame closes its socket with 1009; another client of the same floor is not disturbed."""
    url = f"{served.ws_url}?site=cantho&topics=floor:0"
    async with connect(url) as other, connect(url, max_size=None) as rogue:
        await asyncio.wait_for(other.recv(), TIMEOUT), await asyncio.wait_for(rogue.recv(), TIMEOUT)
        await rogue.send(json.dumps({"type": "ack", "event_id": "1-0", "pad": "x" * 100_000}))
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(rogue.recv(), TIMEOUT)
        assert closed.value.rcvd.code == 1009
        await other.send(json.dumps({"type": "ping"}))
        assert json.loads(await asyncio.wait_for(other.recv(), TIMEOUT))["type"] == "pong"


def test_idle_and_stalled_connections_do_not_hold_the_server(served):
    """2,000 sockets that never send a request do not slow /healthz, and a connection that stalls in its
    headers is closed after the deadline (1 s here, 10 s by default)."""
    raise_open_files_limit()  # this test process holds the 2,000 sockets too
    idle = []
    try:
        for _ in range(2000):
            sock = socket.create_connection(("127.0.0.1", served.port))
            idle.append(sock)
        started = time.perf_counter()
        with httpx.Client(base_url=served.base_url, timeout=TIMEOUT) as http:
            for _ in range(20):
                assert http.get("/healthz").status_code == 200
        assert (time.perf_counter() - started) / 20 < 0.1
        stalled = socket.create_connection(("127.0.0.1", served.port))
        stalled.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never finishes its headers
        stalled.settimeout(TIMEOUT)
        assert stalled.recv(1024) == b""  # closed by the server
        stalled.close()
    finally:
        for sock in idle:
            sock.close()


def test_every_answer_carries_the_security_headers(served):
    """Pages, the API, static files and errors say nosniff, no-referrer and same-origin framing; pages
    carry their Content-Security-Policy."""
    paths = ["/d/cantho/floor/0", "/d/cantho/counter/12", "/k/cantho", "/o/cantho/counter/12", "/t/cantho/x",
             "/m/cantho", "/m/cantho/reports", "/m/cantho/audit", "/r/cantho/counter/12", "/d/nowhere/floor/0",
             f"{SITE}", f"{SITE}/state", "/healthz", "/openapi.json", "/static/qs.js", f"{SITE}/tickets/none"]
    with httpx.Client(base_url=served.base_url, timeout=TIMEOUT) as http:
        for path in paths:
            response = http.get(path)
            assert response.headers["x-content-type-options"] == "nosniff", path
            assert response.headers["referrer-policy"] == "no-referrer", path
            assert response.headers["x-frame-options"] == "SAMEORIGIN", path
            if response.headers["content-type"].startswith("text/html"):
                policy = response.headers["content-security-policy"]
                assert "script-src 'self'" in policy and "frame-ancestors 'self'" in policy, path
                # only the kiosk may reach the print agent on its own PC
                agent_allowed = "connect-src 'self' ws: wss: http://127.0.0.1:8089;" in policy
                assert agent_allowed == (path == "/k/cantho"), path


def test_revocation_reaches_every_process_within_a_second(redis_server, flushed, tmp_path):
    """A token revoked, a user removed, a password changed with the CLI: two running servers refuse the
    old credentials within 1 s; `token list` never shows a secret."""
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    first = ServerProcess(redis_server.url, tmp_path / "a")
    second = ServerProcess(redis_server.url, tmp_path / "b")
    first.start(), second.start()
    try:
        created = qserver(first, "token", "create", "--role", "kiosk", "--name", "kiosk-2")
        token = created.stdout.strip().splitlines()[-1]
        listing = qserver(first, "token", "list").stdout
        assert "kiosk-2" in listing and token not in listing
        token_id = next(line.split()[0] for line in listing.splitlines() if "kiosk-2" in line)
        for process in (first, second):
            assert process.call("GET", "/api/v1/whoami", token).status_code == 200
        assert qserver(first, "token", "revoke", token_id).returncode == 0
        revoked_at = time.monotonic()
        wait_until(lambda: all(p.call("GET", "/api/v1/whoami", token).status_code == 401 for p in (first, second)),
                   what="both servers refusing the revoked token")
        assert time.monotonic() - revoked_at <= 1.0 + 0.1 * TIMEOUT

        add_user(first, "lan")
        login = first.call("POST", "/api/v1/login", json={"username": "lan", "password": "mật-khẩu-đúng"})
        assert login.status_code == 200
        session = login.json()["token"]
        assert second.call("GET", "/api/v1/whoami", session).status_code == 200
        assert qserver(first, "user", "passwd", "lan", "--password", "mật-khẩu-mới").returncode == 0
        wait_until(lambda: second.call("GET", "/api/v1/whoami", session).status_code == 401, timeout=1.0 + 0.1 * TIMEOUT,
                   what="the old login refused after a password change")
        assert first.call("POST", "/api/v1/login", json={"username": "lan", "password": "mật-khẩu-đúng"}).status_code == 401
        fresh = first.call("POST", "/api/v1/login", json={"username": "lan", "password": "mật-khẩu-mới"}).json()["token"]
        assert qserver(first, "user", "remove", "lan").returncode == 0
        wait_until(lambda: second.call("GET", "/api/v1/whoami", fresh).status_code == 401, timeout=1.0 + 0.1 * TIMEOUT,
                   what="a removed user's login refused")
        assert "lan" not in qserver(first, "user", "list").stdout
        assert qserver(first, "token", "revoke", "nothing-like-it").returncode == 2
    finally:
        first.close(), second.close()


def test_a_rotated_token_is_exchanged_without_touching_the_screen(server):
    """`token rotate` marks a kiosk token; whoami says so, the exchange answers a fresh token with the same
    grant, the old one works until its grace ends; an unmarked token cannot be exchanged (409)."""
    token = qserver(server, "token", "create", "--role", "kiosk", "--name", "kiosk-1").stdout.strip().splitlines()[-1]
    assert server.call("POST", "/api/v1/token/exchange", token).json()["error"]["code"] == "not_rotating"
    token_id = server.call("GET", "/api/v1/whoami", token).json()["token_id"]
    assert qserver(server, "token", "rotate", token_id, "--grace-s", "2").returncode == 0
    wait_until(lambda: server.call("GET", "/api/v1/whoami", token).json().get("rotate") is True, what="rotate flag")
    swap = server.call("POST", "/api/v1/token/exchange", token)
    assert swap.status_code == 200
    fresh = swap.json()["token"]
    assert fresh != token and swap.json()["role"] == "kiosk" and swap.json()["name"] == "kiosk-1"
    assert server.call("POST", f"{SITE}/tickets", fresh, {"agency": "so-noi-vu"}).status_code == 201
    wait_until(lambda: server.call("GET", "/api/v1/whoami", token).status_code == 401, timeout=2 + TIMEOUT,
               what="the old token expiring after its grace")
    assert server.call("GET", "/api/v1/whoami", fresh).json()["rotate"] is False
    audit = server.call("GET", f"{SITE}/audit?kind=access", server.token("manager")).json()["entries"]
    details = [e["detail"] for e in audit]
    assert any(d.startswith("Tạo mã truy cập máy lấy số “kiosk-1”") for d in details)
    assert any(d.startswith("Đổi mã truy cập máy lấy số “kiosk-1”") for d in details)
    assert all(e["actor_label"] for e in audit)


def test_no_token_looks_like_a_command_line_option():
    """Tokens go on command lines (`counter-pad --token T`): none starts with a dash."""
    from qserver.auth import new_token

    assert not [t for t, _key, _value in (new_token("kiosk", "cantho") for _ in range(3000)) if t.startswith("-")]
