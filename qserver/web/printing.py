"""Thermal tickets from the kiosk: the slip of a ticket, printing it on a network printer from the server,
and what a kiosk's printer last said (for the console's device alerts).

- ``GET .../tickets/{ticket}/slip?documents=0|1`` (kiosk, manager): ``TicketSlip.to_mapping()``, what a
  kiosk with ``?printer=agent`` posts to ``qserver-print-agent`` on its own PC.
- ``POST .../tickets/{ticket}/print`` ``{"printer": name, "documents": bool}`` (kiosk, manager): the
  server prints the ticket on the site's printer ``name`` (``printers/<slug>.toml``; a kiosk names one,
  it can never make the server connect elsewhere). 503 ``paper_out`` / ``printer_offline`` /
  ``cover_open`` / ``printer_error`` when it cannot; the ticket stands either way.
- ``POST .../printer-status`` ``{"printer", "ok", "code", "detail", "paper_low"}`` (kiosk): a kiosk
  whose agent printed (or could not) says so.

Every outcome is recorded per kiosk (:meth:`SiteEngine.record_printer`); the console shows the ones
that are not ok.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from config import Site

from ..auth import Grant
from ..engine import SiteEngine
from ..exceptions import PRINTER_ERRORS, InvalidField, PrinterUnavailable, unknown_printer
from ..labels import PRINTER_PROBLEMS, PRIORITY_NAMES
from ..printing import PrintingError, TicketSlip, printer_from_settings
from ..procedures import Catalogue
from .http import engine_of, grant_of, json_response, read_body

__all__ = ["ticket_slip", "slip_of", "print_ticket", "printer_status", "kiosk_name", "unavailable"]

logger = logging.getLogger(__name__)

#: What a kiosk may report about its printer.
REPORTED_CODES = tuple(PRINTER_PROBLEMS)
MAX_DETAIL = 300


def kiosk_name(grant: Grant) -> str:
    """The kiosk a printer belongs to: its token's name, else the token's id."""
    return grant.name or f"token {grant.id}"


def slip_of(site: Site, ticket: dict[str, Any], catalogue: Catalogue, *, base_url: str,
            documents: bool = True) -> TicketSlip:
    """The paper ticket of a stored ticket (as :meth:`SiteEngine.ticket` reads it): the procedure under
    the name it was chosen with, its documents from the catalogue when ``documents``."""
    slip = TicketSlip.from_site(site, agency=ticket["agency"], number=ticket["number"], ahead=ticket.get("ahead") or 0,
                                qr_url=base_url.rstrip("/") + f"/t/{site.slug}/{ticket['id']}",
                                issued_at=dt.datetime.fromtimestamp(ticket["issued_at"] / 1000, tz=site.tz),
                                priority=PRIORITY_NAMES.get(ticket.get("priority") or "", ""))
    code = ticket.get("procedure")
    if not code:
        return slip
    known = catalogue.by_code.get(code)
    return dataclasses.replace(slip, procedure=ticket.get("procedure_name") or (known.name if known else code),
                               documents=tuple(known.documents) if known is not None and documents else ())


async def _kiosk_request(request: Request) -> tuple[SiteEngine, Grant, dict[str, Any]]:
    grant = await grant_of(request)
    engine = engine_of(request)
    ticket = await engine.ticket(request.path_params["ticket"]) if "ticket" in request.path_params else {}
    grant.require(engine.site.slug, "kiosk", "manager")
    return engine, grant, ticket


def _documents(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if value in ("1", "true", "yes"):
        return True
    if value in ("0", "false", "no"):
        return False
    raise InvalidField(f"'documents' phải là true hoặc false, không phải {value!r}. / 'documents' must be a boolean.")


async def ticket_slip(request: Request) -> Response:
    engine, _grant, ticket = await _kiosk_request(request)
    documents = _documents(request.query_params.get("documents"), True)
    slip = slip_of(engine.site, ticket, engine.catalogue, base_url=str(request.base_url), documents=documents)
    return json_response(slip.to_mapping())


def _lock(request: Request, site: str, printer: str) -> asyncio.Lock:
    """One job at a time per printer (two kiosks could share one)."""
    locks = getattr(request.app.state, "print_locks", None)
    if locks is None:
        locks = request.app.state.print_locks = {}
    return locks.setdefault((site, printer), asyncio.Lock())


def unavailable(error: PrintingError) -> PrinterUnavailable:
    """The HTTP error (503) of a printing error: the kiosk's Vietnamese line, then the technical detail."""
    cls = PRINTER_ERRORS.get(error.code, PrinterUnavailable)
    return cls(f"{error.message_vi}. / {error}", printer=error.printer)


