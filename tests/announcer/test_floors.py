"""Parsing ``called`` frames and which floor's announcer speaks them."""


import pytest

from announcer.calls import Call, announcing_floors, call_from_frame, event_order
from announcer.queue import AnnouncementQueue

from tests.support.announcer import COUNTER_FLOORS, T0, called


def test_called_frame_to_call():
    """A called frame gives number, counter, both floors, recall and the server time."""
    c = call_from_frame(called("5-0", "V007", "33", recall=True))
    assert c == Call("5-0", "20261124-V007", "V007", "33", 1, 1, True, T0.timestamp())


def test_other_frames_and_malformed_calls_are_ignored(caplog):
    """Non-call frames give None; a call without ticket or number is logged and ignored."""
    assert call_from_frame({"type": "issued", "event_id": "1-0"}) is None
    assert call_from_frame({"type": "heartbeat", "event_id": None}) is None
    bad = called("6-0", "V007", "33")
    bad["ticket"] = None
    assert call_from_frame(bad) is None
    bad = called("7-0", "V007", "33")
    bad["ticket"]["number"] = ""
    assert call_from_frame(bad) is None
    assert "malformed" in caplog.text


def test_missing_counter_floor_comes_from_config():
    """A frame without counter_floor takes the counter's floor from the site config."""
    frame = called("8-0", "A001", "32", floor=0)
    del frame["counter_floor"]
    assert call_from_frame(frame, COUNTER_FLOORS).counter_floor == 1
    assert call_from_frame(frame).counter_floor == 0  # no config: assumed on the ticket's floor


def test_time_without_offset_is_not_trusted():
    """An ``at`` without a UTC offset is ignored (arrival time counts instead)."""
    frame = called("9-0", "V007", "33")
    frame["at"] = "2026-11-24T08:00:00"
    assert call_from_frame(frame).at is None


def test_cross_floor_policies():
    """'ticket' announces only on the ticket's floor; 'both' on the counter's floor too."""
    c = Call("1-0", "t", "A001", "32", 0, 1)
    assert announcing_floors(c) == {0}
    assert announcing_floors(c, "both") == {0, 1}
    with pytest.raises(ValueError):
        announcing_floors(c, "all")


def test_floor_one_never_queues_a_floor_zero_call(wording, fake_clock):
    """A call on floor 0 is never queued by the floor-1 announcer, and vice versa."""
    ground = AnnouncementQueue(wording, 0, clock=fake_clock)
    first = AnnouncementQueue(wording, 1, clock=fake_clock)
    frames = [called("1-0", "A001", "1"), called("2-0", "V001", "33")]
    assert [ground.offer(f) for f in frames] == [True, False]
    assert [first.offer(f) for f in frames] == [False, True]
    assert ground.next().numbers == ("A001",) and first.next().numbers == ("V001",)


def test_cross_floor_call_spoken_where_the_citizen_waits(wording, fake_clock):
    """A floor-0 ticket called to a floor-1 counter is spoken on floor 0 naming Tầng 1; floor 1 is silent."""
    frame = called("3-0", "A001", "32", floor=0, counter_floor=1)
    ground = AnnouncementQueue(wording, 0, clock=fake_clock)
    first = AnnouncementQueue(wording, 1, clock=fake_clock)
    assert ground.offer(frame) and not first.offer(frame)
    assert ground.next().text.endswith("quầy số ba mươi hai, Tầng một")


def test_cross_floor_both(wording, fake_clock):
    """With 'both' the counter's floor speaks it too, with the plain template."""
    first = AnnouncementQueue(wording, 1, clock=fake_clock, cross_floor="both")
    assert first.offer(called("3-0", "A001", "32", floor=0, counter_floor=1))
    assert first.next().text == "Mời công dân có số thứ tự a không không một đến quầy số ba mươi hai"


def test_event_order():
    """Stream ids sort by time then sequence; garbage sorts first."""
    assert event_order("1732435262000-3") == (1732435262000, 3)
    assert event_order("10-0") > event_order("9-5") > event_order("junk")
