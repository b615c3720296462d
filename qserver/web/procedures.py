"""The procedure catalogue over HTTP (public, read-only): search and browse a site's procedures.

- ``GET .../procedures?q=&field=&agency=&limit=``: with ``q``, the forgiving search (best first, each
  with its ``score``); without, the procedures of a field and/or agency in the catalogue's order (the
  common ones first). ``total`` counts every match, ``results`` holds at most ``limit`` of them, and
  ``message`` is the Vietnamese line for an empty answer.
- ``GET .../procedure-fields?agency=``: every field (lĩnh vực) with its procedure count.
- ``GET .../procedures/{code}``: one procedure, with its agency's name, floor and counters.

The catalogue and its index are built once per process (:mod:`qserver.procedures.sites`).
"""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from config import Site

from ..exceptions import InvalidField
from ..procedures import Procedure, SiteCatalogue, fold
from .http import engine_of, json_response

__all__ = ["list_procedures", "procedure_fields", "get_procedure", "present_procedure", "MAX_LIMIT"]

#: The most procedures one answer lists.
MAX_LIMIT = 500
DEFAULT_LIMIT = 20
MAX_QUERY = 200


def present_procedure(site: Site, procedure: Procedure, score: float | None = None) -> dict[str, Any]:
    """The public procedure object: the catalogue's row with its agency's name, floor and counters."""
    agency = site.agency_by_slug.get(procedure.agency)
    floor = site.floor_by_number.get(agency.floor) if agency else None
    shown = {**procedure.to_dict(), "agency_name": agency.name if agency else procedure.agency,
             "floor": agency.floor if agency else None, "floor_name": floor.name if floor else None,
             "counters": [c.id for c in site.counters if procedure.agency in c.agencies]}
    if score is not None:
        shown["score"] = round(score, 3)
    return shown


def _catalogue(request: Request) -> tuple[Site, SiteCatalogue]:
    engine = engine_of(request)  # 404 for an unknown site
    return engine.site, request.app.state.catalogues[engine.site.slug]


def _text(request: Request, name: str) -> str | None:
    value = request.query_params.get(name)
    if value is None or not value.strip():
        return None
    if len(value) > MAX_QUERY:
        raise InvalidField(f"'{name}' dài quá {MAX_QUERY} ký tự. / '{name}' is longer than {MAX_QUERY} characters.")
    return value.strip()


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit")
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    try:
        limit = int(raw)
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidField(f"'limit' phải là số nguyên từ 1 đến {MAX_LIMIT}, không phải {raw!r}. "
                           f"/ 'limit' must be an integer 1..{MAX_LIMIT}.")
    return limit


def _agency(request: Request) -> str | None:
    slug = _text(request, "agency")
    if slug is not None:
        engine_of(request).agency(slug)  # 404 unknown_agency
    return slug


async def list_procedures(request: Request) -> Response:
    started = time.perf_counter()
    site, catalogue = _catalogue(request)
    query, field, agency, limit = _text(request, "q"), _text(request, "field"), _agency(request), _limit(request)
    if query is not None:
        result = catalogue.search(query, agency=agency, limit=max(len(catalogue), 1))
        hits = [(h.procedure, h.score) for h in result.hits
                if field is None or fold(h.procedure.field) == fold(field)]
        message = result.message if not result.hits else ""
    else:
        hits = [(p, None) for p in catalogue.listing(field=field, agency=agency)]
        message = ""
    if not hits and not message:
        message = _empty_message(site, catalogue, query, field, agency)
    answer = {"site": site.slug, "query": query, "field": field, "agency": agency, "total": len(hits),
              "message": message,
              "results": [present_procedure(site, procedure, score) for procedure, score in hits[:limit]]}
    request.app.state.metrics.observe_request("procedures", time.perf_counter() - started)
    return json_response(answer)


def _empty_message(site: Site, catalogue: SiteCatalogue, query: str | None, field: str | None,
                   agency: str | None) -> str:
    """Why an answer is empty, in Vietnamese."""
    if not len(catalogue):
        return f"{site.short_name or site.name} chưa có danh mục thủ tục."
    if query is not None:
        return f"Không tìm thấy thủ tục nào khớp với “{query}” trong lĩnh vực “{field}”." if field else ""
    if field is not None:
        return f"Không có thủ tục nào thuộc lĩnh vực “{field}”."
    name = site.agency_by_slug[agency].name if agency else ""
    return f"{name} chưa có thủ tục nào trong danh mục." if name else ""


async def procedure_fields(request: Request) -> Response:
    site, catalogue = _catalogue(request)
    agency = _agency(request)
    fields = catalogue.fields(agency)
    return json_response({"site": site.slug, "agency": agency, "total": sum(f.count for f in fields),
                          "fields": [{"name": f.name, "count": f.count, "agencies": list(f.agencies)}
                                     for f in fields]})


async def get_procedure(request: Request) -> Response:
    engine = engine_of(request)
    procedure = engine.procedure(request.path_params["code"])
    return json_response(present_procedure(engine.site, procedure))
