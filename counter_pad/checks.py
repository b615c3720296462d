"""The configuration checks only qserver can answer: does the counter exist, is the token good for it.

They run once, as soon as the server answers HTTP (the pad works offline meanwhile: it never
refuses to start because the server is down). ``GET /api/v1/sites/{site}`` lists the counters;
``GET /api/v1/whoami`` says whom a token belongs to (401: unknown token). An answer that proves the
configuration wrong raises a :class:`~counter_pad.exceptions.ConfigError`; anything else (server
down, 5xx) is retried with the link's jittered backoff.
"""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

from qserver.protocol.client import backoff_delays

from .exceptions import BadToken, UnknownCounter, UnknownSite

__all__ = ["check_setup", "check_layout", "check_grant"]

logger = logging.getLogger(__name__)


class _NoAnswer(Exception):
    """The server did not give an answer that says anything about the configuration."""


def check_layout(layout: dict[str, Any], site: str, counter: str) -> None:
    """Raise :class:`UnknownCounter` unless ``counter`` is one of the site's counters."""
    ids = [str(c.get("id")) for c in layout.get("counters") or () if isinstance(c, dict)]
    if counter not in ids:
        raise UnknownCounter(f"counter '{counter}' is not configured for site '{site}' "
                             f"(its counters: {', '.join(ids) or 'none'})")


def check_grant(grant: dict[str, Any], site: str, counter: str) -> None:
    """Raise :class:`BadToken` unless the token may work ``counter`` of ``site``."""
    role, grant_site = grant.get("role"), grant.get("site")
    if role not in ("officer", "manager"):
        raise BadToken(f"the token is a '{role}' token; the pad needs an officer token for counter '{counter}'")
    if grant_site not in (site, "*"):
        raise BadToken(f"the token is for site '{grant_site}', not '{site}'")
    counters = [str(c) for c in grant.get("counters") or ()]
    if role == "officer" and counter not in counters:
        raise BadToken(f"the token is for counter(s) {', '.join(counters) or 'none'}, not '{counter}'")


def _get(url: str, token: str | None, timeout_s: float) -> tuple[int, Any]:
    """Blocking GET (run in a thread): (status, JSON body or None)."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
        exc.close()
    except (OSError, ValueError) as exc:  # URLError, refused, timeout, bad answer
        raise _NoAnswer(str(exc)) from exc
    if status >= 500:
        raise _NoAnswer(f"HTTP {status}")
    try:
        return status, json.loads(raw) if raw else None
    except ValueError as exc:
        raise _NoAnswer(f"HTTP {status} with a body that is not JSON") from exc


async def check_setup(url: str, site: str, counter: str, token: str, *, timeout_s: float = 5.0,
                      backoff: Callable[[], Iterator[float]] = backoff_delays) -> None:
    """Check site, counter and token against qserver, waiting as long as it takes to get an answer."""
    delays = backoff()
    site_url = f"{url}/api/v1/sites/{quote(site, safe='')}"
    while True:
        try:
            status, layout = await asyncio.to_thread(_get, site_url, None, timeout_s)
            if status == 404:
                raise UnknownSite(f"site '{site}' does not exist on {url}")
            if status != 200 or not isinstance(layout, dict):
                raise _NoAnswer(f"HTTP {status} for {site_url}")
            check_layout(layout, site, counter)
            status, grant = await asyncio.to_thread(_get, f"{url}/api/v1/whoami", token, timeout_s)
            if status in (401, 403):
                message = (grant or {}).get("error", {}).get("message", "") if isinstance(grant, dict) else ""
                raise BadToken(f"qserver refused the token (HTTP {status}) {message}".strip())
            if status == 200 and isinstance(grant, dict):
                check_grant(grant, site, counter)
            else:  # a server without /whoami: a bad token shows up as the first command's result
                logger.warning("cannot check the token before the first press (whoami: HTTP %s)", status)
            logger.info("configuration checked with %s: counter %s of %s", url, counter, site)
            return
        except _NoAnswer as exc:
            delay = next(delays)
            logger.info("cannot check the configuration with %s yet (%s); retrying in %.1f s", url, exc, delay)
            await asyncio.sleep(delay)
