"""The OpenAPI 3 document of the HTTP API (integrators and fuzzers read ``/openapi.json``), built from
the route table (:mod:`.routes`) and the engine's own lists of priorities, outcomes and statuses."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ..engine import COUNTER_STATUSES, OUTCOMES, PRIORITIES, TICKET_STATUSES

__all__ = ["document", "SCHEMAS"]

_S = {"type": "string"}
_I = {"type": "integer"}
_TS = {"type": ["string", "null"], "format": "date-time"}
#: Optional strings of a body take null for "none" (the handlers treat null as absent).
_KEY = {"type": ["string", "null"], "minLength": 1, "maxLength": 100}
_DOSSIER = {"type": ["string", "null"], "minLength": 1, "maxLength": 64}
_PRIORITY = {"type": ["string", "null"], "enum": [*PRIORITIES, None]}

SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["code", "message"], "properties": {"code": _S, "message": _S}}}},
    "Ticket": {"type": "object", "required": ["id", "number", "site", "agency", "floor", "status"], "properties": {
        "id": _S, "number": _S, "site": _S, "agency": _S, "agency_name": _S, "floor": _I, "priority": _PRIORITY,
        "status": {"type": "string", "enum": list(TICKET_STATUSES)},
        "issued_at": _TS, "called_at": _TS, "done_at": _TS, "counter": {"type": ["string", "null"]},
        "outcome": {"type": ["string", "null"]}, "ahead": {"type": ["integer", "null"]},
        "eta_s": {"type": ["integer", "null"]}, "track_url": _S, "recalls": _I}},
    "Counter": {"type": "object", "required": ["id", "floor", "status", "agencies"], "properties": {
        "id": _S, "floor": _I, "name": _S, "status": {"type": "string", "enum": list(COUNTER_STATUSES)},
        "reason": {"type": ["string", "null"]}, "agencies": {"type": "array", "items": _S},
        "current": {"oneOf": [{"$ref": "#/components/schemas/Ticket"}, {"type": "null"}]},
        "since": _TS, "served": _I}},
    "Layout": {"type": "object", "required": ["slug", "name", "floors", "agencies", "counters", "hours"],
               "properties": {
        "slug": _S, "name": _S, "short_name": _S, "address": _S, "timezone": _S,
        "floors": {"type": "array", "items": {"type": "object"}},
        "agencies": {"type": "array", "items": {"type": "object"}},
        "counters": {"type": "array", "items": {"type": "object"}},
        "hours": {"type": "object", "additionalProperties": {"type": "array", "items": _S}},
        "holidays": {"type": "array", "items": _S}, "announce": {"type": "object"}, "rating_levels": _I}},
    "IssueRequest": {"type": "object", "required": ["agency"], "properties": {
        "agency": _S, "priority": _PRIORITY, "citizen_qr": {"type": ["string", "null"]}, "key": _KEY}},
    "KeyRequest": {"type": "object", "properties": {"key": _KEY}},
    "CompleteRequest": {"type": "object", "properties": {
        "outcome": {"type": ["string", "null"], "enum": [*OUTCOMES, None]}, "dossier": _DOSSIER, "key": _KEY}},
    "AgencyRequest": {"type": "object", "required": ["agency"], "properties": {"agency": _S, "key": _KEY}},
    "ReasonRequest": {"type": "object", "properties": {"reason": {"type": ["string", "null"], "maxLength": 200},
                                                       "key": _KEY}},
    "AgenciesRequest": {"type": "object", "required": ["agencies"], "properties": {
        "agencies": {"type": "array", "minItems": 1, "items": _S}}},
    "RatingRequest": {"type": "object", "required": ["score"], "properties": {
        "score": {"type": "integer", "minimum": 1, "maximum": 5,
                  "description": "1..3 (3 = rất hài lòng), or 1..5 where the site's rating_levels is 5"},
        "dossier": _DOSSIER}},
    "NoticeRequest": {"type": "object", "required": ["text"], "properties": {
        "text": {"type": "string", "minLength": 1, "maxLength": 500, "pattern": "\\S"},
        "floor": {"type": ["integer", "null"]},
        "ttl_s": {"type": "integer", "minimum": 10, "maximum": 86400}}},
    "LoginRequest": {"type": "object", "required": ["username", "password"], "properties": {
        "username": _S, "password": _S}},
    "State": {"type": "object", "properties": {
        "site": _S, "day": _S, "event_id": _S, "counters": {"type": "array", "items": {"$ref": "#/components/schemas/Counter"}},
        "waiting": {"type": "object", "additionalProperties": _I}, "calls": {"type": "array", "items": {"type": "object"}},
        "notices": {"type": "array", "items": {"type": "object"}}}},
}

#: Errors every endpoint may answer (401 and 403 too unless it is public).
COMMON_ERRORS = (400, 404, 413, 422, 429, 503)
PATH_PARAMETERS = ("site", "counter", "ticket", "number")


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _operation(endpoint) -> dict[str, Any]:
    responses: dict[str, Any] = {str(endpoint.status): {"description": "success"}}
    if endpoint.answer:
        schema = _ref(endpoint.answer) if endpoint.answer[0].isupper() else {"type": endpoint.answer}
        responses[str(endpoint.status)]["content"] = {"application/json": {"schema": schema}}
    errors = COMMON_ERRORS + endpoint.errors + (() if endpoint.public else (401, 403))
    for code in sorted(set(errors) - {endpoint.status}):
        if code == 204:
            responses["204"] = {"description": "nothing to answer"}
            continue
        responses[str(code)] = {"description": "error", "content": {"application/json": {"schema": _ref("Error")}}}
    op: dict[str, Any] = {"summary": endpoint.summary, "responses": responses}
    if endpoint.body:
        # required when the body has required fields: without a body the handler answers 422
        needed = bool(SCHEMAS[endpoint.body].get("required"))
        op["requestBody"] = {"required": needed, "content": {"application/json": {"schema": _ref(endpoint.body)}}}
    if not endpoint.public:
        op["security"] = [{"bearer": []}]
    params = [{"name": name, "in": "path", "required": True, "schema": _S}
              for name in PATH_PARAMETERS if "{" + name + "}" in endpoint.path]
    if params:
        op["parameters"] = params
    return op


def _site_schemas(floors: tuple[int, ...], rating_levels: int) -> dict[str, Any]:
    """SCHEMAS with what the served sites decide: the floors a notice may name, the highest score."""
    schemas = dict(SCHEMAS)
    rating = dict(schemas["RatingRequest"], properties=dict(schemas["RatingRequest"]["properties"]))
    rating["properties"]["score"] = dict(rating["properties"]["score"], maximum=rating_levels)
    notice = dict(schemas["NoticeRequest"], properties=dict(schemas["NoticeRequest"]["properties"]))
    if floors:
        notice["properties"]["floor"] = {"type": ["integer", "null"], "enum": [*floors, None],
                                         "description": "a floor of the site; null: every floor"}
    schemas["RatingRequest"], schemas["NoticeRequest"] = rating, notice
    return schemas


@lru_cache(maxsize=4)
def document(endpoints: tuple, floors: tuple[int, ...] = (), rating_levels: int = 5) -> dict[str, Any]:
    """The document of a route table (:data:`qserver.web.routes.ENDPOINTS`) for sites with these floors
    and at most ``rating_levels`` rating levels (a site with fewer answers 422 above its own)."""
    paths: dict[str, Any] = {}
    for endpoint in endpoints:
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = _operation(endpoint)
    return {
        "openapi": "3.1.0",
        "info": {"title": "qserver", "version": "1",
                 "description": "Queue and counter displays for one-stop public service centers"},
        "paths": paths,
        "components": {"schemas": _site_schemas(floors, rating_levels), "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }
