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

from ..managers import city
from ..managers import staffing_web as staffing
from ..managers import web as managers
from . import api, home_api, openapi, printing, procedures

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
    query: tuple[str, ...] = ()      # query parameters (names in openapi.QUERY_PARAMETERS; "name!": required)


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
CITY = "/api/v1/city"
COUNTER = SITE + "/counters/{counter}"

#: Officer buttons: (action, summary, request schema).
BUTTONS = (
    ("call-next", "Call the next ticket (204: none waiting)", "KeyRequest"),
    ("recall", "Call the current ticket again", "KeyRequest"),
    ("no-show", "The current ticket did not come", "KeyRequest"),
    ("complete", "The current ticket is done", "CompleteRequest"),
    ("transfer", "Move the current ticket to another agency", "AgencyRequest"),
)
#: The paths of most requests, the busiest first (kiosks issuing, officers' buttons, phones following a
#: ticket). Starlette tries routes in order, ~2 µs each: these come first (no two paths of the table
#: match the same URL, so the order changes nothing else; the OpenAPI document keeps the table's order).
HOT_PATHS = (SITE + "/tickets", COUNTER + "/call-next", COUNTER + "/complete", SITE + "/tickets/{ticket}",
             COUNTER + "/recall", COUNTER + "/no-show")
