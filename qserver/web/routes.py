"""The one table of HTTP endpoints: the app's routes and the OpenAPI document are both built from it.

Each :class:`Endpoint` says its method, path, handler, a one-line summary, its request and answer
schemas (names in :mod:`.openapi`) and which errors it may answer besides the common ones.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..managers import web as managers
from . import api, openapi

__all__ = ["Endpoint", "ENDPOINTS", "api_routes"]

Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    summary: str
    body: str | None = None          # request schema
    status: int = 200                # success status
    answer: str | None = None        # answer schema: a component name, or a JSON type ("object", "array")
    public: bool = False             # no token needed
    errors: tuple[int, ...] = ()     # besides 400, 404, 413, 422, 429, 503 (and 401, 403 unless public)


async def openapi_json(request: Request) -> Response:
    sites = request.app.state.sites.values()
    floors = tuple(sorted({floor.number for site in sites for floor in site.floors}))
    levels = max((site.rating_levels for site in sites), default=5)
    return JSONResponse(openapi.document(ENDPOINTS, floors, levels))


def _bind(handler: Callable[[Request, str], Awaitable[Response]], action: str) -> Handler:
    async def endpoint(request: Request) -> Response:
        return await handler(request, action)

    endpoint.__name__ = f"{handler.__name__}_{action.replace('-', '_')}"
    return endpoint


SITE = "/api/v1/sites/{site}"
COUNTER = SITE + "/counters/{counter}"

#: Officer buttons: (action, summary, request schema).
BUTTONS = (
    ("call-next", "Call the next ticket (204: none waiting)", "KeyRequest"),
    ("recall", "Call the current ticket again", "KeyRequest"),
    ("no-show", "The current ticket did not come", "KeyRequest"),
    ("complete", "The current ticket is done", "CompleteRequest"),
    ("transfer", "Move the current ticket to another agency", "AgencyRequest"),
)
STATUS_CHANGES = (("pause", "Pause the counter"), ("resume", "Resume the counter"), ("open", "Open the counter"),
                  ("close", "Close the counter"))

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("GET", "/healthz", api.healthz, "Liveness and Redis reachability", answer="object", public=True),
    Endpoint("GET", "/metrics", api.metrics, "Prometheus metrics", public=True),
    Endpoint("GET", "/openapi.json", openapi_json, "This document", answer="object", public=True),
    Endpoint("POST", "/api/v1/login", api.login, "Log in; answers a token", body="LoginRequest", answer="object",
             public=True, errors=(401,)),
    Endpoint("GET", "/api/v1/whoami", api.whoami, "The grant of the token", answer="object"),
    Endpoint("GET", "/api/v1/sites", api.sites, "List the sites", answer="array", public=True),
    Endpoint("GET", SITE, api.site_layout, "A site's layout", answer="Layout", public=True),
    Endpoint("GET", SITE + "/state", api.get_state, "Counters, waiting per agency, recent calls", answer="State",
             public=True),
    Endpoint("POST", SITE + "/tickets", api.issue_ticket, "Issue a ticket", body="IssueRequest", status=201,
             answer="Ticket", errors=(409,)),
    Endpoint("GET", SITE + "/tickets/{ticket}", api.get_ticket, "A ticket with people ahead and wait estimate",
             answer="Ticket", public=True),
    Endpoint("POST", SITE + "/tickets/{ticket}/rating", api.rate_ticket, "Rate a finished ticket",
             body="RatingRequest", answer="Ticket", errors=(409,)),
    Endpoint("POST", SITE + "/tickets/{ticket}/move", api.move_ticket, "Move a waiting ticket to another agency",
             body="AgencyRequest", answer="Ticket", errors=(409,)),
    Endpoint("POST", SITE + "/tickets/by-number/{number}/rating", managers.rate_by_number,
             "Rate today's ticket by its number", body="RatingRequest", answer="Ticket", errors=(409,)),
    *(Endpoint("POST", f"{COUNTER}/{action}", _bind(api.counter_action, action), summary, body=body,
               answer="Ticket", errors=(204, 409) if action == "call-next" else (409,))
      for action, summary, body in BUTTONS),
    Endpoint("POST", COUNTER + "/call/{ticket}", api.call_ticket, "Call one waiting ticket out of order",
             body="KeyRequest", answer="Ticket", errors=(409,)),
    *(Endpoint("POST", f"{COUNTER}/{action}", _bind(api.counter_status, action), summary, body="ReasonRequest",
               answer="Counter", errors=(409,))
      for action, summary in STATUS_CHANGES),
    Endpoint("PUT", COUNTER + "/agencies", api.reassign, "Which agencies the counter serves",
             body="AgenciesRequest", answer="Counter"),
    Endpoint("POST", SITE + "/notices", api.post_notice, "A message on the hall displays", body="NoticeRequest",
             status=201, answer="object"),
    Endpoint("GET", SITE + "/console", managers.console, "The managers' console: counters, agencies, alerts",
             answer="object"),
    Endpoint("GET", SITE + "/stats", managers.stats, "Report of a day (?date=) or range (?from=&to=)",
             answer="object", errors=(500,)),
    Endpoint("GET", SITE + "/stats.csv", managers.stats_csv, "The report as CSV (UTF-8 with BOM)", errors=(500,)),
    Endpoint("GET", SITE + "/audit", managers.audit, "Audit trail of a day (?date=&counter=&agency=&kind=)",
             answer="object", errors=(500,)),
)


def api_routes() -> list[Route]:
    """Starlette routes of :data:`ENDPOINTS` (one route per path, the methods it answers)."""
    by_path: dict[str, Route] = {}
    routes = []
    for endpoint in ENDPOINTS:
        if endpoint.path in by_path:
            raise ValueError(f"{endpoint.path} is in the route table twice")
        by_path[endpoint.path] = route = Route(endpoint.path, endpoint.handler, methods=[endpoint.method])
        routes.append(route)
    return routes
