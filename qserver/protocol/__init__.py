"""The websocket protocol shared by qserver and its device clients (pads, announcers).

Every frame is a map with a ``type``. Server frames also carry ``event_id``: the id of the site's
stream entry they come from (``None`` for frames that are not stream events, such as ``result``).
The same maps travel as JSON text frames (``qs.v1.json``) or msgpack binary frames (``qs.v1.msgpack``).

This module is imported by ``counter_pad`` and ``announcer``: keep it free of server imports.
"""

from __future__ import annotations

from typing import Any

import msgpack
import orjson

__all__ = [
    "SUBPROTOCOL_JSON",
    "SUBPROTOCOL_MSGPACK",
    "SUBPROTOCOLS",
    "PAD_ACTIONS",
    "ProtocolError",
    "encode",
    "decode",
    "parse_stream_id",
    "next_since",
    "topics_for_event",
]

SUBPROTOCOL_JSON = "qs.v1.json"
SUBPROTOCOL_MSGPACK = "qs.v1.msgpack"
SUBPROTOCOLS = (SUBPROTOCOL_JSON, SUBPROTOCOL_MSGPACK)

#: Actions a counter pad may send in a ``command`` frame.
PAD_ACTIONS = ("call-next", "recall", "no-show", "complete", "pause", "resume")


class ProtocolError(ValueError):
    """A frame that is not a map with a string ``type``, or not valid JSON/msgpack."""


def parse_stream_id(text: str) -> tuple[int, int]:
    """An ``event_id`` (a Redis stream id) as a comparable pair: ``"1732450000000-3"`` → (1732450000000, 3).

    Raises ValueError for anything else. Event ids of one site grow with every event.
    """
    ms, _, seq = text.partition("-")
    if not ms.isdigit() or not (seq.isdigit() or seq == ""):
        raise ValueError(f"not an event id: {text!r}")
    return int(ms), int(seq or 0)


def next_since(since: str | None, frame: dict[str, Any]) -> str | None:
    """Where a client resumes (its ``since``) once it has handled ``frame``.

    A stream event or a snapshot: its ``event_id``. A heartbeat: its ``up_to`` (the last event id the
    server fanned out for the site; every event of the client's topics up to it came before the
    heartbeat) when that is later, so a client whose topics are quiet keeps a fresh ``since``.
    Anything else (``result``, ``pong``) leaves it as it was.
    """
    kind = frame.get("type")
    if kind == "heartbeat":
        up_to = frame.get("up_to")
        if not isinstance(up_to, str):
            return since
        try:
            later = since is None or parse_stream_id(up_to) > parse_stream_id(since)
        except ValueError:
            return since
        return up_to if later else since
    event_id = frame.get("event_id")
    if isinstance(event_id, str) and event_id and kind != "result":
        return event_id
    return since


def encode(frame: dict[str, Any], subprotocol: str) -> bytes | str:
    """Encode one frame: ``str`` for the JSON subprotocol, ``bytes`` for msgpack."""
    if subprotocol == SUBPROTOCOL_MSGPACK:
        return msgpack.packb(frame, use_bin_type=True)
    return orjson.dumps(frame).decode()  # compact UTF-8, as json.dumps(ensure_ascii=False) but ~5× faster


def decode(data: bytes | str, subprotocol: str) -> dict[str, Any]:
    """Decode one frame and check it is a map with a string ``type``."""
    try:
        if subprotocol == SUBPROTOCOL_MSGPACK:
            if not isinstance(data, (bytes, bytearray)):
                raise ProtocolError("msgpack subprotocol expects binary frames")
            frame = msgpack.unpackb(data, raw=False, strict_map_key=True)
        else:
            frame = orjson.loads(data)  # str or UTF-8 bytes; invalid UTF-8 is a JSONDecodeError
    except ProtocolError:
        raise
    except Exception as exc:  # malformed bytes of any kind
        raise ProtocolError(f"undecodable frame: {exc}") from exc
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
        raise ProtocolError("a frame must be a map with a string 'type'")
    return frame


def topics_for_event(event: dict[str, Any]) -> set[str]:
    """The topics an event is delivered to (a client subscribed to any of them receives it once).

    A call goes to the floor where the ticket's agency waits and, when different, to the counter's
    floor too.
    """
    if event.get("type") in ("access", "webhook_test"):
        return set()  # changes of tokens and users, webhook tests: for the audit trail, never for a screen
    topics = {"site"}
    ticket = event.get("ticket")
    if isinstance(ticket, dict):
        topics.add(f"ticket:{ticket['id']}")
        topics.add(f"agency:{ticket['agency']}")
        topics.add(f"floor:{ticket['floor']}")
    for agency in event.get("agencies", ()):
        topics.add(f"agency:{agency}")
    for agency in event.get("waiting", ()):  # queue events: every agency whose count changed
        topics.add(f"agency:{agency}")
    if event.get("agency"):
        topics.add(f"agency:{event['agency']}")
    if event.get("from_agency"):
        topics.add(f"agency:{event['from_agency']}")
    counter = event.get("counter")
    if isinstance(counter, dict):
        topics.add(f"counter:{counter['id']}")
        topics.add(f"floor:{counter['floor']}")
    elif counter is not None:
        topics.add(f"counter:{counter}")
    if event.get("counter_floor") is not None:
        topics.add(f"floor:{event['counter_floor']}")
    for floor in event.get("floors", ()):
        topics.add(f"floor:{floor}")
    if event.get("floor") is not None:
        topics.add(f"floor:{event['floor']}")
    return topics
