"""The pad's logic with a fake link and mock pins: presses, keys, offline presses, refusals, display."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

import pytest

from counter_pad.config import parse_config
from counter_pad.exceptions import BadToken, UnknownCounter
from counter_pad.hardware import PadHardware
from counter_pad.pad import Pad

from tests.support.pad import PINS, FakeLink, config_data, press, read_display, toggles, wait_display, wait_for

BUTTON = PINS["buttons"]


def ticket(number: str = "V007", status: str = "called") -> dict:
    return {"id": f"20261124-{number}", "number": number, "status": status, "agency": "so-noi-vu",
            "floor": 0, "counter": "12"}


def counter(current: dict | None = None, status: str = "open", id_: str = "12") -> dict:
    return {"id": id_, "floor": 0, "status": status, "agencies": ["so-noi-vu"], "current": current}


def snapshot(*counters: dict, event_id: str = "1-0") -> dict:
    return {"type": "snapshot", "event_id": event_id, "state": {"counters": list(counters)}}


def called(number: str = "V007", event_id: str = "2-0", counter_id: str = "12") -> dict:
    return {"type": "called", "event_id": event_id, "ticket": ticket(number), "counter": counter_id,
            "floor": 0, "counter_floor": 0, "agency": "so-noi-vu", "recall": False}


def result(cmd: dict, ok: bool = True, status: int = 200, **extra) -> dict:
    return {"type": "result", "event_id": None, "key": cmd["key"], "ok": ok, "status": status, **extra}


@dataclass
class Env:
    pad: Pad
    link: FakeLink
    hw: PadHardware
    factory: object
    config: object
    task: asyncio.Task

    def press(self, button: str) -> None:
        press(self.factory, BUTTON[button])

    def buzzer_states(self) -> list[bool]:
        return [s.state for s in self.factory.pin(PINS["buzzer"]).states][1:]


@contextlib.asynccontextmanager
async def running_pad(factory, *, online: bool = True, **tables):
    config = parse_config(config_data(**tables))
    hw = PadHardware(config, pin_factory=factory)
    link = FakeLink()
    pad = Pad(config.counter, hw, link, grace_s=config.offline_grace_s,
              repeat_guard_s=config.buttons.repeat_guard_s, blink_s=config.display.blink_s)
    task = asyncio.create_task(pad.run())
    await asyncio.sleep(0)
    if online:
        link.up()
    env = Env(pad, link, hw, factory, config, task)
    try:
        yield env
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        hw.close()


@pytest.fixture
async def env(mock_factory):
    async with running_pad(mock_factory) as env:
        yield env


async def test_a_press_sends_a_command_with_a_fresh_key(env):
    """Gọi tiếp → a call-next command for counter 12; each press has its own key."""
    env.press("call_next")
    first = await env.link.next_sent()
    assert first == {"type": "command", "counter": "12", "action": "call-next", "key": first["key"]}
    await env.link.deliver(result(first, ticket=ticket()))
    env.press("complete")
    second = await env.link.next_sent()
    assert second["action"] == "complete" and second["key"] != first["key"] and len(second["key"]) >= 16


async def test_buttons_map_to_actions_and_pause_toggles(env):
    """Each button sends its action; Tạm nghỉ/Tiếp tục sends resume when the counter is paused."""
    for button, action in [("recall", "recall"), ("no_show", "no-show"), ("pause", "pause")]:
        env.press(button)
        cmd = await env.link.next_sent()
        assert cmd["action"] == action
        await env.link.deliver(result(cmd))
    await env.link.deliver({"type": "counter", "event_id": "3-0", "counter": counter(status="paused")})
    await asyncio.sleep(0.5)  # past the repeat guard of the pause button
    env.press("pause")
    assert (await env.link.next_sent())["action"] == "resume"


async def test_bounce_acts_once(env):
    """Contact chatter (five edges in a row) sends one command."""
    for _ in range(5):
        env.press("call_next")
    cmd = await env.link.next_sent()
    await env.link.deliver(result(cmd, ticket=ticket()))
    await asyncio.sleep(0.05)
    assert len(env.link.commands()) == 1


async def test_second_press_while_in_flight_acts_once(mock_factory):
    """A second press after the repeat guard but before the result is the same press; after it, a new one."""
    async with running_pad(mock_factory, buttons={"repeat_guard_s": 0.0}) as env:
        env.press("call_next")
        cmd = await env.link.next_sent()
        env.press("call_next")
        env.press("call_next")
        await asyncio.sleep(0.05)
        assert len(env.link.commands()) == 1
        await env.link.deliver(result(cmd, ticket=ticket()))
        env.press("call_next")
        assert (await env.link.next_sent())["key"] != cmd["key"]


async def test_a_press_while_pending_is_heard_and_others_run_in_order(mock_factory):
    """Pressed again while its command is on its way: one short blip, no second command; another
    button pressed meanwhile is carried out after it, in press order."""
    async with running_pad(mock_factory, buttons={"repeat_guard_s": 0.0}) as env:
        env.press("call_next")
        first = await env.link.next_sent()
        env.press("call_next")
        await wait_for(lambda: env.buzzer_states() == [True, False], what="the short blip")
        env.press("complete")
        await env.link.deliver(result(first, ticket=ticket()))
        second = await env.link.next_sent()
        assert second["action"] == "complete"
        assert [c["action"] for c in env.link.commands()] == ["call-next", "complete"]


async def test_offline_press_is_sent_once_with_its_key_when_the_link_returns(mock_factory):
    """Pressed while down: queued, sent on reconnect within the grace, never again after its result."""
    async with running_pad(mock_factory, online=False) as env:
        env.press("call_next")
        await asyncio.sleep(0.1)
        assert env.link.commands() == []
        env.link.up()
        cmd = await env.link.next_sent()
        assert cmd["action"] == "call-next"
        await env.link.deliver(result(cmd, ticket=ticket()))
        env.link.down()
        env.link.up()
        await asyncio.sleep(0.05)
        assert env.link.commands() == [cmd]
        assert env.buzzer_states() == []


async def test_command_in_flight_when_the_link_drops_is_resent_with_the_same_key(env):
    """No result before the link dropped: the outcome is unknown, so the same key goes again (acts once)."""
    env.press("call_next")
    first = await env.link.next_sent()
    env.link.down()
    env.link.up()
    again = await env.link.next_sent()
    assert again == first
    await env.link.deliver(result(again, ticket=ticket()))
    env.link.down()
    env.link.up()
    await asyncio.sleep(0.05)
    assert env.link.commands() == [first, first]


async def test_offline_presses_keep_their_order(mock_factory):
    """Hoàn thành then Gọi tiếp offline: sent in that order, the second after the first's result."""
    async with running_pad(mock_factory, online=False) as env:
        env.press("complete")
        env.press("call_next")
        env.link.up()
        first = await env.link.next_sent()
        await asyncio.sleep(0.05)
        assert env.link.commands() == [first]
        await env.link.deliver(result(first))
        second = await env.link.next_sent()
        assert (first["action"], second["action"]) == ("complete", "call-next")


