"""Transitions from home: a number taken on a phone, bookings (book, cancel, move, check in, close and
open slots, the sweeps that expire and remind), the marking of tickets whose turn is near, and the
webhook worker's bookkeeping. A mixin of :class:`~qserver.engine.SiteEngine`: every transition is one
Lua script (:mod:`.scripts_home`) run through the engine's ``_run``.

What is kept of a citizen: the keyed hash of the CCCD number (as for the kiosk's QR), and the phone
number in a contacts hash of the day (never on a ticket, a booking or the stream), for the SMS gateway.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from ..exceptions import Conflict, InvalidField, NotFound, QServerError
from . import hours
from . import slots as slotting
from .cccd import age_on, parse_cccd, person_hash
from .citizen import check_id_number, check_phone, online_open, refuse_closed
from .home_reads import HomeReads
from .keys import DAY_TTL_S
from .reads import guarded
from .replication import SiteMulti

__all__ = ["HomeTransitions", "HOME_ERRORS"]

DAY_MS = 86_400_000
#: Booking counts stay long after the day (one small hash per day): reports of the year read them.
BOOKING_STATS_DAYS = 400
#: Contacts and slot counts live until two days after their day.
CONTACT_DAYS = 2
SWEEP_BATCH = 200
CODE_ATTEMPTS = 5

#: Vietnamese (then English) sentences of the refusals the scripts of this module return.
HOME_ERRORS = {
    "online_limit": "Mỗi người chỉ giữ tối đa {limit} số trực tuyến đang chờ. Vui lòng chờ đến lượt số đang có. "
                    "/ At most {limit} active online numbers per person.",
    "already_booked": "Bạn đã có lịch hẹn lúc {time} ngày {day} ở cơ quan này. "
                      "/ You already hold a booking at {time} on {day} there.",
    "booking_limit": "Mỗi người chỉ giữ tối đa {limit} lịch hẹn chưa đến. / At most {limit} standing bookings.",
    "slot_closed": "Khung giờ {time} ngày {day} đã đóng{reason}. Vui lòng chọn giờ khác. / That slot is closed.",
    "slot_full": "Khung giờ {time} ngày {day} đã hết chỗ. Vui lòng chọn giờ khác. / That slot is full.",
    "same_slot": "Lịch hẹn đã ở khung giờ {time} ngày {day}. / The booking is already in that slot.",
    "booking_cancelled": "Lịch hẹn này đã bị hủy. / This booking was cancelled.",
    "booking_used": "Lịch hẹn này đã được xác nhận{ticket}. / This booking was already checked in.",
    "booking_expired": "Lịch hẹn này đã quá hạn vì công dân không đến. / This booking expired unused.",
}


def check_key(key: Any) -> str:
    """An idempotency key as given (``""`` for none), the rule of ``site_engine.check_key``."""
    if key is None:
        return ""
    if not isinstance(key, str) or not 0 < len(key) <= 100:
        raise InvalidField("'key' phải là chuỗi 1–100 ký tự. / 'key' must be a string of 1-100 characters.")
    return key


def _day_text(day: str) -> str:
    try:
        return f"{dt.date.fromisoformat(day):%d/%m/%Y}"
    except (TypeError, ValueError):
        return str(day)


class HomeTransitions(HomeReads):
    """Transitions from home (mixed into the site's engine)."""

    # -- refusals ---------------------------------------------------------------------------------
    def home_error(self, answer: dict[str, Any]) -> QServerError | None:
        """The error of a refusal from one of this module's scripts (None for the engine's own codes)."""
        code = answer["err"]
        if code == "unknown_booking":
            return NotFound(f"Không tìm thấy lịch hẹn {answer.get('booking')}. / No such booking.",
                            code="unknown_booking")
        if code == "online_barred":
            online = self.site.online
            return Conflict(f"Số CCCD này đã {answer.get('strikes')} lần không có mặt khi đến lượt (số trực tuyến "
                            f"hoặc lịch hẹn) trong {online.no_show_days} ngày qua, nên tạm thời không lấy số hay "
                            f"đặt lịch trực tuyến được. Vui lòng đến trung tâm lấy số tại máy. / Missed "
                            f"{answer.get('strikes')} times in {online.no_show_days} days: please come in person.",
                            code="online_barred")
        if code == "checkin_too_early":
            at = dt.datetime.fromtimestamp(answer["from_at"] / 1000, tz=self.site.tz)
            return Conflict(f"Chưa đến giờ xác nhận lịch hẹn. Vui lòng quay lại từ {at:%H:%M} ngày {at:%d/%m/%Y}. "
                            f"/ Too early: check in from {at:%H:%M} on {at:%d/%m/%Y}.", code="checkin_too_early",
                            opens_at=at.isoformat(timespec="minutes"))
        if code == "checkin_too_late":
            at = dt.datetime.fromtimestamp(answer["until_at"] / 1000, tz=self.site.tz)
            return Conflict(f"Đã quá giờ hẹn (chỉ xác nhận đến {at:%H:%M} ngày {at:%d/%m/%Y}). Vui lòng lấy số "
                            f"thường tại máy. / Too late (check-in closed at {at:%H:%M}): please take a normal "
                            f"number.", code="checkin_too_late")
        if code in HOME_ERRORS:
            fields = {"limit": answer.get("limit", ""), "time": answer.get("time", ""),
                      "day": _day_text(answer.get("day", "")),
                      "reason": f" ({answer['reason']})" if answer.get("reason") else "",
                      "ticket": f" (số {answer['ticket']})" if answer.get("ticket") else ""}
            return Conflict(HOME_ERRORS[code].format(**fields), code=code)
        return None

    def _person(self, id_number: Any) -> str:
        return person_hash(self.secret, check_id_number(id_number))

    def _history_bounds(self, now_ms: int) -> tuple[int, int]:
        """(strikes count from, history older than this is dropped)."""
        since = now_ms - self.site.online.no_show_days * DAY_MS
        return since, since

    def _day_expiry(self, day: dt.date, days: int) -> int:
        """Seconds from now (the engine's clock, not Redis's) to the end of ``day`` + ``days`` (local):
        the TTL of that day's booking keys."""
        end = dt.datetime.combine(day + dt.timedelta(days=days + 1), dt.time(), tzinfo=self.site.tz)
        return max(3600, int((end - self.clock.now()).total_seconds()))

    # -- online numbers ---------------------------------------------------------------------------
    async def online_issue(self, agency: Any, *, id_number: Any, phone: Any, key: Any = None,
                           actor: str = "online") -> dict[str, Any]:
        """A number taken from a phone (201), ranked with walk-ins by issue order (``channel: online``)."""
        target = self.agency(agency)
        if not self.site.online.enabled:
            raise Conflict(f"{self.site.name} chưa nhận lấy số trực tuyến. / No online numbers here.",
                           code="online_disabled")
        person, mobile, key = self._person(id_number), check_phone(phone), check_key(key)
        now = self.clock.now()
        if not (self.always_open or online_open(self.site, now)):
            raise refuse_closed(self.site, now)
        day = hours.service_day(self.site, now)
        strikes_since, keep_since = self._history_bounds(self.now_ms())
        online = self.site.online
        k = self.keys
        return await self._run("online_issue", target.slug, self._formats[target.slug], target.floor, person,
                               day.strftime("%Y%m%d"), self.site.slug, mobile, online.max_per_person,
                               online.no_show_limit, strikes_since, keep_since,
                               self._day_expiry(day, CONTACT_DAYS), actor=actor,
                               idem=f"online:{person}:{key}" if key else "",
                               extra_keys=[k.person_history, k.contacts(day.isoformat()), k.bookings])

    # -- bookings ---------------------------------------------------------------------------------
    def _slot_times(self, slot: slotting.Slot, now: dt.datetime) -> tuple[int, int, int]:
        """(start ms, end of check-in grace ms, reminder ms or 0) of a slot."""
        start = slot.starts_at
        _from, until = slotting.checkin_window(self.site, start)
        remind = slotting.reminder_at(self.site, start, now)
        return slot.ms(start), slot.ms(until), slot.ms(remind) if remind else 0

    async def book(self, agency: Any, day: Any, time: Any, *, id_number: Any, phone: Any, key: Any = None,
                   actor: str = "online") -> dict[str, Any]:
        """Book a place in a slot (201, with the booking's code: the only time it is given out)."""
        target = self.agency(agency)
        slot = slotting.find_slot(self.site, target.slug, day, time)
        person, mobile, key = self._person(id_number), check_phone(phone), check_key(key)
        now = self.clock.now()
        slotting.check_bookable(self.site, slot, now)
        start_ms, until_ms, remind_ms = self._slot_times(slot, now)
        strikes_since, keep_since = self._history_bounds(self.now_ms())
        config, k, iso = self.site.appointments, self.keys, slot.day.isoformat()
        extra = [k.person_history, k.bookings, k.booking_codes, k.booking_seq, k.booking_index, k.booking_expiry,
                 k.booking_reminders, k.slots(iso), k.closed_slots(iso), k.booking_stats(iso), k.contacts(iso)]
        for _ in range(CODE_ATTEMPTS):
            answer = await self._run("book", target.slug, iso, slot.time, start_ms, slot.capacity, person, mobile,
                                     slotting.new_code(), until_ms, remind_ms, config.max_per_person,
                                     self.site.online.no_show_limit, strikes_since, keep_since,
                                     self._day_expiry(slot.day, CONTACT_DAYS),
                                     self._day_expiry(slot.day, BOOKING_STATS_DAYS), actor=actor,
                                     idem=f"book:{person}:{key}" if key else "", extra_keys=extra)
            if answer.get("retry") != "code":
                return answer
        raise Conflict("Không tạo được mã lịch hẹn, vui lòng thử lại. / Could not draw a free code; retry.",
                       code="slot_unavailable")

    async def cancel_booking(self, code: Any, *, actor: str = "online") -> dict[str, Any]:
        """The citizen gives the booking up (its place is free again)."""
        booking = await self.booking_by_code(code)
        for _ in range(3):
            day, k = booking["day"], self.keys
            answer = await self._run("cancel_booking", booking["id"], day, actor=actor,
                                     extra_keys=[k.bookings, k.booking_expiry, k.booking_reminders, k.slots(day),
                                                 k.booking_stats(day)])
            if answer.get("retry") != "day":
                return answer
            booking = await self.booking(booking["id"])  # moved meanwhile: its keys are of another day
        raise Conflict("Lịch hẹn đang được thay đổi, vui lòng thử lại. / The booking is changing; retry.",
                       code="booking_cancelled")

    async def move_booking(self, code: Any, day: Any, time: Any, *, actor: str = "online") -> dict[str, Any]:
        """Move a standing booking to another slot of its agency."""
        booking = await self.booking_by_code(code)
        slot = slotting.find_slot(self.site, booking["agency"], day, time)
        now = self.clock.now()
        slotting.check_bookable(self.site, slot, now)
        start_ms, until_ms, remind_ms = self._slot_times(slot, now)
        new, k = slot.day.isoformat(), self.keys
        for _ in range(3):
            old = booking["day"]
            answer = await self._run(
                "move_booking", booking["id"], old, new, slot.time, start_ms, slot.capacity, until_ms, remind_ms,
                self._day_expiry(slot.day, CONTACT_DAYS), self._day_expiry(slot.day, BOOKING_STATS_DAYS),
                actor=actor, extra_keys=[k.bookings, k.booking_index, k.booking_expiry, k.booking_reminders,
                                         k.slots(old), k.slots(new), k.closed_slots(new), k.booking_stats(old),
                                         k.booking_stats(new), k.contacts(old), k.contacts(new)])
            if answer.get("retry") != "day":
                return answer
            booking = await self.booking(booking["id"])
        raise Conflict("Lịch hẹn đang được thay đổi, vui lòng thử lại. / The booking is changing; retry.",
                       code="booking_cancelled")

    async def _booking_of_person(self, person: str) -> dict[str, Any]:
        """Today's standing booking of a person (the one whose check-in window is open, else the nearest)."""
        today = self.today()
        now_ms = self.now_ms()
        mine = [b for b in await self.person_bookings(person) if b["day"] == today]
        if not mine:
            raise NotFound("Không tìm thấy lịch hẹn hôm nay của căn cước công dân này. / No booking today for "
                           "this ID card.", code="unknown_booking")
        standing = [b for b in mine if b["status"] == "booked"] or mine
        return min(standing, key=lambda b: abs(b["slot_at"] - now_ms))

    async def check_in(self, *, code: Any = None, citizen_qr: Any = None, actor: str = "", issuer: str = "",
                       key: Any = None) -> dict[str, Any]:
        """The kiosk checks a booking in by its code (typed, or the QR's URL) or by the CCCD's QR: a ticket
        (201, ``channel: appointment``) called ahead of walk-ins once its slot time has come."""
        key = check_key(key)
        priority = ""
        if code is not None:
            booking = await self.booking_by_code(code)
        elif isinstance(citizen_qr, str) and citizen_qr.strip():
            card = parse_cccd(citizen_qr)
            booking = await self._booking_of_person(person_hash(self.secret, card.id_number))
            if age_on(card.birth_date, hours.service_day(self.site, self.clock.now())) >= self.site.priority_age:
                priority = "elderly"
        else:
            raise InvalidField("Cần 'code' (mã lịch hẹn) hoặc 'citizen_qr' (mã QR CCCD). / Give 'code' or "
                               "'citizen_qr'.")
        target = self.agency(booking["agency"])
        config, k = self.site.appointments, self.keys
        day = booking["day"]
        today = hours.service_day(self.site, self.clock.now())
        return await self._run("check_in", booking["id"], target.slug, self._formats[target.slug], target.floor,
                               today.strftime("%Y%m%d"), self.site.slug, config.checkin_before_minutes * 60_000,
                               config.grace_minutes * 60_000, priority, actor=actor,
                               idem=f"checkin:{issuer}:{key}" if key else "",
                               extra_keys=[k.bookings, k.booking_expiry, k.booking_reminders, k.booking_stats(day),
                                           k.contacts(day), k.appointments(target.slug)])

    def _slot_fields(self, day: dt.date, agency: Any, start: Any, end: Any) -> list[str]:
        agencies = [self.agency(agency).slug] if agency is not None else [
            a.slug for a in self.site.agencies if slotting.takes_bookings(self.site, a.slug)]
        bounds = []
        for name, value in (("from", start), ("to", end)):
            if value is not None and (not isinstance(value, str) or not slotting.TIME_RE.match(value)):
                raise InvalidField(f"'{name}' phải là giờ dạng HH:MM, không phải {value!r}. / '{name}' must be HH:MM.")
            bounds.append(value)
        low, high = bounds[0] or "00:00", bounds[1] or "24:00"
        fields = [f"{slug}|{s:%H:%M}" for slug in agencies for s, _e in slotting.day_slots(self.site, day)
                  if low <= f"{s:%H:%M}" < high]
        if not fields:
            raise NotFound(f"Không có khung giờ nào ngày {day:%d/%m/%Y} trong khoảng đã chọn. / No slot matches.",
                           code="unknown_slot")
        return fields

    async def close_slots(self, day: Any, *, agency: Any = None, start: Any = None, end: Any = None,
                          reason: Any = "", actor: str = "") -> dict[str, Any]:
        """Close the slots of a day (one agency or all, ``start``..``end`` or the whole day); their standing
        bookings are cancelled (each a ``booking_cancelled`` event: the citizens are told)."""
        date = slotting.parse_day(day)
        if not isinstance(reason, str) or len(reason) > 200:
            raise InvalidField("'reason' phải là chuỗi tối đa 200 ký tự. / 'reason' must be a string of at most 200 "
                               "characters.")
        fields = self._slot_fields(date, agency, start, end)
        start_ms, end_ms = (int(dt.datetime.combine(d, dt.time(), tzinfo=self.site.tz).timestamp() * 1000)
                            for d in (date, date + dt.timedelta(days=1)))
        iso, k = date.isoformat(), self.keys
        return await self._run("close_slots", iso, reason.strip(), start_ms, end_ms,
                               self._day_expiry(date, CONTACT_DAYS), self._day_expiry(date, BOOKING_STATS_DAYS),
                               *fields, actor=actor,
                               extra_keys=[k.bookings, k.booking_index, k.booking_expiry, k.booking_reminders,
                                           k.slots(iso), k.closed_slots(iso), k.booking_stats(iso)])

    async def open_slots(self, day: Any, *, agency: Any = None, start: Any = None, end: Any = None,
                         actor: str = "") -> dict[str, Any]:
        date = slotting.parse_day(day)
        fields = self._slot_fields(date, agency, start, end)
        return await self._run("open_slots", date.isoformat(), *fields, actor=actor,
                               extra_keys=[self.keys.closed_slots(date.isoformat())])

    # -- sweeps (the worker that holds the site's lease runs them) --------------------------------
    async def expire_bookings(self) -> list[str]:
        """Bookings whose check-in grace ended unused become booking no-shows; returns their ids."""
        due = await guarded(self.redis.zrangebyscore(self.keys.booking_expiry, "-inf", self.now_ms(), start=0,
                                                     num=SWEEP_BATCH))
        if not due:
            return []
        blobs = await guarded(self.redis.hmget(self.keys.bookings, due))
        days = sorted({json.loads(b)["day"] for b in blobs if b})
        k, expired = self.keys, []
        for day in days or [self.today()]:
            answer = await self._run("expire_bookings", day, SWEEP_BATCH, actor="system",
                                     extra_keys=[k.bookings, k.booking_expiry, k.booking_reminders,
                                                 k.booking_stats(day)])
            expired += answer["expired"]
        return expired

    async def remind_bookings(self) -> list[str]:
        """booking_reminder events for bookings whose reminder is due; returns their ids."""
        if not await guarded(self.redis.zcount(self.keys.booking_reminders, "-inf", self.now_ms())):
            return []
        answer = await self._run("remind_bookings", SWEEP_BATCH, actor="system",
                                 extra_keys=[self.keys.bookings, self.keys.booking_reminders])
        return answer["reminded"]

    async def forget_old_bookings(self) -> int:
        """Drop bookings whose slot is older than the day keys' lifetime (their days are archived and their
        counts kept in the booking stats); returns how many."""
        cutoff = self.now_ms() - DAY_TTL_S * 1000
        ids = await guarded(self.redis.zrangebyscore(self.keys.booking_index, "-inf", f"({cutoff}", start=0,
                                                     num=SWEEP_BATCH))
        if not ids:
            return 0
        blobs = await guarded(self.redis.hmget(self.keys.bookings, ids))
        codes = [json.loads(blob)["code"] for blob in blobs if blob]
        pipe = SiteMulti(self.redis, self.keys.events)  # old bookings never change: blind deletes in one MULTI
        pipe.hdel(self.keys.bookings, *ids)
        if codes:
            pipe.hdel(self.keys.booking_codes, *codes)
        pipe.zrem(self.keys.booking_index, *ids)
        await guarded(pipe.execute())
        return len(ids)

    async def mark_near(self, agency: str, ahead: int) -> list[str]:
        """A ``near`` event for each ticket with a phone number at most ``ahead`` from its turn (once)."""
        answer = await self._run("mark_near", agency, ahead, actor="system",
                                 extra_keys=[self.keys.near(self.today())])
        return answer["marked"]

    # -- the webhook worker's bookkeeping ---------------------------------------------------------
    async def set_webhook(self, url: str, secret: str, events: tuple[str, ...], *, by: str) -> None:
        """Store the site's webhook (what ``qserver webhook set`` does); it replaces the config's. Delivery
        (re)starts from the events after this moment."""
        pipe = SiteMulti(self.redis, self.keys.events)
        pipe.delete(self.keys.webhook)
        pipe.hset(self.keys.webhook, mapping={"url": url, "secret": secret, "events": json.dumps(list(events)),
                                              "by": by, "at": str(self.now_ms())})
        pipe.delete(self.keys.webhook_cursor)
        await guarded(pipe.execute())

    async def clear_webhook(self) -> None:
        """Forget the stored webhook (the config's, if any, applies again)."""
        pipe = SiteMulti(self.redis, self.keys.events)
        pipe.delete(self.keys.webhook)
        pipe.delete(self.keys.webhook_cursor)
        await guarded(pipe.execute())

    async def take_lease(self, owner: str, ttl_ms: int) -> bool:
        """Take (or keep) the site's worker lease; False while another process holds it."""
        return bool(await guarded(self._scripts["lease_take"](keys=[self.keys.webhook_lease], args=[owner, ttl_ms])))

    async def release_lease(self, owner: str) -> None:
        await guarded(self._scripts["lease_release"](keys=[self.keys.webhook_lease], args=[owner]))

    async def webhook_cursor(self) -> str | None:
        raw = await guarded(self.redis.get(self.keys.webhook_cursor))
        return raw.decode() if raw else None

    async def save_webhook_cursor(self, event_id: str) -> None:
        await guarded(self.redis.set(self.keys.webhook_cursor, event_id))

    async def note_webhook(self, *, delivered: int = 0, given_up: int = 0, ok_at: int | None = None,
                           error: str | None = None, failing_since: int | None = None,
                           backlog: int | None = None, dead: dict[str, Any] | None = None) -> None:
        """Record what the worker did (managers' console, alerts): counts, last success, the failure."""
        pipe = SiteMulti(self.redis, self.keys.events)
        key = self.keys.webhook_status
        if delivered:
            pipe.hincrby(key, "delivered", delivered)
        if given_up:
            pipe.hincrby(key, "given_up", given_up)
        if ok_at is not None:
            pipe.hset(key, mapping={"last_ok_at": ok_at})
            pipe.hdel(key, "failing_since", "last_error", "attempts")
        if error is not None:
            pipe.hset(key, mapping={"last_error": error[:300], "last_error_at": self.now_ms(),
                                    "failing_since": failing_since or self.now_ms()})
            pipe.hincrby(key, "attempts", 1)
        if backlog is not None:
            pipe.hset(key, "backlog", backlog)
        if dead is not None:
            pipe.lpush(self.keys.webhook_dead, json.dumps(dead, ensure_ascii=False))
            pipe.ltrim(self.keys.webhook_dead, 0, 99)
        await guarded(pipe.execute())

    async def record_webhook_test(self, *, actor: str) -> str:
        """A ``webhook_test`` event on the stream: the worker delivers it like any other (type ``test``)."""
        event = json.dumps({"type": "webhook_test", "at": self.now_ms(), "actor": actor}, ensure_ascii=False)
        event_id = await guarded(self.redis.xadd(self.keys.events, {"e": event}, maxlen=self.stream_maxlen,
                                                 approximate=True))
        return event_id.decode()
