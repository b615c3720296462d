"""The announcement queue policy with a fake clock: order, staleness, merging, recalls, repeats."""

import datetime as dt
import logging

import pytest

from announcer.queue import AnnouncementQueue

from tests.support.announcer import T0, called


def make(wording, clock, **kw):
    return AnnouncementQueue(wording, 1, clock=clock, **{"stale_after_s": 60, "repeat": 2, **kw})


def drain(queue):
    out = []
    while (a := queue.next()) is not None:
        out.append(a)
    return out


def test_one_call_one_announcement(wording, fake_clock):
    """A single call gives one announcement with the full sentence, the event id and the repeat count."""
    q = make(wording, fake_clock)
    q.offer(called("1-0", "V007", "33"))
    a = q.next()
    assert a.text == "Mời công dân có số thứ tự vê không không bảy đến quầy số ba mươi ba"
    assert a.event_ids == ("1-0",) and a.repeat == 2
    assert q.next() is None


def test_calls_in_order(wording, fake_clock):
    """Calls are announced in arrival order, one at a time when merging is off."""
    q = make(wording, fake_clock, max_merge=1)
    for i, counter in enumerate(["33", "34", "35", "24"]):
        q.offer(called(f"{i}-0", f"V00{i}", counter))
    assert [a.numbers for a in drain(q)] == [("V000",), ("V001",), ("V002",), ("V003",)]


def test_waiting_calls_are_merged(wording, fake_clock):
    """When several calls wait they merge into one sentence, up to max_merge, the rest next."""
    q = make(wording, fake_clock, max_merge=3)
    for i in range(5):
        q.offer(called(f"{i}-0", f"V00{i}", str(33 + i % 3)))
    first, second = drain(q)
    assert first.numbers == ("V000", "V001", "V002") and second.numbers == ("V003", "V004")
    assert first.text.startswith("Mời số vê không không không đến quầy ba mươi ba, số vê không không một")
    assert first.event_ids == ("0-0", "1-0", "2-0")


def test_stale_call_dropped_with_log(wording, fake_clock, caplog):
    """A call older than stale_after_s when its turn comes is dropped, with a log line naming it."""
    q = make(wording, fake_clock, max_merge=1)
    q.offer(called("1-0", "V001", "33"))
    fake_clock.advance(30)
    q.offer(called("2-0", "V002", "34", at=T0 + dt.timedelta(seconds=30)))
    fake_clock.advance(31)  # V001 is 61 s old, V002 31 s
    with caplog.at_level(logging.WARNING, logger="announcer.queue"):
        assert [a.numbers for a in drain(q)] == [("V002",)]
    assert "dropping stale call V001 to counter 33" in caplog.text
    assert [p.call.number for p in q.dropped] == ["V001"]


def test_staleness_counts_from_server_time(wording, fake_clock):
    """A call replayed after a reconnect counts its age from when the server made it."""
    q = make(wording, fake_clock)
    q.offer(called("1-0", "V001", "33", at=T0 - dt.timedelta(seconds=90)))
    q.offer(called("2-0", "V002", "34", at=T0 - dt.timedelta(seconds=50)))
    assert [a.numbers for a in drain(q)] == [("V002",)]


def test_future_server_time_counts_from_arrival(wording, fake_clock):
    """A server clock ahead of ours cannot keep a call alive forever: arrival time bounds its age."""
    q = make(wording, fake_clock)
    q.offer(called("1-0", "V001", "33", at=T0 + dt.timedelta(hours=1)))
    fake_clock.advance(61)
    assert q.next() is None


def test_replayed_event_is_not_spoken_twice(wording, fake_clock):
    """The same event id offered again (a replay after reconnect) is ignored, spoken or waiting."""
    q = make(wording, fake_clock)
    frame = called("1-0", "V001", "33")
    assert q.offer(frame) and not q.offer(frame)
    assert len(drain(q)) == 1
    assert not q.offer(frame)
    assert q.next() is None


def test_recall_is_spoken_again_even_if_just_spoken(wording, fake_clock):
    """A recall of the ticket just announced is announced again."""
    q = make(wording, fake_clock)
    q.offer(called("1-0", "V001", "33"))
    assert q.next().numbers == ("V001",)
    fake_clock.advance(1)
    assert q.offer(called("2-0", "V001", "33", recall=True))
    again = q.next()
    assert again.numbers == ("V001",) and again.event_ids == ("2-0",) and again.calls[0].recall


def test_recall_of_a_waiting_call_joins_it(wording, fake_clock):
    """A recall arriving while the same call still waits is said once, answering both events."""
    q = make(wording, fake_clock)
    q.offer(called("1-0", "V001", "33"))
    q.offer(called("2-0", "N001", "24"))
    q.offer(called("3-0", "V001", "33", recall=True))
    (a,) = drain(q)
    assert a.numbers == ("V001", "N001")
    assert a.event_ids == ("1-0", "3-0", "2-0")


def test_other_frames_do_not_queue(wording, fake_clock):
    """Issued, queue, counter and heartbeat frames never make an announcement."""
    q = make(wording, fake_clock)
    for frame in ({"type": "issued", "event_id": "1-0"}, {"type": "queue", "event_id": "2-0", "waiting": {}},
                  {"type": "heartbeat", "event_id": None}):
        assert not q.offer(frame)
    assert len(q) == 0 and q.next() is None


def test_seen_ids_are_bounded(wording, fake_clock):
    """The memory of seen event ids is bounded (a long day does not grow it forever)."""
    q = make(wording, fake_clock, seen_limit=3)
    for i in range(10):
        q.offer(called(f"{i}-0", f"V{i:03d}", "33"))
    assert len(q._seen) == 3


def test_bad_settings_are_refused(wording, fake_clock):
    """max_merge < 1, repeat < 1, a non-positive bound or an unknown policy are refused."""
    for kw in ({"max_merge": 0}, {"repeat": 0}, {"stale_after_s": 0}, {"cross_floor": "all"}):
        with pytest.raises(ValueError):
            make(wording, fake_clock, **kw)