async def test_offline_press_past_the_grace_is_dropped_with_beep_and_fast_blink(mock_factory):
    """No link within the grace: a long beep, the online LED blinks fast, and it is never sent."""
    async with running_pad(mock_factory, online=False, pad={"offline_grace_s": 0.3}) as env:
        env.factory.pin(PINS["buzzer"]).clear_states()
        env.press("call_next")
        await wait_for(lambda: env.buzzer_states()[:1] == [True], what="the long beep")
        assert await toggles(env.factory, PINS["online"], 0.5) >= 4  # fast blink (slow is 0.5 s)
        env.link.up()
        await asyncio.sleep(0.1)
        assert env.link.commands() == []
        # A later press works normally.
        env.press("call_next")
        assert (await env.link.next_sent())["action"] == "call-next"


async def test_a_result_that_never_comes_drops_the_press_too(mock_factory):
    """Online but unanswered for the grace: dropped with the alarm; a late result is ignored."""
    async with running_pad(mock_factory, pad={"offline_grace_s": 0.3}) as env:
        env.factory.pin(PINS["buzzer"]).clear_states()
        env.press("call_next")
        cmd = await env.link.next_sent()
        await wait_for(lambda: env.buzzer_states() == [True, False], what="the long beep")
        await env.link.deliver(result(cmd, ok=False, status=409, error={"code": "counter_paused"}))
        await asyncio.sleep(0.2)
        assert env.buzzer_states() == [True, False]  # only the long beep: no refusal beeps


