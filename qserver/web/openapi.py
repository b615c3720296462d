"""The OpenAPI 3 document of the HTTP API (integrators and fuzzers read ``/openapi.json``), built from
the route table (:mod:`.routes`) and the engine's own lists of priorities, outcomes and statuses."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from ..engine import COUNTER_STATUSES, OUTCOMES, PRIORITIES, TICKET_STATUSES
from ..present import CHANNELS

__all__ = ["document", "openapi_path", "SCHEMAS", "QUERY_PARAMETERS"]

_S = {"type": "string"}
_I = {"type": "integer"}
_TS = {"type": ["string", "null"], "format": "date-time"}
#: Optional strings of a body take null for "none" (the handlers treat null as absent).
_KEY = {"type": ["string", "null"], "minLength": 1, "maxLength": 100}
_DOSSIER = {"type": ["string", "null"], "minLength": 1, "maxLength": 64}
_PRIORITY = {"type": ["string", "null"], "enum": [*PRIORITIES, None]}
_N = {"type": "number"}
_ARRAY = {"type": "array", "items": {"type": "object"}}
_OBJECT = {"type": "object"}
_STRINGS = {"type": "array", "items": _S}
_CCCD = {"type": "string", "description": "the 12 digits of the citizen's CCCD number (only its keyed hash is kept)"}
_PHONE = {"type": "string", "description": "a Vietnamese mobile number (0912345678, +84912345678)"}
_DATE = {"type": "string", "format": "date"}
#: The CCCD's QR text (CENTER.md): id12|cmnd9|name|ddmmyyyy birth|sex|address|ddmmyyyy issued[|...]
_DDMMYYYY = r"(0[1-9]|[12][0-9]|3[01])(0[1-9]|1[0-2])(19|20)[0-9]{2}"
_CCCD_QR = {"type": "string", "pattern": rf"^[0-9]{{12}}\|[^|]*\|[^|]*\|{_DDMMYYYY}\|[^|]*\|[^|]*\|{_DDMMYYYY}(\|.*)?$",
            "description": "the text of the CCCD's QR code, as the scanner types it"}
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
        "procedure": {"oneOf": [{"$ref": "#/components/schemas/ProcedureRef"}, {"type": "null"}]},
        "channel": {"type": "string", "enum": list(CHANNELS)}, "slot_at": _TS, "booking": _S}},
    "ProcedureRef": {"type": "object", "required": ["code", "name"], "properties": {"code": _S, "name": _S}},
    "Procedure": {"type": "object", "required": ["code", "name", "agency", "field", "documents"], "properties": {
        "code": _S, "name": _S, "agency": _S, "agency_name": _S, "field": _S,
        "documents": {"type": "array", "items": _S}, "processing_time": _S, "fee": _S, "online": {"type": "boolean"},
        "keywords": {"type": "array", "items": _S}, "note": _S, "floor": {"type": ["integer", "null"]},
        "floor_name": {"type": ["string", "null"]}, "counters": {"type": "array", "items": _S},
        "score": {"type": "number", "description": "0..1, search answers only"}}},
    "ProcedureList": {"type": "object", "required": ["site", "total", "message", "results"], "properties": {
        "site": _S, "query": {"type": ["string", "null"]}, "field": {"type": ["string", "null"]},
        "agency": {"type": ["string", "null"]}, "total": _I,
        "message": {"type": "string", "description": "the Vietnamese line for an empty answer, else empty"},
        "results": {"type": "array", "items": {"$ref": "#/components/schemas/Procedure"}}}},
    "ProcedureFields": {"type": "object", "required": ["site", "fields"], "properties": {
        "site": _S, "agency": {"type": ["string", "null"]}, "total": _I,
        "fields": {"type": "array", "items": {"type": "object", "properties": {
            "name": _S, "count": _I, "agencies": {"type": "array", "items": _S}}}}}},
    "ProcedureRequest": {"type": "object", "required": ["procedure"], "properties": {
        "procedure": {"type": ["string", "null"], "minLength": 1}, "key": _KEY}},
    "TicketSlip": {"type": "object", "required": ["number", "agency", "floor", "counters", "ahead", "qr_url",
                                                  "issued_at"], "properties": {
        "number": _S, "agency": _S, "floor": _S, "counters": {"type": "array", "items": _S}, "ahead": _I,
        "qr_url": _S, "issued_at": _TS, "site_name": _S, "procedure": _S,
        "documents": {"type": "array", "items": _S}, "priority": _S}},
    "PrintRequest": {"type": "object", "required": ["printer"], "properties": {
        "printer": {"type": "string", "description": "a name of the site's printers/<slug>.toml"},
        "documents": {"type": "boolean"}}},
    "PrintResult": {"type": "object", "properties": {
        "ok": {"type": "boolean"}, "printer": _S, "paper_low": {"type": "boolean"}, "bytes": _I}},
    "PrinterStatusRequest": {"type": "object", "required": ["ok"], "properties": {
        "ok": {"type": "boolean"}, "printer": {"type": "string", "maxLength": 64},
        "code": {"type": "string", "enum": ["paper_out", "printer_offline", "cover_open", "printer_error",
                                            "bad_ticket", "paper_low"]},
        "detail": {"type": "string", "maxLength": 300}, "paper_low": {"type": "boolean"},
        "ticket": {"type": "string", "maxLength": 16, "description": "the number it was printing"}}},
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
    "IssueRequest": {"type": "object", "description": "agency, procedure, or both (then they must agree)",
                     "anyOf": [{"required": ["agency"]}, {"required": ["procedure"]}],
                     "properties": {"agency": _S, "procedure": {"type": "string", "minLength": 1,
                                                                         "description": "a catalogue code"},
                                    "priority": _PRIORITY,
                                    "citizen_qr": {**_CCCD_QR, "type": ["string", "null"]}, "key": _KEY}},
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
    # -- staffing (docs/staffing.md "JSON shapes")
    "PlanGrid": {"type": "object", "required": ["site", "day", "status", "slots", "agencies", "counters"], "properties": {
        "site": _S, "day": _S, "status": {"type": "string", "enum": ["open", "closed"]}, "kind": _S, "title": _S,
        "target_wait_s": _I, "target_share": _N, "counter_hours": _N, "max_counters": _I, "expected_share": _N,
        "slots": _ARRAY, "agencies": _ARRAY, "counters": _ARRAY, "compare": _ARRAY, "forecast": _OBJECT,
        "history": _OBJECT}},
    "Backtest": {"type": "object", "required": ["days", "slots", "overall"], "properties": {
        "days": _ARRAY, "slots": _ARRAY, "left_out": _ARRAY, "usable_days": _I, "history_days": _I,
        "overall": {"type": "object", "properties": {k: {"type": ["number", "null"]} for k in (
            "days", "wape", "floor_wape", "slot_wape", "slot_floor_wape", "total_mape", "total_mape_ordinary")}}}},
    "PlanReview": {"type": "object", "required": ["site", "day", "status", "agencies"], "properties": {
        "site": _S, "day": _S, "status": {"type": "string", "enum": ["open", "closed"]}, "target_wait_s": _I,
        "target_share": _N, "slots": {"type": "array", "items": _S}, "cells_judged": _I, "cells_missed": _I, "agencies": _ARRAY}},
    "AdviceList": {"type": "object", "required": ["site", "advice"], "properties": {
        "site": _S, "day": _S, "now": _TS, "scope": _S, "waiting": _I, "issued_today": _I,
        "expected_next_hour": _N, "advice": {"type": "array", "items": {"type": "object", "properties": {
            "counter": _S, "from": _STRINGS, "to": _STRINGS, "message": _S, "gain_s": _I, "effect": _ARRAY,
            "apply": {"type": "object", "properties": {"method": _S, "path": _S, "body": _OBJECT}}}}}}},
    "WhatIfRequest": {"type": "object", "properties": {
        "date": {"type": "string", "format": "date"}, "base": {"type": "string", "enum": ["plan", "now"]},
        "replications": {"type": "integer", "minimum": 1, "maximum": 100},
        "changes": {"type": "array", "maxItems": 20, "items": {"type": "object", "required": ["kind"], "properties": {
            "kind": {"type": "string", "enum": ["close_counter", "add_officer", "assign", "volume"]},
            "counter": _S, "agency": _S, "multiplier": {"type": "number", "minimum": 0, "maximum": 20},
            "from": {"type": "string", "pattern": "^\\d{1,2}:\\d{2}$"},
            "to": {"type": "string", "pattern": "^\\d{1,2}:\\d{2}$"}}}}}},
    "WhatIf": {"type": "object", "required": ["before", "after"], "properties": {
        "site": _S, "day": _S, "base": _S, "target_wait_s": _I, "target_share": _N, "replications": _I,
        "changes": _ARRAY, "before": _OBJECT, "after": _OBJECT}},
    "PlanRisk": {"type": "object", "required": ["day", "sites"], "properties": {
        "day": _S, "group": {"type": ["string", "null"]}, "groups": _STRINGS, "counts": _OBJECT,
        "sites": {"type": "array", "items": {"type": "object", "properties": {
            "site": _S, "name": _S, "status": {"type": "string", "enum": ["open", "closed", "no_history"]},
            "will_miss": {"type": ["boolean", "null"]}, "plan_share": _N, "config_share": _N}}}}},
    "OnlineTicketRequest": {"type": "object", "required": ["agency", "cccd", "phone"], "properties": {
        "agency": _S, "cccd": _CCCD, "phone": _PHONE, "key": _KEY}},
    "BookingRequest": {"type": "object", "required": ["agency", "date", "time", "cccd", "phone"], "properties": {
        "agency": _S, "date": _DATE, "time": _HHMM, "cccd": _CCCD, "phone": _PHONE, "key": _KEY}},
    "MoveRequest": {"type": "object", "required": ["date", "time"], "properties": {"date": _DATE, "time": _HHMM}},
    "CheckInRequest": {"type": "object", "anyOf": [{"required": ["code"]}, {"required": ["citizen_qr"]}],
                       "properties": {
        "code": {"type": "string", "minLength": 1, "pattern": "\\S",
                 "description": "the booking code (K7PM-3QXR) or its QR's URL"},
        "citizen_qr": {**_CCCD_QR, "description": "the CCCD's QR text: today's booking of that person"},
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
#: Path parameters that are not any string.
PATH_SCHEMAS = {"date": _DATE}
QUERY_PARAMETERS = {
    "q": {"type": "string", "maxLength": 200, "description": "what the citizen types; diacritics, case, word "
                                                             "order and a typo or two do not matter"},
    "field": {"type": "string", "maxLength": 200, "description": "a field (lĩnh vực), compared without diacritics"},
    "agency": {"type": "string", "maxLength": 200, "description": "an agency slug"},
    "limit": {"type": "integer", "minimum": 1, "maximum": 500, "default": 20},
    "documents": {"type": "boolean", "default": True, "description": "list the documents to bring"},
    "date": {**_DATE, "description": "a day (default today)"},
}
_CONVERTER = re.compile(r"\{(\w+):\w+\}")


def openapi_path(path: str) -> str:
    """A route's path as OpenAPI writes it: ``{code:path}`` → ``{code}``."""
    return _CONVERTER.sub(r"{\1}", path)


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
        needed = bool(SCHEMAS[endpoint.body].get("required") or SCHEMAS[endpoint.body].get("anyOf"))
        op["requestBody"] = {"required": needed, "content": {"application/json": {"schema": _ref(endpoint.body)}}}
    if not endpoint.public:
        op["security"] = [{"bearer": []}]
    params = [{"name": name, "in": "path", "required": True, "schema": PATH_SCHEMAS.get(name, _S)}
              for name in PATH_PARAMETERS if "{" + name + "}" in openapi_path(endpoint.path)]
    params += [{"name": name.rstrip("!"), "in": "query", "required": name.endswith("!"),
                "schema": QUERY_PARAMETERS[name.rstrip("!")]} for name in endpoint.query]
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
        paths.setdefault(openapi_path(endpoint.path), {})[endpoint.method.lower()] = _operation(endpoint)
    return {
        "openapi": "3.1.0",
        "info": {"title": "qserver", "version": "1",
                 "description": "Queue and counter displays for one-stop public service centers"},
        "paths": paths,
        "components": {"schemas": _site_schemas(floors, rating_levels), "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }
