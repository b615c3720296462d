"""Typed settings: flags, then ``QSERVER_*`` environment variables, then defaults.

Business code receives a :class:`Settings`; only :meth:`Settings.from_env` reads an environment, and
tests pass their own mapping.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

__all__ = ["Settings", "SettingsError"]

PREFIX = "QSERVER_"


class SettingsError(ValueError):
    """A setting that is missing or not of its type."""


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    redis_url: str | None = None          # None: start an embedded redis-server under data_dir
    redis_server: str | None = None       # path of the redis-server binary for the embedded one
    redis_start_wait_s: float = 10.0      # `qserver run` waits this long for Redis, then exits with status 2
    redis_wait_replicas: int = 0          # after each write, WAIT until this many replicas have it ...
    redis_wait_timeout_ms: int = 500      # ... or this long (the write is answered anyway, and counted)
    data_dir: Path = Path("var")
    config: tuple[str, ...] = ()          # extra site files or folders (the built-in sites always load)
    always_open: bool = False             # ignore receiving hours (demos, tests, benchmarks, 24/7 sites)
    secret: str | None = None             # key for CCCD hashes; generated once under data_dir when unset
    stream_maxlen: int = 200_000          # events kept per site (approximate trim)
    heartbeat_s: float = 15.0             # websocket heartbeat frames
    client_queue_frames: int = 512        # frames buffered per websocket client before it is dropped
    replay_max_events: int = 10_000       # a `since` further back than this gets a snapshot
    gc_freeze_s: float = 1.0              # survivors hidden from full garbage collections this often (0: off)
    token_cache_s: float = 0.5            # how long a process trusts a token it looked up (revocation delay)
    headers_timeout_s: float = 10.0       # a connection must send a request's headers within this
    forwarded_allow_ips: str = "127.0.0.1"  # proxies whose X-Forwarded-For names the client (limits per address)
    max_body_bytes: int = 65_536          # request bodies over this get 413 before they are read
    max_ws_message_bytes: int = 65_536    # websocket messages over this close the socket with 1009
    # Rate limits ("N/minute", "N/15 minutes" ...; "" turns one off), kept in Redis for every process:
    limit_login_per_address: str = "20/minute"     # login attempts per client address
    limit_login_failures: str = "5/15 minutes"     # failed logins per user name before a lock-out
    limit_issue_per_kiosk: str = "60/minute"       # tickets per kiosk (or manager) token
    limit_reads_per_address: str = "600/minute"    # anonymous reads (pages, public API) per client address
    city_cache_s: float = 2.0             # how long the city console reuses a site's Redis reads
    # Where a kiosk opened with ?printer=agent finds qserver-print-agent (on the kiosk PC itself); the
    # kiosk page's Content-Security-Policy allows connections to this origin and no other.
    print_agent_url: str = "http://127.0.0.1:8089"
    # ... from home (phones share carrier addresses behind CGNAT: per address is generous, per person strict)
    limit_home_per_address: str = "60/10 minutes"  # online numbers, bookings, cancels, moves per address
    limit_home_per_person: str = "10/day"          # the same per CCCD number (its keyed hash)
    limit_codes_per_address: str = "120/10 minutes"  # booking codes looked up per address (guessing)
    # The from-home worker (webhooks, booking sweeps): one process per site at a time, by a lease in Redis.
    home_worker: bool = True              # run it in this process (any number of processes may)
    public_url: str = ""                  # https://hcc.cantho.gov.vn: absolute links in webhook messages
    worker_interval_s: float = 5.0        # leases renewed, bookings swept, webhook settings re-read
    webhook_timeout_s: float = 10.0       # one delivery attempt
    webhook_backoff_s: float = 1.0        # first retry after this; doubles up to webhook_backoff_max_s
    webhook_backoff_max_s: float = 300.0
    log_level: str = "info"

    def __post_init__(self) -> None:
        if self.redis_wait_replicas < 0:
            raise SettingsError(f"QSERVER_REDIS_WAIT_REPLICAS={self.redis_wait_replicas} must be 0 or more")
        if self.redis_wait_timeout_ms < 1:  # WAIT with 0 would block for ever
            raise SettingsError(f"QSERVER_REDIS_WAIT_TIMEOUT_MS={self.redis_wait_timeout_ms} must be 1 or more")
        if self.redis_start_wait_s < 0:
            raise SettingsError(f"QSERVER_REDIS_START_WAIT_S={self.redis_start_wait_s} must be 0 or more")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> "Settings":
        """Defaults, replaced by ``QSERVER_<NAME>`` variables, replaced by non-None ``overrides``."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for spec in fields(cls):
            name = PREFIX + spec.name.upper()
            if name in environ:
                values[spec.name] = _convert(name, environ[name], spec.type)
        values.update({k: v for k, v in overrides.items() if v is not None})
        if "data_dir" in values:
            values["data_dir"] = Path(values["data_dir"])
        if isinstance(values.get("config"), str):
            values["config"] = tuple(p for p in values["config"].split(os.pathsep) if p)
        return cls(**values)

    def with_(self, **changes: Any) -> "Settings":
        return replace(self, **changes)

    def secret_bytes(self) -> bytes:
        """The CCCD hash key: the setting, or a random key kept in ``data_dir/secret`` (made once)."""
        if self.secret:
            return self.secret.encode()
        path = self.data_dir / "secret"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_hex(32))
            path.chmod(0o600)
        return path.read_text().strip().encode()


def _convert(name: str, text: str, kind: Any) -> Any:
    kind = str(kind)
    try:
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
        if kind == "bool":
            lowered = text.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(text)
    except ValueError:
        raise SettingsError(f"{name}={text!r} is not a valid {kind}") from None
    return text
