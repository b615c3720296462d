"""``qserver token ...`` and ``qserver user ...``: who may do what, given and taken back from the command line.

Every change goes into the audit trail of the sites it concerns (actor ``admin:<the system user>``), and
works at once on running servers: they trust a token they looked up for ``token_cache_s`` (0.5 s) only.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import getpass
from collections.abc import Awaitable, Callable
from typing import Any

import config

from .connection import redis_url_for
from .settings import Settings

__all__ = ["add_parsers"]


def _actor() -> str:
    try:
        return f"admin:{getpass.getuser()}"
    except Exception:  # no user name (a container without /etc/passwd entry)
        return "admin"


async def _with_auth(settings: Settings, action: Callable[[Any], Awaitable[Any]]) -> Any:
    """Run ``action(auth)`` with an Auth whose changes are written to the sites' audit trails."""
    from .connection import connect_redis

    from .auth import Auth, audit_to
    from .clock import SystemClock
    from .engine import SiteEngine

    sites = config.load_sites(*settings.config)
    with redis_url_for(settings) as url:
        client = connect_redis(url)
        try:
            engines = {slug: SiteEngine(client, site, SystemClock(), secret=b"unused-by-access")
                       for slug, site in sites.items()}
            return await action(Auth(client, cache_s=0, audit=audit_to(engines)))
        finally:
            await client.aclose()


def _check_site_grant(settings: Settings, site: str, counters: list[str]) -> None:
    if site == "*":
        return
    sites = config.load_sites(*settings.config)
    if site not in sites:
        raise SystemExit(f"error: site '{site}' is not configured (known: {', '.join(sites)})")
    for counter in counters:
        if counter not in sites[site].counter_by_id:
            raise SystemExit(f"error: counter '{counter}' is not configured for site '{site}'")


def _when(epoch: int | None) -> str:
    if not epoch:
        return "never"
    return dt.datetime.fromtimestamp(epoch).astimezone().strftime("%Y-%m-%d %H:%M")


def _password(args: argparse.Namespace) -> str:
    if args.password is not None:
        return args.password
    first = getpass.getpass(f"password for {args.username}: ")
    if getpass.getpass("again: ") != first:
        raise SystemExit("error: the passwords differ")
    return first


def cmd_token(args: argparse.Namespace, settings: Settings) -> int:
    command = args.token_command
    if command == "create":
        counters = args.counter or []
        _check_site_grant(settings, args.site, counters)
        token = asyncio.run(_with_auth(settings, lambda auth: auth.create_token(
            args.role, args.site, tuple(counters), name=args.name or "", ttl_s=args.ttl_s, actor=_actor())))
        print(f"{args.role} token for site {args.site}" + (f", counters {', '.join(counters)}" if counters else "")
              + (f", expires {_when(int(dt.datetime.now().timestamp()) + args.ttl_s)}" if args.ttl_s else ""))
        print(token)
    elif command == "list":
        entries = asyncio.run(_with_auth(settings, lambda auth: auth.tokens()))
        print(f"{'id':<12}  {'role':<8} {'site':<22} {'kind':<6} {'name':<16} {'created':<16}  {'expires':<16}  counters")
        for entry in entries:
            flags = " (rotating)" if entry.get("rotate") else ""
            print(f"{entry['id']:<12}  {entry['role']:<8} {entry['site']:<22} {entry.get('kind', 'token'):<6} "
                  f"{entry.get('name', ''):<16} {_when(entry.get('created_at')):<16}  {_when(entry.get('expires_at')):<16}"
                  f"  {','.join(entry.get('counters') or []) or '-'}{flags}")
        print(f"{len(entries)} token(s)")
    elif command == "revoke":
        entry = asyncio.run(_with_auth(settings, lambda auth: auth.revoke(args.token, actor=_actor())))
        print(f"revoked token {entry['id']} ({entry['role']}, site {entry['site']}, {entry.get('name', '')})")
    elif command == "rotate":
        entry = asyncio.run(_with_auth(settings, lambda auth: auth.rotate(args.token, grace_s=args.grace_s,
                                                                          actor=_actor())))
        print(f"token {entry['id']} is being rotated: its holders exchange it for a fresh one; "
              f"it stops working at {_when(entry['expires_at'])}")
    return 0


