"""A device's link to qserver: one websocket that reconnects forever and resumes with ``since``.

Used by the counter pad and the announcer (third-party devices can copy it: it depends only on the
public protocol). The link remembers the last stream event id it delivered (or a heartbeat's ``up_to``,
see :func:`qserver.protocol.next_since`) and asks for ``since=<id>`` when it reconnects, so a device
sees every event exactly once across server restarts.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Iterator
from typing import Any
from urllib.parse import urlencode

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from . import SUBPROTOCOL_MSGPACK, ProtocolError, decode, encode, next_since

__all__ = ["Link", "NotConnected", "backoff_delays"]

logger = logging.getLogger(__name__)

FrameHandler = Callable[[dict[str, Any]], Awaitable[None]]
StateHandler = Callable[[bool], Any]


class NotConnected(ConnectionError):
    """The link is down; the frame was not sent."""


def backoff_delays(initial_s: float = 0.5, maximum_s: float = 30.0, factor: float = 1.8,
                   jitter: float = 0.3) -> Iterator[float]:
    """Jittered exponential delays, capped: 0.5, 0.9, 1.6 ... 30, 30 ... (each ±jitter)."""
    delay = initial_s
    while True:
        yield delay * (1 + random.uniform(-jitter, jitter)) if delay else 0.0
        delay = min(maximum_s, delay * factor)


class Link:
    """Keeps one websocket to ``/ws`` open forever and hands every decoded frame to ``on_frame``."""

    def __init__(self, base_url: str, *, site: str, topics: list[str], token: str | None = None,
                 device: str | None = None, subprotocol: str = SUBPROTOCOL_MSGPACK,
                 backoff: Callable[[], Iterator[float]] = backoff_delays,
                 on_state: StateHandler | None = None, open_timeout_s: float = 5.0,
                 ping_interval_s: float | None = 10.0):
        self.base_url = base_url.rstrip("/")
        self.site, self.topics, self.token, self.device = site, list(topics), token, device
        self.subprotocol = subprotocol
        self.backoff = backoff
        self.on_state = on_state
        self.open_timeout_s = open_timeout_s
        self.ping_interval_s = ping_interval_s
        self.last_event_id: str | None = None
        self.connected = asyncio.Event()
        self._ws = None

    def url(self) -> str:
        """The websocket URL for the next connection (with ``since`` once an event was seen)."""
        query = {"site": self.site, "topics": ",".join(self.topics)}
        if self.last_event_id:
            query["since"] = self.last_event_id
        if self.token:
            query["token"] = self.token
        if self.device:
            query["device"] = self.device
        base = self.base_url.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
        return f"{base}/ws?{urlencode(query)}"

    async def send(self, frame: dict[str, Any]) -> None:
        """Send one frame now, or raise :class:`NotConnected`."""
        ws = self._ws
        if ws is None or not self.connected.is_set():
            raise NotConnected("not connected to qserver")
        try:
            await ws.send(encode(frame, self.subprotocol))
        except WebSocketException as exc:
            raise NotConnected(str(exc)) from exc

    async def run(self, on_frame: FrameHandler) -> None:
        """Connect, deliver frames, reconnect after any failure; returns only when cancelled."""
        delays = self.backoff()
        while True:
            try:
                async with connect(self.url(), subprotocols=[self.subprotocol],
                                   open_timeout=self.open_timeout_s,
                                   ping_interval=self.ping_interval_s,
                                   ping_timeout=self.ping_interval_s, max_size=2**22) as ws:
                    self._ws = ws
                    self._set_state(True)
                    delays = self.backoff()  # a good connection resets the backoff
                    async for data in ws:
                        try:
                            frame = decode(data, self.subprotocol)
                        except ProtocolError:
                            logger.warning("ignoring an undecodable frame from qserver")
                            continue
                        await on_frame(frame)
                        # Remember the id only after the frame was handled: a crash in between
                        # replays it rather than losing it. Heartbeats move it on too (``up_to``).
                        self.last_event_id = next_since(self.last_event_id, frame)
            except asyncio.CancelledError:
                raise
            except ConnectionClosed as exc:
                code = exc.rcvd.code if exc.rcvd else None
                if code is not None and 4400 <= code < 4500:
                    # qserver refused the subscription (bad token, topic or site): a configuration
                    # problem someone must fix on either side; say so loudly, retry slowly.
                    logger.error("qserver refused the link (%s %s); retrying in 30 s", code, exc.rcvd.reason)
                    delays = iter(lambda: 30.0, None)
                else:
                    logger.info("link to %s down: %s", self.base_url, exc)
            except (OSError, WebSocketException, asyncio.TimeoutError) as exc:
                logger.info("link to %s down: %s", self.base_url, exc)
            except Exception:
                logger.exception("link to %s failed; reconnecting", self.base_url)
            finally:
                self._ws = None
                self._set_state(False)
            await asyncio.sleep(next(delays))

    def _set_state(self, up: bool) -> None:
        if up == self.connected.is_set():
            return
        if up:
            self.connected.set()
        else:
            self.connected.clear()
        if self.on_state is not None:
            self.on_state(up)
