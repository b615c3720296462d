"""What every HTTP handler shares: JSON answers, the body, the token, the site's engine, error bodies."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from ..auth import Grant
from ..engine import SiteEngine
from ..exceptions import BadRequest, InvalidField, NotFound, QServerError, RateLimited, Unavailable, unknown_site

__all__ = ["json_response", "read_body", "bearer", "grant_of", "engine_of", "optional_str", "error_response",
           "http_error_response"]


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    # orjson: the compact UTF-8 of json.dumps(ensure_ascii=False), a few times faster; int keys as strings
    body = orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)
    return Response(body, status_code=status, media_type="application/json", headers=headers)


async def read_body(request: Request) -> dict[str, Any]:
    """The JSON object of the body; ``{}`` when there is none."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = orjson.loads(raw)
    except ValueError:  # orjson.JSONDecodeError, invalid UTF-8 included
        raise BadRequest("Nội dung gửi lên không phải JSON hợp lệ. / The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise InvalidField("Nội dung phải là một đối tượng JSON. / The body must be a JSON object.")
    return data


def bearer(request: Request) -> str | None:
    """The token of the ``Authorization: Bearer`` header (the first one), or None."""
    # the raw ASGI headers (lowercase names): cheaper than building request.headers on every request
    for name, value in request.scope["headers"]:
        if name == b"authorization":
            header = value.decode("latin-1")
            if header[:7].lower() == "bearer ":
                return header[7:].strip() or None
            return None
    return None


async def grant_of(request: Request) -> Grant:
    return await request.app.state.auth.grant(bearer(request))


def engine_of(request: Request) -> SiteEngine:
    slug = request.path_params["site"]
    try:
        return request.app.state.engines[slug]
    except KeyError:
        raise unknown_site(slug) from None


def optional_str(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidField(f"'{name}' phải là chuỗi. / '{name}' must be a string.")
    return value


async def http_error_response(request: Request, exc: HTTPException) -> Response:
    """Starlette's own refusals (no route, a method it does not allow): the API's error body under /api/."""
    if not request.url.path.startswith("/api/"):
        return PlainTextResponse(exc.detail, status_code=exc.status_code, headers=exc.headers)
    if exc.status_code == 404:
        error: QServerError = NotFound(f"Không có địa chỉ {request.url.path}. / no such path: {request.url.path}")
    elif exc.status_code == 405:
        error = QServerError(f"Địa chỉ này không nhận {request.method}. / {request.method} is not allowed here.",
                             code="method_not_allowed")
    else:
        error = BadRequest(str(exc.detail))
    return json_response(error.body(), exc.status_code, exc.headers)


async def error_response(request: Request, exc: Exception) -> Response:
    """The error body of API.md for a refusal; anything from Redis's side is a 503."""
    if not isinstance(exc, QServerError):
        exc = Unavailable()
    headers = {"Retry-After": str(exc.retry_after_s)} if isinstance(exc, RateLimited) else None
    return json_response(exc.body(), exc.status, headers)
