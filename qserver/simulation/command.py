"""``qserver simulate``: a deterministic load generator over the public HTTP API.

A whole receiving day (arrivals peaking in the morning, officers calling, serving, recalling, marking
no-shows, transferring, pausing; ratings; a manager moving counters) is compressed into ``--duration``
seconds at ``--rate`` tickets a second on average, on ``--counters`` counters, then the report is printed.
It needs only the server's URL and a manager token, so it drives any deployment, one process or many.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys

from . import Simulation, SimulationError, load_config, run_simulation

__all__ = ["cmd_simulate", "manager_token_from_redis"]

logger = logging.getLogger(__name__)


def manager_token_from_redis(site: str, ttl_s: int) -> str:
    """A fresh manager token for ``site``, written to ``QSERVER_REDIS_URL`` or the embedded Redis of the
    data directory (the server must be using that Redis). Raises SimulationError when there is none."""
    from ..connection import connect_redis

    from ..auth import Auth
    from ..embedded_redis import running_url
    from ..settings import Settings

    settings = Settings.from_env()
    url = settings.redis_url or running_url(settings.data_dir)
    if not url:
        raise SimulationError(
            f"no --manager-token given and no Redis found (QSERVER_REDIS_URL is unset and no embedded Redis "
            f"runs for {settings.data_dir}/): pass a token from `qserver token create --role manager "
            f"--site {site}`")

    async def create() -> str:
        client = connect_redis(url)
        try:
            return await Auth(client, cache_s=0).create_token("manager", site, name="simulate", ttl_s=ttl_s)
        finally:
            await client.aclose()

    return asyncio.run(create())


async def _simulate(args: argparse.Namespace, token: str):
    running: list[Simulation] = []

    def started(simulation: Simulation) -> None:
        running.append(simulation)
        config = simulation.config
        print(f"simulating site {args.site} at {args.url}: {len(config.counters)} counters "
              f"({', '.join(config.counters)}), about {config.expected:.0f} tickets over {args.duration:g} s "
              f"(a receiving day at ×{config.speed:.0f}), seed {config.seed}", flush=True)

    def stop() -> None:
        if running:
            running[0].stop()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop)
    return await run_simulation(
        args.url, args.site,
        lambda layout: load_config(layout, counters=args.counters, rate=args.rate, duration_s=args.duration,
                                   seed=args.seed),
        manager_token=token, started=started)


def cmd_simulate(args: argparse.Namespace) -> int:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per request otherwise
    try:
        token = args.manager_token or manager_token_from_redis(args.site, ttl_s=int(args.duration) + 3600)
        report = asyncio.run(_simulate(args, token))
    except SimulationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report.format(), flush=True)
    if report.errors.get("closed_hours"):
        print("hint: the server is outside receiving hours; run it with --always-open (QSERVER_ALWAYS_OPEN=1)")
    if report.errors.get("unauthorized") or report.errors.get("forbidden"):
        print(f"hint: the token must be a manager token of site {args.site}")
    return 0 if report.counts["issued"] else 1
