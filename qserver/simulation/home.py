"""The simulated citizens from home: some arrivals take their number on a phone instead of at the kiosk,
and a few people per agency book a visit, come and check in at the kiosk when the check-in window opens
(real time: slots are the server's), or never come (a booking no-show once the grace ends).

Determinism: who takes a number online and the CCCD and phone numbers come from their own generators
(``online:<day>``, ``bookings``), so adding them leaves the kiosk's and the officers' plans unchanged.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from dataclasses import dataclass

from .client import ApiClient

__all__ = ["person_numbers", "Booker", "PlannedBooking"]

logger = logging.getLogger(__name__)


def person_numbers(rng: random.Random) -> tuple[str, str]:
    """A plausible (CCCD number, mobile number): 0 + a province code of 092 (Cần Thơ), 09x mobiles."""
    return f"092{rng.randrange(10 ** 9):09d}", f"09{rng.randrange(10 ** 8):08d}"


@dataclass
class PlannedBooking:
    code: str
    agency: str
    opens: dt.datetime
    closes: dt.datetime
    comes: bool
    done: bool = False


class Booker:
    """Books ``per_agency`` places per agency in the first slots still free, then checks them in as their
    windows open; ``no_show`` of them never come."""

    def __init__(self, client: ApiClient, agencies: tuple[str, ...], *, per_agency: int, no_show: float, seed: int,
                 run_id: str):
        self.client, self.agencies, self.per_agency, self.no_show = client, agencies, per_agency, no_show
        self.rng = random.Random(f"{seed}:bookings")
        self.run_id = run_id
        self.planned: list[PlannedBooking] = []

    async def book(self) -> int:
        """Make the bookings; returns how many were made."""
        options = await self.client.appointment_options()
        if not options.ok or not options.body.get("enabled"):
            return 0
        takers = [a["slug"] for a in options.body["agencies"] if a["slug"] in self.agencies]
        for day in options.body["days"][:2]:
            for agency in takers:
                wanted = self.per_agency - sum(1 for b in self.planned if b.agency == agency)
                if wanted <= 0:
                    continue
                answer = await self.client.slots(agency, day)
                free = [s for s in (answer.body or {}).get("slots", []) if s.get("bookable")] if answer.ok else []
                for slot in free:
                    for _ in range(min(slot["free"], wanted)):
                        cccd, phone = person_numbers(self.rng)
                        key = f"sim-{self.run_id}-book-{len(self.planned)}"
                        made = await self.client.book(agency, day, slot["time"], cccd, phone, key)
                        if made.ok:
                            body = made.body
                            self.planned.append(PlannedBooking(
                                body["code"], agency, dt.datetime.fromisoformat(body["checkin_from"]),
                                dt.datetime.fromisoformat(body["checkin_until"]), self.rng.random() >= self.no_show))
                            wanted -= 1
                    if wanted <= 0:
                        break
            if all(sum(1 for b in self.planned if b.agency == a) >= self.per_agency for a in takers):
                break
        logger.info("simulated citizens booked %d visits", len(self.planned))
        return len(self.planned)

    async def check_in_due(self, now: dt.datetime | None = None) -> int:
        """Check in the bookings whose window is open now (those that come); returns how many."""
        now = now or dt.datetime.now(dt.timezone.utc)
        done = 0
        for booking in self.planned:
            if booking.done or not booking.comes or not booking.opens <= now <= booking.closes:
                continue
            booking.done = True
            if (await self.client.check_in(booking.code, f"sim-{self.run_id}-in-{booking.code}")).ok:
                done += 1
        return done
