"""Every Redis key qserver uses is built here, and only here.

Site keys carry the hash tag ``{site}`` so a whole site lives on one Redis Cluster shard and its Lua
scripts stay cluster-safe. Keys of a service day carry the date and get a TTL (``DAY_TTL_S``); the
closed day is archived before they expire. Global keys (tokens, users) have no site tag and are never
touched by a site script.
"""

from __future__ import annotations

__all__ = ["SiteKeys", "token_key", "tokens_index_key", "user_key", "users_index_key", "DAY_TTL_S"]

PREFIX = "qs"

#: How long the keys of a service day live (the archive runs long before).
DAY_TTL_S = 45 * 24 * 3600


class SiteKeys:
    """The keys of one site. ``day`` arguments are ISO dates (``2026-11-24``)."""

    __slots__ = ("site", "base")

    def __init__(self, site: str):
        self.site = site
        self.base = f"{PREFIX}:{{{site}}}"

    # Site-wide keys -----------------------------------------------------------------------------
    @property
    def events(self) -> str:
        """Stream: the audit log, the fan-out source and the replay source."""
        return f"{self.base}:events"

    @property
    def current_day(self) -> str:
        """String: the service day the live state belongs to (rollover when the clock moves on)."""
        return f"{self.base}:day"

    @property
    def tickets(self) -> str:
        """Hash: ticket id → ticket JSON."""
        return f"{self.base}:tickets"

    @property
    def ticket_index(self) -> str:
        """Sorted set: ticket id scored by issue time (ms): per-day listing and clean-up."""
        return f"{self.base}:ticket-index"

    @property
    def counters(self) -> str:
        """Hash: counter id → counter JSON (status, agencies, current ticket)."""
        return f"{self.base}:counters"

    @property
    def issue_seq(self) -> str:
        """Integer: the site's issue order, never reset (transfers keep it: 'oldest' = first issued)."""
        return f"{self.base}:issue-seq"

    @property
    def calls(self) -> str:
        """List: the latest calls, newest first, for the hall displays' snapshot."""
        return f"{self.base}:calls"

    @property
    def service_times(self) -> str:
        """Hash: agency → JSON list of the latest service durations (ms), for wait estimates."""
        return f"{self.base}:service-times"

    @property
    def notices(self) -> str:
        """Hash: notice id → notice JSON (with its expiry)."""
        return f"{self.base}:notices"

    @property
    def acks(self) -> str:
        """Hash: device name → JSON of its last acknowledged event."""
        return f"{self.base}:acks"

    @property
    def printers(self) -> str:
        """Hash: kiosk name → JSON of its thermal printer's last reported state (ok, or what is wrong)."""
        return f"{self.base}:printers"

    def queue(self, agency: str) -> str:
        """Sorted set: the waiting tickets of one agency, by call order (priority first, then issue order)."""
        return f"{self.base}:queue:{agency}"

    # Service-day keys ---------------------------------------------------------------------------
    def numbers(self, day: str) -> str:
        """Hash: agency → last ticket sequence number issued that day."""
        return f"{self.base}:{day}:numbers"

    def idempotency(self, day: str) -> str:
        """Hash: '<scope>:<key>' → the first answer (JSON) given to that key that day."""
        return f"{self.base}:{day}:idem"

    def day_stats(self, day: str) -> str:
        """Hash: the day's running totals: issued, called, served, no_show, rated, rating:<n>,
        wait_ms (sum over calls), service_ms (sum over served tickets)."""
        return f"{self.base}:{day}:stats"

    def persons(self, day: str) -> str:
        """Hash: '<keyed hash of a CCCD number>:<agency>' → ticket id."""
        return f"{self.base}:{day}:persons"


def token_key(token_hash: str) -> str:
    """String: a token's grant (JSON), by the SHA-256 of the token."""
    return f"{PREFIX}:token:{token_hash}"


def tokens_index_key() -> str:
    """Hash: token id → what the token grants and when it expires (JSON; never the secret)."""
    return f"{PREFIX}:tokens"


def user_key(username: str) -> str:
    """String: a user's password hash and grant (JSON)."""
    return f"{PREFIX}:user:{username}"


def users_index_key() -> str:
    """Set: every username (for `qserver user list`)."""
    return f"{PREFIX}:users"
