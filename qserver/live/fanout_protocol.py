"""uvicorn's websockets protocol with one addition: the hub may write whole frames to the socket.

``uvicorn.Config(app, ws=FanoutProtocol, ws_per_message_deflate=False)`` (``qserver run`` does). Under
another server, or an older uvicorn, :data:`FanoutProtocol` is None and the endpoint falls back to a
writer task per client.
"""

from __future__ import annotations

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
