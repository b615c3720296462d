"""The engine's transitions against a real redis-server: every transition and its event."""

from __future__ import annotations

import json

import pytest

from qserver.exceptions import Conflict, InvalidField, NotFound

NOI_VU = "so-noi-vu"        # counters 12, 13
TU_PHAP = "so-tu-phap"      # counters 33, 34, 35 (32 serves so-ngoai-vu first, then so-tu-phap)
NGOAI_VU = "so-ngoai-vu"


async def events(engine, since: str = "-") -> list[dict]:
    entries = await engine.redis.xrange(engine.keys.events, min=since)
    return [json.loads(fields[b"e"]) for _id, fields in entries]


async def snapshot(engine) -> tuple:
    """Everything a refused request must leave as it was."""
    keys = await engine.redis.keys("*")
    values = {}
    for key in keys:
        kind = (await engine.redis.type(key)).decode()
        if kind == "hash":
            values[key] = await engine.redis.hgetall(key)
        elif kind == "zset":
            values[key] = await engine.redis.zrange(key, 0, -1, withscores=True)
        elif kind == "stream":
            values[key] = await engine.redis.xlen(key)
        elif kind == "list":
            values[key] = await engine.redis.lrange(key, 0, -1)
        else:
            values[key] = await engine.redis.get(key)
    return tuple(sorted(values.items()))


async def test_issue_numbers_each_agency_separately(engine):
    """Each agency has its own sequence; numbers carry the agency prefix."""
    a = (await engine.issue(NOI_VU))["ticket"]
    b = (await engine.issue(NOI_VU))["ticket"]
    c = (await engine.issue(TU_PHAP))["ticket"]
    assert (a["number"], b["number"], c["number"]) == ("E001", "E002", "V001")
    assert a["id"] == "20261124-E001" and a["status"] == "waiting" and a["floor"] == 0
    assert c["floor"] == 1 and b["ahead"] == 1


async def test_issue_appends_issued_and_queue_events(engine):
    """An issue appends `issued` with the whole ticket, then `queue` with the new waiting count."""
    await engine.issue(NOI_VU)
    issued, queue = (await events(engine))[-2:]
    assert issued["type"] == "issued" and issued["ticket"]["number"] == "E001"
    assert queue == {**queue, "type": "queue", "waiting": {NOI_VU: 1}}


async def test_call_next_takes_the_oldest_and_emits_called(engine):
    """call-next calls the first issued ticket and tells the ticket's and the counter's floors."""
    await engine.issue(NOI_VU)
    await engine.issue(NOI_VU)
    answer = await engine.call_next("12", actor="officer:an")
    assert answer["status"] == 200 and answer["ticket"]["number"] == "E001"
    assert answer["ticket"]["status"] == "called" and answer["ticket"]["counter"] == "12"
    called = [e for e in await events(engine) if e["type"] == "called"][-1]
    assert called["counter"] == "12" and called["floor"] == 0 and called["counter_floor"] == 0
    assert called["recall"] is False and called["actor"] == "officer:an"


async def test_call_next_with_nobody_waiting_is_204(engine):
    """Nothing waiting answers 204 and appends no call."""
    assert (await engine.call_next("12"))["status"] == 204
    assert not [e for e in await events(engine) if e["type"] == "called"]


async def test_call_next_completes_the_current_ticket_first(engine):
    """A counter already serving completes that ticket implicitly (outcome `completed`)."""
    first = (await engine.issue(NOI_VU))["ticket"]
    await engine.issue(NOI_VU)
    await engine.call_next("12")
    await engine.call_next("12")
    done = await engine.ticket(first["id"])
    assert done["status"] == "done" and done["outcome"] == "completed"
    kinds = [e["type"] for e in await events(engine)]
    assert kinds.index("completed") < len(kinds) - 1 - kinds[::-1].index("called")


