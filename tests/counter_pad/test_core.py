"""The pure core: the command queue's rules and the counter view folded from frames."""

from __future__ import annotations

import itertools

from counter_pad.commands import CommandQueue, PressFilter
from counter_pad.view import CounterView, apply_frame

from .test_pad import called, counter, snapshot, ticket


def queue(grace_s: float = 10.0) -> CommandQueue:
    keys = (f"k{i}" for i in itertools.count(1))
    return CommandQueue(grace_s, make_key=lambda: next(keys))


def test_press_filter_ignores_repeats_within_the_guard():
    """A press of the same button within the guard is ignored; other buttons are independent."""
    presses = PressFilter(1.0)
    assert presses.accept("call_next", 10.0)
    assert not presses.accept("call_next", 10.5)
    assert presses.accept("recall", 10.5)
    assert presses.accept("call_next", 11.0)


def test_one_pending_command_per_button():
    """A button whose command is pending makes no second one; it may after the result."""
    q = queue()
    first = q.press("call_next", "call-next", 0.0)
    assert q.press("call_next", "call-next", 2.0) is None
    assert q.settle(first.key) is first
    assert q.press("call_next", "call-next", 3.0).key == "k2"


def test_head_is_sent_once_per_connection():
    """The head is due on a connection it was not sent on yet; the rest wait behind it."""
    q = queue()
    first = q.press("complete", "complete", 0.0)
    q.press("call_next", "call-next", 0.1)
    assert q.due(1) is first
    first.sent_on = 1
    assert q.due(1) is None
    assert q.due(2) is first  # reconnected: resend, same key
    q.settle(first.key)
    assert q.due(2).action == "call-next"


def test_expiry_drops_old_presses_and_reports_the_next_deadline():
    """Presses older than the grace are dropped; next_expiry is the oldest's deadline."""
    q = queue(grace_s=10.0)
    q.press("call_next", "call-next", 0.0)
    q.press("recall", "recall", 4.0)
    assert q.next_expiry() == 10.0
    assert [c.action for c in q.expire(9.9)] == []
    assert [c.action for c in q.expire(10.0)] == ["call-next"]
    assert q.next_expiry() == 14.0 and len(q) == 1
    assert q.settle("k1") is None  # a late result for a dropped press


def test_view_from_snapshot_and_events():
    """Snapshot picks this counter; calls, completions and transfers of its ticket update it."""
    view = CounterView()
    assert view.text() is None and view.number is None
    view, blink = apply_frame(view, snapshot(counter(id_="1"), counter(current=ticket("V003"))), "12")
    assert (view.number, blink) == ("V003", False)
    view, blink = apply_frame(view, called("V004"), "12")
    assert (view.number, blink) == ("V004", True)
    other = {"type": "transferred", "event_id": "3-0", "ticket": ticket("V001"), "counter": "12"}
    assert apply_frame(view, other, "12")[0].number == "V004"  # not its current ticket
    moved = {"type": "transferred", "event_id": "4-0", "ticket": ticket("V004"), "counter": "12"}
    assert apply_frame(view, moved, "12")[0].number is None


def test_view_ignores_other_counters_and_unknown_frames():
    """Frames of counter 1 and frames without a counter change nothing."""
    view = CounterView(status="open", current=ticket("V003"))
    assert apply_frame(view, called("A001", counter_id="1"), "12") == (view, False)
    assert apply_frame(view, {"type": "queue", "event_id": "5-0", "waiting": {}}, "12") == (view, False)
    assert apply_frame(view, snapshot(counter(id_="1")), "12") == (view, False)


def test_view_words_for_paused_and_closed():
    """Paused or closed with nobody served: NGHI / DONG; a ticket being served keeps its number."""
    assert CounterView(status="paused").text() == "NGHI"
    assert CounterView(status="closed").text() == "DONG"
    assert CounterView(status="open").text() is None
    assert CounterView(status="paused", current=ticket()).text() is None
    paused = CounterView(status="paused")
    assert apply_frame(paused, called("V009"), "12")[0].status == "open"
