"""The ``/ws`` endpoint: subscribe, first frames, then a writer task and a reader loop per client.

Close codes: 1003 an undecodable frame, 1008 a client that stopped reading (dropped), 1011 Redis
unreachable while preparing the first frames, 4400 a bad query (unknown topic, bad ``since``),
4401 a bad token, 4404 an unknown site.

Run under uvicorn with ``ws=FanoutProtocol`` (:mod:`.fanout_protocol`; ``qserver run`` does): the hub
then writes each client's frames straight to its socket, one write per stream read (see :mod:`.hub`),
and once the first frames are out the endpoint returns and the protocol carries the socket, handing
the client's frames to an :class:`~.incoming.Inbox`: no task, coroutine or scope is held per display.
Under any other server the endpoint falls back to a writer task and a reader loop per client.
"""

from __future__ import annotations

import asyncio
import logging
import re

from redis.exceptions import RedisClusterException, RedisError
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from ..exceptions import QServerError
from ..protocol import SUBPROTOCOL_JSON
from .clients import Client
from .fanout_protocol import RAW_FRAMES_EXTENSION, FanoutProtocol
from .hub import Hub, choose_subprotocol
from .incoming import Inbox, handle_frame

__all__ = ["routes"]

logger = logging.getLogger(__name__)

TOPIC_RE = re.compile(r"^(site|floor:-?\d{1,3}|agency:[a-z0-9-]{1,63}|counter:[A-Za-z0-9-]{1,16}|ticket:[A-Za-z0-9-]{1,40})$")
STREAM_ID_RE = re.compile(r"^\d{1,20}-\d{1,20}$")


async def _refuse(websocket: WebSocket, code: int, reason: str, subprotocol: str | None) -> None:
    await websocket.accept(subprotocol=subprotocol)
    await websocket.close(code=code, reason=reason[:120])


def _check_topics(site, topics: list[str]) -> str | None:
    """An error sentence for the first topic that is malformed or names nothing of the site."""
    for topic in topics:
        if not TOPIC_RE.match(topic):
            return f"unknown topic {topic!r}"
        kind, _, value = topic.partition(":")
        if kind == "floor" and int(value) not in site.floor_by_number:
            return f"floor {value} is not configured for site '{site.slug}'"
        if kind == "agency" and value not in site.agency_by_slug:
            return f"agency '{value}' is not configured for site '{site.slug}'"
        if kind == "counter" and value not in site.counter_by_id:
            return f"counter '{value}' is not configured for site '{site.slug}'"
    return None


async def ws_endpoint(websocket: WebSocket) -> None:
    app = websocket.app
    hub: Hub = app.state.hub
    query = websocket.query_params
    chosen = choose_subprotocol(list(websocket.scope.get("subprotocols") or []))
    subprotocol = chosen or SUBPROTOCOL_JSON
    accept_as = chosen or None
    if chosen == "":
        await _refuse(websocket, 4400, "unsupported subprotocol; use qs.v1.json or qs.v1.msgpack", None)
        return
    slug = query.get("site", "")
    site = app.state.sites.get(slug)
    if site is None:
        await _refuse(websocket, 4404, f"site '{slug}' not found", accept_as)
        return
    topics = [t.strip() for t in query.get("topics", "site").split(",") if t.strip()] or ["site"]
    problem = _check_topics(site, topics)
    since = query.get("since") or None
    if since is not None and not STREAM_ID_RE.match(since):
        problem = problem or f"'since' {since!r} is not an event id"
    if problem:
        await _refuse(websocket, 4400, problem, accept_as)
        return
    grant = None
    if query.get("token"):
        try:
            grant = await app.state.auth.grant(query["token"])
        except QServerError as exc:
            await _refuse(websocket, 4401, exc.message, accept_as)
            return
        except (RedisError, RedisClusterException, OSError) as exc:  # the token unreadable now: not a bad token
            logger.warning("cannot read a token for a client of %s: %r", slug, exc)
            await _refuse(websocket, 1011, "redis unreachable", accept_as)
            return
    device = (query.get("device") or "")[:64] or None

    protocol = _fanout_protocol(websocket)
    await websocket.accept(subprotocol=accept_as)
    client = hub.new_client(slug, frozenset(topics), subprotocol, device,
                            write=protocol.write_frames if protocol is not None else None)
    hub.register(client)
    writer: asyncio.Task | None = None

    def drop() -> None:
        """The client stopped reading: forget it now; close its socket (or cut it when even the
        close frame cannot go out)."""
        if writer is not None:
            writer.cancel()
        hub.unregister(client)
        asyncio.get_running_loop().create_task(_close_quietly(websocket, 1008, "client stopped reading", protocol))

    client.on_drop = drop  # before the first frames: what is published meanwhile may already overflow
    adopted = False
    try:
        try:
            first = await hub.first_frames(client, since)
        except Exception as exc:
            logger.warning("cannot prepare the first frames for a client of %s: %s (%r)", slug, exc, exc.__cause__)
            await websocket.close(code=1011, reason="redis unreachable")
            return
        if protocol is not None:
            protocol.writable_listener = client.set_writable
            client.go_live(first)
            _adopt(protocol, hub, client, app.state.engines[slug], grant)
            adopted = True
            return  # the protocol carries the socket: no task, coroutine or scope held per display
        else:
            for item in first:
                await _send(websocket, item.message(subprotocol))
            writer = asyncio.create_task(_write(websocket, client))
        del first  # a long replay is not kept for the life of the connection
        close = await _read(websocket, client, grant)  # the reader runs in this task: one task fewer per client
        if writer is not None:
            writer.cancel()
        if close:
            await _close_quietly(websocket, *close)
    except WebSocketDisconnect:
        pass
    finally:
        if not adopted:
            hub.unregister(client)
            if writer is not None:
                writer.cancel()
            if protocol is not None:
                protocol.writable_listener = None


