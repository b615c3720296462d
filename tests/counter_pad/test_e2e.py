"""The pad on mock pins against a real ``qserver run`` and a real Redis: the engine is the judge."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from dataclasses import dataclass

import pytest

from counter_pad.checks import check_setup
from counter_pad.cli import build_link, build_pad
from counter_pad.config import parse_config
from counter_pad.hardware import PadHardware
from counter_pad.pad import Pad
from tests.support import TIMEOUT

from tests.support.pad import PINS, config_data, press, read_display, toggles, wait_display, wait_for
from .proxy import TcpProxy

SITE = "/api/v1/sites/cantho"
BUTTON = PINS["buttons"]


def quick_backoff():
    return itertools.repeat(0.1)


@dataclass
class PadRun:
    pad: Pad
    hw: PadHardware
    factory: object
    config: object
    task: asyncio.Task

    @property
    def link(self):
        return self.pad.link

    def press(self, button: str) -> None:
        press(self.factory, BUTTON[button])

    def buzzer_states(self) -> list[bool]:
        return [s.state for s in self.factory.pin(PINS["buzzer"]).states][1:]

    async def online(self) -> None:
        """Connected and the counter's state received."""
        await wait_for(lambda: self.link.connected.is_set() and self.pad.view.status is not None,
                       what="the pad to be online")

    async def offline(self) -> None:
        await wait_for(lambda: not self.link.connected.is_set(), what="the pad to go offline")


@contextlib.asynccontextmanager
async def run_pad(factory, url: str, token: str, **tables):
    config = parse_config(config_data(qserver={"url": url, "token": token}, **tables))
    hw = PadHardware(config, pin_factory=factory)
    pad = build_pad(config, hw, build_link(config, backoff=quick_backoff))
    task = asyncio.create_task(pad.run(check_setup(config.url, config.site, config.counter, config.token,
                                                   backoff=quick_backoff)))
    run = PadRun(pad, hw, factory, config, task)
    try:
        await run.online()
        yield run
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        hw.close()


async def http(server, method: str, path: str, token: str | None = None, json=None):
    return await asyncio.to_thread(server.call, method, path, token, json)


async def issue(server, count: int = 1) -> list[dict]:
    kiosk = server.token(role="kiosk")
    tickets = []
    for _ in range(count):
        response = await http(server, "POST", f"{SITE}/tickets", kiosk, {"agency": "so-noi-vu"})
        assert response.status_code == 201, response.text
        tickets.append(response.json())
    return tickets


async def status_of(server, ticket: dict) -> tuple[str, str | None]:
    body = (await http(server, "GET", f"{SITE}/tickets/{ticket['id']}")).json()
    return body["status"], body["counter"]


async def counter_12(server) -> dict:
    state = (await http(server, "GET", f"{SITE}/state", server.token(role="display"))).json()
    return next(c for c in state["counters"] if c["id"] == "12")