async def test_priority_first_lower_number_first(engine):
    """Priority tickets go first, the lower number first among them; then the longest waiting."""
    await engine.issue(NOI_VU)                                   # E001
    await engine.issue(NOI_VU, priority="pregnant")              # E002
    await engine.issue(NOI_VU, priority="elderly")               # E003
    order = [(await engine.call_next("12"))["ticket"]["number"] for _ in range(3)]
    assert order == ["E002", "E003", "E001"]


async def test_call_next_across_agencies_takes_the_longest_waiting(engine):
    """Counter 32 serves Ngoại vụ then Tư pháp: the earlier-issued ticket wins across them."""
    await engine.issue(TU_PHAP)       # V001, issued first
    await engine.issue(NGOAI_VU)      # T001
    assert (await engine.call_next("32"))["ticket"]["number"] == "V001"
    assert (await engine.call_next("32"))["ticket"]["number"] == "T001"


async def test_priority_beats_preference_and_age_across_agencies(engine):
    """A priority ticket of the counter's second agency goes before an older normal one of its first."""
    await engine.issue(NGOAI_VU)                    # T001
    await engine.issue(TU_PHAP, priority="merit")   # V001
    assert (await engine.call_next("32"))["ticket"]["number"] == "V001"


async def test_reassign_takes_effect_on_next_call(engine):
    """After a reassignment the counter calls from its new agencies."""
    await engine.issue(NOI_VU)
    await engine.issue(TU_PHAP)
    await engine.reassign("12", [TU_PHAP, NOI_VU], actor="manager:lan")
    assert (await engine.call_next("12"))["ticket"]["number"] == "E001"  # E001 is older
    await engine.reassign("12", [TU_PHAP])
    assert (await engine.call_next("12"))["ticket"]["number"] == "V001"
    counter_events = [e for e in await events(engine) if e["type"] == "counter"]
    assert counter_events[0]["actor"] == "manager:lan" and counter_events[-1]["counter"]["agencies"] == [TU_PHAP]


async def test_transfer_keeps_place_by_issue_time(engine):
    """A transferred ticket keeps its id and number and goes ahead of tickets issued after it."""
    moved = (await engine.issue(NOI_VU))["ticket"]      # E001 (issued first)
    await engine.issue(TU_PHAP)                         # V001
    await engine.issue(TU_PHAP)                         # V002
    await engine.call_next("12")
    answer = await engine.transfer("12", TU_PHAP)
    assert answer["ticket"]["id"] == moved["id"] and answer["ticket"]["number"] == "E001"
    assert answer["ticket"]["status"] == "waiting" and answer["ticket"]["agency"] == TU_PHAP
    assert answer["ticket"]["floor"] == 1
    assert (await engine.call_next("33"))["ticket"]["number"] == "E001"
    transferred = [e for e in await events(engine) if e["type"] == "transferred"][0]
    assert transferred["from_agency"] == NOI_VU and transferred["agency"] == TU_PHAP


async def test_recall_calls_again(engine):
    """Recall repeats the call of the current ticket, marked recall."""
    await engine.issue(NOI_VU)
    await engine.call_next("12")
    answer = await engine.recall("12")
    assert answer["ticket"]["recalls"] == 1
    called = [e for e in await events(engine) if e["type"] == "called"]
    assert [c["recall"] for c in called] == [False, True]


async def test_no_show_returns_once_after_n_others(engine, site):
    """With no_show_return_after = 5 the ticket goes back once, behind the next five; the second time is final."""
    assert site.no_show_return_after == 5
    for _ in range(8):
        await engine.issue(NOI_VU)                       # E001..E008
    await engine.call_next("12")                         # E001
    answer = await engine.no_show("12")
    assert answer["ticket"]["status"] == "waiting" and answer["ticket"]["returned"] is True
    order = [(await engine.call_next("12"))["ticket"]["number"] for _ in range(6)]
    assert order == ["E002", "E003", "E004", "E005", "E006", "E001"]
    final = await engine.no_show("12")
    assert final["ticket"]["status"] == "no_show"
    assert (await engine.call_next("12"))["ticket"]["number"] == "E007"


