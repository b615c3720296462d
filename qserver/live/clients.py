"""A websocket subscriber as the hub sees it, with its bounded backlog, and what the hub shares
between subscribers: groups of identical subscriptions and snapshots."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Callable

from .frames import ZERO_ID, Encoded

__all__ = ["Client", "Group", "Snapshot"]

logger = logging.getLogger("qserver.live")


class Client:
    """One websocket subscriber as the hub sees it.

    With ``write`` (the socket's ``write_frames(bytes) -> bool``) the hub writes frame bytes itself;
    without it, frames go to ``queue`` for the endpoint's writer task.
    """

    __slots__ = ("site", "topics", "subprotocol", "device", "floor", "sent_up_to", "dropped", "connected_at",
                 "on_drop", "queue", "write", "backlog", "limit", "live", "writable", "direct", "registered_after")

    def __init__(self, site: str, topics: frozenset[str], subprotocol: str, *, limit: int,
                 device: str | None = None, floor: int | None = None,
                 write: Callable[[bytes], bool] | None = None):
        self.site, self.topics, self.subprotocol, self.device, self.floor = site, topics, subprotocol, device, floor
        #: events up to this id were already sent (snapshot or replay); later ones only
        self.sent_up_to: tuple[int, int] = ZERO_ID
        #: the last event id fanned out when the client registered: its first frames must cover it
        self.registered_after: tuple[int, int] = ZERO_ID
        self.dropped = False
        self.connected_at = time.time()
        #: called once when the hub drops the client (the endpoint closes the socket)
        self.on_drop: Callable[[], None] | None = None
        self.limit = limit
        self.write = write
        self.queue: asyncio.Queue | None = None if write is not None else asyncio.Queue(limit)
        #: direct-writing clients: frames waiting for the first frames to go out, or for the socket to drain
        self.backlog: list[Encoded] = []
        self.live = False          # writing clients: first frames written
        self.writable = True       # writing clients: the socket is not paused
        self.direct = False        # writing, live, writable, not dropped: write at once

    # -- what the hub calls -----------------------------------------------------------------------
    def offer(self, item: Encoded) -> bool:
        """Send or queue one frame; False (and the client is dropped, once) when it stopped reading."""
        if self.dropped:
            return False
        if self.direct:
            if not item.covered_by(self.sent_up_to):
                self.write(item.framed(self.subprotocol))
            return True
        if self.queue is not None:
            try:
                self.queue.put_nowait(item)
                return True
            except asyncio.QueueFull:
                self.drop()
                return False
        self.backlog.append(item)
        if len(self.backlog) > self.limit:
            self.drop()
            return False
        return True

    def offer_all(self, items: list[Encoded]) -> None:
        for item in items:
            if not self.offer(item):
                return

    def drop(self) -> None:
        if self.dropped:
            return
        self.dropped, self.direct, self.backlog = True, False, []
        logger.warning("dropping a websocket client of %s (%s): it stopped reading", self.site,
                       self.device or ",".join(sorted(self.topics)))
        if self.on_drop is not None:
            self.on_drop()

    # -- what the endpoint and the socket call (writing clients) -----------------------------------
    def go_live(self, first: list[Encoded]) -> None:
        """Write the first frames and whatever was published meanwhile (past ``sent_up_to``) in one go."""
        self.live = True
        self._flush(first)

    def set_writable(self, writable: bool) -> None:
        """The socket paused (its buffers are full) or resumed writing."""
        self.writable = writable
        if not writable:
            self.direct = False
        elif self.live and not self.dropped:
            self._flush(())

    def _flush(self, first) -> None:
        sp, up_to = self.subprotocol, self.sent_up_to
        items, self.backlog = self.backlog, []
        parts = [item.framed(sp) for item in first]
        parts += [item.framed(sp) for item in items if not item.covered_by(up_to)]
        self.direct = self.writable and not self.dropped
        if parts:
            self.write(b"".join(parts))  # may pause writing at once: direct is then False again


class Group:
    """Clients of one site with the same topics and subprotocol: every event reaches all of them or none."""

    __slots__ = ("topics", "subprotocol", "clients")

    def __init__(self, topics: frozenset[str], subprotocol: str):
        self.topics, self.subprotocol = topics, subprotocol
        self.clients: set[Client] = set()


class Snapshot:
    """A snapshot frame shared by the clients that register while it is fresh."""

    __slots__ = ("item", "read_at")

    def __init__(self, item: Encoded, read_at: float):
        self.item, self.read_at = item, read_at
