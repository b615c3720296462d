"""Button presses on their way to the server (pure: time is an argument, nothing is sent here).

The rules, as documented in docs/counter-pad.md ("A press is never lost and never acts twice"):

- a press becomes a :class:`Command` with a fresh idempotency key, made once, at press time;
- a second press of a button whose command is still pending, or within ``repeat_guard_s`` of its
  last accepted press, is the same press (bounce, double press, an impatient officer);
- commands go out one at a time in press order (``complete`` then ``call-next`` must not swap);
- a command is (re)sent on every new connection until its result arrives — always with its
  original key, so a command the server already did is answered, not done again;
- a command without a result ``grace_s`` after its press is dropped: the officer hears the long
  beep and sees the fast-blinking online LED, and presses again when the pad is back online.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Command", "CommandQueue", "PressFilter", "new_key"]


def new_key() -> str:
    """A fresh idempotency key."""
    return f"pad-{uuid.uuid4().hex}"


@dataclass
class Command:
    button: str
    action: str
    key: str
    pressed_at: float
    sent_on: int | None = None  # the link generation it was last sent on; None: never sent

    def frame(self, counter: str) -> dict[str, str]:
        return {"type": "command", "counter": counter, "action": self.action, "key": self.key}


class PressFilter:
    """Accepts a button press unless it repeats the previous accepted press of that button too soon."""

    def __init__(self, repeat_guard_s: float):
        self.repeat_guard_s = repeat_guard_s
        self._last: dict[str, float] = {}

    def accept(self, button: str, at: float) -> bool:
        last = self._last.get(button)
        if last is not None and at - last < self.repeat_guard_s:
            return False
        self._last[button] = at
        return True


class CommandQueue:
    """Pending commands, oldest first; the head is the one on the wire."""

    def __init__(self, grace_s: float, *, make_key: Callable[[], str] = new_key):
        self.grace_s = grace_s
        self.make_key = make_key
        self._items: list[Command] = []

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self):
        return iter(list(self._items))

    def pending(self, button: str) -> bool:
        return any(cmd.button == button for cmd in self._items)

    def press(self, button: str, action: str, at: float) -> Command | None:
        """Queue a press; None when that button's previous command is still pending (acts once)."""
        if self.pending(button):
            return None
        cmd = Command(button=button, action=action, key=self.make_key(), pressed_at=at)
        self._items.append(cmd)
        return cmd

    def due(self, generation: int) -> Command | None:
        """The command to send now on connection ``generation``, if any."""
        if self._items and self._items[0].sent_on != generation:
            return self._items[0]
        return None

    def settle(self, key: str) -> Command | None:
        """Remove and return the command a result answers (None for an unknown or dropped key)."""
        for index, cmd in enumerate(self._items):
            if cmd.key == key:
                return self._items.pop(index)
        return None

    def expire(self, now: float) -> list[Command]:
        """Drop and return every command pressed more than ``grace_s`` ago."""
        dropped = [cmd for cmd in self._items if now - cmd.pressed_at >= self.grace_s]
        self._items = [cmd for cmd in self._items if cmd not in dropped]
        return dropped

    def next_expiry(self) -> float | None:
        return min((cmd.pressed_at + self.grace_s for cmd in self._items), default=None)
