"""Webhooks for the SMS / Zalo OA gateway: signed, retried with backoff, in order per ticket and booking,
one delivery per event across processes, failures visible to managers — against a real HTTP receiver."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import time

from redis.asyncio import Redis

import config
from qserver.engine import SiteEngine
from qserver.notify import HomeWorker, build_payload, sign, verify
from qserver.notify.payloads import lookup_of, webhook_kind
from qserver.protocol import parse_stream_id
from qserver.settings import Settings
from tests.home.conftest import ID_A, ID_B, PHONE_A, PHONE_B
from tests.support import TIMEOUT, LiveApp
from tests.support.webhooks import Receiver

SITE = "/api/v1/sites/cantho"
TU_PHAP = "so-tu-phap"
SECRET = "khoa-bi-mat-cua-tinh"
FAST = dict(worker_interval_s=0.1, webhook_backoff_s=0.05, webhook_backoff_max_s=0.2)


async def eventually(check, what: str, timeout: float = TIMEOUT):
    """Poll ``check`` (sync or async) until it is truthy; its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def test_a_signature_checks_the_body_the_secret_and_the_time():
    """verify accepts what sign made, and refuses another body, another secret, or an old timestamp."""
    body = b'{"id":"cantho:1-0","type":"test"}'
    header = sign(SECRET, body, 1_800_000_000)
    assert header.startswith("t=1800000000,v1=") and len(header.split("v1=")[1]) == 64
    assert verify(SECRET, header, body, now=1_800_000_100)
    assert not verify(SECRET, header, body + b" ", now=1_800_000_100)
    assert not verify("other", header, body, now=1_800_000_100)
    assert not verify(SECRET, header, body, now=1_800_000_000 + 301)
    assert not verify(SECRET, "v1=abc", body, now=1_800_000_000)


def test_payloads_carry_the_id_the_phone_and_a_message(site):
    """A called event becomes ticket-called with the site-scoped id, the phone, the counter and a Vietnamese
    SMS text (and one without diacritics); a kiosk event without a ticket is no webhook at all."""
    event = {"type": "called", "at": 1795485600000, "counter": "12", "counter_floor": 0, "recall": False,
             "ticket": {"id": "20261124-V001", "number": "V001", "agency": TU_PHAP, "floor": 1, "status": "called",
                        "issued_at": 1795485000000, "channel": "online", "contact": True}}
    assert webhook_kind(event) == "ticket-called" and lookup_of(event) == ("ticket", "20261124-V001", "2026-11-24")
    body = build_payload(site, "ticket-called", "1795485600000-0", event, phone=PHONE_A,
                         base_url="https://hcc.cantho.gov.vn")
    assert body["id"] == "cantho:1795485600000-0" and body["to"] == {"phone": PHONE_A}
    assert body["ticket"]["track_url"] == "https://hcc.cantho.gov.vn/t/cantho/20261124-V001"
    assert "contact" not in body["ticket"] and body["counter"] == "12"
    assert body["message"] == "TTPVHCC Cần Thơ: Mời công dân có số V001 đến quầy 12."
    assert body["message_plain"] == "TTPVHCC Can Tho: Moi cong dan co so V001 den quay 12."
    assert webhook_kind({"type": "queue", "waiting": {}}) is None


def signed_ok(headers: dict[str, str], body: bytes) -> bool:
    return verify(SECRET, headers["X-QServer-Signature"], body, now=int(time.time()))


async def test_a_gateway_that_fails_at_first_gets_every_message_once_in_order(redis_server, flushed, tmp_path, clock):
    """The receiver answers 500 three times: the worker retries with backoff, every request is signed,
    the same event keeps its id across retries (the receiver applies it once), and each ticket's and
    booking's messages arrive in order: near before called, confirmed before cancelled."""
    with Receiver(fail_first=3) as receiver:
        app = LiveApp(redis_server.url, tmp_path, clock, **FAST)
        await app.start()
        http = app.client()
        try:
            engine = app.app.state.engines["cantho"]
            await engine.set_webhook(receiver.url, SECRET, config.WEBHOOK_EVENTS, by="test")
            await eventually(engine.webhook_cursor, "the worker to start delivering")
            kiosk = {"Authorization": f"Bearer {app.token('kiosk')}"}
            manager = {"Authorization": f"Bearer {app.token('manager')}"}
            assert (await http.post(f"{SITE}/tickets", json={"agency": TU_PHAP}, headers=kiosk)).status_code == 201
            online = (await http.post(f"{SITE}/online-tickets", json={"agency": TU_PHAP, "cccd": ID_A,
                                                                       "phone": PHONE_A})).json()
            booked = (await http.post(f"{SITE}/bookings", json={"agency": TU_PHAP, "date": "2026-11-25",
                                                                "time": "09:00", "cccd": ID_B, "phone": PHONE_B}))
            assert booked.status_code == 201, booked.text
            await eventually(lambda: receiver.of("ticket-near") and receiver.of("booking-confirmed"), "near, booked")
            counter = next(c.id for c in engine.site.counters if c.agencies[0] == TU_PHAP)
            for _ in range(2):
                r = await http.post(f"{SITE}/counters/{counter}/call-next", json={}, headers=manager)
                assert r.status_code == 200
            code = booked.json()["code"]
            assert (await http.post(f"{SITE}/bookings/{code}/cancel")).status_code == 200
            await eventually(lambda: receiver.of("ticket-called") and receiver.of("booking-cancelled"), "the rest")
            status = (await http.get(f"{SITE}/webhook", headers=manager)).json()
        finally:
            await http.aclose()
            await app.stop()
    failed = [r for r in receiver.requests if r[2] == 500]
    assert len(failed) == 3 and json.loads(failed[0][1])["id"] == json.loads(failed[-1][1])["id"]  # retried
    assert all(signed_ok(headers, body) for headers, body, _status in receiver.requests)
    assert all(headers["X-QServer-Delivery"] == json.loads(body)["id"] for headers, body, _ in receiver.requests)
    ids = [event["id"] for event in receiver.applied]
    assert len(ids) == len(set(ids)) == 4
    types = receiver.types()
    assert types.index("ticket-near") < types.index("ticket-called")
    assert types.index("booking-confirmed") < types.index("booking-cancelled")
    near, called = receiver.of("ticket-near")[0], receiver.of("ticket-called")[0]
    assert near["ticket"]["id"] == called["ticket"]["id"] == online["id"] and near["to"]["phone"] == PHONE_A
    assert near["ahead"] == 1 and called["counter"] == counter
    confirmed = receiver.of("booking-confirmed")[0]
    assert confirmed["booking"]["code"] == booked.json()["code"] and confirmed["to"]["phone"] == PHONE_B
    assert "mã " + booked.json()["code"] in confirmed["message"]
    assert receiver.of("booking-cancelled")[0]["reason"] == "citizen"
    assert status["status"]["delivered"] == 4 and "failing_since" not in status["status"]


async def test_failures_are_visible_to_managers(redis_server, flushed, tmp_path, clock, site):
    """A gateway that never answers 2xx: the console shows a webhook alert while retrying, then the given-up
    delivery (give_up_after_s); /metrics counts retries and give-ups; the call path never waited."""
    site = dataclasses.replace(site, webhook=dataclasses.replace(site.webhook, give_up_after_s=1))
    with Receiver(fail_always=True) as receiver:
        app = LiveApp(redis_server.url, tmp_path, clock, sites={"cantho": site}, **FAST)
        await app.start()
        http = app.client()
        try:
            engine = app.app.state.engines["cantho"]
            manager = {"Authorization": f"Bearer {app.token('manager')}"}
            await engine.set_webhook(receiver.url, SECRET, config.WEBHOOK_EVENTS, by="test")
            await eventually(engine.webhook_cursor, "the worker to start delivering")
            started = time.monotonic()
            r = await http.post(f"{SITE}/online-tickets", json={"agency": TU_PHAP, "cccd": ID_A, "phone": PHONE_A})
            assert r.status_code == 201 and time.monotonic() - started < 1.0
            alerts = await eventually(
                lambda: _alerts(http, manager, "webhook"), "a failing-webhook alert on the console")
            assert "đang lỗi" in alerts[0]["message"] and "HTTP 500" in alerts[0]["message"]
            dead = await eventually(lambda: _alerts(http, manager, "webhook_dead"), "the given-up delivery")
            assert "không gửi được" in dead[0]["message"]
            metrics = (await http.get("/metrics")).text
        finally:
            await http.aclose()
            await app.stop()
    assert 'qserver_webhook_deliveries_total{result="given_up",site="cantho"} 1.0' in metrics
    assert 'qserver_webhook_failing{site="cantho"} 1.0' in metrics
    assert len(receiver.requests) >= 2 and receiver.applied == []


async def _alerts(http, headers, kind: str) -> list[dict]:
    console = (await http.get(f"{SITE}/console", headers=headers)).json()
    return [a for a in console["alerts"] if a["kind"] == kind]