async def eventually(check, what: str, timeout: float = TIMEOUT):
    """Await ``check()`` (a coroutine function) until it is truthy."""
    deadline = time.monotonic() + timeout
    while not (result := await check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
    return result


@pytest.fixture
def officer(server) -> str:
    return server.token(role="officer", counters=["12"])


async def test_pressing_call_next_calls_the_next_ticket_and_shows_it(server, officer, mock_factory):
    """Gọi tiếp on the mock pin calls the oldest ticket at counter 12; the segment pins show its number."""
    first, second = await issue(server, 2)
    async with run_pad(mock_factory, server.base_url, officer) as run:
        assert read_display(mock_factory, run.config) == "----"
        run.press("call_next")
        await eventually(lambda: _is(server, first, ("called", "12")), "the first ticket to be called")
        await wait_display(mock_factory, run.config, first["number"])
        assert mock_factory.pin(PINS["busy"]).state is True
        assert await status_of(server, second) == ("waiting", None)
        run.press("complete")
        await eventually(lambda: _is(server, first, ("done", "12")), "the ticket to be done")
        await wait_display(mock_factory, run.config, "----")
        assert mock_factory.pin(PINS["busy"]).state is False


async def _is(server, ticket: dict, expected: tuple[str, str | None]) -> bool:
    return await status_of(server, ticket) == expected


async def test_bounce_hold_and_double_press_act_once(server, officer, mock_factory):
    """Chatter, a 2 s hold and a quick double press each call one ticket, no more."""
    tickets = await issue(server, 3)
    async with run_pad(mock_factory, server.base_url, officer) as run:
        pin = mock_factory.pin(BUTTON["call_next"])
        for _ in range(4):  # contact chatter, then held down for 2 s
            pin.drive_low()
            pin.drive_high()
        pin.drive_low()
        await asyncio.sleep(2.1)
        pin.drive_high()
        await eventually(lambda: _is(server, tickets[0], ("called", "12")), "one call")
        assert await status_of(server, tickets[1]) == ("waiting", None)

        run.press("call_next")  # an officer's double press: 0.2 s apart
        await asyncio.sleep(0.2)
        run.press("call_next")
        await eventually(lambda: _is(server, tickets[1], ("called", "12")), "the second call")
        await asyncio.sleep(0.5)  # room for a wrong third call to show up
        assert await status_of(server, tickets[2]) == ("waiting", None)
        assert (await counter_12(server))["current"]["id"] == tickets[1]["id"]


async def test_press_during_a_server_outage_is_sent_once_when_it_returns(server, officer, mock_factory):
    """server.stop(), press, server.start() within the grace: exactly one call, no alarm."""
    first, second = await issue(server, 2)
    async with run_pad(mock_factory, server.base_url, officer) as run:
        mock_factory.pin(PINS["buzzer"]).clear_states()
        await asyncio.to_thread(server.stop)
        await run.offline()
        run.press("call_next")
        await asyncio.sleep(0.3)
        await asyncio.to_thread(server.start)
        await run.online()
        await eventually(lambda: _is(server, first, ("called", "12")), "the queued press to call")
        await wait_display(mock_factory, run.config, first["number"])
        # Another restart does not send it again.
        await asyncio.to_thread(server.stop)
        await run.offline()
        await asyncio.to_thread(server.start)
        await run.online()
        await asyncio.sleep(0.3)
        assert await status_of(server, second) == ("waiting", None)
        assert run.buzzer_states() == []


async def test_press_during_a_long_outage_is_dropped_with_the_alarm(server, officer, mock_factory):
    """Offline past the grace: long beep, fast-blinking online LED, and the engine never acts on it."""
    (first,) = await issue(server, 1)
    async with run_pad(mock_factory, server.base_url, officer, pad={"offline_grace_s": 1.0}) as run:
        run.pad.alarm_s = 1.0
        mock_factory.pin(PINS["buzzer"]).clear_states()
        await asyncio.to_thread(server.stop)
        await run.offline()
        run.press("call_next")
        await wait_for(lambda: run.buzzer_states()[:1] == [True], what="the long beep")
        assert await toggles(mock_factory, PINS["online"], 0.5) >= 4
        await asyncio.to_thread(server.start)
        await run.online()
        await asyncio.sleep(0.3)
        assert await status_of(server, first) == ("waiting", None)
        assert read_display(mock_factory, run.config) == "----"
        await eventually(lambda: _steady_on(mock_factory, PINS["online"]), "the online LED to be steady again")


async def _steady_on(factory, pin: int) -> bool:
    return await toggles(factory, pin, 0.3) == 0 and factory.pin(pin).state is True


async def test_display_matches_the_engine_after_reconnect(server, officer, mock_factory):
    """Calls made on the web pad while the pad is cut off show on its display once it is back."""
    tickets = await issue(server, 3)
    proxy = TcpProxy(server.port)
    await proxy.start()
    try:
        async with run_pad(mock_factory, proxy.base_url, officer) as run:
            run.press("call_next")
            await wait_display(mock_factory, run.config, tickets[0]["number"])
            proxy.cut()
            await run.offline()
            for action in ("call-next", "call-next"):  # the officer used the web pad meanwhile
                response = await http(server, "POST", f"{SITE}/counters/12/{action}", officer, {})
                assert response.status_code == 200, response.text
            assert read_display(mock_factory, run.config) == tickets[0]["number"]  # still offline
            proxy.restore()
            await run.online()
            await wait_display(mock_factory, run.config, tickets[2]["number"])
            assert (await counter_12(server))["current"]["id"] == tickets[2]["id"]
            proxy.cut()
            await run.offline()
            response = await http(server, "POST", f"{SITE}/counters/12/complete", officer, {})
            assert response.status_code == 200, response.text
            proxy.restore()
            await wait_display(mock_factory, run.config, "----")
            assert mock_factory.pin(PINS["busy"]).state is False
    finally:
        await proxy.stop()


async def test_refusals_drive_the_buzzer(server, officer, mock_factory):
    """Nothing waiting (204) and calling while paused (409) beep twice; pause shows NGHI."""
    async with run_pad(mock_factory, server.base_url, officer) as run:
        buzzer = mock_factory.pin(PINS["buzzer"])
        buzzer.clear_states()
        run.press("call_next")
        await wait_for(lambda: run.buzzer_states() == [True, False, True, False], what="the 204 beeps")

        run.press("pause")
        await eventually(lambda: _counter_status(server, "paused"), "the counter to be paused")
        await wait_display(mock_factory, run.config, "NGHI")
        await issue(server, 1)
        buzzer.clear_states()
        await asyncio.sleep(0.5)  # past the repeat guard since the first call_next
        run.press("call_next")
        await wait_for(lambda: run.buzzer_states() == [True, False, True, False], what="the 409 beeps")

        await asyncio.sleep(0.5)
        run.press("pause")  # Tiếp tục
        await eventually(lambda: _counter_status(server, "open"), "the counter to resume")
        await wait_display(mock_factory, run.config, "----")


async def _counter_status(server, status: str) -> bool:
    return (await counter_12(server))["status"] == status
