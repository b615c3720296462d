"""Frames encoded once: a stream event (or any server frame) as a message per subprotocol, and as the
bytes of an unmasked websocket frame that every client of that subprotocol can be sent as they are."""

from __future__ import annotations

import struct
from typing import Any

from ..protocol import SUBPROTOCOL_MSGPACK, encode, parse_stream_id

__all__ = ["Encoded", "ws_frame", "ZERO_ID"]

#: The event id before every event.
ZERO_ID = (0, 0)


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


class Encoded:
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

    def covered_by(self, sent_up_to: tuple[int, int]) -> bool:
        """True for a stream event at or before ``sent_up_to`` (a client's first frames carried it)."""
        return self.event_id is not None and self.event_id <= sent_up_to
