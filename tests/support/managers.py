"""Helpers of the managers' tests: a scripted service day whose waits, services and ratings are known."""

from __future__ import annotations

import datetime as dt

from qserver.engine import SiteEngine

TU_PHAP, NOI_VU = "so-tu-phap", "so-noi-vu"


LAN, MINH = "officer:lan", "officer:minh"


class Script:
    """Moves the fake clock to ``start + seconds`` before each step."""

    def __init__(self, engine: SiteEngine, clock, start: dt.datetime | None = None):
        self.engine, self.clock = engine, clock
        self.start = start or clock.now()

    def at(self, seconds: float) -> None:
        self.clock.set(self.start + dt.timedelta(seconds=seconds))

    async def issue(self, seconds: float, agency: str, **kwargs):
        self.at(seconds)
        return (await self.engine.issue(agency, **kwargs))["ticket"]


async def run_scripted_day(engine: SiteEngine, clock, start: dt.datetime | None = None) -> dict[str, str]:
    """The day of ``test_reports``: 11 Tư pháp tickets (V), one Nội vụ ticket (E); returns number → id.

    Counter 33 (officer lan) serves V001–V008 back to back, V009 does not come, V010 is transferred to
    Nội vụ; counter 12 (officer minh) serves V010 then E001; V011 is still waiting at the end.
    """
    s = Script(engine, clock, start)
    ids = {}
    for k in range(10):                                   # V001..V010 at 08:00, 08:01 ... 08:09
        ids[f"V{k + 1:03d}"] = (await s.issue(k * 60, TU_PHAP))["id"]
    for seconds in (600, 720, 900, 1140, 1200, 1500, 1620, 1710, 1860):
        s.at(seconds)
        await engine.call_next("33", actor=LAN)           # each call completes the previous ticket
    s.at(1920)
    await engine.no_show("33", actor=LAN)                 # V009, called at 1860
    await engine.call_next("33", actor=LAN)               # V010
    s.at(1980)
    await engine.transfer("33", NOI_VU, actor=LAN)
    ids["E001"] = (await s.issue(2000, NOI_VU))["id"]
    s.at(2100)
    await engine.call_next("12", actor=MINH)              # V010 keeps its place: before E001
    s.at(2400)
    await engine.call_next("12", actor=MINH)              # completes V010, calls E001
    s.at(2500)
    await engine.complete("12", actor=MINH)
    ids["V011"] = (await s.issue(2500, TU_PHAP))["id"]
    s.at(2600)
    for number, score in (("V001", 3), ("V002", 3), ("V003", 2), ("V004", 1), ("V005", 3), ("V010", 2), ("E001", 3)):
        await engine.rate(ids[number], score, actor="kiosk")
    return ids



