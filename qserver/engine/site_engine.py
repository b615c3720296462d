"""The transitions of one site: every one is one Lua script (see ``scripts.py``).

The engine validates what it can without Redis (known agency, counter, field values, receiving hours),
then runs the script, which decides atomically against the live state and appends the event. Lua error
answers become :mod:`qserver.exceptions` errors; nothing is written on a refusal. Answers are raw data
(stored JSON, times in ms): the presenter shapes them for the outside.

Idempotency: a transition given a ``key`` answers a second call with the same key (per counter and
button, or per issuer for tickets) within a day with the first answer, and does nothing again; the
scopes are built here and nowhere else.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import orjson
from redis.asyncio import Redis

from config import Site

from ..clock import Clock
from ..exceptions import (CONFLICT_MESSAGES, Conflict, InvalidField, QServerError, procedure_agency_mismatch,
                          unknown_agency, unknown_counter, unknown_procedure, unknown_ticket)
from ..procedures import Catalogue, Procedure, UnknownProcedure
from . import hours
from .batching import ScriptBatcher
from .cccd import age_on, parse_cccd, person_hash
from .home import HomeTransitions
from .keys import DAY_TTL_S
from .reads import SiteReader, guarded
from .replication import Replication
from .scripts import PLAIN_SCRIPTS, SCRIPTS

__all__ = ["SiteEngine", "PRIORITIES", "OUTCOMES", "TICKET_STATUSES", "COUNTER_STATUSES", "COUNTER_ACTIONS",
           "check_key"]

logger = logging.getLogger(__name__)

PRIORITIES = ("elderly", "disabled", "pregnant", "merit")
#: ``completed`` is what call-next gives the ticket it finishes; an officer chooses one of the others.
OUTCOMES = ("completed", "received", "returned", "resolved", "guided")
TICKET_STATUSES = ("waiting", "called", "done", "no_show", "expired")
COUNTER_STATUSES = ("open", "paused", "closed")
#: The officer's buttons (HTTP ``.../counters/{id}/{action}``); pads send those of ``protocol.PAD_ACTIONS``.
COUNTER_ACTIONS = ("call-next", "recall", "no-show", "complete", "transfer", "pause", "resume")


def lua_number_format(number_format: str, prefix: str) -> str:
    """``"{prefix}{seq:03d}"`` with prefix "A" → ``"A%03d"`` for Lua's string.format."""
    text = number_format.replace("%", "%%").replace("{prefix}", prefix.replace("%", "%%"))
    for python, lua in (("{seq:04d}", "%04d"), ("{seq:03d}", "%03d"), ("{seq:02d}", "%02d"), ("{seq}", "%d")):
        text = text.replace(python, lua)
    if "{" in text or text.count("%d") + text.count("%0") != 1:
        raise ValueError(f"number format {number_format!r} must contain exactly one {{seq}}, {{seq:03d}} ...")
    return text


def check_key(key: Any) -> str:
    """An idempotency key as given (``""`` for none); InvalidField unless a string of 1-100 characters."""
    if key is None:
        return ""
    if not isinstance(key, str) or not 0 < len(key) <= 100:
        raise InvalidField("'key' phải là chuỗi 1–100 ký tự. / 'key' must be a string of 1-100 characters.")
    return key


def _check_dossier(dossier: Any) -> None:
    if dossier is not None and (not isinstance(dossier, str) or not 0 < len(dossier) <= 64):
        raise InvalidField("'dossier' phải là chuỗi 1–64 ký tự. / 'dossier' must be a string of 1-64 characters.")


#: Housekeeping scripts answered without waiting for replicas: lost in a fail-over, each is simply done
#: again when next needed (a day rolled over again, counters seeded again).
UNWAITED = frozenset({"rollover", "seed_counters"})