def cmd_user(args: argparse.Namespace, settings: Settings) -> int:
    command = args.user_command
    if command == "add":
        counters = args.counter or []
        _check_site_grant(settings, args.site, counters)
        password = _password(args)
        asyncio.run(_with_auth(settings, lambda auth: auth.add_user(args.username, password, args.role, args.site,
                                                                    tuple(counters), actor=_actor())))
        print(f"user {args.username} ({args.role}, site {args.site}) saved")
    elif command == "passwd":
        password = _password(args)
        asyncio.run(_with_auth(settings, lambda auth: auth.set_password(args.username, password, actor=_actor())))
        print(f"password of {args.username} changed; their open logins were revoked")
    elif command == "remove":
        record = asyncio.run(_with_auth(settings, lambda auth: auth.remove_user(args.username, actor=_actor())))
        print(f"user {args.username} ({record['role']}, site {record['site']}) removed; their open logins were revoked")
    else:
        for name in asyncio.run(_with_auth(settings, lambda auth: auth.users())):
            print(name)
    return 0


def add_parsers(sub: argparse._SubParsersAction, with_settings: Callable) -> None:
    """The ``token`` and ``user`` subcommands; ``with_settings(command)`` binds the CLI's settings."""
    p = sub.add_parser("token", help="create, list, revoke and rotate access tokens")
    tsub = p.add_subparsers(dest="token_command", required=True)
    t = tsub.add_parser("create", help="create a token; it is printed alone on the last line")
    t.add_argument("--role", required=True, choices=["officer", "manager", "kiosk", "display"])
    t.add_argument("--site", default="cantho", help="site slug, or * for a manager of every site")
    t.add_argument("--counter", action="append", help="counter id (officers; repeatable)")
    t.add_argument("--name", help="who uses it (shown in the audit trail)")
    t.add_argument("--ttl-s", type=int, default=None, help="expire after this many seconds (default: never)")
    t = tsub.add_parser("list", help="every token that exists: id, role, site, name, expiry (never the secret)")
    t = tsub.add_parser("revoke", help="take a token back at once (by the token itself or its id)")
    t.add_argument("token", metavar="TOKEN_OR_ID")
    t = tsub.add_parser("rotate", help="replace a kiosk's or display's token without touching the screen")
    t.add_argument("token", metavar="TOKEN_OR_ID")
    t.add_argument("--grace-s", type=int, default=86_400, help="the old token keeps working this long (default 1 day)")
    for t in tsub.choices.values():
        t.add_argument("--config", action="append", metavar="FILE_OR_DIR")
    p.set_defaults(func=with_settings(cmd_token))

    p = sub.add_parser("user", help="web logins for officers and managers")
    usub = p.add_subparsers(dest="user_command", required=True)
    u = usub.add_parser("add", help="add a user, or replace one")
    u.add_argument("username")
    u.add_argument("--role", required=True, choices=["officer", "manager"])
    u.add_argument("--site", default="cantho")
    u.add_argument("--counter", action="append")
    u.add_argument("--password", help="(prompted when omitted)")
    u = usub.add_parser("passwd", help="set a user's password (their open logins are revoked)")
    u.add_argument("username")
    u.add_argument("--password", help="(prompted when omitted)")
    u = usub.add_parser("remove", help="remove a user (their open logins are revoked)")
    u.add_argument("username")
    usub.add_parser("list", help="every user name")
    for u in usub.choices.values():
        u.add_argument("--config", action="append", metavar="FILE_OR_DIR")
    p.set_defaults(func=with_settings(cmd_user))
