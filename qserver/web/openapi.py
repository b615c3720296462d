"""The OpenAPI 3 document of the HTTP API (integrators and fuzzers read ``/openapi.json``), built from
the route table (:mod:`.routes`) and the engine's own lists of priorities, outcomes and statuses."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ..engine import COUNTER_STATUSES, OUTCOMES, PRIORITIES, TICKET_STATUSES
from ..present import CHANNELS

__all__ = ["document", "SCHEMAS"]

_S = {"type": "string"}
_I = {"type": "integer"}
_TS = {"type": ["string", "null"], "format": "date-time"}
_KEY = {"type": "string", "minLength": 1, "maxLength": 100}
_PRIORITY = {"type": ["string", "null"], "enum": [*PRIORITIES, None]}
_CCCD = {"type": "string", "description": "the 12 digits of the citizen's CCCD number (only its keyed hash is kept)"}
_PHONE = {"type": "string", "description": "a Vietnamese mobile number (0912345678, +84912345678)"}
_DATE = {"type": "string", "format": "date"}
_HHMM = {"type": "string", "pattern": "^[0-9]{2}:[0-9]{2}$"}

SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["code", "message"], "properties": {"code": _S, "message": _S}}}},
    "Ticket": {"type": "object", "required": ["id", "number", "site", "agency", "floor", "status"], "properties": {
        "id": _S, "number": _S, "site": _S, "agency": _S, "agency_name": _S, "floor": _I, "priority": _PRIORITY,
        "status": {"type": "string", "enum": list(TICKET_STATUSES)},
        "issued_at": _TS, "called_at": _TS, "done_at": _TS, "counter": {"type": ["string", "null"]},
        "outcome": {"type": ["string", "null"]}, "ahead": {"type": ["integer", "null"]},
        "eta_s": {"type": ["integer", "null"]}, "track_url": _S, "recalls": _I,
        "channel": {"type": "string", "enum": list(CHANNELS)}, "slot_at": _TS, "booking": _S}},
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
        "agency": _S, "priority": _PRIORITY, "citizen_qr": _S, "key": _KEY}},
    "KeyRequest": {"type": "object", "properties": {"key": _KEY}},
    "CompleteRequest": {"type": "object", "properties": {
        "outcome": {"type": "string", "enum": list(OUTCOMES[1:])},
        "dossier": {"type": "string", "minLength": 1, "maxLength": 64}, "key": _KEY}},
    "AgencyRequest": {"type": "object", "required": ["agency"], "properties": {"agency": _S, "key": _KEY}},
    "ReasonRequest": {"type": "object", "properties": {"reason": {"type": "string", "maxLength": 200}, "key": _KEY}},
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
    "OnlineTicketRequest": {"type": "object", "required": ["agency", "cccd", "phone"], "properties": {
        "agency": _S, "cccd": _CCCD, "phone": _PHONE, "key": _KEY}},
    "BookingRequest": {"type": "object", "required": ["agency", "date", "time", "cccd", "phone"], "properties": {
        "agency": _S, "date": _DATE, "time": _HHMM, "cccd": _CCCD, "phone": _PHONE, "key": _KEY}},
    "MoveRequest": {"type": "object", "required": ["date", "time"], "properties": {"date": _DATE, "time": _HHMM}},
    "CheckInRequest": {"type": "object", "properties": {
        "code": {"type": "string", "description": "the booking code (K7PM-3QXR) or its QR's URL"},
        "citizen_qr": {"type": "string", "description": "the CCCD's QR text: today's booking of that person"},
        "key": _KEY}},
    "SlotsRequest": {"type": "object", "required": ["date"], "properties": {
        "date": _DATE, "agency": {"type": ["string", "null"], "description": "null: every agency taking bookings"},
        "from": _HHMM, "to": _HHMM, "reason": {"type": "string", "maxLength": 200}}},
    "Booking": {"type": "object", "required": ["id", "agency", "day", "time", "status"], "properties": {
        "id": _S, "code": {"type": "string", "description": "only in answers to the holder"}, "agency": _S,
        "agency_name": _S, "floor": _I, "day": _DATE, "time": _HHMM,
        "status": {"type": "string", "enum": ["booked", "checked_in", "cancelled", "no_show"]},
        "slot_at": _TS, "checkin_from": _TS, "checkin_until": _TS, "created_at": _TS, "cancelled_at": _TS,
        "checked_in_at": _TS, "ticket": {"type": ["string", "null"]}, "cancel_reason": {"type": ["string", "null"]},
        "url": _S, "qr_url": _S}},
    "Slots": {"type": "object", "properties": {"agency": _S, "agency_name": _S, "date": _DATE, "slots": {
        "type": "array", "items": {"type": "object", "properties": {
            "time": _HHMM, "end": _HHMM, "capacity": _I, "booked": _I, "free": _I, "closed": {"type": "boolean"},
            "reason": {"type": ["string", "null"]}, "bookable": {"type": "boolean"},
            "problem": {"type": ["string", "null"]}}}}}},
    "AppointmentOptions": {"type": "object", "properties": {
        "enabled": {"type": "boolean"}, "days": {"type": "array", "items": _DATE},
        "agencies": {"type": "array", "items": {"type": "object"}}, "slot_minutes": _I,
        "checkin_before_minutes": _I, "grace_minutes": _I, "min_notice_minutes": _I, "max_per_person": _I}},
    "State": {"type": "object", "properties": {
        "site": _S, "day": _S, "event_id": _S, "counters": {"type": "array", "items": {"$ref": "#/components/schemas/Counter"}},
        "waiting": {"type": "object", "additionalProperties": _I}, "calls": {"type": "array", "items": {"type": "object"}},
        "notices": {"type": "array", "items": {"type": "object"}}}},
}

#: Errors every endpoint may answer (401 and 403 too unless it is public).
COMMON_ERRORS = (400, 404, 413, 422, 429, 503)
PATH_PARAMETERS = ("site", "counter", "ticket", "number", "code", "date")


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
        op["requestBody"] = {"required": False, "content": {"application/json": {"schema": _ref(endpoint.body)}}}
    if not endpoint.public:
        op["security"] = [{"bearer": []}]
    params = [{"name": name, "in": "path", "required": True, "schema": _S}
              for name in PATH_PARAMETERS if "{" + name + "}" in endpoint.path]
    if params:
        op["parameters"] = params
    return op


@lru_cache(maxsize=4)
def document(endpoints: tuple) -> dict[str, Any]:
    """The document of a route table (:data:`qserver.web.routes.ENDPOINTS`)."""
    paths: dict[str, Any] = {}
    for endpoint in endpoints:
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = _operation(endpoint)
    return {
        "openapi": "3.1.0",
        "info": {"title": "qserver", "version": "1",
                 "description": "Queue and counter displays for one-stop public service centers"},
        "paths": paths,
        "components": {"schemas": SCHEMAS, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }
