"""The HTTP API of ``shared/API.md``: thin handlers over :class:`qserver.engine.SiteEngine`.

Checks run in the contract's order: token (401), then site/agency/counter/ticket (404), then the
token's right (403), then the body (422) and the state (409, in the engine's Lua).
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .auth import Grant
from .engine import SiteEngine
from .exceptions import BadRequest, InvalidField, NotFound
from .present import present_counter, present_state, present_ticket

__all__ = ["routes", "json_response"]


def json_response(data: Any, status: int = 200) -> Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(body, status_code=status, media_type="application/json")


async def read_body(request: Request) -> dict[str, Any]:
    """The JSON object of the body; ``{}`` when there is none."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("Nội dung gửi lên không phải JSON hợp lệ. / The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise InvalidField("Nội dung phải là một đối tượng JSON. / The body must be a JSON object.")
    return data


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return None


async def grant_of(request: Request) -> Grant:
    return await request.app.state.auth.grant(bearer(request))


def engine_of(request: Request) -> SiteEngine:
    slug = request.path_params["site"]
    try:
        return request.app.state.engines[slug]
    except KeyError:
        raise NotFound(f"Không có điểm phục vụ '{slug}'. / site '{slug}' not found", code="unknown_site") from None


def idem_key(body: dict[str, Any]) -> str:
    key = body.get("key")
    if key is None:
        return ""
    if not isinstance(key, str) or not 0 < len(key) <= 100:
        raise InvalidField("'key' phải là chuỗi 1–100 ký tự. / 'key' must be a string of 1-100 characters.")
    return key


