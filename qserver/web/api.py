"""The HTTP API of ``shared/API.md``: thin handlers over :class:`qserver.engine.SiteEngine`.

Checks run in the contract's order: token (401), then site/agency/counter/ticket (404), then the
token's right (403), then the body (422) and the state (409, in the engine's Lua). The route table
(:mod:`.routes`) binds these handlers to paths and documents them.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..auth import Grant
from ..engine import SiteEngine
from ..exceptions import InvalidField, RateLimited, Unauthorized
from ..present import present_counter, present_layout, present_notice, present_state, present_ticket
from .http import bearer, engine_of, grant_of, json_response, optional_str, read_body

__all__ = [
    "healthz", "metrics", "sites", "site_layout", "get_ticket", "get_state", "issue_ticket", "rate_ticket",
    "move_ticket", "counter_action", "set_procedure", "call_ticket", "counter_status", "reassign", "post_notice",
    "login", "whoami", "exchange_token",
]


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
    return json_response(present_layout(engine_of(request).site))


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
    if isinstance(body.get("procedure"), str) and body["procedure"]:
        engine.procedure(body["procedure"])  # an unknown procedure code too
    grant.require(engine.site.slug, "kiosk", "manager")
    if body.get("agency") is None and body.get("procedure") is None:
        raise InvalidField("Thiếu 'agency' hoặc 'procedure'. / 'agency' or 'procedure' is required.")
    issuer = hashlib.sha256((bearer(request) or "").encode()).hexdigest()[:16]  # the kiosk's token
    limits = request.app.state.limits
    await limits.check(limits.issue_per_kiosk, "issue", issuer, "Máy lấy số này đã cấp quá nhiều số trong thời gian ngắn.")
    answer = await engine.issue(body.get("agency"), procedure=body.get("procedure"), priority=body.get("priority"),
                                citizen_qr=optional_str(body, "citizen_qr"), actor=grant.actor(),
                                issuer=issuer, key=body.get("key"))
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


async def counter_action(request: Request, action: str) -> Response:
    """call-next, recall, no-show, complete, transfer: the officer's buttons."""
    started = time.perf_counter()
    engine, grant, counter, body = await _counter_request(request, "officer", "manager")
    answer = await engine.counter_action(counter, action, outcome=optional_str(body, "outcome"),
                                         agency=body.get("agency"), dossier=optional_str(body, "dossier"),
                                         actor=grant.actor(), key=body.get("key"))
    response = await _ticket_answer(engine, answer)
    _observe(request, action, started)
    return response


async def set_procedure(request: Request) -> Response:
    """The officer corrects the procedure of the ticket being served (``{"procedure": code}``, null clears it)."""
    engine, grant, counter, body = await _counter_request(request, "officer", "manager")
    if "procedure" not in body:
        raise InvalidField("Thiếu 'procedure' (mã thủ tục, hoặc null để bỏ). "
                           "/ 'procedure' is required (a code, or null to clear it).")
    answer = await engine.set_procedure(counter, body["procedure"], actor=grant.actor(), key=body.get("key"))
    return await _ticket_answer(engine, answer)


async def call_ticket(request: Request) -> Response:
    engine, grant, counter, body = await _counter_request(request, "officer", "manager")
    answer = await engine.call_ticket(counter, request.path_params["ticket"], actor=grant.actor(),
                                      key=body.get("key"))
    return await _ticket_answer(engine, answer)


async def counter_status(request: Request, action: str) -> Response:
    """pause/resume (officer or manager), open/close (manager)."""
    roles = ("officer", "manager") if action in ("pause", "resume") else ("manager",)
    engine, grant, counter, body = await _counter_request(request, *roles)
    answer = await engine.set_status(counter, action, optional_str(body, "reason"), actor=grant.actor(),
                                     key=body.get("key"))
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
    return json_response(present_notice(engine.site, answer["notice"]), 201)


async def login(request: Request) -> Response:
    """A password login: limited per client address; repeated failures lock the user name out for a while."""
    body = await read_body(request)
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str) or len(username) > 64 or len(password) > 256:
        raise InvalidField("Cần 'username' và 'password'. / 'username' and 'password' are required.")
    limits, auth = request.app.state.limits, request.app.state.auth
    client = request.client.host if request.client else "unknown"
    await limits.check(limits.login_per_address, "login", client, "Quá nhiều lần đăng nhập từ địa chỉ này.")
    locked_until = await limits.locked_until(username)
    if locked_until is not None:
        raise RateLimited(f"Tài khoản “{username}” tạm khóa vì đăng nhập sai nhiều lần; thử lại lúc "
                          f"{time.strftime('%H:%M', time.localtime(locked_until))}. / Locked after repeated failures.",
                          retry_after_s=max(1, int(locked_until - time.time())))
    try:
        token, grant = await auth.login(username, password)
    except Unauthorized:
        if await limits.login_failed(username):
            site = await auth.site_of(username)
            if site is not None:
                await auth.record(site, {"action": "user_locked", "user": username, "address": client}, "system")
        raise
    await limits.login_succeeded(username)
    return json_response({"token": token, "role": grant.role, "site": grant.site,
                          "counters": list(grant.counters), "name": grant.name})


async def whoami(request: Request) -> Response:
    grant = await grant_of(request)
    return json_response({"role": grant.role, "site": grant.site, "counters": list(grant.counters),
                          "name": grant.name, "token_id": grant.id, "rotate": grant.rotate})


async def exchange_token(request: Request) -> Response:
    """A token marked for rotation is exchanged for a fresh one with the same grant (the old one stops
    working after its grace period)."""
    fresh, grant = await request.app.state.auth.exchange(bearer(request) or "")
    return json_response({"token": fresh, "token_id": grant.id, "role": grant.role, "site": grant.site,
                          "counters": list(grant.counters), "name": grant.name})
