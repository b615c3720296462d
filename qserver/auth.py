"""Tokens and users. A grant says who may do what: role, site (or all), counters.

Tokens are random; Redis keeps only their SHA-256 (``qs:token:<sha>``), so a copy of the database
reveals none, and an index of what exists (``qs:tokens``: id → role, site, name, expiry; the id is the
first 12 hex digits of the hash) so tokens can be listed and revoked without their secret. Users log in
with a password (scrypt, computed on one worker thread so a login flood never stalls the event loop)
and receive a token that lasts a working day. A revoked token or a removed user is refused by every
process within ``cache_s`` (1 s by default).

Rotation: a token marked for rotation keeps working for a grace period; a page that holds it (the
kiosk) sees ``rotate`` in ``whoami`` and exchanges it for a fresh one with the same grant, so screens
move to a new secret without anyone touching them (docs/operations.md).

Every change (token created, revoked, rotated; user added, removed, password changed; a lock-out) is
handed to ``audit``, which the app and the CLI point at the sites' audit trails.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from .engine.keys import token_key, tokens_index_key, user_key, users_index_key
from .exceptions import Conflict, Forbidden, InvalidField, NotFound, RateLimited, Unauthorized
from .single_flight import SingleFlight

__all__ = ["Grant", "ROLES", "Auth", "new_token", "token_id", "audit_to"]

ROLES = ("officer", "manager", "kiosk", "display")
LOGIN_TTL_S = 14 * 3600
#: Logins waiting for the password worker at most; more are refused (429) rather than queued.
MAX_WAITING_LOGINS = 16
SCRYPT = dict(n=2**14, r=8, p=1)
#: Compared against when the user does not exist, so an unknown name takes as long as a wrong password.
_DUMMY_SALT = bytes(16)

Audit = Callable[[str, dict[str, Any], str], Awaitable[None]]


def audit_to(engines: dict[str, Any]) -> Audit:
    """An audit hook writing each change into the audit trail of its site (of every site for "*")."""
    async def audit(site: str, change: dict[str, Any], actor: str) -> None:
        for slug in (engines if site == "*" else [site] if site in engines else []):
            await engines[slug].record_access(change, actor=actor)
    return audit


@dataclass(frozen=True)
class Grant:
    role: str
    site: str            # a site slug, or "*" for a manager of every site
    counters: tuple[str, ...] = ()
    name: str = ""
    id: str = ""         # the token's id (first 12 hex digits of its hash)
    rotate: bool = False  # marked for rotation: exchange it for a fresh token

    def allows_site(self, site: str) -> bool:
        return self.site in (site, "*")

    def actor(self) -> str:
        return f"{self.role}:{self.name}" if self.name else self.role

    def require(self, site: str, *roles: str, counter: str | None = None) -> None:
        """Raise Forbidden unless this grant has one of ``roles`` on ``site`` (and ``counter``)."""
        if self.role not in roles or not self.allows_site(site):
            raise Forbidden(f"Quyền '{self.role}' không được làm việc này ở {site}. "
                            f"/ role '{self.role}' may not do this on site '{site}'.")
        if counter is not None and self.role == "officer" and counter not in self.counters:
            raise Forbidden(f"Mã này không dùng được cho quầy {counter}. / this token is not for counter {counter}.")


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_id(token: str) -> str:
    """The public id of a token: what ``qserver token list`` shows and ``revoke`` accepts."""
    return _sha(token)[:12]


def _check(role: str, site: str, counters: tuple[str, ...]) -> None:
    if role not in ROLES:
        raise InvalidField(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if role == "officer" and not counters:
        raise InvalidField("an officer token needs at least one --counter")
    if site == "*" and role != "manager":
        raise InvalidField("only a manager may have every site ('*')")


def new_token(role: str, site: str, counters: tuple[str, ...] = (), name: str = "", *,
              kind: str = "token", ttl_s: int | None = None, extra: dict[str, Any] | None = None
              ) -> tuple[str, str, str]:
    """A fresh token with the Redis key and value that grant it: ``(token, key, value)``."""
    _check(role, site, tuple(counters))
    token = secrets.token_urlsafe(24)
    while token.startswith("-"):  # a token given on a command line must not look like an option
        token = secrets.token_urlsafe(24)
    now = int(time.time())
    record = {"role": role, "site": site, "counters": list(counters), "name": name or role, "id": token_id(token),
              "kind": kind, "created_at": now, "expires_at": now + ttl_s if ttl_s else None, **(extra or {})}
    return token, token_key(_sha(token)), json.dumps(record, ensure_ascii=False)


def _grant(record: dict[str, Any]) -> Grant:
    return Grant(record["role"], record["site"], tuple(record["counters"]), record.get("name", ""),
                 record.get("id", ""), bool(record.get("rotate")))


class Auth:
    """Creates, checks, lists and revokes tokens and users; caches looked-up tokens for ``cache_s`` seconds."""

    def __init__(self, redis: Redis, cache_s: float = 1.0, *, audit: Audit | None = None):
        self.redis = redis
        self.cache_s = cache_s
        self.audit = audit
        self._cache: dict[str, tuple[float, Grant | None]] = {}
        self._lookups: SingleFlight[Grant | None] = SingleFlight()
        self._hasher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qserver-scrypt")
        self._waiting = asyncio.Semaphore(MAX_WAITING_LOGINS)

    async def record(self, site: str, event: dict[str, Any], actor: str) -> None:
        """Hand one change of access to the audit hook (the sites' audit trails)."""
        if self.audit is not None:
            await self.audit(site, event, actor)

    # -- tokens -----------------------------------------------------------------------------------
    async def create_token(self, role: str, site: str, counters: tuple[str, ...] = (), name: str = "",
                           ttl_s: int | None = None, *, kind: str = "token", actor: str = "",
                           extra: dict[str, Any] | None = None) -> str:
        token, key, value = new_token(role, site, tuple(counters), name, kind=kind, ttl_s=ttl_s, extra=extra)
        record = json.loads(value)
        # Two keys of different hash slots (a Redis Cluster): written one after the other, the grant first.
        pipe = self.redis.pipeline(transaction=False)
        pipe.set(key, value, ex=ttl_s)
        pipe.hset(tokens_index_key(), record["id"], json.dumps({**record, "sha": _sha(token)}, ensure_ascii=False))
        await pipe.execute()
        if kind == "token":
            await self.record(site, {"action": "token_created", "token_id": record["id"], "role": role,
                                      "counters": list(counters), "name": record["name"]}, actor)
        return token

    async def tokens(self) -> list[dict[str, Any]]:
        """Every token that exists (never its secret), oldest first; expired ones are forgotten."""
        index = await self.redis.hgetall(tokens_index_key())
        entries = [json.loads(blob) for blob in index.values()]
        pipe = self.redis.pipeline(transaction=False)
        for entry in entries:
            pipe.exists(token_key(entry["sha"]))
        alive = await pipe.execute()
        gone = [entry["id"] for entry, exists in zip(entries, alive) if not exists]
        if gone:
            await self.redis.hdel(tokens_index_key(), *gone)
        listed = [{k: v for k, v in entry.items() if k != "sha"} for entry, exists in zip(entries, alive) if exists]
        return sorted(listed, key=lambda e: (e.get("created_at") or 0, e["id"]))

    async def _entry(self, token_or_id: str) -> dict[str, Any]:
        """The index entry of a token given by its secret, its id or a unique prefix of 6+ characters."""
        index = {key.decode(): json.loads(value) for key, value in (await self.redis.hgetall(tokens_index_key())).items()}
        wanted = token_or_id.strip()
        if token_id(wanted) in index:
            return index[token_id(wanted)]
        matches = [entry for tid, entry in index.items() if len(wanted) >= 6 and tid.startswith(wanted.lower())]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise InvalidField(f"'{wanted}' matches {len(matches)} tokens; give more of the id")
        raise NotFound(f"no token '{wanted}' (see `qserver token list`)", code="not_found")

    async def revoke(self, token_or_id: str, *, actor: str = "") -> dict[str, Any]:
        """Delete a token (by its secret or id); every process refuses it within ``cache_s``."""
        entry = await self._entry(token_or_id)
        await self._delete(entry)
        await self.record(entry["site"], {"action": "token_revoked", "token_id": entry["id"], "role": entry["role"],
                                           "name": entry.get("name", "")}, actor)
        return entry

    async def _delete(self, entry: dict[str, Any]) -> None:
        pipe = self.redis.pipeline(transaction=False)
        pipe.delete(token_key(entry["sha"]))
        pipe.hdel(tokens_index_key(), entry["id"])
        await pipe.execute()
        self._cache.clear()

    async def rotate(self, token_or_id: str, *, grace_s: int = 86_400, actor: str = "") -> dict[str, Any]:
        """Mark a token for rotation: holders exchange it for a fresh one; it stops working after ``grace_s``."""
        entry = await self._entry(token_or_id)
        raw = await self.redis.get(token_key(entry["sha"]))
        if raw is None:
            raise NotFound(f"token '{entry['id']}' has expired", code="not_found")
        record = {**json.loads(raw), "rotate": True}
        ttl = await self.redis.ttl(token_key(entry["sha"]))
        expiry = grace_s if ttl < 0 else min(ttl, grace_s)
        record["expires_at"] = int(time.time()) + expiry
        pipe = self.redis.pipeline(transaction=False)
        pipe.set(token_key(entry["sha"]), json.dumps(record, ensure_ascii=False), ex=expiry)
        pipe.hset(tokens_index_key(), entry["id"], json.dumps({**entry, "rotate": True,
                                                                 "expires_at": record["expires_at"]}, ensure_ascii=False))
        await pipe.execute()
        self._cache.clear()
        await self.record(entry["site"], {"action": "token_rotating", "token_id": entry["id"], "role": entry["role"],
                                           "name": entry.get("name", ""), "grace_s": expiry}, actor)
        return {**entry, "rotate": True, "expires_at": record["expires_at"]}

    async def exchange(self, token: str) -> tuple[str, Grant]:
        """A fresh token with the grant of ``token``, which must be marked for rotation (409 otherwise)."""
        grant = await self.grant(token)
        if not grant.rotate:
            raise Conflict("Mã truy cập này không cần đổi. / This token is not being rotated.", code="not_rotating")
        fresh = await self.create_token(grant.role, grant.site, grant.counters, grant.name, kind="token",
                                        actor=grant.actor(), extra={"rotated_from": grant.id})
        return fresh, await self.grant(fresh)

    async def grant(self, token: str | None) -> Grant:
        """The grant of a token, or Unauthorized."""
        if not token:
            raise Unauthorized("Cần đăng nhập (thiếu mã truy cập). / A bearer token is required.")
        cached = self._cache.get(token)
        if cached and cached[0] > time.monotonic():
            grant = cached[1]
        else:
            grant = await self._lookups.run(token, lambda: self._look_up(token))
        if grant is None:
            raise Unauthorized("Mã truy cập không hợp lệ hoặc đã hết hạn. / Invalid or expired token.")
        return grant

    async def _look_up(self, token: str) -> Grant | None:
        """Read the token's grant from Redis and cache it (None for an unknown token)."""
        started = time.monotonic()
        raw = await self.redis.get(token_key(_sha(token)))
        grant = _grant(json.loads(raw)) if raw else None
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[token] = (started + self.cache_s, grant)
        return grant

    # -- users ------------------------------------------------------------------------------------
    async def _hash(self, password: str, salt: bytes) -> bytes:
        """scrypt on the one password worker (it releases the GIL: the event loop keeps its core)."""
        if self._waiting.locked():
            raise RateLimited("Hệ thống đang bận xử lý đăng nhập. / Too many logins at once.", retry_after_s=1)
        async with self._waiting:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._hasher, lambda: hashlib.scrypt(password.encode(), salt=salt,
                                                                                    **SCRYPT))

    async def _user(self, username: str) -> dict[str, Any]:
        raw = await self.redis.get(user_key(username)) if username else None
        if raw is None:
            raise NotFound(f"no user '{username}' (see `qserver user list`)", code="not_found")
        return json.loads(raw)

    async def _save_user(self, username: str, password: str, role: str, site: str, counters: tuple[str, ...]) -> None:
        if not username or len(password) < 6:
            raise InvalidField("a username and a password of at least 6 characters are needed")
        salt = secrets.token_bytes(16)
        digest = await self._hash(password, salt)
        record = {"salt": salt.hex(), "hash": digest.hex(), "role": role, "site": site, "counters": list(counters)}
        # Two keys of different hash slots: no MULTI (a cluster refuses it). The record first: a user
        # written but not yet listed can log in, and adding the user again lists it.
        await self.redis.set(user_key(username), json.dumps(record))
        await self.redis.sadd(users_index_key(), username)

    async def add_user(self, username: str, password: str, role: str, site: str,
                       counters: tuple[str, ...] = (), *, actor: str = "") -> None:
        _check(role, site, tuple(counters))
        await self._save_user(username, password, role, site, tuple(counters))
        await self.record(site, {"action": "user_saved", "user": username, "role": role,
                                  "counters": list(counters)}, actor)

    async def set_password(self, username: str, password: str, *, actor: str = "") -> None:
        """A new password; the user's open logins are revoked (they log in again)."""
        record = await self._user(username)
        await self._save_user(username, password, record["role"], record["site"], tuple(record["counters"]))
        revoked = await self._revoke_logins(username)
        await self.record(record["site"], {"action": "password_changed", "user": username,
                                            "logins_revoked": revoked}, actor)

    async def remove_user(self, username: str, *, actor: str = "") -> dict[str, Any]:
        """Delete a user and revoke its open logins; refused on every process within ``cache_s``."""
        record = await self._user(username)
        pipe = self.redis.pipeline(transaction=False)
        pipe.delete(user_key(username))
        pipe.srem(users_index_key(), username)
        await pipe.execute()
        revoked = await self._revoke_logins(username)
        await self.record(record["site"], {"action": "user_removed", "user": username, "role": record["role"],
                                            "logins_revoked": revoked}, actor)
        return record

    async def _revoke_logins(self, username: str) -> int:
        index = await self.redis.hgetall(tokens_index_key())
        logins = [entry for entry in (json.loads(v) for v in index.values())
                  if entry.get("kind") == "login" and entry.get("user") == username]
        for entry in logins:
            await self._delete(entry)
        self._cache.clear()
        return len(logins)

    async def login(self, username: str, password: str) -> tuple[str, Grant]:
        """A fresh token for a user whose password matches; Unauthorized otherwise (as slow either way)."""
        raw = await self.redis.get(user_key(username)) if username else None
        record = json.loads(raw) if raw else None
        salt = bytes.fromhex(record["salt"]) if record else _DUMMY_SALT
        digest = await self._hash(password, salt)
        if record is not None and hmac.compare_digest(digest.hex(), record["hash"]):
            counters = tuple(record["counters"])
            token = await self.create_token(record["role"], record["site"], counters, name=username,
                                            ttl_s=LOGIN_TTL_S, kind="login", extra={"user": username})
            return token, await self.grant(token)
        raise Unauthorized("Sai tên đăng nhập hoặc mật khẩu. / Wrong username or password.")

    async def site_of(self, username: str) -> str | None:
        """The site a user works for ("*" for a manager of every site), None for an unknown name."""
        raw = await self.redis.get(user_key(username)) if username else None
        return json.loads(raw)["site"] if raw else None

    async def users(self) -> list[str]:
        return sorted(name.decode() for name in await self.redis.smembers(users_index_key()))

    async def users_of(self, site: str) -> list[str]:
        """The users whose grant covers ``site`` (a manager of every site too)."""
        names = await self.users()
        if not names:
            return []
        pipe = self.redis.pipeline(transaction=False)  # not MGET: the keys may sit on several cluster shards
        for name in names:
            pipe.get(user_key(name))
        blobs = await pipe.execute()
        return [name for name, blob in zip(names, blobs) if blob and json.loads(blob)["site"] in (site, "*")]

    def close(self) -> None:
        self._hasher.shutdown(wait=False, cancel_futures=True)
