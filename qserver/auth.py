"""Tokens and users. A grant says who may do what: role, site (or all), counters.

Tokens are random; Redis keeps only their SHA-256 (``qs:token:<sha>``), so a copy of the database
reveals none. Users log in with a password (scrypt) and receive a token that lasts a working day.
Roles: officer (counters of one site), manager (one site or all), kiosk (issue tickets), display.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import asdict, dataclass, field

from redis.asyncio import Redis

from .exceptions import Forbidden, InvalidField, Unauthorized
from .engine.keys import token_key, user_key, users_index_key

__all__ = ["Grant", "ROLES", "Auth", "new_token"]

ROLES = ("officer", "manager", "kiosk", "display")
LOGIN_TTL_S = 14 * 3600


@dataclass(frozen=True)
class Grant:
    role: str
    site: str            # a site slug, or "*" for a manager of every site
    counters: tuple[str, ...] = ()
    name: str = ""

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


def _check(role: str, site: str, counters: tuple[str, ...]) -> None:
    if role not in ROLES:
        raise InvalidField(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if role == "officer" and not counters:
        raise InvalidField("an officer token needs at least one --counter")
    if site == "*" and role != "manager":
        raise InvalidField("only a manager may have every site ('*')")


def new_token(role: str, site: str, counters: tuple[str, ...] = (), name: str = "") -> tuple[str, str, str]:
    """A fresh token with the Redis key and value that grant it: ``(token, key, value)``."""
    _check(role, site, tuple(counters))
    token = secrets.token_urlsafe(24)
    grant = Grant(role, site, tuple(counters), name or role)
    return token, token_key(_sha(token)), json.dumps(asdict(grant))


@dataclass
class Auth:
    """Creates and checks tokens and users; caches looked-up tokens for ``cache_s`` seconds."""

    redis: Redis
    cache_s: float = 10.0
    _cache: dict[str, tuple[float, Grant | None]] = field(default_factory=dict)

    async def create_token(self, role: str, site: str, counters: tuple[str, ...] = (), name: str = "",
                           ttl_s: int | None = None) -> str:
        token, key, value = new_token(role, site, tuple(counters), name)
        await self.redis.set(key, value, ex=ttl_s)
        return token

    async def revoke(self, token: str) -> bool:
        self._cache.pop(token, None)
        return bool(await self.redis.delete(token_key(_sha(token))))

    async def grant(self, token: str | None) -> Grant:
        """The grant of a token, or Unauthorized."""
        if not token:
            raise Unauthorized("Cần đăng nhập (thiếu mã truy cập). / A bearer token is required.")
        now = time.monotonic()
        cached = self._cache.get(token)
        if cached and cached[0] > now:
            grant = cached[1]
        else:
            raw = await self.redis.get(token_key(_sha(token)))
            grant = None
            if raw:
                data = json.loads(raw)
                grant = Grant(data["role"], data["site"], tuple(data["counters"]), data.get("name", ""))
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[token] = (now + self.cache_s, grant)
        if grant is None:
            raise Unauthorized("Mã truy cập không hợp lệ hoặc đã hết hạn. / Invalid or expired token.")
        return grant

    # -- users ------------------------------------------------------------------------------------
    async def add_user(self, username: str, password: str, role: str, site: str,
                       counters: tuple[str, ...] = ()) -> None:
        _check(role, site, tuple(counters))
        if not username or len(password) < 6:
            raise InvalidField("a username and a password of at least 6 characters are needed")
        salt = secrets.token_bytes(16)
        digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
        record = {"salt": salt.hex(), "hash": digest.hex(), "role": role, "site": site, "counters": list(counters)}
        # Two keys of different hash slots: no MULTI (a cluster refuses it). The record first: a user
        # written but not yet listed can log in, and adding the user again lists it.
        await self.redis.set(user_key(username), json.dumps(record))
        await self.redis.sadd(users_index_key(), username)

    async def login(self, username: str, password: str) -> tuple[str, Grant]:
        """A fresh token for a user whose password matches; Unauthorized otherwise."""
        raw = await self.redis.get(user_key(username)) if username else None
        if raw:
            record = json.loads(raw)
            digest = hashlib.scrypt(password.encode(), salt=bytes.fromhex(record["salt"]), n=2**14, r=8, p=1)
            if hmac.compare_digest(digest.hex(), record["hash"]):
                counters = tuple(record["counters"])
                token = await self.create_token(record["role"], record["site"], counters, name=username,
                                                ttl_s=LOGIN_TTL_S)
                return token, Grant(record["role"], record["site"], counters, username)
        raise Unauthorized("Sai tên đăng nhập hoặc mật khẩu. / Wrong username or password.")

    async def users(self) -> list[str]:
        return sorted(name.decode() for name in await self.redis.smembers(users_index_key()))
