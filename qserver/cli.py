"""``qserver`` command line: run, demo, check-config, token, user, webhook, stats, simulate.

Settings come from flags, then ``QSERVER_*`` environment variables, then defaults. Logging is
configured here and nowhere else.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import sys

import config

from . import access
from .connection import connect_redis, redis_url_for
from .exceptions import QServerError
from .settings import Settings, SettingsError

__all__ = ["main", "build_parser"]

logger = logging.getLogger("qserver")


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        host=getattr(args, "host", None), port=getattr(args, "port", None),
        config=tuple(args.config) if getattr(args, "config", None) else None,
        always_open=True if getattr(args, "always_open", False) else None,
    )


def cmd_run(args: argparse.Namespace) -> int:
    settings = _settings(args)
    sites = config.load_sites(*settings.config)
    shown = ", ".join(list(sites)[:10]) + (f", ... ({len(sites)} sites)" if len(sites) > 10 else "")
    logger.info("qserver on http://%s:%s (sites: %s)", settings.host, settings.port, shown)
    from .server import serve

    serve(settings, sites=sites)
    return 0


def cmd_check_config(args: argparse.Namespace) -> int:
    """One line per file (ok, or its problems each as FILE:LINE: ...), a summary; 1 when anything is wrong.
    Each site's procedure catalogue and printers file are checked after it."""
    from .site_files import check_site_files

    report = config.check_paths(args.paths, extras=check_site_files)
    for line in report.lines():
        print(line)
    return 0 if report.ok else 1


async def stats_report(args: argparse.Namespace, *, clock=None) -> str | bytes:
    """What ``qserver stats`` prints: a text table, or the CSV bytes with ``--csv`` (``clock`` for tests).
    Past days come from the archive (archived first, when Redis still holds them)."""
    from .clock import SystemClock
    from .engine import SiteEngine
    from .managers.archive import Archive, History
    from .managers.reports import compute, format_table, report_csv

    settings = _settings(args)
    sites = config.load_sites(*settings.config)
    if args.site not in sites:
        raise SystemExit(f"error: site '{args.site}' is not configured (known: {', '.join(sites)})")
    with redis_url_for(settings) as url:
        client = connect_redis(url)
        try:
            engine = SiteEngine(client, sites[args.site], clock or SystemClock(), secret=b"unused-by-reports")
            history = History(engine, Archive(settings.data_dir / "archive.sqlite"))
            try:
                day = dt.date.fromisoformat(args.date) if args.date else history.today()
            except ValueError:
                raise SystemExit(f"error: --date {args.date!r} is not a date like 2026-11-24") from None
            report = compute(engine.site, await history.tickets(day, day), day, day)
        finally:
            await client.aclose()
    return report_csv(report) if args.csv else format_table(report)


def cmd_stats(args: argparse.Namespace) -> int:
    """``qserver stats [--site] [--date] [--csv]``: a day's report."""
    text_or_bytes = asyncio.run(stats_report(args))
    if isinstance(text_or_bytes, bytes):
        sys.stdout.flush()
        sys.stdout.buffer.write(text_or_bytes)
        sys.stdout.buffer.flush()
    else:
        print(text_or_bytes)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    if args.city:
        from .simulation.city_demo import cmd_city_demo

        return cmd_city_demo(args)
    from .simulation.demo import cmd_demo as demo

    return demo(args)


def cmd_simulate(args: argparse.Namespace) -> int:
    from .simulation.command import cmd_simulate as simulate

    return simulate(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qserver", description="Queue and counter displays for public service centers")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    def server_flags(p: argparse.ArgumentParser) -> None:
        p.add_argument("--host", help="listen address (default 127.0.0.1; QSERVER_HOST)")
        p.add_argument("--port", type=int, help="listen port (default 8000; QSERVER_PORT)")
        p.add_argument("--config", action="append", metavar="FILE_OR_DIR", help="extra site files (repeatable)")
        p.add_argument("--always-open", action="store_true", help="ignore receiving hours (QSERVER_ALWAYS_OPEN=1)")

    p = sub.add_parser("run", help="run the server")
    server_flags(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("demo", help="run the Cần Thơ site (or with --city its 104 centers) with a simulated day")
    server_flags(p)
    p.add_argument("--speed", type=float, default=60.0, help="simulated seconds per real second (default 60)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--no-announcer", action="store_true", help="do not start the floor-0 announcer")
    p.add_argument("--duration", type=float, default=None, help="stop after this many real seconds")
    p.add_argument("--city", action="store_true",
                   help="the whole city: the center and 103 communes (config/cities/cantho) and the city console")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("check-config", help="validate site files and folders (recursively) with their procedure "
                                            "catalogues and printers, explain every error")
    p.add_argument("paths", nargs="+", metavar="FILE_OR_DIR")
    p.set_defaults(func=cmd_check_config)

    access.add_parsers(sub, lambda command: lambda args: command(args, _settings(args)))
    from .notify.command import add_parser as add_webhook_parser

    add_webhook_parser(sub, lambda command: lambda args: command(args, _settings(args)))

    p = sub.add_parser("stats", help="a day's report per agency and counter")
    p.add_argument("--site", default="cantho")
    p.add_argument("--date", help="YYYY-MM-DD (default: today)")
    p.add_argument("--csv", action="store_true")
    p.add_argument("--config", action="append", metavar="FILE_OR_DIR")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("simulate", help="drive a running server over the public API")
    p.add_argument("--url", default="http://127.0.0.1:8000")
    p.add_argument("--site", default="cantho")
    p.add_argument("--counters", type=int, default=10)
    p.add_argument("--rate", type=float, default=5.0, help="tickets issued per second")
    p.add_argument("--duration", type=float, default=30.0, help="seconds")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--manager-token", help="(default: created through the data directory's Redis)")
    p.set_defaults(func=cmd_simulate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args) or 0
    except (config.ConfigError, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except QServerError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
