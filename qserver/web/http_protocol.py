"""uvicorn's HTTP protocol (httptools) with a deadline for the request headers.

uvicorn closes a keep-alive connection that stays idle after a response, but not one that never sends
a request, or sends its headers a byte a minute: thousands of such sockets would hold descriptors
until the server can accept no display or kiosk. Here a connection that has not completed a request's
headers ``HEADERS_TIMEOUT_S`` after it opened (or after the previous response) is closed.
``qserver run`` uses it (``uvicorn.Config(http=GuardedHttpProtocol)``); None when httptools is missing.
"""

from __future__ import annotations

__all__ = ["GuardedHttpProtocol", "HEADERS_TIMEOUT_S"]

#: How long a connection may take to send a request's headers.
HEADERS_TIMEOUT_S = 10.0

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - uvicorn without httptools
    GuardedHttpProtocol = None
else:
    class GuardedHttpProtocol(HttpToolsProtocol):
        headers_timeout_s = HEADERS_TIMEOUT_S
        _headers_deadline = None

        def _arm(self) -> None:
            self._disarm()
            self._headers_deadline = self.loop.call_later(self.headers_timeout_s, self._headers_too_slow)

        def _disarm(self) -> None:
            if self._headers_deadline is not None:
                self._headers_deadline.cancel()
                self._headers_deadline = None

        def _headers_too_slow(self) -> None:
            self._headers_deadline = None
            if self.transport is not None and not self.transport.is_closing():
                self.transport.close()

        def connection_made(self, transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._arm()

        def on_headers_complete(self) -> None:
            self._disarm()
            super().on_headers_complete()

        def connection_lost(self, exc) -> None:
            self._disarm()
            super().connection_lost(exc)
