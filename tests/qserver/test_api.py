"""The HTTP API of shared/API.md on a real uvicorn: statuses, error bodies, check order, no side effects."""

from __future__ import annotations

import asyncio

import pytest

from qserver.engine import SiteKeys

NOI_VU = "so-noi-vu"
SITE = "/api/v1/sites/cantho"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def http(live):
    async with live.client() as client:
        yield client


@pytest.fixture
def tokens(live) -> dict[str, str]:
    return {
        "kiosk": live.token("kiosk"),
        "officer12": live.token("officer", ["12"], name="an"),
        "officer33": live.token("officer", ["33"]),
        "manager": live.token("manager", name="lan"),
        "display": live.token("display"),
        "other_site_manager": live.token("manager", site="haugiang"),
    }


async def stream_length(live) -> int:
    return await live.app.state.redis.xlen(SiteKeys("cantho").events)


async def test_public_reads(http):
    """healthz, sites, layout, state and openapi need no token."""
    assert (await http.get("/healthz")).json() == {"ok": True, "redis": "ok"}
    assert (await http.get("/api/v1/sites")).json()[0]["slug"] == "cantho"
    layout = (await http.get(SITE)).json()
    assert len(layout["agencies"]) == 16 and len(layout["counters"]) == 35
    tu_phap = next(a for a in layout["agencies"] if a["slug"] == "so-tu-phap")
    assert tu_phap["name"] == "Sở Tư pháp" and tu_phap["floor"] == 1 and tu_phap["counters"] == ["32", "33", "34", "35"]
    state = (await http.get(f"{SITE}/state?floor=1")).json()
    assert {c["floor"] for c in state["counters"]} == {1}
    spec = (await http.get("/openapi.json")).json()
    assert spec["openapi"].startswith("3.") and f"{SITE.replace('cantho', '{site}')}/tickets" in spec["paths"]


async def test_issue_call_complete_rate_flow(http, tokens):
    """Kiosk issues (201), officer calls (200) and completes, kiosk rates; the ticket page follows."""
    issued = await http.post(f"{SITE}/tickets", json={"agency": NOI_VU}, headers=bearer(tokens["kiosk"]))
    assert issued.status_code == 201
    ticket = issued.json()
    assert ticket["number"] == "E001" and ticket["ahead"] == 0 and ticket["eta_s"] > 0
    assert ticket["issued_at"].endswith("+07:00") and ticket["track_url"] == f"/t/cantho/{ticket['id']}"
    called = await http.post(f"{SITE}/counters/12/call-next", headers=bearer(tokens["officer12"]))
    assert called.status_code == 200 and called.json()["status"] == "called"
    assert (await http.post(f"{SITE}/counters/12/call-next", headers=bearer(tokens["officer12"]))).status_code == 204
    assert (await http.get(f"{SITE}/tickets/{ticket['id']}")).json()["status"] == "done"
    rated = await http.post(f"{SITE}/tickets/{ticket['id']}/rating", json={"score": 3}, headers=bearer(tokens["kiosk"]))
    assert rated.status_code == 200 and rated.json()["rating"] == 3


@pytest.mark.parametrize("method, path, body, token, status, code", [
    ("POST", f"{SITE}/tickets", {"agency": NOI_VU}, None, 401, "unauthorized"),
    ("POST", f"{SITE}/tickets", {"agency": NOI_VU}, "bogus", 401, "unauthorized"),
    ("POST", "/api/v1/sites/hanoi/tickets", {"agency": NOI_VU}, "kiosk", 404, "unknown_site"),
    ("POST", f"{SITE}/tickets", {"agency": "so-khong-co"}, "kiosk", 404, "unknown_agency"),
    ("POST", f"{SITE}/tickets", {"agency": "so-khong-co"}, "display", 404, "unknown_agency"),
    ("POST", f"{SITE}/tickets", {"agency": NOI_VU}, "display", 403, "forbidden"),
    ("POST", f"{SITE}/tickets", {"agency": NOI_VU}, "other_site_manager", 403, "forbidden"),
    ("POST", f"{SITE}/tickets", [NOI_VU], "kiosk", 422, "invalid_field"),
    ("POST", f"{SITE}/tickets", {"agency": 12}, "kiosk", 422, "invalid_field"),
    ("POST", f"{SITE}/tickets", {}, "kiosk", 422, "invalid_field"),
    ("POST", f"{SITE}/tickets", {"agency": NOI_VU, "priority": "vip"}, "kiosk", 422, "invalid_field"),
    ("POST", f"{SITE}/tickets", {"agency": NOI_VU, "citizen_qr": "abc"}, "kiosk", 422, "invalid_cccd"),
    ("POST", f"{SITE}/tickets", {"agency": NOI_VU, "key": ""}, "kiosk", 422, "invalid_field"),
    ("POST", f"{SITE}/counters/99/call-next", {}, "officer12", 404, "unknown_counter"),
    ("POST", f"{SITE}/counters/13/call-next", {}, "officer12", 403, "forbidden"),
    ("POST", f"{SITE}/counters/12/call-next", {}, "kiosk", 403, "forbidden"),
    ("POST", f"{SITE}/counters/12/recall", {}, "officer12", 409, "nothing_current"),
    ("POST", f"{SITE}/counters/12/no-show", {}, "officer12", 409, "nothing_current"),
    ("POST", f"{SITE}/counters/12/complete", {"outcome": "lost"}, "officer12", 422, "invalid_field"),
    ("POST", f"{SITE}/counters/12/transfer", {}, "officer12", 422, "invalid_field"),
    ("POST", f"{SITE}/counters/12/transfer", {"agency": "so-khong-co"}, "officer12", 404, "unknown_agency"),
    ("POST", f"{SITE}/counters/12/resume", {}, "officer12", 409, "not_paused"),
    ("POST", f"{SITE}/counters/12/close", {}, "officer12", 403, "forbidden"),
    ("PUT", f"{SITE}/counters/12/agencies", {"agencies": []}, "manager", 422, "invalid_field"),
    ("PUT", f"{SITE}/counters/12/agencies", {"agencies": ["so-khong-co"]}, "manager", 404, "unknown_agency"),
    ("PUT", f"{SITE}/counters/12/agencies", {"agencies": [NOI_VU]}, "officer12", 403, "forbidden"),
    ("POST", f"{SITE}/tickets/20261124-E999/rating", {"score": 3}, "kiosk", 404, "unknown_ticket"),
    ("GET", f"{SITE}/tickets/20261124-E999", None, None, 404, "unknown_ticket"),
    ("POST", f"{SITE}/notices", {"text": ""}, "manager", 422, "invalid_field"),
    ("POST", f"{SITE}/notices", {"text": "Xin chào", "floor": 7}, "manager", 422, "invalid_field"),
    ("POST", f"{SITE}/notices", {"text": "Xin chào"}, "officer12", 403, "forbidden"),
])
async def test_bad_requests_are_refused_and_change_nothing(live, http, tokens, method, path, body, token, status,
                                                           code):
    """Each bad request gets its status and error code, and appends nothing to the stream."""
    before = await stream_length(live)
    headers = bearer(tokens.get(token, token)) if token else {}
    response = await http.request(method, path, json=body, headers=headers)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    assert await stream_length(live) == before


async def test_malformed_json_is_400(live, http, tokens):
    """A body that is not JSON is a 400 and changes nothing."""
    before = await stream_length(live)
    response = await http.post(f"{SITE}/tickets", content=b"{agency:", headers=bearer(tokens["kiosk"]))
    assert response.status_code == 400 and response.json()["error"]["code"] == "bad_json"
    assert await stream_length(live) == before


async def test_double_press_over_http_calls_one_ticket(live, http, tokens):
    """Two requests with the same key at once call one ticket and get the same answer."""
    for _ in range(2):
        await http.post(f"{SITE}/tickets", json={"agency": NOI_VU}, headers=bearer(tokens["kiosk"]))
    first, second = await asyncio.gather(*(
        http.post(f"{SITE}/counters/12/call-next", json={"key": "k-1"}, headers=bearer(tokens["officer12"]))
        for _ in range(2)))
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    state = (await http.get(f"{SITE}/state")).json()
    assert state["waiting"][NOI_VU] == 1


async def test_issue_idempotency_per_kiosk_token(live, http, tokens):
    """A kiosk retrying an issue with its key gets the same ticket; another kiosk's same key is its own."""
    headers = bearer(tokens["kiosk"])
    one = await http.post(f"{SITE}/tickets", json={"agency": NOI_VU, "key": "print-7"}, headers=headers)
    two = await http.post(f"{SITE}/tickets", json={"agency": NOI_VU, "key": "print-7"}, headers=headers)
    assert one.status_code == two.status_code == 201 and one.json()["id"] == two.json()["id"]
    other = await http.post(f"{SITE}/tickets", json={"agency": NOI_VU, "key": "print-7"},
                            headers=bearer(live.token("kiosk")))
    assert other.json()["number"] == "E002"


async def test_closed_hours_answer_409_with_opening(redis_server, flushed, tmp_path, clock):
    """Without --always-open an issue at lunch time is a 409 naming the opening time."""
    import datetime as dt

    from tests.support import LiveApp

    clock.set(dt.datetime(2026, 11, 24, 4, 0, tzinfo=dt.timezone.utc))  # 11:00 in Cần Thơ
    app = LiveApp(redis_server.url, tmp_path, clock, always_open=False)
    await app.start()
    try:
        async with app.client() as http:
            response = await http.post(f"{SITE}/tickets", json={"agency": NOI_VU}, headers=bearer(app.token("kiosk")))
        assert response.status_code == 409
        error = response.json()["error"]
        assert error["code"] == "closed_hours" and error["opens_at"] == "2026-11-24T13:00+07:00"
    finally:
        await app.stop()


async def test_manager_console_actions(live, http, tokens):
    """A manager reassigns, closes, opens a counter and posts a notice; each answer is the new state."""
    headers = bearer(tokens["manager"])
    moved = await http.put(f"{SITE}/counters/12/agencies", json={"agencies": ["so-tu-phap", NOI_VU]}, headers=headers)
    assert moved.status_code == 200 and moved.json()["agencies"] == ["so-tu-phap", NOI_VU]
    assert (await http.post(f"{SITE}/counters/12/close", headers=headers)).json()["status"] == "closed"
    assert (await http.post(f"{SITE}/counters/12/open", headers=headers)).json()["status"] == "open"
    paused = await http.post(f"{SITE}/counters/12/pause", json={"reason": "Nghỉ trưa"}, headers=bearer(tokens["officer12"]))
    assert paused.json()["reason"] == "Nghỉ trưa"
    notice = await http.post(f"{SITE}/notices", json={"text": "Hệ thống bảo trì lúc 11 giờ", "floor": 1}, headers=headers)
    assert notice.status_code == 201
    state = (await http.get(f"{SITE}/state?floor=1")).json()
    assert state["notices"][0]["text"] == "Hệ thống bảo trì lúc 11 giờ"
    assert (await http.get(f"{SITE}/state?floor=0")).json()["notices"] == []


async def test_login_gives_a_token(live, http):
    """A user logs in with a password and gets a token bound to their counters."""
    await live.app.state.auth.add_user("an", "mat-khau-1", "officer", "cantho", ("12",))
    bad = await http.post("/api/v1/login", json={"username": "an", "password": "sai"})
    assert bad.status_code == 401
    good = await http.post("/api/v1/login", json={"username": "an", "password": "mat-khau-1"})
    assert good.status_code == 200 and good.json()["counters"] == ["12"]
    assert (await http.post(f"{SITE}/counters/12/call-next", headers=bearer(good.json()["token"]))).status_code == 204


async def test_metrics_count_events(live, http, tokens):
    """/metrics exposes waiting per agency and events read from the stream."""
    await http.post(f"{SITE}/tickets", json={"agency": NOI_VU}, headers=bearer(tokens["kiosk"]))
    for _ in range(100):
        text = (await http.get("/metrics")).text
        if 'qserver_waiting{agency="so-noi-vu",site="cantho"} 1.0' in text:
            break
        await asyncio.sleep(0.02)
    assert 'qserver_waiting{agency="so-noi-vu",site="cantho"} 1.0' in text
    assert 'qserver_events_total{site="cantho",type="issued"} 1.0' in text


async def test_a_cluster_between_primaries_is_503_not_500(live, http, tokens, monkeypatch):
    """redis-py's cluster client raises its own errors (a slot no primary covers yet, no node reached), which
    are not RedisError: a token looked up in that moment answers 503 "try again", as a Redis that is down."""
    from redis.exceptions import RedisClusterException, SlotNotCoveredError

    auth = live.app.state.auth
    for error in (SlotNotCoveredError('Slot "5461" is not covered by the cluster.'),
                  RedisClusterException("Redis Cluster cannot be connected.")):
        async def failing_get(key, error=error):
            raise error
        monkeypatch.setattr(auth.redis, "get", failing_get)
        answer = await http.post(f"{SITE}/tickets", json={"agency": NOI_VU}, headers=bearer(f"never-seen-{id(error)}"))
        assert answer.status_code == 503 and answer.json()["error"]["code"] == "redis_unavailable"
    monkeypatch.undo()
    issued = await http.post(f"{SITE}/tickets", json={"agency": NOI_VU}, headers=bearer(tokens["kiosk"]))
    assert issued.status_code == 201


async def test_redis_down_is_503_and_back(live, http, tokens, redis_server):
    """With Redis stopped, healthz and writes answer 503; after it restarts everything works again."""
    await http.post(f"{SITE}/tickets", json={"agency": NOI_VU}, headers=bearer(tokens["kiosk"]))
    redis_server.stop()
    try:
        assert (await http.get("/healthz")).status_code == 503
        down = await http.post(f"{SITE}/counters/12/call-next", headers=bearer(tokens["officer12"]))
        assert down.status_code == 503 and down.json()["error"]["code"] == "redis_unavailable"
    finally:
        redis_server.start()
    called = await http.post(f"{SITE}/counters/12/call-next", headers=bearer(tokens["officer12"]))
    assert called.status_code == 200 and called.json()["number"] == "E001"