def _adopt(protocol: "FanoutProtocol", hub: Hub, client: Client, engine, grant) -> None:
    """Hand the socket to its protocol: frames to an :class:`Inbox`, the loss and drops to the hub."""
    inbox = Inbox(engine, client, grant, close=protocol.close_adopted, fail=protocol.abort,
                  resume=protocol.resume_reading_frames)

    def lost() -> None:
        inbox.stop()
        hub.unregister(client)

    def drop() -> None:
        """The client stopped reading: forget it now; close its socket (or cut it)."""
        lost()
        asyncio.get_running_loop().create_task(protocol.close_adopted(1008, "client stopped reading"))

    client.on_drop = drop
    protocol.adopt(inbox.feed, lost)


def _fanout_protocol(websocket: WebSocket) -> "FanoutProtocol | None":
    """The connection's :class:`FanoutProtocol` when the server runs it and the hub may write frames."""
    offered = (websocket.scope.get("extensions") or {}).get(RAW_FRAMES_EXTENSION)
    return offered.get("protocol") if offered else None


async def _send(websocket: WebSocket, data: bytes | str) -> None:
    if isinstance(data, bytes):
        await websocket.send_bytes(data)
    else:
        await websocket.send_text(data)


async def _close_quietly(websocket: WebSocket, code: int, reason: str,
                         protocol: "FanoutProtocol | None" = None) -> None:
    try:
        await asyncio.wait_for(websocket.close(code=code, reason=reason), timeout=2)
    except Exception:
        if protocol is not None:
            protocol.abort()  # the close frame cannot go out either: free what the socket holds now


async def _write(websocket: WebSocket, client: Client) -> None:
    """The writer of a client the hub cannot write to: one frame at a time through the ASGI server.

    No round robin (``sleep(0)`` between frames): it made every client get the ``completed`` frame
    of a call-next before anyone got the ``called`` one (per-socket p50 36 ms instead of 25-28 ms at
    1,000 sockets), for no gain on the time until every socket had the call.
    """
    queue = client.queue
    while True:
        item = await queue.get()
        if not item.covered_by(client.sent_up_to):
            await _send(websocket, item.message(client.subprotocol))


async def _read(websocket: WebSocket, client: Client, grant) -> tuple[int, str] | None:
    """Handle ack and command frames until the client leaves; returns a close (code, reason) or None."""
    engine = websocket.app.state.engines[client.site]
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return None
        data = message.get("bytes") if message.get("bytes") is not None else message.get("text")
        close = await handle_frame(engine, client, grant, data)
        if close is not None:
            return close


routes = [WebSocketRoute("/ws", ws_endpoint)]