def optional_str(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidField(f"'{name}' phải là chuỗi. / '{name}' must be a string.")
    return value


def _observe(request: Request, operation: str, started: float) -> None:
    request.app.state.metrics.observe_request(operation, time.perf_counter() - started)


async def _ticket_answer(engine: SiteEngine, answer: dict[str, Any], status: int | None = None) -> Response:
    status = status or answer["status"]
    if status == 204:
        return Response(status_code=204)
    ticket = answer["ticket"]
    eta = None
    if ticket["status"] == "waiting" and ticket.get("ahead") is not None:
        eta = await engine.estimate_wait(ticket["agency"], ticket["ahead"])
    return json_response(present_ticket(engine.site, ticket, ahead=ticket.get("ahead"), eta_s=eta), status)


# -- public reads ---------------------------------------------------------------------------------
async def healthz(request: Request) -> Response:
    try:
        await request.app.state.redis.ping()
    except Exception:
        return json_response({"ok": False, "redis": "unreachable"}, 503)
    return json_response({"ok": True, "redis": "ok"})


async def metrics(request: Request) -> Response:
    body, content_type = await request.app.state.metrics.render(request.app)
    return Response(body, media_type=content_type)


async def sites(request: Request) -> Response:
    return json_response([{"slug": s.slug, "name": s.name} for s in request.app.state.sites.values()])


async def site_layout(request: Request) -> Response:
    site = engine_of(request).site
    return json_response({
        "slug": site.slug, "name": site.name, "short_name": site.short_name, "address": site.address,
        "timezone": site.timezone,
        "floors": [{"number": f.number, "name": f.name, "name_en": f.name_en} for f in site.floors],
        "agencies": [{"slug": a.slug, "name": a.name, "floor": a.floor, "prefix": a.prefix,
                      "procedures": a.procedures,
                      "counters": [c.id for c in site.counters if a.slug in c.agencies]} for a in site.agencies],
        "counters": [{"id": c.id, "floor": c.floor, "agencies": list(c.agencies)} for c in site.counters],
        "hours": {day: [f"{s:%H:%M}-{e:%H:%M}" for s, e in sessions] for day, sessions in site.hours.items()},
        "holidays": sorted(d.isoformat() for d in site.holidays),
        "announce": {"template": site.announce.template, "number_reading": site.announce.number_reading},
        "rating_levels": site.rating_levels,
    })


async def get_ticket(request: Request) -> Response:
    engine = engine_of(request)
    ticket = await engine.ticket(request.path_params["ticket"])
    return json_response(present_ticket(engine.site, ticket, ahead=ticket.get("ahead"), eta_s=ticket.get("eta_s")))


async def get_state(request: Request) -> Response:
    engine = engine_of(request)
    floor = request.query_params.get("floor")
    if floor is not None:
        try:
            floor = int(floor)
        except ValueError:
            raise InvalidField("'floor' phải là số. / 'floor' must be an integer.") from None
    return json_response(present_state(engine.site, await engine.state(), floor))


# -- kiosk --------------------------------------------------------------------------------------
async def issue_ticket(request: Request) -> Response:
    started = time.perf_counter()
    grant = await grant_of(request)
    engine = engine_of(request)
    body = await read_body(request)
    if isinstance(body.get("agency"), str):
        engine.agency(body["agency"])  # an unknown slug in the body is a 404, before the 403
    grant.require(engine.site.slug, "kiosk", "manager")
    if "agency" not in body:
        raise InvalidField("Thiếu 'agency'. / 'agency' is required.")
    key = idem_key(body)
    scope = hashlib.sha256((bearer(request) or "").encode()).hexdigest()[:16]
    answer = await engine.issue(body["agency"], priority=body.get("priority"),
                                citizen_qr=optional_str(body, "citizen_qr"), actor=grant.actor(),
                                idem=f"issue:{scope}:{key}" if key else "")
    response = await _ticket_answer(engine, answer)
    _observe(request, "issue", started)
    return response


async def rate_ticket(request: Request) -> Response:
    grant = await grant_of(request)
    engine = engine_of(request)
    grant.require(engine.site.slug, "kiosk", "officer", "manager")
    body = await read_body(request)
    answer = await engine.rate(request.path_params["ticket"], body.get("score"),
                               dossier=optional_str(body, "dossier"), actor=grant.actor())
    return json_response(present_ticket(engine.site, answer["ticket"]))


async def move_ticket(request: Request) -> Response:
    """Extension: a manager moves a waiting ticket to another agency's queue (keeps its place)."""
    grant = await grant_of(request)
    engine = engine_of(request)
    body = await read_body(request)
    grant.require(engine.site.slug, "manager")
    answer = await engine.move_ticket(request.path_params["ticket"], body.get("agency"), actor=grant.actor())
    return json_response(present_ticket(engine.site, answer["ticket"]))


# -- counters -------------------------------------------------------------------------------------
async def _counter_request(request: Request, *roles: str) -> tuple[SiteEngine, Grant, str, dict[str, Any]]:
    grant = await grant_of(request)
    engine = engine_of(request)
    counter = request.path_params["counter"]
    engine.counter(counter)
    grant.require(engine.site.slug, *roles, counter=counter)
    body = await read_body(request)
    return engine, grant, counter, body


def _idem(counter: str, body: dict[str, Any]) -> str:
    key = idem_key(body)
    return f"{counter}:{key}" if key else ""


async def counter_action(request: Request, action: str) -> Response:
    """call-next, recall, no-show, complete, transfer: the officer's buttons."""
    started = time.perf_counter()
    engine, grant, counter, body = await _counter_request(request, "officer", "manager")
    answer = await engine.counter_action(counter, action, outcome=optional_str(body, "outcome"),
                                         agency=body.get("agency"), dossier=optional_str(body, "dossier"),
                                         actor=grant.actor(), idem=_idem(counter, body))
    response = await _ticket_answer(engine, answer)
    _observe(request, action, started)
    return response


async def call_ticket(request: Request) -> Response:
    engine, grant, counter, body = await _counter_request(request, "officer", "manager")
    answer = await engine.call_ticket(counter, request.path_params["ticket"], actor=grant.actor(),
                                      idem=_idem(counter, body))
    return await _ticket_answer(engine, answer)


async def counter_status(request: Request, action: str) -> Response:
    """pause/resume (officer or manager), open/close (manager)."""
    roles = ("officer", "manager") if action in ("pause", "resume") else ("manager",)
    engine, grant, counter, body = await _counter_request(request, *roles)
    answer = await engine.set_status(counter, action, optional_str(body, "reason"), actor=grant.actor(),
                                     idem=_idem(counter, body))
    return json_response(present_counter(engine.site, answer["counter"]))


async def reassign(request: Request) -> Response:
    engine, grant, counter, body = await _counter_request(request, "manager")
    agencies = body.get("agencies")
    if isinstance(agencies, list):
        for slug in agencies:
            if isinstance(slug, str):
                engine.agency(slug)
    answer = await engine.reassign(counter, agencies, actor=grant.actor())
    return json_response(present_counter(engine.site, answer["counter"]))


# -- managers -------------------------------------------------------------------------------------
async def post_notice(request: Request) -> Response:
    grant = await grant_of(request)
    engine = engine_of(request)
    grant.require(engine.site.slug, "manager")
    body = await read_body(request)
    answer = await engine.post_notice(body.get("text"), body.get("floor"), body.get("ttl_s", 600),
                                      actor=grant.actor())
    return json_response(answer["notice"], 201)


async def login(request: Request) -> Response:
    body = await read_body(request)
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        raise InvalidField("Cần 'username' và 'password'. / 'username' and 'password' are required.")
    token, grant = await request.app.state.auth.login(username, password)
    return json_response({"token": token, "role": grant.role, "site": grant.site,
                          "counters": list(grant.counters), "name": grant.name})


async def whoami(request: Request) -> Response:
    grant = await grant_of(request)
    return json_response({"role": grant.role, "site": grant.site, "counters": list(grant.counters),
                          "name": grant.name})


async def openapi(request: Request) -> Response:
    from .openapi import document

    return JSONResponse(document())


def _bind(handler, action: str):
    async def endpoint(request: Request) -> Response:
        return await handler(request, action)

    endpoint.__name__ = f"{handler.__name__}_{action.replace('-', '_')}"
    return endpoint


SITE = "/api/v1/sites/{site}"
routes = [
    Route("/healthz", healthz),
    Route("/metrics", metrics),
    Route("/openapi.json", openapi),
    Route("/api/v1/login", login, methods=["POST"]),
    Route("/api/v1/whoami", whoami),
    Route("/api/v1/sites", sites),
    Route(SITE, site_layout),
    Route(SITE + "/state", get_state),
    Route(SITE + "/tickets", issue_ticket, methods=["POST"]),
    Route(SITE + "/tickets/{ticket}", get_ticket),
    Route(SITE + "/tickets/{ticket}/rating", rate_ticket, methods=["POST"]),
    Route(SITE + "/tickets/{ticket}/move", move_ticket, methods=["POST"]),
    *(Route(f"{SITE}/counters/{{counter}}/{action}", _bind(counter_action, action), methods=["POST"])
      for action in ("call-next", "recall", "no-show", "complete", "transfer")),
    *(Route(f"{SITE}/counters/{{counter}}/{action}", _bind(counter_status, action), methods=["POST"])
      for action in ("pause", "resume", "open", "close")),
    Route(SITE + "/counters/{counter}/call/{ticket}", call_ticket, methods=["POST"]),
    Route(SITE + "/counters/{counter}/agencies", reassign, methods=["PUT"]),
    Route(SITE + "/notices", post_notice, methods=["POST"]),
]