async def test_one_delivery_per_event_across_processes_and_a_takeover(redis_server, flushed, clock, site):
    """Two workers (two processes' worth: own Redis clients and engines) share a site: each event reaches
    the gateway once; when the holder stops, the other takes the site over and goes on from its cursor."""
    settings = Settings(**FAST)
    clients = [Redis.from_url(redis_server.url) for _ in range(3)]
    engines = [{"cantho": SiteEngine(c, site, clock, secret=b"test-secret", always_open=True)} for c in clients]
    workers = [HomeWorker(clients[i], engines[i], settings, owner=f"process-{i}") for i in range(2)]
    actor = engines[2]["cantho"]
    with Receiver() as receiver:
        try:
            await actor.seed_counters()
            await actor.set_webhook(receiver.url, SECRET, ("booking-confirmed",), by="test")
            for worker in workers:
                await worker.start()
            holder = await eventually(lambda: [w for w in workers if w.deliverers], "a holder")
            assert len(holder) == 1
            holder, other = holder[0], next(w for w in workers if w is not holder[0])
            await eventually(actor.webhook_cursor, "a cursor")
            for n in range(6):
                await actor.book(TU_PHAP, "2026-11-25", ("09:00", "09:30", "10:00")[n % 3],
                                 id_number=f"0922{n:08d}", phone=f"091{n:07d}")
            await eventually(lambda: len(receiver.applied) == 6, "six confirmations")

            async def sixth_recorded() -> bool:
                # stopped between the receiver's answer and the cursor's write, the holder would rightly
                # have the other send the sixth again (at least once); this test wants a clean handover
                cursor, sent = await actor.webhook_cursor(), json.loads(receiver.requests[-1][1])["id"]
                return cursor is not None and parse_stream_id(cursor) >= parse_stream_id(sent.split(":", 1)[1])

            await eventually(sixth_recorded, "the holder to record its cursor")
            await holder.stop()
            await eventually(lambda: other.deliverers, "the takeover", timeout=TIMEOUT)
            for n in range(6, 9):
                await actor.book(TU_PHAP, "2026-11-26", "09:00" if n < 8 else "09:30", id_number=f"0922{n:08d}",
                                 phone=f"091{n:07d}")
            await eventually(lambda: len(receiver.applied) == 9, "three more after the takeover")
        finally:
            for worker in workers:
                await worker.stop()
            for c in clients:
                await c.aclose()
    delivered = [json.loads(body)["id"] for _h, body, _s in receiver.requests]
    assert len(delivered) == len(set(delivered)) == 9   # nothing sent twice, nothing lost
    assert [event["booking"]["day"] for event in receiver.applied] == ["2026-11-25"] * 6 + ["2026-11-26"] * 3


async def test_booking_reminders_and_no_shows_come_from_the_sweep(redis_server, flushed, clock, site):
    """The worker that holds the site sends booking-reminder two hours before the slot, and turns a booking
    never checked in into a booking no-show at the end of its grace."""
    settings = Settings(**FAST)
    client = Redis.from_url(redis_server.url)
    engine = SiteEngine(client, site, clock, secret=b"test-secret", always_open=True)
    worker = HomeWorker(client, {"cantho": engine}, settings, owner="process-1")
    with Receiver() as receiver:
        try:
            await engine.seed_counters()
            await engine.set_webhook(receiver.url, SECRET, config.WEBHOOK_EVENTS, by="test")
            await worker.start()
            await eventually(engine.webhook_cursor, "the worker to start delivering")
            clock.advance(minutes=-10)  # 07:50: booked for 10:00, its reminder is due at 08:00
            booking = (await engine.book(TU_PHAP, "2026-11-24", "10:00", id_number=ID_A, phone=PHONE_A))["booking"]
            await eventually(lambda: receiver.of("booking-confirmed"), "the confirmation")
            await worker.tick()
            assert receiver.of("booking-reminder") == []
            clock.advance(minutes=10)  # 08:00
            await worker.tick()
            await eventually(lambda: receiver.of("booking-reminder"), "the reminder")
            clock.advance(hours=2, minutes=16)  # 10:16: the grace has ended
            await worker.tick()
            assert (await engine.booking(booking["id"]))["status"] == "no_show"
        finally:
            await worker.stop()
            await client.aclose()
    reminder = receiver.of("booking-reminder")[0]
    assert reminder["booking"]["code"] == booking["code"][:4] + "-" + booking["code"][4:]
    assert "Nhắc lịch hẹn Sở Tư pháp lúc 10:00" in reminder["message"]


def test_qserver_webhook_set_show_and_clear(redis_server, flushed, tmp_path):
    """`qserver webhook set` stores the URL and a fresh secret (printed once), `show` never prints it and
    says where the webhook comes from, `clear` falls back to the site file; a bad URL or event is refused."""
    import subprocess
    import sys

    env = {**os.environ, "QSERVER_REDIS_URL": redis_server.url, "QSERVER_DATA_DIR": str(tmp_path)}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "qserver", "webhook", *args], env=env, capture_output=True,
                              text=True, timeout=TIMEOUT * 3)

    made = run("set", "--site", "cantho", "--url", "https://sms.cantho.gov.vn/qserver",
               "--events", "ticket-called,booking-confirmed")
    assert made.returncode == 0, made.stderr
    secret = made.stdout.strip().splitlines()[-1]
    assert len(secret) >= 40
    shown = run("show", "--site", "cantho")
    state = json.loads(shown.stdout)
    assert (state["url"], state["source"], state["events"]) == ("https://sms.cantho.gov.vn/qserver", "redis",
                                                                ["ticket-called", "booking-confirmed"])
    assert secret not in shown.stdout and state["set_by"].startswith("admin")
    assert run("set", "--site", "cantho", "--url", "sms.cantho.gov.vn").returncode != 0
    bad_event = run("set", "--site", "cantho", "--url", "https://x.vn/h", "--events", "ticket-gone")
    assert bad_event.returncode != 0 and "ticket-gone" in bad_event.stderr
    assert run("clear", "--site", "cantho").returncode == 0
    assert json.loads(run("show", "--site", "cantho").stdout)["url"] is None