async def test_no_show_final_when_the_site_says_so(engine, site, redis, clock):
    """With no_show_return_after = 0 a no-show is final at once."""
    from dataclasses import replace

    from qserver.engine import SiteEngine

    strict = SiteEngine(redis, replace(site, no_show_return_after=0), clock, secret=b"s")
    await strict.issue(NOI_VU)
    await strict.call_next("12")
    assert (await strict.no_show("12"))["ticket"]["status"] == "no_show"
    assert (await strict.call_next("12"))["status"] == 204


async def test_complete_with_outcome_records_service_time(engine, clock):
    """complete stores the outcome and feeds the agency's recent service times (for the wait estimate)."""
    await engine.issue(NOI_VU)
    await engine.call_next("12")
    clock.advance(seconds=240)
    answer = await engine.complete("12", "received")
    assert answer["ticket"]["status"] == "done" and answer["ticket"]["outcome"] == "received"
    assert json.loads(await engine.redis.hget(engine.keys.service_times, NOI_VU)) == [240_000]
    for _ in range(4):
        await engine.issue(NOI_VU)
    # 2 open counters serve Nội vụ, 240 s each: the 4th in line waits 2 rounds.
    ticket = await engine.ticket("20261124-E005")
    assert ticket["ahead"] == 3 and ticket["eta_s"] == 480


async def test_call_ticket_out_of_order_is_audited(engine):
    """Calling a specific waiting ticket marks the event out_of_order; a non-waiting one is refused."""
    await engine.issue(NOI_VU)
    second = (await engine.issue(NOI_VU))["ticket"]
    answer = await engine.call_ticket("12", second["id"], actor="officer:an")
    assert answer["ticket"]["number"] == "E002"
    called = [e for e in await events(engine) if e["type"] == "called"][-1]
    assert called["out_of_order"] is True and called["actor"] == "officer:an"
    with pytest.raises(Conflict) as refused:
        await engine.call_ticket("13", second["id"])
    assert refused.value.code == "not_waiting"


async def test_pause_resume_open_close(engine):
    """Paused and closed counters cannot call; each status change is a `counter` event with the reason."""
    await engine.issue(NOI_VU)
    paused = await engine.set_status("12", "pause", "Họp giao ban")
    assert paused["counter"]["status"] == "paused" and paused["counter"]["reason"] == "Họp giao ban"
    with pytest.raises(Conflict) as refused:
        await engine.call_next("12")
    assert refused.value.code == "counter_paused"
    await engine.set_status("12", "resume")
    await engine.call_next("12")
    closed = await engine.set_status("12", "close")
    assert closed["counter"]["status"] == "closed" and "current" not in closed["counter"]
    with pytest.raises(Conflict) as refused:
        await engine.call_next("12")
    assert refused.value.code == "counter_closed"
    await engine.set_status("12", "open")
    statuses = [e["counter"]["status"] for e in await events(engine) if e["type"] == "counter"]
    assert statuses == ["paused", "open", "closed", "open"]


async def test_rating_once_after_done(engine):
    """A ticket is rated once, only after it is done."""
    ticket = (await engine.issue(NOI_VU))["ticket"]
    with pytest.raises(Conflict) as early:
        await engine.rate(ticket["id"], 3)
    assert early.value.code == "not_done"
    await engine.call_next("12")
    await engine.complete("12")
    rated = await engine.rate(ticket["id"], 3, dossier="000.00.22.H13-261124-0001")
    assert rated["ticket"]["rating"] == 3
    with pytest.raises(Conflict) as twice:
        await engine.rate(ticket["id"], 2)
    assert twice.value.code == "already_rated"


async def test_idempotency_key_acts_once(engine):
    """The same key on the same counter returns the first answer and calls one ticket, not two."""
    await engine.issue(NOI_VU)
    await engine.issue(NOI_VU)
    first = await engine.call_next("12", key="press-1")
    again = await engine.call_next("12", key="press-1")
    assert first == again and first["ticket"]["number"] == "E001"
    assert len([e for e in await events(engine) if e["type"] == "called"]) == 1
    assert (await engine.call_next("12", key="press-2"))["ticket"]["number"] == "E002"


