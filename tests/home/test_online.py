"""Numbers taken from a phone: ranked with walk-ins by issue order, limited per person and per day, barred
after repeated no-shows, given only while the site says so, and keeping no CCCD number."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from qserver.engine import SiteEngine
from qserver.exceptions import Conflict, InvalidField
from tests.home.conftest import ID_A, ID_B, PHONE_A, PHONE_B, with_online

TU_PHAP, NOI_VU = "so-tu-phap", "so-noi-vu"


def counter_of(site, agency: str) -> str:
    return next(c.id for c in site.counters if c.agencies[0] == agency)


async def test_online_numbers_are_called_with_walk_ins_by_issue_order(home_engine, clock):
    """Kiosk, phone, kiosk, phone: call-next takes them in exactly that order, each marked with its channel."""
    issued = []
    for i in range(4):
        clock.advance(seconds=30)
        if i % 2 == 0:
            issued.append((await home_engine.issue(TU_PHAP))["ticket"])
        else:
            person = (ID_A, ID_B)[i // 2]
            issued.append((await home_engine.online_issue(TU_PHAP, id_number=person, phone=PHONE_A))["ticket"])
    counter = counter_of(home_engine.site, TU_PHAP)
    called = [(await home_engine.call_next(counter))["ticket"] for _ in issued]
    assert [t["id"] for t in called] == [t["id"] for t in issued]
    assert [t.get("channel", "kiosk") for t in called] == ["kiosk", "online", "kiosk", "online"]
    assert issued[1]["ahead"] == 1 and issued[3]["ahead"] == 3  # ranked behind the earlier walk-ins


async def test_at_most_n_active_online_numbers_per_person(home_engine):
    """The third active online number of a person is refused (409 online_limit) and nothing changes; once one
    is served the person may take another."""
    first = await home_engine.online_issue(TU_PHAP, id_number=ID_A, phone=PHONE_A)
    await home_engine.online_issue(NOI_VU, id_number=ID_A, phone=PHONE_A)
    before = await home_engine.state()
    with pytest.raises(Conflict) as refused:
        await home_engine.online_issue("so-y-te", id_number="0922 0000 1234", phone=PHONE_A)
    assert refused.value.code == "online_limit" and "tối đa 2" in refused.value.message
    after = await home_engine.state()
    assert after["waiting"] == before["waiting"] and after["event_id"] == before["event_id"]
    counter = counter_of(home_engine.site, TU_PHAP)
    assert (await home_engine.call_next(counter))["ticket"]["id"] == first["ticket"]["id"]
    await home_engine.complete(counter)
    third = await home_engine.online_issue("so-y-te", id_number=ID_A, phone=PHONE_A)
    assert third["ticket"]["channel"] == "online"


async def test_a_person_holds_one_active_number_per_agency(home_engine):
    """An online number while the same person's number waits at that agency is refused (active_ticket)."""
    held = await home_engine.online_issue(TU_PHAP, id_number=ID_A, phone=PHONE_A)
    with pytest.raises(Conflict) as refused:
        await home_engine.online_issue(TU_PHAP, id_number=ID_A, phone=PHONE_B)
    assert refused.value.code == "active_ticket" and held["ticket"]["number"] in refused.value.message


async def test_the_limit_is_per_day(home_engine, clock):
    """Numbers left waiting at the day's end expire, so the next day the person may take numbers again."""
    await home_engine.online_issue(TU_PHAP, id_number=ID_A, phone=PHONE_A)
    await home_engine.online_issue(NOI_VU, id_number=ID_A, phone=PHONE_A)
    with pytest.raises(Conflict):
        await home_engine.online_issue("so-y-te", id_number=ID_A, phone=PHONE_A)
    clock.advance(days=1)
    again = await home_engine.online_issue(TU_PHAP, id_number=ID_A, phone=PHONE_A)
    assert again["ticket"]["id"].startswith("20261125-")


async def _miss(engine: SiteEngine, counter: str) -> None:
    """The counter calls the next ticket and records it as a final no-show."""
    await engine.call_next(counter)
    answer = await engine.no_show(counter)
    assert answer["ticket"]["status"] == "no_show"