STATUS_CHANGES = (("pause", "Pause the counter"), ("resume", "Resume the counter"), ("open", "Open the counter"),
                  ("close", "Close the counter"))

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("GET", "/healthz", api.healthz, "Liveness and Redis reachability", answer="object", public=True),
    Endpoint("GET", "/metrics", api.metrics, "Prometheus metrics", public=True),
    Endpoint("GET", "/openapi.json", openapi_json, "This document", answer="object", public=True),
    Endpoint("POST", "/api/v1/login", api.login, "Log in; answers a token (429 while the user name is locked out)",
             body="LoginRequest", answer="object", public=True, errors=(401,)),
    Endpoint("GET", "/api/v1/whoami", api.whoami, "The grant of the token (and whether it is being rotated)",
             answer="object"),
    Endpoint("POST", "/api/v1/token/exchange", api.exchange_token,
             "Exchange a token marked for rotation for a fresh one with the same grant", answer="object",
             errors=(409,)),
    Endpoint("GET", "/api/v1/sites", api.sites, "List the sites", answer="array", public=True),
    Endpoint("GET", SITE, api.site_layout, "A site's layout", answer="Layout", public=True),
    Endpoint("GET", SITE + "/state", api.get_state, "Counters, waiting per agency, recent calls", answer="State",
             public=True),
    Endpoint("GET", SITE + "/procedures", procedures.list_procedures,
             "Search the procedure catalogue (q), or list a field's or agency's procedures", answer="ProcedureList",
             public=True, query=("q", "field", "agency", "limit")),
    Endpoint("GET", SITE + "/procedure-fields", procedures.procedure_fields,
             "The fields (lĩnh vực) of the catalogue with their procedure counts", answer="ProcedureFields",
             public=True, query=("agency",)),
    Endpoint("GET", SITE + "/procedures/{code:path}", procedures.get_procedure, "One procedure by its code",
             answer="Procedure", public=True),
    Endpoint("POST", SITE + "/tickets", api.issue_ticket,
             "Issue a ticket for an agency, or for a procedure (its agency, and the ticket carries it)",
             body="IssueRequest", status=201, answer="Ticket", errors=(409,)),
    Endpoint("GET", SITE + "/tickets/{ticket}", api.get_ticket, "A ticket with people ahead and wait estimate",
             answer="Ticket", public=True),
    Endpoint("POST", SITE + "/tickets/{ticket}/rating", api.rate_ticket, "Rate a finished ticket",
             body="RatingRequest", answer="Ticket", errors=(409,)),
    Endpoint("POST", SITE + "/tickets/{ticket}/move", api.move_ticket, "Move a waiting ticket to another agency",
             body="AgencyRequest", answer="Ticket", errors=(409,)),
    Endpoint("GET", SITE + "/tickets/{ticket}/slip", printing.ticket_slip,
             "The paper ticket as data, for qserver-print-agent on the kiosk PC", answer="TicketSlip",
             query=("documents",)),
    Endpoint("POST", SITE + "/tickets/{ticket}/print", printing.print_ticket,
             "Print the ticket on one of the site's network thermal printers (503 with the printer's problem)",
             body="PrintRequest", answer="PrintResult"),
    Endpoint("POST", SITE + "/printer-status", printing.printer_status,
             "A kiosk reports what its USB printer said (shown on the console when not ok)",
             body="PrinterStatusRequest", answer="object"),
    Endpoint("POST", SITE + "/tickets/by-number/{number}/rating", managers.rate_by_number,
             "Rate today's ticket by its number", body="RatingRequest", answer="Ticket", errors=(409,)),
    *(Endpoint("POST", f"{COUNTER}/{action}", _bind(api.counter_action, action), summary, body=body,
               answer="Ticket", errors=(204, 409) if action == "call-next" else (409,))
      for action, summary, body in BUTTONS),
    Endpoint("POST", COUNTER + "/call/{ticket}", api.call_ticket, "Call one waiting ticket out of order",
             body="KeyRequest", answer="Ticket", errors=(409,)),
    Endpoint("POST", COUNTER + "/procedure", api.set_procedure,
             "Correct the procedure of the ticket being served (null clears it)", body="ProcedureRequest",
             answer="Ticket", errors=(409,)),
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
    Endpoint("GET", CITY + "/console", city.city_console,
             "Every center at a glance, sorted by trouble (?group=); manager of every site", answer="object"),
    Endpoint("GET", CITY + "/stats", city.city_stats,
             "The city's report per day and per center (?from=&to=&group=&center_days=1)", answer="object",
             errors=(500,)),
    Endpoint("GET", CITY + "/stats.csv", city.city_stats_csv, "The city's report as CSV (UTF-8 with BOM)",
             errors=(500,)),
    Endpoint("GET", SITE + "/plan", staffing.plan,
             "Counter plan of a day (?date=, default the next receiving day): the heat map's grid", answer="PlanGrid",
             errors=(409, 500)),
    Endpoint("GET", SITE + "/plan.csv", staffing.plan_csv,
             "Counter plans of a range of days as CSV (?from=&to=&sep=semicolon; UTF-8 with BOM)", errors=(409, 500)),
    Endpoint("GET", SITE + "/forecast-error", staffing.forecast_error,
             "The forecast's error on past days (backtest) and the days left out of the profiles",
             answer="Backtest", errors=(409, 500)),
    Endpoint("GET", SITE + "/plan-review", staffing.plan_review,
             "A past day against the plan (?date=): counters open and needed, where the target was missed and why",
             answer="PlanReview", errors=(409, 500)),
    Endpoint("GET", SITE + "/advice", staffing.advice,
             "Counter moves that help now (?limit=1..5&scope=any|config), each with the request applying it",
             answer="AdviceList", errors=(409, 500)),
    Endpoint("POST", SITE + "/what-if", staffing.what_if_answer,
             "Expected waits of a day's plan (or of the hall now) before and after changes", body="WhatIfRequest",
             answer="WhatIf", errors=(409, 500)),
    Endpoint("GET", "/api/v1/city/plan-risk", staffing.city_plan_risk,
             "Which centers will miss their target on a day (?date=&group=); a manager of every site",
             answer="PlanRisk", errors=(409, 500)),
    # -- from home: online numbers, appointments, webhooks (docs/webhooks.md) ----------------------------
    Endpoint("POST", SITE + "/online-tickets", home_api.online_ticket,
             "A number from a phone, ranked with walk-ins by issue order (CCCD number + mobile)",
             body="OnlineTicketRequest", status=201, answer="Ticket", public=True, errors=(409,)),
    Endpoint("GET", SITE + "/appointments", home_api.appointment_options,
             "Agencies taking bookings, the days one may book, the check-in rules", answer="AppointmentOptions",
             public=True),
    Endpoint("GET", SITE + "/appointments/{date}", home_api.appointments_of_day,
             "A day's slots per agency: capacity, booked, checked in, no-shows, closed (manager)", answer="object"),
    Endpoint("GET", SITE + "/slots", home_api.site_slots, "The slots of an agency on a day (?agency=&date=)",
             answer="Slots", public=True, errors=(409,), query=("agency!", "date")),
    Endpoint("POST", SITE + "/slots/close", home_api.close_slots,
             "Close slots of a day (an agency or all, from-to); their bookings are cancelled and told",
             body="SlotsRequest", answer="object"),
    Endpoint("POST", SITE + "/slots/open", home_api.open_slots, "Open closed slots again", body="SlotsRequest",
             answer="object"),
    Endpoint("POST", SITE + "/bookings", home_api.create_booking, "Book a place in a slot (answers the code)",
             body="BookingRequest", status=201, answer="Booking", public=True, errors=(409,)),
    Endpoint("GET", SITE + "/bookings/{code}", home_api.get_booking, "A booking by its code", answer="Booking",
             public=True),
    Endpoint("POST", SITE + "/bookings/{code}/cancel", home_api.cancel_booking, "Cancel a booking by its code",
             answer="Booking", public=True, errors=(409,)),
    Endpoint("POST", SITE + "/bookings/{code}/move", home_api.move_booking, "Move a booking to another slot",
             body="MoveRequest", answer="Booking", public=True, errors=(409,)),
    Endpoint("POST", SITE + "/check-in", home_api.check_in,
             "The kiosk checks a booking in (code, the QR's URL, or the CCCD's QR): its ticket",
             body="CheckInRequest", status=201, answer="Ticket", errors=(409,)),
    Endpoint("GET", SITE + "/webhook", home_api.webhook_status,
             "The site's webhook (never its secret) and how its deliveries go (manager)", answer="object"),
    Endpoint("POST", SITE + "/webhook/test", home_api.webhook_test, "Send a test event through the worker",
             status=202, answer="object", errors=(409,)),
)


def api_routes() -> list[Route]:
    """Starlette routes of :data:`ENDPOINTS` (one route per path, the methods it answers), those of
    :data:`HOT_PATHS` first."""
    by_path: dict[str, Route] = {}
    routes = []
    hot = {path: rank for rank, path in enumerate(HOT_PATHS)}
    if unknown := set(hot) - {endpoint.path for endpoint in ENDPOINTS}:
        raise ValueError(f"HOT_PATHS names paths the table lacks: {sorted(unknown)}")
    for endpoint in sorted(ENDPOINTS, key=lambda e: hot.get(e.path, len(hot))):
        if endpoint.path in by_path:
            raise ValueError(f"{endpoint.path} is in the route table twice")
        by_path[endpoint.path] = route = Route(endpoint.path, endpoint.handler, methods=[endpoint.method])
        routes.append(route)
    return routes