async def test_whole_numbers_written_with_a_point_are_integers(engine):
    """JSON Schema counts 3.0 as an integer (schemathesis sends it): a score, a notice's floor and ttl_s
    of 3.0 are taken as 3; true, 2.5 and "3" are refused."""
    await engine.issue(NOI_VU)
    await engine.call_next("12")
    done = (await engine.complete("12"))["ticket"]
    assert (await engine.rate(done["id"], 3.0))["ticket"]["rating"] == 3
    notice = (await engine.post_notice("Tạm ngưng", 1.0, 600.0))["notice"]
    assert notice["floor"] == 1 and isinstance(notice["floor"], int)
    assert notice["expires_at"] - notice["created_at"] == 600_000
    for bad in (True, 2.5, "3"):
        with pytest.raises(InvalidField):
            await engine.post_notice("Tạm ngưng", None, bad)


async def test_an_idempotency_key_belongs_to_one_action(engine):
    """A key used by one button is not another button's answer: a resume (or a no-show) with the key of an
    earlier call-next does what it says instead of answering the call-next's answer (found by schemathesis:
    the resume handler then failed with a 500 on the missing counter)."""
    await engine.issue(NOI_VU)
    called = await engine.call_next("12", key="k")
    assert called["ticket"]["number"] == "E001"
    paused = await engine.set_status("12", "pause", key="k")
    assert paused["counter"]["status"] == "paused"
    resumed = await engine.set_status("12", "resume", key="k")
    assert resumed["counter"]["status"] == "open"
    gone = await engine.no_show("12", key="k")
    assert gone["ticket"]["number"] == "E001" and gone["ticket"]["status"] in ("no_show", "waiting")
    assert await engine.set_status("12", "resume", key="k") == resumed  # a retry of the resume: its own answer


async def test_cccd_priority_and_one_active_ticket_per_person(engine):
    """A CCCD past the priority age gets `elderly`; the same person cannot hold two tickets of one agency."""
    qr = "092123456789|361234567|Nguyễn Thị Ba|15031950|Nữ|Ninh Kiều, Cần Thơ|01012022"
    ticket = (await engine.issue(NOI_VU, citizen_qr=qr))["ticket"]
    assert ticket["priority"] == "elderly"
    stored = await engine.redis.hget(engine.keys.tickets, ticket["id"])
    assert b"092123456789" not in stored and "Nguyễn".encode() not in stored
    with pytest.raises(Conflict) as refused:
        await engine.issue(NOI_VU, citizen_qr=qr)
    assert refused.value.code == "active_ticket"
    other = await engine.issue(TU_PHAP, citizen_qr=qr)        # another agency is fine
    assert other["status"] == 201
    young = "092987654321||Trần Văn Tư|01012000|Nam|Cái Răng|01012021|"
    assert (await engine.issue(NOI_VU, citizen_qr=young))["ticket"].get("priority") is None


async def test_refusals_change_nothing(engine):
    """Every refused transition leaves the keys and the stream exactly as they were."""
    await engine.issue(NOI_VU)
    await engine.call_next("12")
    await engine.complete("12")
    done_id = "20261124-E001"
    await engine.rate(done_id, 2)
    before = await snapshot(engine)
    refusals = [
        (engine.issue("so-khong-co"), NotFound),
        (engine.issue(NOI_VU, priority="vip"), InvalidField),
        (engine.issue(NOI_VU, citizen_qr="not|a|card"), InvalidField),
        (engine.call_next("99"), NotFound),
        (engine.recall("12"), Conflict),
        (engine.no_show("12"), Conflict),
        (engine.complete("12"), Conflict),
        (engine.complete("12", "bogus"), InvalidField),
        (engine.transfer("12", TU_PHAP), Conflict),
        (engine.transfer("12", "so-khong-co"), NotFound),
        (engine.rate(done_id, 3), Conflict),
        (engine.rate(done_id, 4), InvalidField),
        (engine.rate("20261124-X999", 3), NotFound),
        (engine.reassign("12", []), InvalidField),
        (engine.reassign("12", ["so-khong-co"]), NotFound),
        (engine.set_status("12", "resume"), Conflict),
        (engine.set_status("12", "open"), Conflict),
        (engine.call_ticket("12", "20261124-E404"), NotFound),
        (engine.move_ticket(done_id, TU_PHAP), Conflict),
    ]
    for call, error in refusals:
        with pytest.raises(error):
            await call
    assert await snapshot(engine) == before


