"""``qserver webhook set|show|clear|test --site SLUG``: where a site's SMS / Zalo OA gateway listens.

The URL and secret set here are kept in Redis and replace the site file's ``[webhook]`` at once on every
running server (the worker re-reads them every ``worker_interval_s``); delivery starts from the events
after the change. ``show`` never prints the secret.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import re
import secrets
from typing import Any

import config

from ..connection import redis_url_for
from ..settings import Settings

__all__ = ["add_parser"]

URL_RE = re.compile(r"^https?://[^\s/]+(/\S*)?$")


async def _with_engine(settings: Settings, slug: str, action) -> Any:
    from ..connection import connect_redis

    from ..clock import SystemClock
    from ..engine import SiteEngine

    sites = config.load_sites(*settings.config)
    if slug not in sites:
        raise SystemExit(f"error: site '{slug}' is not configured (known: {', '.join(sites)})")
    with redis_url_for(settings) as url:
        client = connect_redis(url)
        try:
            return await action(SiteEngine(client, sites[slug], SystemClock(), secret=b"unused-by-webhooks"))
        finally:
            await client.aclose()


def _actor() -> str:
    try:
        return f"admin:{getpass.getuser()}"
    except Exception:
        return "admin"


def cmd_webhook(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "set":
        if not args.url or not URL_RE.match(args.url):
            raise SystemExit(f"error: --url {args.url!r} is not an http:// or https:// address")
        events = tuple(e.strip() for e in (args.events or ",".join(config.WEBHOOK_EVENTS)).split(",") if e.strip())
        unknown = [e for e in events if e not in config.WEBHOOK_EVENTS]
        if unknown:
            raise SystemExit(f"error: unknown event {unknown[0]!r} (known: {', '.join(config.WEBHOOK_EVENTS)})")
        secret = args.secret or secrets.token_urlsafe(32)

        async def store(engine):
            await engine.set_webhook(args.url, secret, events, by=_actor())

        asyncio.run(_with_engine(settings, args.site, store))
        print(f"webhook of {args.site}: {args.url} ({', '.join(events)})")
        if not args.secret:
            print("secret (give it to the gateway; it is not shown again):")
            print(secret)
        return 0
    if args.action == "clear":
        asyncio.run(_with_engine(settings, args.site, lambda engine: engine.clear_webhook()))
        print(f"webhook of {args.site} cleared (the site file's [webhook], if any, applies again)")
        return 0
    if args.action == "test":
        async def test(engine):
            return await engine.record_webhook_test(actor=_actor())

        print(f"test event {asyncio.run(_with_engine(settings, args.site, test))} queued for the worker")
        return 0

    async def show(engine):
        return await engine.stored_webhook(), await engine.webhook_status()

    stored, status = asyncio.run(_with_engine(settings, args.site, show))
    site = config.load_sites(*settings.config)[args.site]
    shown = {"url": stored.get("url") or site.webhook.url or None,
             "source": "redis" if stored.get("url") else ("config" if site.webhook.url else None),
             "events": json.loads(stored["events"]) if stored.get("events") else list(site.webhook.events),
             "set_by": stored.get("by"), "status": status}
    print(json.dumps(shown, ensure_ascii=False, indent=2))
    return 0


def add_parser(sub, bind) -> None:
    """``qserver webhook`` with its actions; ``bind(command)`` gives the command its settings."""
    p = sub.add_parser("webhook", help="the site's webhook for the SMS / Zalo OA gateway (docs/webhooks.md)")
    p.add_argument("action", choices=("set", "show", "clear", "test"))
    p.add_argument("--site", default="cantho")
    p.add_argument("--url", help="where to POST (set)")
    p.add_argument("--secret", help="the signing secret (set; a random one is made and printed when omitted)")
    p.add_argument("--events", help=f"comma-separated (default all: {', '.join(config.WEBHOOK_EVENTS)})")
    p.add_argument("--config", action="append", metavar="FILE_OR_DIR")
    p.set_defaults(func=bind(cmd_webhook))