@pytest.mark.parametrize("answer", [
    {"ok": True, "status": 204, "ticket": None},
    {"ok": False, "status": 409, "error": {"code": "counter_paused", "message": "Quầy 12 đang tạm nghỉ."}},
])
async def test_refusal_beeps_twice(env, answer):
    """Nothing waiting (204) or a refusal (409): two short beeps."""
    env.factory.pin(PINS["buzzer"]).clear_states()
    env.press("call_next")
    cmd = await env.link.next_sent()
    await env.link.deliver({"type": "result", "event_id": None, "key": cmd["key"], **answer})
    await wait_for(lambda: env.buzzer_states() == [True, False, True, False], what="two beeps")


async def test_a_successful_press_is_silent(env):
    """ok with a ticket: no beep."""
    env.factory.pin(PINS["buzzer"]).clear_states()
    env.press("call_next")
    cmd = await env.link.next_sent()
    await env.link.deliver(result(cmd, ticket=ticket()))
    await asyncio.sleep(0.1)
    assert env.buzzer_states() == []


@pytest.mark.parametrize("status, error", [(401, BadToken), (403, BadToken), (404, UnknownCounter)])
async def test_token_or_counter_refused_stops_the_pad(env, status, error):
    """A command refused for the token (401/403) or the counter (404) is a configuration error."""
    env.press("call_next")
    cmd = await env.link.next_sent()
    await env.link.deliver(result(cmd, ok=False, status=status, error={"code": "x", "message": "nope"}))
    with pytest.raises(error, match="nope"):
        await asyncio.wait_for(env.task, 5)


async def test_display_follows_the_counter(env):
    """Snapshot, call, completion, pause: the display and the busy LED follow the frames."""
    busy = env.factory.pin(PINS["busy"])
    await env.link.deliver(snapshot(counter(id_="11", current=ticket("V001")), counter(current=ticket("V005"))))
    assert read_display(env.factory, env.config) == "V005" and busy.state
    await env.link.deliver(called("V006", event_id="5-0", counter_id="13"))  # another counter
    assert read_display(env.factory, env.config) == "V005"
    await env.link.deliver(called("V007"))
    assert read_display(env.factory, env.config) == "V007"
    await env.link.deliver({"type": "completed", "event_id": "6-0", "ticket": ticket("V007", "done"), "counter": "12"})
    assert read_display(env.factory, env.config) == "----" and not busy.state
    await env.link.deliver({"type": "counter", "event_id": "7-0", "counter": counter(status="paused")})
    assert read_display(env.factory, env.config) == "NGHI"
    await env.link.deliver({"type": "counter", "event_id": "8-0", "counter": counter(status="closed")})
    assert read_display(env.factory, env.config) == "DONG"


async def test_a_call_is_acknowledged(env):
    """After showing a call the pad sends an ack with its event id."""
    await env.link.deliver(called("V007", event_id="9-0"))
    assert await env.link.next_sent("ack") == {"type": "ack", "event_id": "9-0"}


async def test_the_number_blinks_after_a_call(mock_factory):
    """A new call blinks the number (digits go dark and back) for blink_s, then it stays lit."""
    async with running_pad(mock_factory, display={"blink_s": 1.0}) as env:
        await env.link.deliver(called("V007"))
        digit = env.factory.pin(PINS["digits"][0])
        digit.clear_states()
        await asyncio.sleep(0.6)
        dark = any(s.state is False for s in digit.states[1:])
        assert dark
        await wait_display(env.factory, env.config, "V007")
        await asyncio.sleep(0.6)
        assert read_display(env.factory, env.config) == "V007"


async def test_online_led_follows_the_link(env):
    """Steady while connected; blinking while down."""
    assert env.factory.pin(PINS["online"]).state is True
    assert await toggles(env.factory, PINS["online"], 0.3) == 0
    env.link.down()
    assert await toggles(env.factory, PINS["online"], 1.2) >= 2