async def print_ticket(request: Request) -> Response:
    engine, grant, ticket = await _kiosk_request(request)
    body = await read_body(request)
    name = body.get("printer")
    configured = request.app.state.printers.get(engine.site.slug, {})
    if not isinstance(name, str) or name not in configured:
        raise unknown_printer(str(name), engine.site.slug, sorted(configured))
    settings = configured[name]
    settings = dataclasses.replace(settings, documents=_documents(body.get("documents"), settings.documents))
    slip = slip_of(engine.site, ticket, engine.catalogue, base_url=str(request.base_url),
                   documents=settings.documents)
    kiosk = kiosk_name(grant)
    report: dict[str, Any] = {"printer": name, "via": "network"}
    try:
        async with _lock(request, engine.site.slug, name):
            result = await printer_from_settings(settings).aprint_ticket(slip)
    except PrintingError as exc:
        logger.warning("kiosk %s: ticket %s not printed: %s", kiosk, ticket["number"], exc)
        await engine.record_printer(kiosk, {**report, "ok": False, "code": exc.code, "detail": str(exc),
                                            "ticket": ticket["number"]})
        raise unavailable(exc) from exc
    await engine.record_printer(kiosk, {**report, "ok": True, "paper_low": result.paper_low,
                                        "ticket": ticket["number"]})
    return json_response({"ok": True, "printer": name, "paper_low": result.paper_low, "bytes": result.sent})


async def printer_status(request: Request) -> Response:
    """A kiosk reports what its USB printer (behind the agent) said about the last ticket."""
    grant = await grant_of(request)
    engine = engine_of(request)
    grant.require(engine.site.slug, "kiosk")
    body = await read_body(request)
    ok, code, detail = body.get("ok"), body.get("code"), body.get("detail", "")
    if not isinstance(ok, bool):
        raise InvalidField("'ok' phải là true hoặc false. / 'ok' must be a boolean.")
    if not ok and code not in REPORTED_CODES:
        raise InvalidField(f"'code' phải là một trong {', '.join(REPORTED_CODES)}, không phải {code!r}. "
                           f"/ 'code' must be one of {', '.join(REPORTED_CODES)}.")
    if not isinstance(detail, str) or len(detail) > MAX_DETAIL:
        raise InvalidField(f"'detail' phải là chuỗi tối đa {MAX_DETAIL} ký tự. / 'detail' must be a string of at "
                           f"most {MAX_DETAIL} characters.")
    printer = body.get("printer", "USB")
    if not isinstance(printer, str) or not 0 < len(printer) <= 64:
        raise InvalidField("'printer' phải là chuỗi 1–64 ký tự. / 'printer' must be a string of 1-64 characters.")
    ticket = body.get("ticket")
    if ticket is not None and (not isinstance(ticket, str) or not 0 < len(ticket) <= 16):
        raise InvalidField("'ticket' phải là số thứ tự (chuỗi 1–16 ký tự). / 'ticket' must be a ticket number.")
    report: dict[str, Any] = {"printer": printer, "via": "agent", "ok": ok, "paper_low": body.get("paper_low") is True}
    if ticket:
        report["ticket"] = ticket
    if not ok:
        report.update(code=code, detail=detail)
    record = await engine.record_printer(kiosk_name(grant), report)
    return json_response({"kiosk": record["kiosk"], "ok": ok})
