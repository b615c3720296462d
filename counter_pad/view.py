"""What the pad knows about its counter, folded from server frames (pure: no I/O, no clock).

The server's frames are the truth: the pad never guesses a new state from its own presses. After a
reconnect the link replays the missed events (or the server sends a fresh snapshot), so folding them
here brings the display back to the counter's real state even if the web pad was used meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

__all__ = ["CounterView", "apply_frame"]

#: What the display shows for a counter that serves nobody, by status.
STATUS_TEXT = {"paused": "NGHI", "closed": "DONG"}  # "nghỉ", "đóng" without their marks


@dataclass(frozen=True)
class CounterView:
    """The counter as last reported: ``status`` is None until the first snapshot."""

    status: str | None = None
    current: dict[str, Any] | None = None

    @property
    def number(self) -> str | None:
        return self.current.get("number") if self.current else None

    @property
    def paused(self) -> bool:
        return self.status == "paused"

    def text(self) -> str | None:
        """A word to show instead of a number (``NGHI`` while paused), or None to show the number.

        A ticket being served keeps its number on the display even while the counter is paused:
        the citizen at the desk still reads it.
        """
        if self.current is None:
            return STATUS_TEXT.get(self.status or "")
        return None


def _counter_of(frame: dict[str, Any]) -> str | None:
    counter = frame.get("counter")
    if isinstance(counter, dict):
        counter = counter.get("id")
    return None if counter is None else str(counter)


def _from_counter(counter: dict[str, Any]) -> CounterView:
    current = counter.get("current")
    return CounterView(status=counter.get("status"), current=current if isinstance(current, dict) else None)


def _same_ticket(a: dict[str, Any] | None, b: Any) -> bool:
    return isinstance(a, dict) and isinstance(b, dict) and a.get("id") == b.get("id")


def apply_frame(view: CounterView, frame: dict[str, Any], counter_id: str) -> tuple[CounterView, bool]:
    """The view after ``frame``, and whether it announces a call at this counter (the display blinks)."""
    kind = frame.get("type")
    if kind == "snapshot":
        state = frame.get("state") or {}
        for counter in state.get("counters") or ():
            if isinstance(counter, dict) and str(counter.get("id")) == counter_id:
                return _from_counter(counter), False
        return view, False
    if _counter_of(frame) != counter_id:
        return view, False
    ticket = frame.get("ticket")
    if kind == "counter" and isinstance(frame.get("counter"), dict):
        new = _from_counter(frame["counter"])
        # A counter frame whose object omits ``current`` only changes the status.
        if "current" not in frame["counter"]:
            new = replace(new, current=view.current)
        return new, False
    if kind == "called" and isinstance(ticket, dict):
        status = view.status if view.status not in (None, "paused", "closed") else "open"
        return CounterView(status=status, current=ticket), True
    if kind in ("completed", "no_show", "transferred") and _same_ticket(view.current, ticket):
        return replace(view, current=None), False
    return view, False
