"""What a websocket client sends: acks, pads' commands, pings, one frame at a time, in order.

:func:`handle_frame` is the one place that decides what a client's frame does; the endpoint's reader
loop calls it (any ASGI server), and so does :class:`Inbox`, which handles the frames of a socket the
protocol carries after the handshake (``qserver run``: no task per socket while it is quiet).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from ..exceptions import InvalidField, QServerError, Unauthorized
from ..present import present_counter, present_ticket
from ..protocol import PAD_ACTIONS, ProtocolError, decode
from .clients import Client
from .frames import Encoded

__all__ = ["handle_frame", "Inbox"]

logger = logging.getLogger(__name__)

#: A close to send: (code, reason), or None to go on.
Close = tuple[int, str] | None


async def handle_frame(engine, client: Client, grant, data: bytes | str) -> Close:
    """Handle one frame of a client; a close (code, reason) for a frame that ends the connection."""
    try:
        frame = decode(data, client.subprotocol)
    except ProtocolError as exc:
        return 1003, str(exc)[:120]
    kind = frame["type"]
    if kind == "ack":
        if isinstance(frame.get("event_id"), str):
            await engine.record_ack(client.device or "anonymous", frame["event_id"])
    elif kind == "command":
        client.offer(Encoded(await _command(engine, grant, frame)))
    elif kind == "ping":
        client.offer(Encoded({"type": "pong", "event_id": None}))
    else:
        return 1003, f"unknown frame type {kind!r}"
    return None


async def _command(engine, grant, frame: dict[str, Any]) -> dict[str, Any]:
    """Run a counter pad's command with the connection's token; answer a ``result`` frame."""
    key = frame.get("key")
    result: dict[str, Any] = {"type": "result", "event_id": None, "key": key}
    try:
        counter, action = frame.get("counter"), frame.get("action")
        if grant is None:
            raise Unauthorized("Cần mã truy cập của quầy. / A counter token is required for commands.")
        if not isinstance(counter, str) or action not in PAD_ACTIONS:
            raise InvalidField(f"'counter' must be a string and 'action' one of {', '.join(PAD_ACTIONS)}")
        engine.counter(counter)
        grant.require(engine.site.slug, "officer", "manager", counter=counter)
        answer = await engine.counter_action(counter, action, actor=grant.actor(), key=key)
        result.update(ok=True, status=answer["status"], ticket=None)
        if answer.get("ticket"):
            result["ticket"] = present_ticket(engine.site, answer["ticket"])
        if answer.get("counter"):
            result["counter"] = present_counter(engine.site, answer["counter"])
    except QServerError as exc:
        result.update(ok=False, status=exc.status, error={"code": exc.code, "message": exc.message})
    return result


class Inbox:
    """The frames of one socket, handled in arrival order by a task that runs only while frames wait.

    ``close(code, reason)`` is awaited when a frame ends the connection (1003); a frame whose handling
    fails (Redis unreachable for an ack) is logged and ``fail()`` cuts the connection, as uvicorn does
    when an endpoint fails. Nothing more is handled after either. ``resume()`` is called once every
    frame that came is handled (the protocol reads one message at a time, as uvicorn does).
    """

    __slots__ = ("engine", "client", "grant", "close", "fail", "resume", "_waiting", "_task", "_closed")

    def __init__(self, engine, client: Client, grant, close: Callable[[int, str], Awaitable[None]],
                 fail: Callable[[], None], resume: Callable[[], None]):
        self.engine, self.client, self.grant = engine, client, grant
        self.close, self.fail, self.resume = close, fail, resume
        self._waiting: deque | None = None  # made when a frame comes, dropped when all are handled
        self._task: asyncio.Task | None = None
        self._closed = False

    def feed(self, data: bytes | str) -> None:
        """A frame arrived (called by the protocol, outside any task)."""
        if self._closed:
            return
        if self._waiting is None:
            self._waiting = deque()
        self._waiting.append(data)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._drain())

    def stop(self) -> None:
        """The connection is gone: drop what waits, cancel what runs."""
        self._closed = True
        self._waiting = None
        if self._task is not None:
            self._task.cancel()

    async def _drain(self) -> None:
        try:
            while self._waiting and not self._closed:
                close = await handle_frame(self.engine, self.client, self.grant, self._waiting.popleft())
                if close is not None:
                    self._closed = True
                    await self.close(*close)
        except asyncio.CancelledError:
            raise
        except Exception:
            self._closed = True
            logger.exception("a frame of a websocket client of %s failed; closing it", self.client.site)
            self.fail()
        finally:
            self._task = None
            if self._closed or not self._waiting:
                self._waiting = None
            if not self._closed:
                self.resume()
