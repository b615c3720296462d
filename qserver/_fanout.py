"""The pieces of the fan-out a client is made of: stream ids, events encoded and framed once,
the per-client backlog with its bounds, and the groups and snapshots the hub shares between clients.
Used by :mod:`qserver.hub` and :mod:`qserver.ws` only."""

from __future__ import annotations

import asyncio
import logging
import struct
import time
from typing import Any, Callable

from .protocol import SUBPROTOCOL_MSGPACK, encode

logger = logging.getLogger("qserver.hub")

_ZERO_ID = (0, 0)


def parse_stream_id(text: str) -> tuple[int, int]:
    """``"1732450000000-3"`` → (1732450000000, 3); raises ValueError for anything else."""
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


def ws_frame(payload: bytes, binary: bool) -> bytes:
    """One whole, unmasked server frame around ``payload`` (RFC 6455 section 5.2)."""
    first = 0x82 if binary else 0x81
    size = len(payload)
    if size < 126:
        head = struct.pack("!BB", first, size)
    elif size < 65536:
        head = struct.pack("!BBH", first, 126, size)
    else:
        head = struct.pack("!BBQ", first, 127, size)
    return head + payload


class _Encoded:
    """One frame encoded lazily once per subprotocol (as a message, and as websocket frame bytes)."""

    __slots__ = ("frame", "event_id", "_messages", "_frames")

    def __init__(self, frame: dict[str, Any]):
        self.frame = frame
        event_id = frame.get("event_id")
        #: None for frames that are not stream events (heartbeat, result, pong): never skipped
        self.event_id = parse_stream_id(event_id) if event_id else None
        self._messages: dict[str, bytes | str] = {}
        self._frames: dict[str, bytes] = {}

    def message(self, subprotocol: str) -> bytes | str:
        data = self._messages.get(subprotocol)
        if data is None:
            data = self._messages[subprotocol] = encode(self.frame, subprotocol)
        return data

    def framed(self, subprotocol: str) -> bytes:
        data = self._frames.get(subprotocol)
        if data is None:
            message = self.message(subprotocol)
            binary = subprotocol == SUBPROTOCOL_MSGPACK
            data = self._frames[subprotocol] = ws_frame(message if binary else message.encode(), binary)
        return data


class Client:
    """One websocket subscriber as the hub sees it.

    With ``raw`` (a ``write_frames(bytes) -> bool`` of the socket) the hub writes frame bytes itself;
    without it, frames go to ``queue`` for the endpoint's writer task.
    """

    __slots__ = ("site", "topics", "subprotocol", "device", "floor", "sent_up_to", "dropped", "connected_at",
                 "on_drop", "queue", "raw", "backlog", "limit", "live", "writable", "direct", "registered_after")

    def __init__(self, site: str, topics: frozenset[str], subprotocol: str, *, limit: int,
                 device: str | None = None, floor: int | None = None,
                 raw: Callable[[bytes], bool] | None = None):
        self.site, self.topics, self.subprotocol, self.device, self.floor = site, topics, subprotocol, device, floor
        #: events up to this id were already sent (snapshot or replay); later ones only
        self.sent_up_to: tuple[int, int] = _ZERO_ID
        #: the last event id fanned out when the client registered: its first frames must cover it
        self.registered_after: tuple[int, int] = _ZERO_ID
        self.dropped = False
        self.connected_at = time.time()
        #: called once when the hub drops the client (the endpoint closes the socket)
        self.on_drop: Callable[[], None] | None = None
        self.limit = limit
        self.raw = raw
        self.queue: asyncio.Queue | None = None if raw is not None else asyncio.Queue(limit)
        #: raw clients: frames waiting for the first frames to go out, or for the socket to drain
        self.backlog: list[_Encoded] = []
        self.live = False          # raw: first frames written
        self.writable = True       # raw: the socket is not paused
        self.direct = False        # raw, live, writable, not dropped: write at once

    # -- what the hub calls -----------------------------------------------------------------------
    def offer(self, item: _Encoded) -> bool:
        """Send or queue one frame; False (and the client is dropped, once) when it stopped reading."""
        if self.dropped:
            return False
        if self.direct:
            if item.event_id is None or item.event_id > self.sent_up_to:
                self.raw(item.framed(self.subprotocol))
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

    def offer_all(self, items: list[_Encoded]) -> None:
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

    # -- what the endpoint and the socket call (raw clients) --------------------------------------
    def go_live(self, first: list[_Encoded]) -> None:
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
        parts += [item.framed(sp) for item in items if item.event_id is None or item.event_id > up_to]
        self.direct = self.writable and not self.dropped
        if parts:
            self.raw(b"".join(parts))  # may pause writing at once: direct is then False again


class _Group:
    """Clients of one site with the same topics and subprotocol: every event reaches all of them or none."""

    __slots__ = ("key", "topics", "subprotocol", "clients")

    def __init__(self, key: tuple, topics: frozenset[str], subprotocol: str):
        self.key, self.topics, self.subprotocol = key, topics, subprotocol
        self.clients: set[Client] = set()


class _Snapshot:
    __slots__ = ("item", "read_at")

    def __init__(self, item: _Encoded, read_at: float):
        self.item, self.read_at = item, read_at


def encoded(frame: dict[str, Any]) -> _Encoded:
    """A frame of one client only (a command's result, a pong), ready to offer."""
    return _Encoded(frame)


def frame_message(item: _Encoded, client: Client) -> bytes | str | None:
    """What a writer task sends for a queued item, or None to skip it (already covered by the first frames)."""
    if item.event_id is not None and item.event_id <= client.sent_up_to:
        return None
    return item.message(client.subprotocol)
