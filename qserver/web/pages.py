"""The pages of ``displays/``: hall and counter displays, kiosk, officer pad, citizen ticket page.

Each page is rendered once from the site layout with a small JSON boot block (:func:`boot`: the
layout, the labels, the page's own values); everything live then comes from the public API and
``/ws``, in the browser. The managers' pages render through :func:`render` too.
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

from config import Site
from displays import STATIC_DIR, TEMPLATES_DIR

from urllib.parse import urlsplit

from .. import labels
from ..engine import slots
from ..present import present_layout
from .guard import page_policy

__all__ = ["routes", "render", "not_found", "unknown_site", "unknown_counter", "PAGE_HEADERS"]

# Pages are tiny and change on upgrade: never cached. Static files carry ?v=<content hash> instead.
# (The security headers and the Content-Security-Policy of every page: qserver/web/guard.py.)
PAGE_HEADERS = {"Cache-Control": "no-cache"}

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
templates.env.globals["labels"] = labels


def not_found(request: Request, what: str, what_en: str) -> Response:
    return templates.TemplateResponse(
        request, "error.html", {"title": "Không tìm thấy", "message": what, "message_en": what_en},
        status_code=404, headers=PAGE_HEADERS,
    )


def unknown_site(request: Request) -> Response:
    slug = request.path_params["site"]
    return not_found(request, f"Không có trung tâm “{slug}”.", f"Unknown site '{slug}'.")


def unknown_counter(request: Request, counter_id: str) -> Response:
    return not_found(request, f"Không có quầy số “{counter_id}”.", f"No counter '{counter_id}' at this site.")


def boot(request: Request, site: Site, page: str, **extra: Any) -> dict[str, Any]:
    """What a page starts with: the site's layout, the labels, the service day and the page's values.

    ``?wire=msgpack`` makes the page speak qs.v1.msgpack with the vendored decoder (JSON otherwise).
    """
    engine = request.app.state.engines.get(site.slug) if hasattr(request.app.state, "engines") else None
    return {"site": present_layout(site), "labels": labels.for_pages(site.rating_levels), "page": page,
            "today": engine.today() if engine is not None else None,
            "now_ms": engine.now_ms() if engine is not None else None,
            "wire": "msgpack" if request.query_params.get("wire") == "msgpack" else "json", **extra}


def render(request: Request, template: str, site: Site, page: str, *, headers: dict[str, str] | None = None,
           **extra: Any) -> Response:
    data = boot(request, site, page, **extra)
    return templates.TemplateResponse(request, template, {**extra, "site": site, "page": page,
                                                          "wire": data["wire"], "boot": data},
                                      headers={**PAGE_HEADERS, **(headers or {})})


def _site(request: Request) -> Site | None:
    return request.app.state.sites.get(request.path_params["site"])


async def hall_display(request: Request) -> Response:
    """``/d/{site}/floor/{n}``: the floor's last calls, waiting counts, clock and notices."""
    site = _site(request)
    if site is None:
        return unknown_site(request)
    raw = request.path_params["n"]
    try:
        number = int(raw)
    except ValueError:
        number = None
    floor = site.floor_by_number.get(number) if number is not None else None
    if floor is None:
        return not_found(request, f"Trung tâm không có tầng “{raw}”.", f"No floor '{raw}' at this site.")
    device = request.query_params.get("device") or f"floor-{floor.number}-tv"
    return render(request, "hall.html", site, "hall", floor=floor.number, device=device)


def _counter_page(request: Request, template: str, page: str, **extra: Any) -> Response:
    """A page of one counter of the site, or the not-found page naming what is unknown."""
    site = _site(request)
    if site is None:
        return unknown_site(request)
    counter_id = request.path_params["id"]
    if counter_id not in site.counter_by_id:
        return unknown_counter(request, counter_id)
    return render(request, template, site, page, counter=counter_id, **extra)


async def counter_display(request: Request) -> Response:
    """``/d/{site}/counter/{id}``: the number being served at one counter, huge."""
    device = request.query_params.get("device") or f"counter-{request.path_params['id']}-display"
    return _counter_page(request, "counter.html", "counter", device=device)


def origin_of(url: str) -> str:
    """``http://127.0.0.1:8089/print`` → ``http://127.0.0.1:8089``; ValueError for anything but http(s)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"print agent URL {url!r} is not http(s)://host:port")
    return f"{parts.scheme}://{parts.netloc}"


async def kiosk(request: Request) -> Response:
    """``/k/{site}``: take a ticket by touch (by agency, or by finding the procedure), print it at 80 mm
    (the browser's print, the server's network printer, or the print agent on the kiosk PC)."""
    site = _site(request)
    if site is None:
        return unknown_site(request)
    agent = origin_of(request.app.state.settings.print_agent_url)
    catalogue = request.app.state.catalogues.get(site.slug)
    return render(request, "kiosk.html", site, "kiosk", procedures=len(catalogue) if catalogue else 0,
                  appointments=any(slots.takes_bookings(site, a.slug) for a in site.agencies),
                  print_agent_url=agent, headers={"Content-Security-Policy": page_policy(agent)})


async def officer_pad(request: Request) -> Response:
    """``/o/{site}/counter/{id}``: the officer's buttons for one counter."""
    return _counter_page(request, "officer.html", "officer")


async def ticket_page(request: Request) -> Response:
    """``/t/{site}/{ticket_id}``: the citizen's live ticket, on a phone (the QR on the paper ticket)."""
    site = _site(request)
    if site is None:
        return unknown_site(request)
    return render(request, "ticket.html", site, "ticket", ticket_id=request.path_params["ticket_id"],
                  near_ahead=site.online.near_ahead)


routes: list = [
    Route("/d/{site}/floor/{n}", hall_display, name="hall_display"),
    Route("/d/{site}/counter/{id}", counter_display, name="counter_display"),
    Route("/k/{site}", kiosk, name="kiosk"),
    Route("/o/{site}/counter/{id}", officer_pad, name="officer_pad"),
    Route("/t/{site}/{ticket_id}", ticket_page, name="ticket_page"),
    Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
]