async def test_transfer_to_same_agency_refused(engine):
    """Transferring to the ticket's own agency is a 409 and the ticket stays called."""
    await engine.issue(NOI_VU)
    await engine.call_next("12")
    with pytest.raises(Conflict) as refused:
        await engine.transfer("12", NOI_VU)
    assert refused.value.code == "same_agency"
    assert (await engine.ticket("20261124-E001"))["status"] == "called"


async def test_move_waiting_ticket(engine):
    """A manager moves a waiting ticket to another agency; both queue counts are announced."""
    ticket = (await engine.issue(NOI_VU))["ticket"]
    answer = await engine.move_ticket(ticket["id"], TU_PHAP, actor="manager:lan")
    assert answer["ticket"]["agency"] == TU_PHAP and answer["ticket"]["status"] == "waiting"
    queue = (await events(engine))[-1]
    assert queue["waiting"] == {NOI_VU: 0, TU_PHAP: 1}


async def test_state_lists_counters_waiting_and_calls(engine):
    """The state has every counter in config order, waiting counts and the latest calls first."""
    await engine.issue(NOI_VU)
    await engine.issue(TU_PHAP)
    await engine.call_next("12")
    state = await engine.state()
    assert [raw["id"] for raw, _ in state["counters"]][:3] == ["1", "2", "3"]
    serving = dict((raw["id"], current) for raw, current in state["counters"])
    assert serving["12"]["number"] == "E001"
    assert state["waiting"][NOI_VU] == 0 and state["waiting"][TU_PHAP] == 1
    assert state["calls"][0]["number"] == "E001" and state["calls"][0]["counter"] == "12"
    called_id = [i for i, f in await engine.redis.xrange(engine.keys.events) if b'"type":"called"' in f[b"e"]][0]
    assert state["calls"][0]["event_id"] == called_id.decode()


async def test_counters_reseeded_after_data_loss(engine, redis):
    """A configured counter missing from Redis (a wiped database) is seeded again on its next use."""
    await redis.delete(engine.keys.counters)
    await engine.issue(NOI_VU)
    assert (await engine.call_next("12"))["ticket"]["number"] == "E001"


async def test_the_day_keeps_running_totals(engine, clock):
    """Issue, calls, service, a final no-show and ratings are counted in the day's totals as they happen."""
    first = (await engine.issue(NOI_VU))["ticket"]
    await engine.issue(NOI_VU)
    clock.advance(seconds=60)
    await engine.call_next("12")                     # waited 60 s
    clock.advance(seconds=240)
    await engine.call_next("12")                     # served 240 s, the second waited 300 s
    clock.advance(seconds=30)
    await engine.complete("12")                      # served 30 s
    await engine.rate(first["id"], 3)
    await engine.issue(TU_PHAP)
    await engine.call_next("33")
    await engine.no_show("33")                       # sent back once (Cần Thơ): not a final no-show yet
    await engine.call_next("33")
    await engine.no_show("33")                       # final
    stats = await engine.day_stats()
    assert {k: stats.get(k) for k in ("issued", "called", "served", "no_show", "rated", "rating:3")} == {
        "issued": 3, "called": 4, "served": 2, "no_show": 1, "rated": 1, "rating:3": 1}
    assert stats["service_ms"] == 270_000 and stats["wait_ms"] == 360_000
