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

    # From home: online numbers, appointments, nudges (qserver/engine/home.py) --------------------
    @property
    def person_history(self) -> str:
        """Hash: keyed person hash → JSON list of [kind, id, ms] ('o' online ticket, issued; 'b' booking,
        its time) of the last days: the per-person limits and the no-show rule read it."""
        return f"{self.base}:person-history"

    def appointments(self, agency: str) -> str:
        """Sorted set: checked-in appointment tickets of one agency (still waiting) by their slot time (ms)."""
        return f"{self.base}:appointments:{agency}"

    @property
    def blend(self) -> str:
        """Hash: agency → appointment calls in a row there (the walk-in guard of call-next)."""
        return f"{self.base}:blend"

    @property
    def bookings(self) -> str:
        """Hash: booking id → booking JSON (its code, agency, day, time, status, keyed person hash)."""
        return f"{self.base}:bookings"

    @property
    def booking_codes(self) -> str:
        """Hash: booking code (what the citizen holds) → booking id."""
        return f"{self.base}:booking-codes"

    @property
    def booking_seq(self) -> str:
        """Integer: the last booking id given."""
        return f"{self.base}:booking-seq"

    @property
    def booking_index(self) -> str:
        """Sorted set: booking id by its slot time (ms): bookings of a day, clean-up of old ones."""
        return f"{self.base}:booking-index"

    @property
    def booking_expiry(self) -> str:
        """Sorted set: standing booking id → the end of its check-in grace (ms): the booking no-show sweep."""
        return f"{self.base}:booking-expiry"

    @property
    def booking_reminders(self) -> str:
        """Sorted set: standing booking id → when its reminder is due (ms)."""
        return f"{self.base}:booking-reminders"

    def slots(self, day: str) -> str:
        """Hash: '<agency>|HH:MM' → standing bookings of that slot of ``day``."""
        return f"{self.base}:{day}:slots"

    def closed_slots(self, day: str) -> str:
        """Hash: '<agency>|HH:MM' → JSON {reason, by, at} of a slot a manager closed."""
        return f"{self.base}:{day}:slots-closed"

    def booking_stats(self, day: str) -> str:
        """Hash: '<count>:<agency>' (booked, cancelled, checked_in, no_show) for bookings of ``day``."""
        return f"{self.base}:{day}:booking-stats"

    def contacts(self, day: str) -> str:
        """Hash: ticket id or 'b:<booking id>' → the phone number the citizen gave (for the SMS gateway),
        of tickets issued / bookings held on ``day``."""
        return f"{self.base}:{day}:contacts"

    def near(self, day: str) -> str:
        """Set: tickets already told their turn is near (ticket-near is sent once)."""
        return f"{self.base}:{day}:near"

    @property
    def webhook(self) -> str:
        """Hash: url, secret, events, by, at: the site's webhook as ``qserver webhook set`` stored it."""
        return f"{self.base}:webhook"

    @property
    def webhook_lease(self) -> str:
        """String: the process delivering this site's webhooks and sweeping its bookings (with a TTL)."""
        return f"{self.base}:webhook-lease"

    @property
    def webhook_cursor(self) -> str:
        """String: id of the last event whose webhooks were delivered (or given up)."""
        return f"{self.base}:webhook-cursor"

    @property
    def webhook_status(self) -> str:
        """Hash: delivered, given_up, last_ok_at, failing_since, last_error, backlog: what managers see."""
        return f"{self.base}:webhook-status"

    @property
    def webhook_dead(self) -> str:
        """List: deliveries given up (JSON, newest first, capped)."""
        return f"{self.base}:webhook-dead"


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
