"""Announcer benchmark: call → WAV ready and call → playback start, at 10 calls/s on one floor.

    python bench/announcer.py [--rate 10] [--seconds 10] [--engine espeak-ng|pyttsx3] [--phases wav,instant,realtime]

Starts its own redis-server and `qserver run`, pre-issues tickets for floor 1's agencies, then calls
them over HTTP (`POST .../counters/{id}/call-next`, officers of the 12 floor-1 counters in turn) at
``--rate`` calls per second, while an in-process announcer for floor 1 (the real Link, queue,
speaker with the site's voice, chime and repeat) speaks them. A call's clock starts when its HTTP
request is sent. Phases, each with a fresh announcer:

- ``wav``: ``--wav-dir`` output; WAV ready = the file is in the folder (what a hall's own PA picks up).
- ``instant``: a play command that returns at once (``true``): the play path's own overhead.
- ``realtime``: a play command that lasts as long as the clip (sleeps its duration), like real
  speakers: what the hall hears when calls come faster than they can be spoken (merged, or dropped
  once older than the site's ``stale_after_s``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time

from support import HttpConnection, RedisProcess, ServerProcess, percentile

import config
from announcer import audio
from announcer.output import Player, WavFolder
from announcer.queue import AnnouncementQueue
from announcer.sentence import Wording
from announcer.service import Announcer, Spoken
from announcer.speech import Speaker, make_engine
from qserver.protocol.client import Link

SITE = "/api/v1/sites/cantho"
FLOOR = 1
#: A stand-in for the speakers: takes as long as the clip lasts.
REALTIME_PLAYER = (f"{sys.executable} -c \"import sys, time, wave; w = wave.open(sys.argv[1]); "
                   f"time.sleep(w.getnframes() / w.getframerate())\" {{file}}")


def fmt(name: str, values_s: list[float]) -> str:
    if not values_s:
        return f"{name:<28} (none)"
    ms = [v * 1000 for v in values_s]
    return (f"{name:<28} n={len(ms):<4} p50 {percentile(ms, 0.5):8.1f} ms  p99 {percentile(ms, 0.99):8.1f} ms"
            f"  max {max(ms):8.1f} ms")


async def phase(name: str, args, server: ServerProcess, redis: RedisProcess, site: config.Site) -> None:
    counters = [c for c in site.counters if c.floor == FLOOR]
    calls = int(args.rate * args.seconds)
    kiosk = redis.token("kiosk")
    officers = {c.id: redis.token("officer", [c.id]) for c in counters}
    kiosk_http = await HttpConnection.open(server.port)
    for i in range(calls):  # every call finds a ticket of the counter's own agency waiting
        status, body = await kiosk_http.request("POST", f"{SITE}/tickets", kiosk,
                                                {"agency": counters[i % len(counters)].agencies[0]})
        assert status == 201, body

    if name == "wav":
        output = WavFolder(tempfile.mkdtemp(prefix="announcer-bench-"))
    else:
        output = Player("true" if name == "instant" else REALTIME_PLAYER)
    engine = make_engine(args.engine, site.announce.voice, site.announce.rate, site.announce.volume)
    speaker = Speaker(engine, chime=audio.chime() if site.announce.chime else None, volume=site.announce.volume)
    speaker.start()
    queue = AnnouncementQueue(Wording.from_site(site), FLOOR, stale_after_s=site.announce.stale_after_s,
                              repeat=site.announce.repeat, max_merge=args.max_merge,
                              counter_floors={c.id: c.floor for c in site.counters})
    records: list[Spoken] = []
    announcer = Announcer(queue, speaker, output, on_spoken=records.append)
    link = Link(server_url(server), site="cantho", topics=[f"floor:{FLOOR}"], device="announcer-bench")
    tasks = [asyncio.create_task(link.run(announcer.on_frame)), asyncio.create_task(announcer.run())]
    await asyncio.wait_for(link.connected.wait(), 10)
    await asyncio.sleep(0.3)  # the first snapshot is in

    sent: dict[str, float] = {}

    async def call(i: int, at: float) -> None:
        await asyncio.sleep(max(0.0, at - time.monotonic()))
        counter = counters[i % len(counters)]
        started = time.monotonic()
        # A connection per call: at a low rate a kept-alive one would be closed by the server meanwhile.
        connection = await HttpConnection.open(server.port)
        try:
            status, body = await connection.request("POST", f"{SITE}/counters/{counter.id}/call-next",
                                                    officers[counter.id])
        finally:
            connection.close()
        if status == 200:
            sent[json.loads(body)["number"]] = started

    begin = time.monotonic() + 0.1
    per_counter: dict[str, list] = {}
    for i in range(calls):  # each counter's calls go in order
        per_counter.setdefault(counters[i % len(counters)].id, []).append((i, begin + i / args.rate))

    async def counter_loop(items):
        for i, at in items:
            await call(i, at)

    await asyncio.gather(*(counter_loop(items) for items in per_counter.values()))
    load_s = time.monotonic() - begin

    def settled() -> bool:
        handled = {n for r in records for n in r.announcement.numbers} | {p.call.number for p in queue.dropped}
        return set(sent) <= handled and not len(queue)

    deadline = time.monotonic() + site.announce.stale_after_s + 60
    while not settled() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    speaker.close()
    output.close()
    kiosk_http.close()

    wav_ready, play_start = [], []
    for record in records:
        for number in record.announcement.numbers:
            if number in sent and record.ok:
                wav_ready.append(record.wav_ready - sent[number])
                play_start.append(record.play_start - sent[number])
    spoken = sum(len(r.announcement.numbers) for r in records if r.ok)
    print(f"-- phase {name}: {len(sent)} calls at {args.rate:g}/s (sent over {load_s:.1f} s), engine {args.engine}, "
          f"repeat {site.announce.repeat}, chime {'on' if site.announce.chime else 'off'}")
    print(f"   announcements {len(records)} (failed {sum(not r.ok for r in records)}), calls spoken {spoken}, "
          f"merged into shared sentences {spoken - sum(1 for r in records if r.ok)}, dropped stale {len(queue.dropped)}")
    print("   " + fmt("call → WAV ready", wav_ready))
    print("   " + fmt("call → playback start", play_start))


def server_url(server: ServerProcess) -> str:
    return f"http://127.0.0.1:{server.port}"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=10.0, help="calls per second on floor 1")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long the calls go on")
    parser.add_argument("--engine", default="espeak-ng", choices=("pyttsx3", "espeak-ng"))
    parser.add_argument("--max-merge", type=int, default=3)
    parser.add_argument("--phases", default="wav,instant,realtime")
    args = parser.parse_args()
    site = config.load_sites()["cantho"]
    redis = RedisProcess()
    server = ServerProcess(redis.url)
    try:
        for name in args.phases.split(","):
            await phase(name.strip(), args, server, redis, site)
    finally:
        server.stop()
        redis.stop()


if __name__ == "__main__":
    asyncio.run(main())
