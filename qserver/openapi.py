"""The OpenAPI 3 document of the HTTP API (integrators and fuzzers read ``/openapi.json``)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

__all__ = ["document"]

_S = {"type": "string"}
_I = {"type": "integer"}
_TS = {"type": ["string", "null"], "format": "date-time"}

SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["code", "message"], "properties": {"code": _S, "message": _S}}}},
    "Ticket": {"type": "object", "required": ["id", "number", "site", "agency", "floor", "status"], "properties": {
        "id": _S, "number": _S, "site": _S, "agency": _S, "agency_name": _S, "floor": _I,
        "priority": {"type": ["string", "null"], "enum": ["elderly", "disabled", "pregnant", "merit", None]},
        "status": {"type": "string", "enum": ["waiting", "called", "done", "no_show", "expired"]},
        "issued_at": _TS, "called_at": _TS, "done_at": _TS, "counter": {"type": ["string", "null"]},
        "outcome": {"type": ["string", "null"]}, "ahead": {"type": ["integer", "null"]},
        "eta_s": {"type": ["integer", "null"]}, "track_url": _S, "recalls": _I}},
    "Counter": {"type": "object", "required": ["id", "floor", "status", "agencies"], "properties": {
        "id": _S, "floor": _I, "name": _S, "status": {"type": "string", "enum": ["open", "paused", "closed"]},
        "reason": {"type": ["string", "null"]}, "agencies": {"type": "array", "items": _S},
        "current": {"oneOf": [{"$ref": "#/components/schemas/Ticket"}, {"type": "null"}]},
        "since": _TS, "served": _I}},
    "IssueRequest": {"type": "object", "required": ["agency"], "properties": {
        "agency": _S, "priority": {"type": ["string", "null"], "enum": ["elderly", "disabled", "pregnant", "merit", None]},
        "citizen_qr": _S, "key": {"type": "string", "minLength": 1, "maxLength": 100}}},
    "KeyRequest": {"type": "object", "properties": {"key": {"type": "string", "minLength": 1, "maxLength": 100}}},
    "CompleteRequest": {"type": "object", "properties": {
        "outcome": {"type": "string", "enum": ["received", "returned", "resolved", "guided"]},
        "dossier": {"type": "string", "minLength": 1, "maxLength": 64},
        "key": {"type": "string", "minLength": 1, "maxLength": 100}}},
    "AgencyRequest": {"type": "object", "required": ["agency"], "properties": {"agency": _S,
                                                                              "key": {"type": "string"}}},
    "ReasonRequest": {"type": "object", "properties": {"reason": {"type": "string", "maxLength": 200},
                                                       "key": {"type": "string"}}},
    "AgenciesRequest": {"type": "object", "required": ["agencies"], "properties": {
        "agencies": {"type": "array", "minItems": 1, "items": _S}}},
    "RatingRequest": {"type": "object", "required": ["score"], "properties": {
        "score": {"type": "integer", "minimum": 1, "maximum": 5,
                  "description": "1..3 (3 = rất hài lòng), or 1..5 where the site's rating_levels is 5"},
        "dossier": {"type": "string", "minLength": 1, "maxLength": 64}}},
    "NoticeRequest": {"type": "object", "required": ["text"], "properties": {
        "text": {"type": "string", "minLength": 1, "maxLength": 500}, "floor": {"type": ["integer", "null"]},
        "ttl_s": {"type": "integer", "minimum": 10, "maximum": 86400}}},
    "LoginRequest": {"type": "object", "required": ["username", "password"], "properties": {
        "username": _S, "password": _S}},
    "State": {"type": "object", "properties": {
        "site": _S, "day": _S, "event_id": _S, "counters": {"type": "array", "items": {"$ref": "#/components/schemas/Counter"}},
        "waiting": {"type": "object", "additionalProperties": _I}, "calls": {"type": "array", "items": {"type": "object"}},
        "notices": {"type": "array", "items": {"type": "object"}}}},
}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _op(summary: str, *, body: str | None = None, ok: tuple[int, str | None] = (200, None),
        auth: bool = True, extra: tuple[int, ...] = ()) -> dict[str, Any]:
    status, schema = ok
    responses: dict[str, Any] = {str(status): {"description": "success"}}
    if schema:
        responses[str(status)]["content"] = {"application/json": {"schema": _ref(schema) if schema[0].isupper() else {"type": schema}}}
    for code in (400, 404, 422, 503, *extra) + ((401, 403) if auth else ()):
        responses[str(code)] = {"description": "error", "content": {"application/json": {"schema": _ref("Error")}}}
    op: dict[str, Any] = {"summary": summary, "responses": responses}
    if body:
        op["requestBody"] = {"required": False, "content": {"application/json": {"schema": _ref(body)}}}
    if auth:
        op["security"] = [{"bearer": []}]
    return op


def _param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": _S}


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    site = "/api/v1/sites/{site}"
    counter = site + "/counters/{counter}"
    paths: dict[str, Any] = {
        "/healthz": {"get": _op("Liveness and Redis reachability", auth=False, ok=(200, "object"))},
        "/metrics": {"get": _op("Prometheus metrics", auth=False)},
        "/api/v1/login": {"post": _op("Log in; answers a token", body="LoginRequest", auth=False, ok=(200, "object"), extra=(401,))},
        "/api/v1/sites": {"get": _op("List the sites", auth=False, ok=(200, "array"))},
        site: {"get": _op("A site's layout", auth=False, ok=(200, "object"))},
        site + "/state": {"get": _op("Counters, waiting per agency, recent calls", auth=False, ok=(200, "State"))},
        site + "/tickets": {"post": _op("Issue a ticket", body="IssueRequest", ok=(201, "Ticket"), extra=(409,))},
        site + "/tickets/{ticket}": {"get": _op("A ticket with people ahead and wait estimate", auth=False, ok=(200, "Ticket"))},
        site + "/tickets/{ticket}/rating": {"post": _op("Rate a finished ticket", body="RatingRequest", ok=(200, "Ticket"), extra=(409,))},
        site + "/tickets/{ticket}/move": {"post": _op("Move a waiting ticket to another agency", body="AgencyRequest", ok=(200, "Ticket"), extra=(409,))},
        counter + "/call-next": {"post": _op("Call the next ticket (204: none waiting)", body="KeyRequest", ok=(200, "Ticket"), extra=(204, 409))},
        counter + "/call/{ticket}": {"post": _op("Call one waiting ticket out of order", body="KeyRequest", ok=(200, "Ticket"), extra=(409,))},
        counter + "/recall": {"post": _op("Call the current ticket again", body="KeyRequest", ok=(200, "Ticket"), extra=(409,))},
        counter + "/no-show": {"post": _op("The current ticket did not come", body="KeyRequest", ok=(200, "Ticket"), extra=(409,))},
        counter + "/complete": {"post": _op("The current ticket is done", body="CompleteRequest", ok=(200, "Ticket"), extra=(409,))},
        counter + "/transfer": {"post": _op("Move the current ticket to another agency", body="AgencyRequest", ok=(200, "Ticket"), extra=(409,))},
        counter + "/agencies": {"put": _op("Which agencies the counter serves", body="AgenciesRequest", ok=(200, "Counter"))},
        site + "/notices": {"post": _op("A message on the hall displays", body="NoticeRequest", ok=(201, "object"))},
        "/api/v1/whoami": {"get": _op("The grant of the token", ok=(200, "object"))},
        site + "/console": {"get": _op("The managers' console: counters, agencies, alerts", ok=(200, "object"))},
        site + "/stats": {"get": _op("Report of a day (?date=) or range (?from=&to=)", ok=(200, "object"))},
        site + "/stats.csv": {"get": _op("The report as CSV (UTF-8 with BOM)", ok=(200, None))},
        site + "/audit": {"get": _op("Audit trail of a day (?date=&counter=&agency=)", ok=(200, "object"))},
        site + "/tickets/by-number/{number}/rating": {"post": _op("Rate today's ticket by its number",
                                                                  body="RatingRequest", ok=(200, "Ticket"),
                                                                  extra=(409,))},
    }
    for action in ("pause", "resume", "open", "close"):
        paths[f"{counter}/{action}"] = {"post": _op(f"{action.capitalize()} the counter", body="ReasonRequest",
                                                    ok=(200, "Counter"), extra=(409,))}
    for path, item in paths.items():
        params = [_param(name) for name in ("site", "counter", "ticket", "number") if "{" + name + "}" in path]
        if params:
            for op in item.values():
                op["parameters"] = params
    return {
        "openapi": "3.1.0",
        "info": {"title": "qserver", "version": "1", "description": "Queue and counter displays for one-stop public service centers"},
        "paths": paths,
        "components": {"schemas": SCHEMAS, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }
