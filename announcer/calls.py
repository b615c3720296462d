"""``called`` frames turned into :class:`Call` values, and which floors announce them — pure.

A ``called`` frame (docs/protocol-notes.md) carries ``floor`` (the ticket's floor: where its agency's
citizens wait) and ``counter_floor`` (where the counter is). The hub sends a call to both floors'
topics. Which announcers speak it is a policy, ``cross_floor``:

- ``"ticket"`` (default, DESIGN.md "on the called ticket's floor only"): only the ticket's floor, where
  the citizen is sitting; when the counter is elsewhere the sentence names the counter's floor
  (``template_other_floor``). The counter's floor stays silent: nobody there waits for that number,
  and its hall screen already shows the call.
- ``"both"``: the counter's floor announces it too (for halls where citizens wander between floors);
  there the counter is on the same floor, so it uses the plain template.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from qserver.protocol import parse_stream_id

__all__ = ["CROSS_FLOOR_POLICIES", "Call", "announcing_floors", "call_from_frame", "event_order", "parse_time"]

logger = logging.getLogger(__name__)

CROSS_FLOOR_POLICIES = ("ticket", "both")


@dataclass(frozen=True)
class Call:
    """One call to announce: a ticket number sent to a counter."""

    event_id: str
    ticket_id: str
    number: str
    counter: str
    floor: int
    counter_floor: int
    recall: bool = False
    at: float | None = None  # when the server made the call (epoch seconds), if the frame says

    @property
    def other_floor(self) -> bool:
        """The counter is not on the floor where the citizen waits."""
        return self.counter_floor != self.floor


def parse_time(value: Any) -> float | None:
    """Epoch seconds of an ISO 8601 time with an offset; ``None`` for anything else."""
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:  # the protocol always sends an offset; never guess one
        return None
    return moment.timestamp()


def call_from_frame(frame: Mapping[str, Any], counter_floors: Mapping[str, int] | None = None) -> Call | None:
    """The :class:`Call` in a ``called`` frame (or a snapshot's call entry given ``type: called``);
    ``None`` for other frames or a malformed call.

    ``counter_floors`` (counter id → floor, from the site config) fills a missing ``counter_floor``.
    """
    if frame.get("type") != "called":
        return None
    ticket = frame.get("ticket")
    if isinstance(ticket, str) and isinstance(frame.get("number"), str):
        # An entry of a snapshot's "calls" list names the ticket by id and carries the number.
        ticket = {"id": ticket, "number": frame["number"], "floor": frame.get("floor")}
    try:
        if not isinstance(ticket, Mapping):
            raise ValueError("no ticket")
        counter = str(frame.get("counter") or ticket.get("counter") or "")
        floor = frame.get("floor", ticket.get("floor"))
        counter_floor = frame.get("counter_floor")
        if counter_floor is None and counter_floors is not None:
            counter_floor = counter_floors.get(counter)
        if counter_floor is None:
            counter_floor = floor
        if not counter or not isinstance(ticket.get("number"), str) or not ticket["number"]:
            raise ValueError("no counter or no ticket number")
        if isinstance(floor, bool) or isinstance(counter_floor, bool):
            raise ValueError("a floor is not a number")
        return Call(
            event_id=str(frame.get("event_id") or ""), ticket_id=str(ticket.get("id") or ticket["number"]),
            number=ticket["number"], counter=counter, floor=int(floor), counter_floor=int(counter_floor),
            recall=bool(frame.get("recall", False)), at=parse_time(frame.get("at")),
        )
    except (TypeError, ValueError) as exc:
        logger.warning("ignoring a malformed 'called' frame %s: %s", frame.get("event_id"), exc)
        return None


def announcing_floors(call: Call, cross_floor: str = "ticket") -> frozenset[int]:
    """The floors whose announcer speaks ``call`` under the ``cross_floor`` policy (see module doc)."""
    if cross_floor == "ticket":
        return frozenset({call.floor})
    if cross_floor == "both":
        return frozenset({call.floor, call.counter_floor})
    raise ValueError(f"cross-floor policy {cross_floor!r} is not one of {', '.join(CROSS_FLOOR_POLICIES)}")


def event_order(event_id: str) -> tuple[int, int]:
    """Sort key of an event id ("1732435262000-3" → (1732435262000, 3)); bad ids sort first."""
    try:
        return parse_stream_id(event_id)
    except ValueError:
        return (-1, -1)
