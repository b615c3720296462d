"""uvicorn's websockets protocol with one addition: the hub may write whole frames to the socket.

``uvicorn.Config(app, ws=FanoutProtocol, ws_per_message_deflate=False)`` (``qserver run`` does). Under
another server, or an older uvicorn, :data:`FanoutProtocol` is None and the endpoint falls back to a
writer task per client.
"""

from __future__ import annotations

import asyncio
import re

__all__ = ["FanoutProtocol", "RAW_FRAMES_EXTENSION"]

#: The scope extension through which :class:`FanoutProtocol` offers itself to the endpoint.
RAW_FRAMES_EXTENSION = "qserver.raw_frames"

try:
    from uvicorn import __version__ as _uvicorn_version
    from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
except ImportError:  # pragma: no cover - another ASGI server, or a uvicorn without it
    _uvicorn_version, WebSocketsSansIOProtocol = "0", None
# uvicorn's sans-I/O protocol pings (dead sockets) since 0.44 and splits "Sec-WebSocket-Protocol: a, b"
# (browsers) since 0.50.1: with an older one, `qserver run` keeps uvicorn's default protocol.
_version = re.match(r"(\d+)\.(\d+)\.(\d+)", _uvicorn_version)
if WebSocketsSansIOProtocol is None or not _version or tuple(map(int, _version.groups())) < (0, 50, 1):
    FanoutProtocol = None
else:
    from uvicorn.protocols.utils import ClientDisconnected

    class _Discard:
        """The receive queue of an adopted socket: nobody receives, what uvicorn puts there is dropped."""

        def put_nowait(self, message) -> None:
            pass

        def empty(self) -> bool:
            return True

    _DISCARD = _Discard()

    class FanoutProtocol(WebSocketsSansIOProtocol):
        """uvicorn's websockets (sans-I/O) protocol that also lets the hub write whole frames.

        ``uvicorn.Config(app, ws=FanoutProtocol, ws_per_message_deflate=False)``. It offers itself to the
        endpoint (``scope["extensions"]["qserver.raw_frames"]``) only when the handshake negotiated no
        extension: then websockets' own framing adds nothing to a server frame, so bytes framed once by
        the hub are valid on every such socket. Everything else (handshake, reading, pings, close) is
        uvicorn's, unchanged.
        """

        #: the hub client's ``set_writable``, told when the socket pauses and resumes writing
        writable_listener = None
        #: after :meth:`adopt`: where the client's messages go, and what to call when the socket is lost
        on_message = None
        on_lost = None

        def adopt(self, on_message, on_lost) -> None:
            """Carry the connection from here on, without the ASGI app (which may return): each message
            goes to ``on_message(text_or_bytes)`` (reading pauses until :meth:`resume_reading_frames`),
            the loss of the socket to ``on_lost()``. What only the app needed is let go: the scope, the
            receive queue. ~10 KiB per socket of a hall display (docs/performance.md)."""
            pending, self.queue = self.queue, _DISCARD
            self.scope = None
            if self.disconnected:  # lost before it was adopted: connection_lost has been and gone
                on_lost()
                return
            self.on_message, self.on_lost = on_message, on_lost
            while not pending.empty():  # messages that came before the adoption, in order
                message = pending.get_nowait()
                if message["type"] == "websocket.receive":
                    on_message(message["text"] if message.get("text") is not None else message["bytes"])

        async def run_asgi(self) -> None:
            """uvicorn's, except that the socket of an app that adopted it stays open when the app returns."""
            try:
                result = await self.app(self.scope, self.receive, self.send)
            except ClientDisconnected:
                pass
            except BaseException:
                self.logger.exception("Exception in ASGI application\n")
                self.send_500_response()
            else:
                if not self.handshake_complete:
                    self.logger.error("ASGI callable returned without completing handshake.")
                    self.send_500_response()
                elif result is not None:
                    self.logger.error("ASGI callable should return None, but returned '%s'.", result)
                elif self.on_message is not None:
                    return  # adopted: the protocol carries the socket now
            if self.close_timer is None:
                self.transport.close()

        def send_receive_event_to_app(self) -> None:
            if self.on_message is None:
                super().send_receive_event_to_app()
                return
            data = self.frames[0] if len(self.frames) == 1 else b"".join(self.frames)
            self.frames = []
            if self.close_sent:
                return
            if self.curr_msg_data_type == "text":
                try:
                    data = data.decode()
                except UnicodeDecodeError:
                    self.logger.exception("Invalid UTF-8 sequence received from client.")
                    self.conn.send_close(1007)
                    self.handle_parser_exception()
                    return
            if not self.read_paused:  # as uvicorn does: one message at a time
                self.read_paused = True
                self.transport.pause_reading()
            self.on_message(data)

        def resume_reading_frames(self) -> None:
            """The adopted socket's message was handled: read the next."""
            if self.read_paused and not self.disconnected:
                self.read_paused = False
                self.transport.resume_reading()

        async def close_adopted(self, code: int, reason: str, timeout_s: float = 2.0) -> None:
            """Send a close frame (within ``timeout_s``, or cut the connection)."""
            try:
                await asyncio.wait_for(self.send({"type": "websocket.close", "code": code, "reason": reason[:120]}),
                                       timeout_s)
            except Exception:
                self.abort()

        def connection_lost(self, exc) -> None:
            super().connection_lost(exc)
            if self.on_lost is not None:
                on_lost, self.on_lost, self.on_message = self.on_lost, None, None
                self.writable_listener = None
                on_lost()

        def handle_connect(self, event) -> None:
            super().handle_connect(event)
            scope = getattr(self, "scope", None)
            if scope is not None and not self.conn.extensions:
                scope["extensions"][RAW_FRAMES_EXTENSION] = {"protocol": self}

        def start_keepalive(self) -> None:
            super().start_keepalive()  # called once the handshake response is written:
            self.request = self.response = None  # ~3 KiB of headers per connection not needed again

        def write_frames(self, data: bytes) -> bool:
            """Write already framed server frames; False once the connection is closing."""
            if self.close_sent or self.disconnected or self.transport.is_closing():
                return False
            self.transport.write(data)
            return True

        def abort(self) -> None:
            if self.transport is not None and not self.transport.is_closing():
                self.transport.abort()

        def pause_writing(self) -> None:
            super().pause_writing()
            if self.writable_listener is not None:
                self.writable_listener(False)

        def resume_writing(self) -> None:
            super().resume_writing()
            if self.writable_listener is not None:
                self.writable_listener(True)
