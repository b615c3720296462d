"""The read side of online numbers, appointments and webhooks: bookings, slots with what is left in them,
booking counts per day, a ticket's place counting appointments whose time has come, and the webhook's
state. A mixin of :class:`~qserver.engine.SiteEngine` (it uses the reader's ``redis``, ``keys``, ``site``
and ``clock``)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from ..exceptions import NotFound
from . import slots as slotting
from .reads import day_bounds_ms, guarded

__all__ = ["HomeReads", "BOOKING_COUNTS"]

#: What the booking stats of a day count per agency (``<count>:<agency>``).
BOOKING_COUNTS = ("booked", "cancelled", "checked_in", "no_show")


def _unknown_booking(code: str) -> NotFound:
    return NotFound(f"Không tìm thấy lịch hẹn có mã “{slotting.show_code(code)}”. Vui lòng kiểm tra lại mã. "
                    f"/ No booking with code {code!r}.", code="unknown_booking")


class HomeReads:
    """Reads from home (mixed into the site's engine)."""

    # -- bookings ---------------------------------------------------------------------------------
    async def booking(self, booking_id: str) -> dict[str, Any]:
        raw = await guarded(self.redis.hget(self.keys.bookings, booking_id))
        if raw is None:
            raise NotFound(f"Không tìm thấy lịch hẹn {booking_id}. / No booking {booking_id!r}.",
                           code="unknown_booking")
        return json.loads(raw)

    async def booking_by_code(self, code: str) -> dict[str, Any]:
        """The booking a citizen's code names (any spelling :func:`slots.normalize_code` accepts)."""
        normal = slotting.normalize_code(code)
        if normal is None:
            raise _unknown_booking(code if isinstance(code, str) else "")
        booking_id = await guarded(self.redis.hget(self.keys.booking_codes, normal))
        if booking_id is None:
            raise _unknown_booking(normal)
        return await self.booking(booking_id.decode())

    async def bookings_of_day(self, day: dt.date) -> list[dict[str, Any]]:
        """Every booking of a day (any status), by slot time."""
        start, end = day_bounds_ms(self.site, day)
        ids = await guarded(self.redis.zrangebyscore(self.keys.booking_index, start, f"({end}"))
        if not ids:
            return []
        blobs = await guarded(self.redis.hmget(self.keys.bookings, ids))
        found = [json.loads(blob) for blob in blobs if blob]
        return [b for b in found if b.get("day") == day.isoformat()]

    async def person_bookings(self, person: str) -> list[dict[str, Any]]:
        """The bookings in a person's recent history (by keyed hash), by slot time."""
        raw = await guarded(self.redis.hget(self.keys.person_history, person))
        ids = [entry[1] for entry in (json.loads(raw) if raw else []) if entry[0] == "b"]
        if not ids:
            return []
        blobs = await guarded(self.redis.hmget(self.keys.bookings, ids))
        return sorted((json.loads(b) for b in blobs if b), key=lambda b: b["slot_at"])

    # -- slots ------------------------------------------------------------------------------------
    async def slot_state(self, day: dt.date) -> tuple[dict[str, int], dict[str, dict[str, Any]]]:
        """(standing bookings per slot field, closed slot field → {reason, by, at}) of a day."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.hgetall(self.keys.slots(day.isoformat()))
        pipe.hgetall(self.keys.closed_slots(day.isoformat()))
        counts, closed = await guarded(pipe.execute())
        return ({k.decode(): int(v) for k, v in counts.items()},
                {k.decode(): json.loads(v) for k, v in closed.items()})

    async def slots_view(self, agency: str, day: dt.date) -> list[dict[str, Any]]:
        """Every slot of an agency on a day: time, end, capacity, booked, free, closed (+ reason) and
        whether it can be booked now (``problem`` says why not)."""
        counts, closed = await self.slot_state(day)
        now = self.clock.now()
        cap = slotting.capacity(self.site, agency)
        result = []
        for start, end in slotting.day_slots(self.site, day):
            slot = slotting.Slot(agency, day, start, end, cap, self.site.tz)
            booked = max(0, counts.get(slot.field, 0))
            shut = closed.get(slot.field)
            problem = slotting.booking_problem(self.site, slot, now)
            if shut:
                problem = "Khung giờ đã đóng" + (f": {shut.get('reason')}" if shut.get("reason") else "") + "."
            elif booked >= cap:
                problem = "Khung giờ đã hết chỗ."
            result.append({"time": slot.time, "end": f"{end:%H:%M}", "capacity": cap, "booked": booked,
                           "free": max(0, cap - booked), "closed": bool(shut),
                           "reason": shut.get("reason") if shut else None,
                           "bookable": problem is None, "problem": problem})
        return result

    async def booking_stats(self, first: dt.date, last: dt.date | None = None) -> dict[str, dict[str, int]]:
        """agency → {booked, cancelled, checked_in, no_show} summed over ``first``..``last``."""
        last = last or first
        days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
        pipe = self.redis.pipeline(transaction=False)
        for day in days:
            pipe.hgetall(self.keys.booking_stats(day.isoformat()))
        totals: dict[str, dict[str, int]] = {}
        for raw in await guarded(pipe.execute()):
            for key, value in raw.items():
                count, _, agency = key.decode().partition(":")
                if count in BOOKING_COUNTS:
                    row = totals.setdefault(agency, dict.fromkeys(BOOKING_COUNTS, 0))
                    row[count] += int(value)
        return totals

    # -- a ticket's place -------------------------------------------------------------------------
    async def ticket(self, ticket_id: str) -> dict[str, Any]:
        """The reader's ticket, with ``ahead`` counting the appointments whose time has come (call-next
        takes them first) and, for such an appointment, only the tickets call-next takes before it."""
        ticket = await super().ticket(ticket_id)  # type: ignore[misc]
        if ticket["status"] != "waiting" or ticket.get("ahead") is None:
            return ticket
        ahead = await self._ahead_with_appointments(ticket)
        if ahead != ticket["ahead"]:
            ticket["ahead"] = ahead
            ticket["eta_s"] = await self.estimate_wait(ticket["agency"], ahead)
        return ticket

    async def _ahead_with_appointments(self, ticket: dict[str, Any]) -> int:
        queue, appointments = self.keys.queue(ticket["agency"]), self.keys.appointments(ticket["agency"])
        now_ms = self.now_ms()
        pipe = self.redis.pipeline(transaction=False)
        pipe.zscore(queue, ticket["id"])
        pipe.zrangebyscore(appointments, "-inf", now_ms, withscores=True)
        own_score, due = await guarded(pipe.execute())
        due = [(member.decode(), at) for member, at in due]
        if own_score is None or not due:
            return ticket["ahead"]
        pipe = self.redis.pipeline(transaction=False)
        for member, _at in due:
            pipe.zscore(queue, member)
        pipe.zcount(queue, "-inf", f"({1_000_000_000_000}")  # priority tickets
        *scores, priority = await guarded(pipe.execute())
        live = [(member, at, score) for (member, at), score in zip(due, scores) if score is not None]
        own_slot = next((at for member, at, _s in live if member == ticket["id"]), None)
        if own_slot is not None:  # a due appointment: priority tickets, then earlier appointments
            return int(priority) + sum(1 for member, at, _s in live if at < own_slot)
        # a walk-in: due appointments behind it in the queue will be called before it
        return ticket["ahead"] + sum(1 for _m, _at, score in live if score > own_score)

    # -- webhooks ---------------------------------------------------------------------------------
    async def stored_webhook(self) -> dict[str, str]:
        """What ``qserver webhook set`` stored (empty when nothing)."""
        raw = await guarded(self.redis.hgetall(self.keys.webhook))
        return {k.decode(): v.decode() for k, v in raw.items()}

    async def webhook_status(self) -> dict[str, Any]:
        """The delivery state managers see: counts, last success, failing since, last error, backlog,
        and the latest deliveries given up."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.hgetall(self.keys.webhook_status)
        pipe.lrange(self.keys.webhook_dead, 0, 9)
        pipe.get(self.keys.webhook_lease)
        raw, dead, lease = await guarded(pipe.execute())
        status: dict[str, Any] = {k.decode(): v.decode() for k, v in raw.items()}
        for key in ("delivered", "given_up", "backlog", "last_ok_at", "failing_since", "last_error_at", "attempts"):
            if key in status:
                status[key] = int(float(status[key]))
        status["dead"] = [json.loads(item) for item in dead]
        status["worker"] = lease.decode() if lease else None
        return status

    async def contact(self, field: str, day: str) -> str | None:
        """The phone number kept for a ticket (its id) or a booking (``b:<id>``) of ``day``."""
        raw = await guarded(self.redis.hget(self.keys.contacts(day), field))
        return raw.decode() if raw else None
