"""The pages of ``displays/``: hall and counter displays, kiosk, officer pad, citizen ticket page.

Each page is rendered once from the site layout (``request.app.state.sites``) with a small JSON boot
block; everything live then comes from the public API and ``/ws``, in the browser. The app adds
:data:`routes` to its own.
"""

from __future__ import annotations

import hashlib
from functools import cache
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from displays import STATIC_DIR, TEMPLATES_DIR

__all__ = ["routes", "site_layout"]

WEEKDAYS_VI = {"mon": "Thứ Hai", "tue": "Thứ Ba", "wed": "Thứ Tư", "thu": "Thứ Năm", "fri": "Thứ Sáu",
               "sat": "Thứ Bảy", "sun": "Chủ Nhật"}

# Pages are tiny and change on upgrade: never cached. Static files carry ?v=<content hash> instead.
PAGE_HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self'; connect-src 'self' ws: wss:; frame-ancestors 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
}

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))


@cache
def _static_version(path: str) -> str:
    try:
        return hashlib.sha256((STATIC_DIR / path).read_bytes()).hexdigest()[:10]
    except OSError:
        return "0"


def static_url(path: str) -> str:
    """``/static/<path>?v=<hash of the file>`` so a TV never runs a stale script after an upgrade."""
    return f"/static/{path}?v={_static_version(path)}"


templates.env.globals["static"] = static_url


def site_layout(site: Any) -> dict[str, Any]:
    """The JSON-ready layout of a ``config.Site`` a page boots with (names, floors, agencies, counters, hours)."""
    return {
        "slug": site.slug,
        "name": site.name,
        "short_name": site.short_name or site.name,
        "address": site.address,
        "timezone": site.timezone,
        "floors": [{"number": f.number, "name": f.name, "name_en": f.name_en} for f in site.floors],
        "agencies": [
            {"slug": a.slug, "name": a.name, "floor": a.floor, "prefix": a.prefix, "procedures": a.procedures}
            for a in site.agencies
        ],
        "counters": [
            {"id": c.id, "floor": c.floor, "agencies": list(c.agencies), "name": c.name} for c in site.counters
        ],
        "hours": [
            {"day": WEEKDAYS_VI[day], "sessions": [f"{s:%H:%M}–{e:%H:%M}" for s, e in sessions]}
            for day, sessions in site.hours.items() if sessions
        ],
    }


def _not_found(request: Request, what: str, what_en: str) -> Response:
    return templates.TemplateResponse(
        request, "error.html", {"title": "Không tìm thấy", "message": what, "message_en": what_en},
        status_code=404, headers=PAGE_HEADERS,
    )


def _site(request: Request):
    return request.app.state.sites.get(request.path_params["site"])


def _page(request: Request, name: str, site: Any, **extra: Any) -> Response:
    # ?wire=msgpack makes the page speak qs.v1.msgpack with the vendored decoder (JSON otherwise).
    extra["wire"] = "msgpack" if request.query_params.get("wire") == "msgpack" else "json"
    boot = {"site": site_layout(site), **extra}
    return templates.TemplateResponse(
        request, name, {**extra, "site": site, "boot": boot}, headers=PAGE_HEADERS,
    )


def _unknown_site(request: Request) -> Response:
    slug = request.path_params["site"]
    return _not_found(request, f"Không có trung tâm “{slug}”.", f"Unknown site '{slug}'.")


def _unknown_counter(request: Request, counter_id: str) -> Response:
    return _not_found(request, f"Không có quầy số “{counter_id}”.", f"No counter '{counter_id}' at this site.")


async def hall_display(request: Request) -> Response:
    """``/d/{site}/floor/{n}``: the floor's last calls, waiting counts, clock and notices."""
    site = _site(request)
    if site is None:
        return _unknown_site(request)
    raw = request.path_params["n"]
    try:
        number = int(raw)
    except ValueError:
        number = None
    floor = site.floor_by_number.get(number) if number is not None else None
    if floor is None:
        return _not_found(request, f"Trung tâm không có tầng “{raw}”.", f"No floor '{raw}' at this site.")
    device = request.query_params.get("device") or f"floor-{floor.number}-tv"
    return _page(request, "hall.html", site, page="hall", floor=floor.number, device=device)


async def counter_display(request: Request) -> Response:
    """``/d/{site}/counter/{id}``: the number being served at one counter, huge."""
    site = _site(request)
    if site is None:
        return _unknown_site(request)
    counter_id = request.path_params["id"]
    if counter_id not in site.counter_by_id:
        return _unknown_counter(request, counter_id)
    device = request.query_params.get("device") or f"counter-{counter_id}-display"
    return _page(request, "counter.html", site, page="counter", counter=counter_id, device=device)


async def kiosk(request: Request) -> Response:
    """``/k/{site}``: take a ticket by touch, print it at 80 mm."""
    site = _site(request)
    if site is None:
        return _unknown_site(request)
    return _page(request, "kiosk.html", site, page="kiosk")


async def officer_pad(request: Request) -> Response:
    """``/o/{site}/counter/{id}``: the officer's buttons for one counter."""
    site = _site(request)
    if site is None:
        return _unknown_site(request)
    counter_id = request.path_params["id"]
    if counter_id not in site.counter_by_id:
        return _unknown_counter(request, counter_id)
    return _page(request, "officer.html", site, page="officer", counter=counter_id)


async def ticket_page(request: Request) -> Response:
    """``/t/{site}/{ticket_id}``: the citizen's live ticket, on a phone (the QR on the paper ticket)."""
    site = _site(request)
    if site is None:
        return _unknown_site(request)
    return _page(request, "ticket.html", site, page="ticket", ticket_id=request.path_params["ticket_id"])


routes: list = [
    Route("/d/{site}/floor/{n}", hall_display, name="hall_display"),
    Route("/d/{site}/counter/{id}", counter_display, name="counter_display"),
    Route("/k/{site}", kiosk, name="kiosk"),
    Route("/o/{site}/counter/{id}", officer_pad, name="officer_pad"),
    Route("/t/{site}/{ticket_id}", ticket_page, name="ticket_page"),
    Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
]
