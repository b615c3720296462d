"""The gate every HTTP request passes, before any handler: bounded bodies, anonymous reads limited per
client address, and the security headers on every answer.

- A body over ``max_body_bytes`` (64 KiB) is refused with 413 before it is read: at once when its
  ``Content-Length`` says so, and as soon as the stream passes the limit when it is chunked.
- An anonymous ``GET``/``HEAD`` (no ``Authorization``) counts against ``limit_reads_per_address``;
  ``/healthz`` and ``/metrics`` (monitoring) do not. Websockets are bounded by the hub, not here.
- Every answer says ``nosniff``, ``no-referrer`` (tokens in kiosk URLs must not leak to other sites)
  and may be framed by the same origin only; HTML pages also carry the Content-Security-Policy they keep
  (scripts and styles from the server only, connections to the server's websockets). The kiosk page
  alone may also connect to its print agent on the kiosk PC (:func:`page_policy` with that origin).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..exceptions import QServerError, TooLarge
from .http import json_response

__all__ = ["Guard", "SECURITY_HEADERS", "PAGE_POLICY", "page_policy"]

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "SAMEORIGIN",
}


def page_policy(*connect: str) -> str:
    """The Content-Security-Policy of a page; ``connect`` adds origins it may fetch from (the kiosk's
    print agent, ``http://127.0.0.1:8089``), nothing else."""
    extra = "".join(f" {origin}" for origin in connect)
    return ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            f"font-src 'self'; connect-src 'self' ws: wss:{extra}; frame-ancestors 'self'; base-uri 'none'; "
            "form-action 'self'; object-src 'none'")


PAGE_POLICY = page_policy()
UNLIMITED_PATHS = ("/healthz", "/metrics")


def _too_large(limit: int) -> TooLarge:
    return TooLarge(f"Dữ liệu gửi lên quá lớn (tối đa {limit // 1024} KiB). / The body is over {limit} bytes.")


class Guard:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int):
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _with_security_headers(send)
        length, chunked, authorized = None, False, False
        for name, value in scope["headers"]:  # one pass; ASGI header names are lowercase
            if name == b"content-length":
                length = value
            elif name == b"transfer-encoding":
                chunked = True
            elif name == b"authorization":
                authorized = True
        try:
            size = int(length) if length is not None else 0
        except ValueError:
            size, length = 0, None
        try:
            if size > self.max_body_bytes:
                raise _too_large(self.max_body_bytes)
            limits = getattr(scope["app"].state, "limits", None)  # None before the lifespan started
            if limits is not None and not authorized and scope["method"] in ("GET", "HEAD") \
                    and scope["path"] not in UNLIMITED_PATHS:
                client = (scope.get("client") or ("unknown", 0))[0]
                await limits.check(limits.reads_per_address, "read", client,
                                   "Quá nhiều yêu cầu từ địa chỉ này.")
        except QServerError as exc:
            response = json_response(exc.body(), exc.status,
                                     {"Retry-After": str(exc.details["retry_after_s"])}
                                     if "retry_after_s" in exc.details else None)
            await response(scope, receive, send)
            return
        # A body of a Content-Length within the limit cannot pass it (the HTTP parser holds it to the
        # length); a chunked one, or one of no stated length, is counted as it arrives.
        await self.app(scope, self._bounded(receive) if length is None or chunked else receive, send)

    def _bounded(self, receive: Receive) -> Receive:
        """A receive that stops a chunked body at the limit (the handler answers 413)."""
        seen = 0
        limit = self.max_body_bytes

        async def bounded() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _too_large(limit)
            return message

        return bounded


#: The security headers as ASGI raw headers (lowercase names), added where an answer lacks them.
_SECURITY_RAW = tuple((name.lower().encode(), value.encode()) for name, value in SECURITY_HEADERS.items())
_POLICY_RAW = (b"content-security-policy", PAGE_POLICY.encode())


def _with_security_headers(send: Send) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers") or ())
            names = {name.lower() for name, _ in headers}
            headers += [header for header in _SECURITY_RAW if header[0] not in names]
            if b"content-security-policy" not in names and any(
                    name.lower() == b"content-type" and value.startswith(b"text/html") for name, value in headers):
                headers.append(_POLICY_RAW)
            message["headers"] = headers
        await send(message)

    return sending