def whole_number(value: Any) -> int | None:
    """An integer of a JSON body as an int: ``3`` and ``3.0`` (JSON Schema's integers both), not ``True``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None

class SiteEngine(HomeTransitions, SiteReader):
    """All transitions of one site (and, inherited, its reads; those from home in :mod:`.home`). Create
    once per process; share freely."""

    def __init__(self, redis: Redis, site: Site, clock: Clock, *, secret: bytes,
                 stream_maxlen: int = 200_000, always_open: bool = False, replication: Replication | None = None,
                 catalogue: Catalogue | None = None, batcher: ScriptBatcher | None = None):
        super().__init__(redis, site, clock)
        self.secret = secret
        #: The site's procedure catalogue (empty when it has none): what a ticket's procedure is checked against.
        self.catalogue = catalogue if catalogue is not None else Catalogue(site.slug)
        self.stream_maxlen = stream_maxlen
        self.always_open = always_open
        #: how many replicas must have a write before it is answered (none by default)
        self.replication = replication or Replication(redis)
        self._formats = {a.slug: lua_number_format(a.number_format, a.prefix) for a in site.agencies}
        self._scripts = {name: redis.register_script(source) for name, source in {**SCRIPTS, **PLAIN_SCRIPTS}.items()}
        #: one per Redis client, shared by the sites of a process (their calls batch together)
        self._batcher = batcher or ScriptBatcher(redis)
        self._keys_of_day: tuple[str, list[str]] = ("", [])
        # call-next also reads each agency's checked-in appointments and the appointment streaks
        self._blend_keys = [*(self.keys.appointments(slug) for slug in self._slugs), self.keys.blend]

    # -- plumbing ---------------------------------------------------------------------------------
    def _fixed_keys(self, day: str) -> list[str]:
        """The KEYS every script gets (see ``scripts.py``), built once per service day."""
        if self._keys_of_day[0] != day:
            k = self.keys
            self._keys_of_day = (day, [k.events, k.current_day, k.tickets, k.ticket_index, k.counters,
                                       k.idempotency(day), k.calls, k.service_times, k.numbers(day),
                                       k.persons(day), k.issue_seq, k.day_stats(day),
                                       *(k.queue(slug) for slug in self._slugs)])
        return self._keys_of_day[1]

    async def _run(self, name: str, *args: Any, actor: str = "", idem: str = "", extra_keys: list[str] = (),
                   _retry: bool = True) -> dict[str, Any]:
        """Run a registered script; ``extra_keys`` are the script's own KEYS after the queues."""
        now = self.clock.now()
        day = hours.service_day(self.site, now).isoformat()
        argv = [int(now.timestamp() * 1000), day, self.stream_maxlen, actor, idem, DAY_TTL_S,
                ",".join(self._slugs), *("" if a is None else a for a in args)]
        keys = [*self._fixed_keys(day), *extra_keys] if extra_keys else self._fixed_keys(day)
        if self.replication.replicas:  # WAIT on each write's own connection: one call at a time
            raw, acknowledged = await guarded(self.replication.script(self._scripts[name], keys, argv,
                                                                      wait=name not in UNWAITED))
        else:  # the calls of one loop turn share a pipeline (a cluster client is called directly)
            raw, acknowledged = await guarded(self._batcher.run(self._scripts[name], keys, argv)), None
        answer = orjson.loads(raw)
        if "err" not in answer:  # a refusal wrote nothing: nothing to lose
            self.replication.check(acknowledged, self.site.slug, name)
        if answer.get("err") == "rollover" and _retry:
            await self.rollover()
            return await self._run(name, *args, actor=actor, idem=idem, extra_keys=extra_keys, _retry=False)
        if answer.get("err") == "unknown_counter" and _retry and answer.get("counter") in self.site.counter_by_id:
            # A configured counter missing from Redis: the data was lost (a wiped or fresh Redis).
            logger.warning("counters of %s missing from Redis; seeding them again", self.site.slug)
            await self.seed_counters()
            return await self._run(name, *args, actor=actor, idem=idem, extra_keys=extra_keys, _retry=False)
        if "err" in answer:
            raise self._error(answer)
        return answer

    def _error(self, answer: dict[str, Any]) -> QServerError:
        code = answer["err"]
        home = self.home_error(answer)
        if home is not None:
            return home
        if code == "unknown_counter":
            return unknown_counter(answer["counter"], self.site.slug)
        if code == "unknown_ticket":
            return unknown_ticket(answer["ticket"])
        if code == "unknown_agency":
            return unknown_agency(answer["agency"], self.site.slug)
        template = CONFLICT_MESSAGES.get(code, code)
        fields = {key: answer.get(key, "") for key in ("counter", "ticket", "agency")}
        if code == "same_agency":
            fields["agency"] = self.site.agency_by_slug[answer["agency"]].name
        if code == "procedure_agency_mismatch":
            return procedure_agency_mismatch(self.procedure(answer["procedure"]), answer["agency"],
                                             self._agency_name(answer["agency"]), ticket=answer.get("ticket"))
        return Conflict(template.format(**fields), code=code)

    def _agency_name(self, slug: str) -> str:
        agency = self.site.agency_by_slug.get(slug)
        return agency.name if agency else slug

    async def rollover(self) -> dict[str, Any]:
        """Close the stored service day (expire or carry over its queues) and open today's."""
        forget_before_ms = self.now_ms() - DAY_TTL_S * 1000
        answer = await self._run("rollover", self.site.end_of_day, forget_before_ms, actor="system")
        if answer.get("rolled"):
            logger.info("site %s rolled over to %s (%s tickets expired)", self.site.slug, self.today(),
                        answer.get("expired"))
        return answer

    async def seed_counters(self) -> int:
        """Add the configured counters that Redis does not know yet; returns how many."""
        now_ms = self.now_ms()
        blobs = [json.dumps({"id": c.id, "floor": c.floor, "agencies": list(c.agencies), "status": "open",
                             "served": 0, "since": now_ms, **({"name": c.name} if c.name else {})},
                            ensure_ascii=False)
                 for c in self.site.counters]
        answer = await self._run("seed_counters", *blobs, actor="system")
        return answer["added"]

    # -- lookups that refuse early ----------------------------------------------------------------
    def agency(self, slug: Any):
        if not isinstance(slug, str):
            raise InvalidField("'agency' phải là một mã cơ quan (chuỗi). / 'agency' must be a string slug.")
        try:
            return self.site.agency_by_slug[slug]
        except KeyError:
            raise unknown_agency(slug, self.site.slug) from None

    def counter(self, counter_id: str):
        try:
            return self.site.counter_by_id[counter_id]
        except KeyError:
            raise unknown_counter(counter_id, self.site.slug) from None

    def procedure(self, code: Any) -> Procedure:
        """The catalogue's procedure ``code``; NotFound (``unknown_procedure``) naming it."""
        if not isinstance(code, str) or not code:
            raise InvalidField("'procedure' phải là mã thủ tục (chuỗi). / 'procedure' must be a procedure code.")
        try:
            return self.catalogue.get(code)
        except UnknownProcedure:
            raise unknown_procedure(code, self.site.slug) from None

    def check_open(self) -> None:
        """Refuse (409 ``closed_hours``) outside receiving hours, saying when the center opens."""
        now = self.clock.now()
        if self.always_open or hours.is_open(self.site, now):
            return
        opening = hours.next_opening(self.site, now)
        when = opening.strftime("%H:%M ngày %d/%m/%Y") if opening else "chưa xác định"
        raise Conflict(f"Ngoài giờ tiếp nhận. Trung tâm mở cửa lúc {when}. / Closed now; opens {when}.",
                       code="closed_hours", opens_at=opening.isoformat(timespec="minutes") if opening else None)

    # -- transitions ------------------------------------------------------------------------------
    async def issue(self, agency: str | None = None, *, procedure: str | None = None, priority: str | None = None,
                    citizen_qr: str | None = None, actor: str = "", issuer: str = "",
                    key: str | None = None) -> dict[str, Any]:
        """Issue a ticket (201) for ``agency``, or for the agency of ``procedure`` (a catalogue code) which
        the ticket then carries; given both, they must agree (422 ``procedure_agency_mismatch``). ``key`` is
        idempotent per ``issuer`` (a kiosk). Raises Conflict outside hours or when the person holds one already."""
        chosen = self.procedure(procedure) if procedure is not None else None
        if agency is None and chosen is None:
            raise InvalidField("Thiếu 'agency' hoặc 'procedure'. / 'agency' or 'procedure' is required.")
        target = self.agency(agency if agency is not None else chosen.agency)
        if chosen is not None and chosen.agency != target.slug:
            raise procedure_agency_mismatch(chosen, target.slug, target.name)
        if priority is not None and priority not in PRIORITIES:
            raise InvalidField(f"'priority' phải là một trong {', '.join(PRIORITIES)}. "
                               f"/ 'priority' must be one of {', '.join(PRIORITIES)} or null.")
        if citizen_qr is not None and not isinstance(citizen_qr, str):
            raise InvalidField("'citizen_qr' phải là chuỗi. / 'citizen_qr' must be a string.")
        key = check_key(key)
        self.check_open()
        day = hours.service_day(self.site, self.clock.now())
        person = ""
        if citizen_qr:
            card = parse_cccd(citizen_qr)
            person = person_hash(self.secret, card.id_number)
            if priority is None and age_on(card.birth_date, day) >= self.site.priority_age:
                priority = "elderly"
        return await self._run("issue", target.slug, self._formats[target.slug], target.floor, priority or "",
                               person, day.strftime("%Y%m%d"), self.site.slug,
                               chosen.code if chosen else "", chosen.name if chosen else "", actor=actor,
                               idem=f"issue:{issuer}:{key}" if key else "")

    def _counter_idem(self, counter: str, action: str, key: str | None) -> str:
        """Validate the counter and the key; the idempotency field of a counter's button. The action is
        part of it: a key reused for another button acts (a retry repeats its own button's request)."""
        self.counter(counter)
        key = check_key(key)
        return f"{counter}:{action}:{key}" if key else ""

    async def call_next(self, counter: str, *, actor: str = "", key: str | None = None) -> dict[str, Any]:
        """Call the next ticket (200) or answer 204 when nobody waits for the counter's agencies.

        Appointments whose slot time has come go ahead of walk-ins within the site's walk-in guard
        (``[appointments] streak_max`` / ``walk_in_guard_s``; the README's "Order of calls")."""
        blend = self.site.appointments
        return await self._run("call_next", counter, blend.streak_max, blend.walk_in_guard_s * 1000, actor=actor,
                               idem=self._counter_idem(counter, "call-next", key), extra_keys=self._blend_keys)

    async def call_ticket(self, counter: str, ticket_id: str, *, actor: str = "",
                          key: str | None = None) -> dict[str, Any]:
        """Call one waiting ticket out of order (the event is marked ``out_of_order``)."""
        return await self._run("call_ticket", counter, ticket_id, actor=actor,
                               idem=self._counter_idem(counter, f"call:{ticket_id}", key))

    async def recall(self, counter: str, *, actor: str = "", key: str | None = None) -> dict[str, Any]:
        return await self._run("recall", counter, actor=actor, idem=self._counter_idem(counter, "recall", key))

    async def no_show(self, counter: str, *, actor: str = "", key: str | None = None) -> dict[str, Any]:
        return await self._run("no_show", counter, self.site.no_show_return_after, actor=actor,
                               idem=self._counter_idem(counter, "no-show", key))

    async def complete(self, counter: str, outcome: str | None = None, *, dossier: str | None = None,
                       actor: str = "", key: str | None = None) -> dict[str, Any]:
        """The current ticket is done, with an outcome and, when the officer entered one, a dossier code."""
        idem = self._counter_idem(counter, "complete", key)
        if outcome is None:
            outcome = "completed"
        if outcome not in OUTCOMES:
            raise InvalidField(f"'outcome' phải là một trong {', '.join(OUTCOMES[1:])}. "
                               f"/ 'outcome' must be one of {', '.join(OUTCOMES[1:])}.")
        _check_dossier(dossier)
        return await self._run("complete", counter, outcome, dossier or "", actor=actor, idem=idem)

    async def transfer(self, counter: str, agency: Any, *, actor: str = "", key: str | None = None) -> dict[str, Any]:
        idem = self._counter_idem(counter, "transfer", key)
        if agency is None:
            raise InvalidField("Thiếu 'agency'. / 'agency' is required.")
        target = self.agency(agency)
        return await self._run("transfer", counter, target.slug, target.floor, actor=actor, idem=idem)

    async def counter_action(self, counter: str, action: str, *, outcome: str | None = None,
                             agency: Any = None, dossier: str | None = None, reason: str | None = None,
                             actor: str = "", key: str | None = None) -> dict[str, Any]:
        """One officer button by name (:data:`COUNTER_ACTIONS`): the one mapping the HTTP API and the
        pads' websocket commands share."""
        if action == "call-next":
            return await self.call_next(counter, actor=actor, key=key)
        if action == "recall":
            return await self.recall(counter, actor=actor, key=key)
        if action == "no-show":
            return await self.no_show(counter, actor=actor, key=key)
        if action == "complete":
            return await self.complete(counter, outcome, dossier=dossier, actor=actor, key=key)
        if action == "transfer":
            return await self.transfer(counter, agency, actor=actor, key=key)
        if action in ("pause", "resume"):
            return await self.set_status(counter, action, reason, actor=actor, key=key)
        raise InvalidField(f"'action' phải là một trong {', '.join(COUNTER_ACTIONS)}. "
                           f"/ unknown action {action!r}")

    async def set_procedure(self, counter: str, procedure: Any, *, actor: str = "",
                            key: str | None = None) -> dict[str, Any]:
        """The officer corrects the procedure of the ticket the counter serves (``None`` clears it). It must
        be one of the ticket's agency's (422 ``procedure_agency_mismatch`` otherwise: transfer the ticket
        instead). Appends a ``procedure`` event naming the one it replaced; the same one again changes nothing."""
        idem = self._counter_idem(counter, "procedure", key)
        chosen = self.procedure(procedure) if procedure is not None else None
        return await self._run("set_procedure", counter, chosen.code if chosen else "", chosen.name if chosen else "",
                               chosen.agency if chosen else "", actor=actor, idem=idem)

    async def move_ticket(self, ticket_id: str, agency: str, *, actor: str = "") -> dict[str, Any]:
        target = self.agency(agency)
        return await self._run("move_ticket", ticket_id, target.slug, target.floor, actor=actor)

    async def set_status(self, counter: str, action: str, reason: str | None = None, *, actor: str = "",
                         key: str | None = None) -> dict[str, Any]:
        """``action`` is pause, resume, open or close."""
        idem = self._counter_idem(counter, action, key)
        if reason is not None and (not isinstance(reason, str) or len(reason) > 200):
            raise InvalidField("'reason' phải là chuỗi tối đa 200 ký tự. / 'reason' must be a string of at most 200 characters.")
        return await self._run("set_status", counter, action, reason or "", actor=actor, idem=idem)

    async def reassign(self, counter: str, agencies: Any, *, actor: str = "") -> dict[str, Any]:
        self.counter(counter)
        if (not isinstance(agencies, list) or not agencies
                or not all(isinstance(a, str) for a in agencies) or len(set(agencies)) != len(agencies)):
            raise InvalidField("'agencies' phải là danh sách mã cơ quan, không trùng, không rỗng. "
                               "/ 'agencies' must be a non-empty list of distinct agency slugs.")
        for slug in agencies:
            self.agency(slug)
        return await self._run("reassign", counter, ",".join(agencies), actor=actor)

    async def rate(self, ticket_id: str, score: Any, *, dossier: str | None = None, actor: str = "") -> dict[str, Any]:
        levels = self.site.rating_levels
        score = whole_number(score)
        if score is None or not 1 <= score <= levels:
            raise InvalidField(f"'score' phải là số nguyên từ 1 đến {levels}. / 'score' must be an integer 1..{levels}.")
        _check_dossier(dossier)
        return await self._run("rate", ticket_id, score, dossier or "", actor=actor)

    async def post_notice(self, text: Any, floor: Any = None, ttl_s: Any = 600, *, actor: str = "") -> dict[str, Any]:
        """Put a message on the hall displays (one floor or all) for ``ttl_s`` seconds."""
        if not isinstance(text, str) or not text.strip() or len(text) > 500:
            raise InvalidField("'text' phải là chuỗi 1–500 ký tự. / 'text' must be a string of 1-500 characters.")
        if floor is not None and (whole_number(floor) is None or whole_number(floor) not in self.site.floor_by_number):
            raise InvalidField(f"'floor' {floor!r} không có ở {self.site.slug}. / unknown floor {floor!r}.")
        floor = whole_number(floor)
        ttl_s = whole_number(ttl_s)
        if ttl_s is None or not 10 <= ttl_s <= 86400:
            raise InvalidField("'ttl_s' phải là số giây 10–86400. / 'ttl_s' must be 10..86400 seconds.")
        now_ms = self.now_ms()
        notice = {"id": f"n{now_ms}", "text": text.strip(), "created_at": now_ms, "expires_at": now_ms + ttl_s * 1000,
                  "by": actor}
        if floor is not None:
            notice["floor"] = floor
        blob = json.dumps(notice, ensure_ascii=False)
        event = json.dumps({"type": "notice", "notice": notice, "at": now_ms, "actor": actor}, ensure_ascii=False)

        def writes(pipe) -> None:  # blind writes: one MULTI
            pipe.hset(self.keys.notices, notice["id"], blob)
            pipe.xadd(self.keys.events, {"e": event}, maxlen=self.stream_maxlen, approximate=True)

        (_, event_id), acknowledged = await guarded(self.replication.transaction(self.keys.notices, writes))
        self.replication.check(acknowledged, self.site.slug, "post_notice")
        return {"status": 201, "notice": notice, "event_id": event_id.decode()}

    async def record_access(self, change: dict[str, Any], *, actor: str) -> str:
        """Append a change of who may do what at this site (a token or user created, revoked, locked out ...)
        to its audit trail. Access events reach no display (their topics are empty)."""
        event = json.dumps({**change, "type": "access", "at": self.now_ms(), "actor": actor}, ensure_ascii=False)
        event_id = await guarded(self.redis.xadd(self.keys.events, {"e": event}, maxlen=self.stream_maxlen,
                                                 approximate=True))
        return event_id.decode()

    async def record_printer(self, kiosk: str, report: dict[str, Any]) -> dict[str, Any]:
        """Remember what a kiosk's thermal printer last said (``ok``, or ``code`` and ``detail`` of what is
        wrong, ``paper_low``), and when: the console's device alerts read it (:meth:`printers`)."""
        record = {**report, "kiosk": kiosk, "at": self.now_ms()}
        await guarded(self.redis.hset(self.keys.printers, kiosk, json.dumps(record, ensure_ascii=False)))
        return record

    async def record_ack(self, device: str, event_id: str) -> None:
        """Remember the last event a device (display, announcer) acknowledged, and when."""
        await guarded(self.redis.hset(self.keys.acks, device, json.dumps({"event_id": event_id, "at": self.now_ms()})))
