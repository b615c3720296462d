"""What ``QSERVER_REDIS_URL`` names, parsed without touching the network (pure).

- ``redis://[[user]:password@]host[:port][/db]``, ``rediss://...`` and ``unix:///path.sock``: one server
  (redis-py parses these itself);
- ``redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/<master-name>[/db]``: the master that
  the sentinels name, followed through fail-overs; the password is the data nodes' (sentinels without
  one), the port defaults to 26379;
- ``redis+cluster://[[user]:password@]host[:port][,host[:port]...]``: a Redis Cluster, reached through any
  of the listed nodes (port 6379 by default); a cluster has only database 0, so no ``/db``.

A URL that is none of these raises :class:`~qserver.settings.SettingsError` naming the offending part.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from .settings import SettingsError

__all__ = ["RedisTarget", "parse_redis_url", "STANDALONE", "SENTINEL", "CLUSTER"]

STANDALONE, SENTINEL, CLUSTER = "standalone", "sentinel", "cluster"
SINGLE_SCHEMES = ("redis", "rediss", "unix")
SCHEMES = {"redis+sentinel": SENTINEL, "redis+cluster": CLUSTER, **{s: STANDALONE for s in SINGLE_SCHEMES}}
DEFAULT_PORT = {SENTINEL: 26379, CLUSTER: 6379}
SENTINEL_FORM = "redis+sentinel://host:26379[,host:26379...]/<master-name>[/db]"
CLUSTER_FORM = "redis+cluster://host:port[,host:port...]"


@dataclass(frozen=True)
class RedisTarget:
    """Where a process's Redis is: one server, a Sentinel-managed master, or a cluster."""

    kind: str                                   # STANDALONE, SENTINEL or CLUSTER
    url: str                                    # as given (a standalone URL goes to redis-py as is)
    hosts: tuple[tuple[str, int], ...] = ()     # sentinels or cluster nodes
    master: str = ""                            # the sentinels' name of the master
    db: int = 0
    username: str | None = None
    password: str | None = None

    def describe(self) -> str:
        """The target for a log line or an error message, without the password."""
        hosts = ", ".join(f"{host}:{port}" for host, port in self.hosts)
        if self.kind == SENTINEL:
            return f"Sentinel master '{self.master}' (db {self.db}) via sentinels {hosts}"
        if self.kind == CLUSTER:
            return f"Redis Cluster via {hosts}"
        return masked(self.url)


def masked(url: str) -> str:
    """The URL with its password replaced by ``***``."""
    scheme, sep, rest = url.partition("://")
    netloc, slash, path = rest.partition("/")
    if "@" not in netloc:
        return url
    userinfo, _, hosts = netloc.rpartition("@")
    user, colon, _password = userinfo.partition(":")
    return f"{scheme}{sep}{user}{':***' if colon else ''}@{hosts}{slash}{path}"


def _fail(url: str, problem: str) -> SettingsError:
    return SettingsError(f"QSERVER_REDIS_URL={masked(url)!r}: {problem}")


def parse_redis_url(url: str) -> RedisTarget:
    """The target a URL names; SettingsError (naming the offending part) for anything else."""
    text = (url or "").strip()
    if not text:
        raise _fail(url, "is empty")
    scheme, sep, rest = text.partition("://")
    if not sep:
        raise _fail(url, "is not a URL (expected redis://host:6379/0, "
                         f"{SENTINEL_FORM} or {CLUSTER_FORM})")
    scheme = scheme.lower()
    if scheme not in SCHEMES:
        raise _fail(url, f"unknown scheme '{scheme}://' (use {', '.join(s + '://' for s in SCHEMES)})")
    if "://" in rest:
        other = rest[:rest.index("://")].rsplit(",", 1)[-1].rsplit("/", 1)[-1]
        raise _fail(url, f"mixes schemes ('{other}://' inside a {scheme}:// URL); list every host as "
                         "host:port after one scheme")
    kind = SCHEMES[scheme]
    if kind == STANDALONE:
        return _standalone(text, scheme, rest)
    if "?" in rest or "#" in rest:
        raise _fail(url, f"takes no options after '?' or '#' ({scheme}://)")
    netloc, _, path = rest.partition("/")
    username = password = None
    if "@" in netloc:
        userinfo, _, netloc = netloc.rpartition("@")
        user, colon, secret = userinfo.partition(":")
        username = unquote(user) or None
        password = unquote(secret) if colon else None
    hosts = tuple(_host_port(url, part, DEFAULT_PORT[kind]) for part in netloc.split(","))
    if kind == SENTINEL:
        master, db = _sentinel_path(url, path)
        return RedisTarget(SENTINEL, text, hosts, master=master, db=db, username=username, password=password)
    if path.strip("/"):
        raise _fail(url, f"a Redis Cluster has only database 0: remove '/{path}' ({CLUSTER_FORM})")
    return RedisTarget(CLUSTER, text, hosts, username=username, password=password)


def _standalone(url: str, scheme: str, rest: str) -> RedisTarget:
    if scheme == "unix":
        if not rest.split("?", 1)[0]:
            raise _fail(url, "names no socket path (unix:///path/to/redis.sock)")
        return RedisTarget(STANDALONE, url)
    netloc = rest.split("/", 1)[0].rpartition("@")[2]
    if "," in netloc:
        raise _fail(url, f"lists several hosts ({netloc}); a list needs {SENTINEL_FORM} or {CLUSTER_FORM}")
    parts = urlsplit(url)
    try:
        parts.port
    except ValueError:
        raise _fail(url, f"port of '{netloc}' is not a number from 1 to 65535") from None
    if not parts.hostname:
        raise _fail(url, "names no host")
    db = parts.path.strip("/")
    if db and not db.isdigit():
        raise _fail(url, f"database '{db}' is not a number")
    return RedisTarget(STANDALONE, url, ((parts.hostname, parts.port or 6379),), db=int(db or 0))


def _host_port(url: str, part: str, default_port: int) -> tuple[str, int]:
    part = part.strip()
    if not part:
        raise _fail(url, "has an empty host in its list (two commas, or a comma at an end)")
    if part.startswith("["):  # [IPv6]:port
        host, _, tail = part[1:].partition("]")
        port_text = tail[1:] if tail.startswith(":") else ""
    else:
        host, _, port_text = part.partition(":")
    if not host:
        raise _fail(url, f"host '{part}' has no name")
    if not port_text:
        return host, default_port
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise _fail(url, f"port '{port_text}' of host '{part}' is not a number from 1 to 65535")
    return host, int(port_text)


def _sentinel_path(url: str, path: str) -> tuple[str, int]:
    parts = [p for p in path.split("/")]
    master = unquote(parts[0]) if parts else ""
    if not master:
        raise _fail(url, f"needs the master name after the sentinels: {SENTINEL_FORM}")
    db_text = parts[1] if len(parts) > 1 else ""
    if len(parts) > 2 and any(parts[2:]):
        raise _fail(url, f"has more after the database ('/{'/'.join(parts[2:])}'): {SENTINEL_FORM}")
    if db_text and not db_text.isdigit():
        raise _fail(url, f"database '{db_text}' is not a number: {SENTINEL_FORM}")
    return master, int(db_text or 0)
