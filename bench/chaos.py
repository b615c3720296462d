"""Chaos for minutes: kiosks and officers over HTTP, displays over websockets cut at random, kill -9 of
`qserver run`, Redis restarted from its append-only file; then the counts and every broken invariant.

    python bench/chaos.py --seconds 120                 # 3 kills, 3 Redis restarts, 2 of both at once
    python bench/chaos.py --seconds 600 --displays 100 --kills 10 --restarts 10

The harness is tests/support/chaos.py (tests/qserver/test_chaos.py runs it for 20 s in `make test`).
It starts its own redis-server (AOF, fsync always) and `qserver run` on free ports; the server's log is
kept in a temporary folder, printed at the end. Exits 1 when an invariant broke.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support import RedisServer, ServerProcess  # noqa: E402
from tests.support.chaos import Chaos, Plan  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="how long the load runs (default 120)")
    parser.add_argument("--kiosks", type=int, default=4)
    parser.add_argument("--displays", type=int, default=50, help="websocket displays (default 50)")
    parser.add_argument("--kills", type=int, default=3, help="kill -9 of the server")
    parser.add_argument("--restarts", type=int, default=3, help="Redis restarts")
    parser.add_argument("--both", type=int, default=2, help="server killed while Redis is down")
    parser.add_argument("--heartbeat-s", type=float, default=None, help="QSERVER_HEARTBEAT_S (server default 15)")
    parser.add_argument("--replay-max-events", type=int, default=None,
                        help="QSERVER_REPLAY_MAX_EVENTS (server default 10000)")
    parser.add_argument("--issue-limit", default="600/minute",
                        help="QSERVER_LIMIT_ISSUE_PER_KIOSK (server default 60/minute: the load would stall on 429s)")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "big")
    env = {"QSERVER_LIMIT_ISSUE_PER_KIOSK": args.issue_limit}
    if args.heartbeat_s is not None:
        env["QSERVER_HEARTBEAT_S"] = str(args.heartbeat_s)
    if args.replay_max_events is not None:
        env["QSERVER_REPLAY_MAX_EVENTS"] = str(args.replay_max_events)
    plan = Plan(seconds=args.seconds, kiosks=args.kiosks, displays=args.displays, server_kills=args.kills,
                redis_restarts=args.restarts, combined_faults=args.both, seed=seed)
    folder = Path(tempfile.mkdtemp(prefix="qserver-chaos-"))
    (folder / "redis").mkdir()
    redis_server = RedisServer(folder / "redis")
    redis_server.start()
    server = ServerProcess(redis_server.url, folder, extra_env=env)
    try:
        server.start()
        report = asyncio.run(Chaos(server, redis_server, plan).run())
    finally:
        server.close()
        redis_server.stop()
        shutil.rmtree(folder / "redis", ignore_errors=True)
    problems = report.problems()
    for line in problems[:20]:
        print("BROKEN", line[:200])
    if len(problems) > 20:
        print(f"BROKEN ... {len(problems) - 20} more")
    print(f"seed {seed}; server log {server.log}")
    print(report.format())
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
