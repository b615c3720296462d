"""The citizen's pages from home, light enough for a cheap phone (qs.js + qs.css + one small script):

- ``/s/{site}``: take a number (agency or procedure, CCCD number, mobile number), then its ticket page;
- ``/s/{site}/hen``: book a visit (agency, day, slot, CCCD, mobile); ``/s/{site}/hen/{code}``: the
  booking's confirmation with its code and QR, cancel or move it;
- ``/t/{site}/{ticket}/qr.svg`` and ``/s/{site}/hen/{code}/qr.svg``: the QR codes, drawn on the server.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..exceptions import NotFound
from ..exceptions import QServerError
from .home_api import appointment_options_of, limit_codes, online_options
from .pages import not_found, render, unknown_site
from .qr import qr_svg

__all__ = ["routes"]


def _engine(request: Request):
    return request.app.state.engines.get(request.path_params["site"])


async def phone_page(request: Request) -> Response:
    """``/s/{site}``: a number from the phone."""
    engine = _engine(request)
    if engine is None:
        return unknown_site(request)
    return render(request, "phone.html", engine.site, "phone", online=online_options(engine),
                  appointments=appointment_options_of(engine)["enabled"])


async def booking_page(request: Request) -> Response:
    """``/s/{site}/hen`` (book) and ``/s/{site}/hen/{code}`` (a booking's confirmation)."""
    engine = _engine(request)
    if engine is None:
        return unknown_site(request)
    return render(request, "booking.html", engine.site, "booking", options=appointment_options_of(engine),
                  code=request.path_params.get("code"))


def _svg(body: bytes) -> Response:
    return Response(body, media_type="image/svg+xml", headers={"Cache-Control": "private, max-age=3600"})


async def ticket_qr(request: Request) -> Response:
    """The QR of a ticket's page (what the phone shows at the counter, or sends to a relative)."""
    engine = _engine(request)
    if engine is None:
        return unknown_site(request)
    ticket_id = request.path_params["ticket_id"]
    try:
        await engine.ticket(ticket_id)
    except NotFound:
        return not_found(request, f"Không tìm thấy số “{ticket_id}”.", f"No ticket '{ticket_id}'.")
    base = str(request.base_url).rstrip("/")
    return _svg(qr_svg(f"{base}/t/{engine.site.slug}/{ticket_id}"))


async def booking_qr(request: Request) -> Response:
    """The QR of a booking: its confirmation page's address, which the kiosk's scanner reads to check in."""
    engine = _engine(request)
    if engine is None:
        return unknown_site(request)
    try:
        await limit_codes(request)  # the QR says whether a code exists: as limited as any lookup by code
        booking = await engine.booking_by_code(request.path_params["code"])
    except NotFound:
        return not_found(request, "Không tìm thấy lịch hẹn này.", "No such booking.")
    except QServerError as exc:
        return Response(exc.message, status_code=exc.status, headers={"Retry-After": str(exc.details.get(
            "retry_after_s", 60))}, media_type="text/plain; charset=utf-8")
    base = str(request.base_url).rstrip("/")
    return _svg(qr_svg(f"{base}/s/{engine.site.slug}/hen/{booking['code']}"))


routes: list = [
    Route("/s/{site}", phone_page, name="phone_page"),
    Route("/s/{site}/hen", booking_page, name="booking_page"),
    Route("/s/{site}/hen/{code}", booking_page, name="booking_confirmation"),
    Route("/s/{site}/hen/{code}/qr.svg", booking_qr, name="booking_qr"),
    Route("/t/{site}/{ticket_id}/qr.svg", ticket_qr, name="ticket_qr"),
]
