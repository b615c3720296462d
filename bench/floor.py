"""qserver against the floors of ../shared/bench: the same client, alternately, in the same run; prints
each figure and qserver's ratio to the floor's.

    .venv/bin/python bench/floor.py [--parts http keepalive fanout] [--rounds 2] [--seconds 8]
        [--clients 50] [--sockets 1000 10000] [--calls 40] [--pin auto|yes|no] [--floors DIR]
        [--before CHECKOUT ...] [--profile DIR]

``--before`` also runs the server of earlier checkouts in every round (floor, each checkout, this
tree): what each commit bought, in one run. ``--profile`` records every server with py-spy
(bench/profile_top.py reads the files). docs/performance.md says how to read the figures.

Each part runs floor, qserver, floor, qserver (``--rounds`` pairs), every run on a fresh redis-server
with the persistence of qserver's embedded one (AOF, fsync every second) and a fresh server process:

- http: ``--clients`` keep-alive clients issue tickets for ``--seconds``, then each does call-next
  followed by complete at its counter for ``--seconds`` (floor_http.py: one EVALSHA and a JSON answer).
- keepalive: one client issuing tickets one after the other, on one keep-alive connection, then with a
  new connection per request (keep-alive slower would be a Nagle / delayed-ACK stall).
- fanout: display sockets (floor_ws.py: one pre-built frame written to every socket). 1,000 all on
  floor 0 of the center; 10,000 (any count above 1,000) spread like the city of config/cities/cantho,
  in proportion to each site floor's counters, the floor's bystanders on floor numbers nobody calls.
  The audience of a call is the center's floor 0; the time is until its last socket has the call.

Server CPU (from /proc, µs per request or ms per call) is the figure least moved by a busy machine.
As in bench/fanout.py the server runs alone on the first CPU, this process and Redis on the others.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import resource
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from floor_loads import Target, fanout_load, http_load, keepalive_check
from support import FloorProcess, RedisProcess, ServerProcess, pin_process

import config

ROOT = Path(__file__).resolve().parents[1]
CITY = ROOT / "config" / "cities" / "cantho"
#: figures where a higher ratio is better (rates); the others are times, memory and CPU
HIGHER_IS_BETTER = ("rate",)


def city_spread(sockets: int) -> tuple[list[tuple[str, str]], list[tuple[str, str]], list[int]]:
    """Sockets per site floor in proportion to its counters: (qserver's (site, topic) per socket, the
    floor's, the audience = indices of the center's floor 0)."""
    sites = config.load_sites(str(CITY))
    floors = [(slug, f.number, sum(c.floor == f.number for c in site.counters))
              for slug, site in sites.items() for f in site.floors]
    total = sum(n for *_, n in floors)
    counts = [round(sockets * n / total) for *_, n in floors]
    counts[0] += sockets - sum(counts)  # the center's floor 0 takes the rounding
    ours, theirs, audience = [], [], []
    for k, ((slug, number, _), count) in enumerate(zip(floors, counts)):
        stand_in = number if slug == "cantho" else 2 + k  # floor_ws knows one site: other floor numbers
        for _ in range(count):
            if slug == "cantho" and number == 0:
                audience.append(len(ours))
            ours.append((slug, f"floor:{number}"))
            theirs.append(("cantho", f"floor:{stand_in}"))
    return ours, theirs, audience


class Run:
    """One server (a floor or qserver) on its own Redis, pinned, stopped on exit."""

    def __init__(self, kind: str, floor_script: Path | None, args, extra_env: dict | None = None):
        self.redis = RedisProcess(aof=True)
        if kind != "floor":
            checkout = args.before[int(kind.split("-")[1])] if kind != "qserver" else None
            self.server = ServerProcess(self.redis.url, extra_env, checkout=checkout)
            tokens = {"kiosk": self.redis.token("kiosk"), "manager": self.redis.token("manager")}
            label = kind if kind == "qserver" else args.before[int(kind.split("-")[1])].name
            self.target = Target("qserver", self.server, tokens, "so-noi-vu", "12", label=label,
                                 redis_pid=self.redis.process.pid)
        else:
            needs_redis = floor_script.name == "floor_http.py"
            self.server = FloorProcess(floor_script, self.redis.url if needs_redis else None)
            self.target = Target(floor_script.stem, self.server, redis_pid=self.redis.process.pid)
        if args.pin_cpus:
            self.server.pin({args.pin_cpus[0]})
            pin_process(self.redis.process.pid, set(args.pin_cpus[1:]))
        self.profiler = None
        if args.profile:  # py-spy samples the server while it is measured (collapsed stacks, one per run)
            args.profile.mkdir(parents=True, exist_ok=True)
            out = args.profile / f"{args.part}-{self.target.label}-{len(list(args.profile.iterdir()))}.txt"
            self.profiler = subprocess.Popen(
                [str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(self.server.process.pid),
                 "--format", "raw", "--rate", "250", "--output", str(out)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1.0)

    def __enter__(self) -> Target:
        return self.target

    def __exit__(self, *exc) -> None:
        if self.profiler is not None:
            self.profiler.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
            self.profiler.wait(timeout=30)
        self.server.stop()
        self.redis.stop()


def alternate(name: str, args, floor_script: Path, measure, extra_env: dict | None = None) -> None:
    """floor, qserver, floor, qserver ... (floor, before, qserver with --before): print every run's
    figures, then each qserver's ratios to the floor of its round."""
    args.part = name.replace(" ", "-")
    kinds = ("floor", *(f"before-{i}" for i in range(len(args.before or ()))), "qserver")
    results: dict[str, list[dict]] = {kind: [] for kind in kinds}
    for round_number in range(1, args.rounds + 1):
        for kind in kinds:
            with Run(kind, floor_script, args, extra_env if kind != "floor" else None) as target:
                figures = asyncio.run(measure(target))
            results[kind].append(figures)
            shown = "  ".join(f"{k} {v:,.1f}" if isinstance(v, float) else f"{k} {v}" for k, v in figures.items())
            print(f"  {name} round {round_number} {target.label:<10} {shown}", flush=True)
    floors = results["floor"]
    for kind in kinds[1:]:
        label = "qserver" if kind == "qserver" else f"qserver of {args.before[int(kind.split('-')[1])].name}"
        print(f"  {name}: {label} ÷ floor  (per round; overall = mean ÷ mean; median of the rounds' ratios)")
        for key, value in floors[0].items():
            if not isinstance(value, float) or key.endswith("connected s"):
                continue
            ours = results[kind]
            pairs = [q[key] / f[key] if f[key] else float("nan") for f, q in zip(floors, ours)]
            overall = statistics.mean(q[key] for q in ours) / statistics.mean(f[key] for f in floors)
            better = "higher is better" if key.endswith(HIGHER_IS_BETTER) else "lower is better"
            print(f"    {key:<22} {'  '.join(f'{p:5.2f}' for p in pairs)}   overall {overall:5.2f}   "
                  f"median {statistics.median(pairs):5.2f}   ({better})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", nargs="+", choices=("http", "keepalive", "fanout"),
                        default=["http", "keepalive", "fanout"])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--sockets", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--pin", choices=("auto", "yes", "no"), default="auto")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="record each server with py-spy (collapsed stacks into DIR; bench/profile_top.py reads them)")
    parser.add_argument("--before", type=Path, nargs="+", metavar="CHECKOUT",
                        help="also run the qserver of these checkouts (e.g. `git archive REV | tar -x -C DIR`), "
                             "in this order, in each round")
    parser.add_argument("--floors", type=Path, default=Path(os.environ.get("QSERVER_FLOORS", ROOT.parent / "shared" / "bench")),
                        help="folder of floor_http.py and floor_ws.py (default ../shared/bench)")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)  # 10,000 sockets here; the floors inherit it
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    cpus = sorted(os.sched_getaffinity(0))
    pinned = args.pin == "yes" or (args.pin == "auto" and len(cpus) >= 2)
    args.pin_cpus = cpus if pinned else None
    if pinned:
        pin_process(os.getpid(), set(cpus[1:]))
    print(f"qserver against the floors — {dt.datetime.now():%Y-%m-%d %H:%M}, {len(cpus)} CPUs, load average "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}, "
          + (f"servers pinned to CPU {cpus[0]}, clients and Redis to CPU {','.join(map(str, cpus[1:]))}"
             if pinned else "not pinned") + f"; Redis AOF everysec; {args.rounds} rounds", flush=True)
    site = config.load_sites()["cantho"]
    if "http" in args.parts:
        print(f"HTTP, {args.clients} keep-alive clients, {args.seconds:.0f} s issue then {args.seconds:.0f} s "
              f"call-next + complete (rates /s, latencies ms, server CPU µs per request)")
        alternate("http", args, args.floors / "floor_http.py",
                  lambda t: http_load(t, site, args.seconds, args.clients))
    if "keepalive" in args.parts:
        print(f"one client, {args.seconds / 2:.0f} s on a keep-alive connection, then {args.seconds / 2:.0f} s "
              f"with a new connection per request")
        alternate("keepalive", args, args.floors / "floor_http.py",
                  lambda t: keepalive_check(t, site, args.seconds / 2))
    for sockets in args.sockets if "fanout" in args.parts else ():
        if sockets <= 1000:
            where = [("cantho", "floor:0")] * sockets
            spread, env = (where, where, list(range(sockets))), None
        else:
            spread, env = city_spread(sockets), {"QSERVER_CONFIG": str(CITY)}
        ours, theirs, audience = spread
        print(f"fan-out, {sockets:,} sockets ({len(audience):,} on the called floor"
              + (f", the rest over {len({w for w in ours})} site floors" if env else "") + f"), {args.calls} calls")
        alternate(f"fanout {sockets}", args, args.floors / "floor_ws.py",
                  lambda t: fanout_load(t, ours if t.name == "qserver" else theirs, audience, args.calls), env)


if __name__ == "__main__":
    import uvloop

    uvloop.install()
    main()