async def test_two_unanswered_online_numbers_in_30_days_mean_coming_in_person(redis, site, clock):
    """After two online numbers called and not answered, the person is refused online (409 online_barred)
    for 30 days from the first; a kiosk number is still possible; after the window it is allowed again."""
    site = dataclasses.replace(site, no_show_return_after=0)
    engine = SiteEngine(redis, site, clock, secret=b"test-secret", always_open=True)
    await engine.seed_counters()
    counter = counter_of(site, TU_PHAP)
    await engine.online_issue(TU_PHAP, id_number=ID_A, phone=PHONE_A)
    await _miss(engine, counter)
    clock.advance(days=10)
    await engine.online_issue(TU_PHAP, id_number=ID_A, phone=PHONE_A)
    await _miss(engine, counter)
    with pytest.raises(Conflict) as refused:
        await engine.online_issue(NOI_VU, id_number=ID_A, phone=PHONE_A)
    assert refused.value.code == "online_barred" and "30 ngày" in refused.value.message
    assert (await engine.issue(NOI_VU))["ticket"]["status"] == "waiting"  # the kiosk still gives one
    other = await engine.online_issue(NOI_VU, id_number=ID_B, phone=PHONE_B)
    assert other["status"] == 201
    clock.advance(days=21)  # 31 days after the first miss: only one strike inside the window
    allowed = await engine.online_issue(NOI_VU, id_number=ID_A, phone=PHONE_A)
    assert allowed["status"] == 201


@pytest.mark.parametrize("cccd, phone, code", [
    ("09220000123", PHONE_A, "invalid_id_number"),      # 11 digits
    ("09220000123X", PHONE_A, "invalid_id_number"),
    ("000000000000", PHONE_A, "invalid_id_number"),
    (ID_A, "0212345678", "invalid_phone"),             # a landline prefix
    (ID_A, "091234567", "invalid_phone"),              # 9 digits
    (ID_A, None, "invalid_phone"),
])
async def test_malformed_numbers_are_refused_and_nothing_changes(home_engine, cccd, phone, code):
    """A malformed CCCD or mobile number is a 422 naming the value; no number is used up."""
    with pytest.raises(InvalidField) as refused:
        await home_engine.online_issue(TU_PHAP, id_number=cccd, phone=phone)
    assert refused.value.code == code and refused.value.status == 422
    if isinstance(cccd, str) and code == "invalid_id_number":
        assert cccd in refused.value.message
    assert (await home_engine.issue(TU_PHAP))["ticket"]["n"] == 1


async def test_phone_numbers_are_normalised(home_engine, redis):
    """+84 and spaced forms are accepted; the contacts hash keeps the 0xxxxxxxxx form for the gateway."""
    answer = await home_engine.online_issue(TU_PHAP, id_number=ID_A, phone="+84 912 345 678")
    assert await home_engine.contact(answer["ticket"]["id"], "2026-11-24") == "0912345678"


async def test_online_numbers_only_while_receiving_or_from_the_set_hour(redis, site, clock):
    """Outside receiving hours: 409 online_closed saying when; with [online] from = "06:00" a number can be
    taken at 06:30 before the doors open."""
    engine = SiteEngine(redis, site, clock, secret=b"test-secret")
    await engine.seed_counters()
    clock.set(dt.datetime(2026, 11, 24, 5, 0, tzinfo=dt.timezone.utc))  # 12:00 local: the lunch break
    with pytest.raises(Conflict) as refused:
        await engine.online_issue(TU_PHAP, id_number=ID_A, phone=PHONE_A)
    assert refused.value.code == "online_closed" and refused.value.details["opens_at"].startswith("2026-11-24T13:00")
    early = SiteEngine(redis, with_online(site, start=dt.time(6, 0)), clock, secret=b"test-secret")
    clock.set(dt.datetime(2026, 11, 23, 23, 30, tzinfo=dt.timezone.utc))  # 06:30 local, Tuesday
    with pytest.raises(Conflict):
        await engine.online_issue(TU_PHAP, id_number=ID_A, phone=PHONE_A)
    answer = await early.online_issue(TU_PHAP, id_number=ID_A, phone=PHONE_A)
    assert answer["ticket"]["issued_at"] == int(clock.now().timestamp() * 1000)


async def test_only_the_keyed_hash_of_the_cccd_number_is_kept(home_engine, redis):
    """No key or value in Redis holds the CCCD number; the phone number sits in the day's contacts only."""
    await home_engine.online_issue(TU_PHAP, id_number=ID_A, phone=PHONE_A)
    await home_engine.book(NOI_VU, "2026-11-25", "09:00", id_number=ID_A, phone=PHONE_A)
    holders_of_phone = []
    async for key in redis.scan_iter(count=1000):
        kind = (await redis.type(key)).decode()
        if kind == "hash":
            dump = str(await redis.hgetall(key))
        elif kind == "stream":
            dump = str(await redis.xrange(key))
        elif kind == "string":
            dump = str(await redis.get(key))
        elif kind == "zset":
            dump = str(await redis.zrange(key, 0, -1))
        else:
            dump = str(await redis.smembers(key)) if kind == "set" else ""
        assert ID_A not in dump and ID_A not in key.decode()
        if PHONE_A in dump:
            holders_of_phone.append(key.decode())
    assert sorted(holders_of_phone) == ["qs:{cantho}:2026-11-24:contacts", "qs:{cantho}:2026-11-25:contacts"]
