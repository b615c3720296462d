"""Every error qserver raises on purpose. Each carries the HTTP status and the machine ``code``.

The ``code`` strings are part of the public contract: :data:`ERROR_CODES` lists every code the server
can send with its status (the README's table and the pages' sentences in :mod:`qserver.labels` are
checked against it by the suite). Messages are Vietnamese first, for the officer or citizen who reads
them, then English, with the offending value named; the constructors below build the ones that
several parts raise, so each is worded once.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "QServerError", "BadRequest", "Unauthorized", "Forbidden", "NotFound", "Conflict", "InvalidField",
    "RateLimited", "TooLarge", "Unavailable", "ArchiveUnavailable", "PrinterUnavailable", "PrinterPaperOut",
    "PrinterOff", "PrinterCoverOpen", "PRINTER_ERRORS", "CONFLICT_MESSAGES", "ERROR_CODES",
    "unknown_site", "unknown_agency", "unknown_counter", "unknown_ticket", "unknown_procedure", "unknown_printer",
    "procedure_agency_mismatch",
]


class QServerError(Exception):
    """Base of every qserver error; ``status`` and ``code`` become the error body."""

    status = 500
    code = "internal_error"

    def __init__(self, message: str, *, code: str | None = None, **details: Any):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, **self.details}}


class BadRequest(QServerError, ValueError):
    """The request body is not JSON."""

    status, code = 400, "bad_json"


class Unauthorized(QServerError, PermissionError):
    """No token, or a token qserver does not know."""

    status, code = 401, "unauthorized"


class NotFound(QServerError, LookupError):
    """An unknown site, agency, counter or ticket."""

    status, code = 404, "not_found"


class Forbidden(QServerError, PermissionError):
    """A known token that may not do this (another counter, a role without the right)."""

    status, code = 403, "forbidden"


class Conflict(QServerError):
    """Not possible in the current state (closed hours, paused counter, nothing to recall ...)."""

    status, code = 409, "conflict"


class InvalidField(QServerError, ValueError):
    """A field of the wrong type or out of range."""

    status, code = 422, "invalid_field"


class RateLimited(QServerError):
    """A limit was reached; ``retry_after_s`` says when to try again."""

    status, code = 429, "rate_limited"

    def __init__(self, message: str, *, retry_after_s: int, **details: Any):
        super().__init__(message, retry_after_s=retry_after_s, **details)
        self.retry_after_s = retry_after_s


class TooLarge(QServerError, ValueError):
    """A request body over the limit."""

    status, code = 413, "too_large"


class Unavailable(QServerError, ConnectionError):
    """Redis cannot be reached."""

    status, code = 503, "redis_unavailable"

    def __init__(self, message: str = "Mất kết nối tới Redis. / Redis is unreachable.", **details: Any):
        super().__init__(message, **details)


class ArchiveUnavailable(QServerError):
    """The SQLite archive behind past days' reports failed."""

    status, code = 500, "archive_unavailable"


class PrinterUnavailable(QServerError):
    """A kiosk's thermal printer could not print the ticket (the ticket itself stands): in error."""

    status, code = 503, "printer_error"


class PrinterPaperOut(PrinterUnavailable):
    """The printer is out of paper (or ran out during the ticket)."""

    code = "paper_out"


class PrinterOff(PrinterUnavailable):
    """The printer is off, unreachable, silent, or reports itself offline."""

    code = "printer_offline"


class PrinterCoverOpen(PrinterUnavailable):
    """The printer's cover is open."""

    code = "cover_open"


#: The HTTP error of each :mod:`qserver.printing` error code.
PRINTER_ERRORS = {cls.code: cls for cls in (PrinterUnavailable, PrinterPaperOut, PrinterOff, PrinterCoverOpen)}


#: Vietnamese (then English) sentences for the 409 codes the Lua scripts return.
CONFLICT_MESSAGES = {
    "counter_paused": "Quầy {counter} đang tạm nghỉ. / Counter {counter} is paused.",
    "counter_closed": "Quầy {counter} đang đóng. / Counter {counter} is closed.",
    "nothing_current": "Quầy {counter} không có số nào đang phục vụ. / Counter {counter} is serving no ticket.",
    "not_waiting": "Số {ticket} không còn trong hàng chờ. / Ticket {ticket} is not waiting.",
    "same_agency": "Số {ticket} đã thuộc {agency}. / Ticket {ticket} already belongs to that agency.",
    "already_rated": "Số {ticket} đã được đánh giá. / Ticket {ticket} was already rated.",
    "not_done": "Số {ticket} chưa được phục vụ xong. / Ticket {ticket} is not done yet.",
    "active_ticket": "Công dân đã có số {ticket} đang chờ ở cơ quan này. / This citizen already holds ticket {ticket}"
                     " for this agency.",
    "already_paused": "Quầy {counter} đã tạm nghỉ. / Counter {counter} is already paused.",
    "not_paused": "Quầy {counter} không tạm nghỉ. / Counter {counter} is not paused.",
    "already_open": "Quầy {counter} đang mở. / Counter {counter} is already open.",
    "already_closed": "Quầy {counter} đã đóng. / Counter {counter} is already closed.",
}

#: Every error code the server sends, with its HTTP status.
ERROR_CODES: dict[str, int] = {
    BadRequest.code: 400,
    Unauthorized.code: 401,
    Forbidden.code: 403,
    "unknown_site": 404, "unknown_agency": 404, "unknown_counter": 404, "unknown_ticket": 404, "not_found": 404,
    "method_not_allowed": 405, "unknown_procedure": 404, "unknown_printer": 404, "unknown_booking": 404,
    "unknown_slot": 404,
    "closed_hours": 409, "not_rotating": 409, "outside_plan_window": 409, "no_history": 409, "webhook_not_set": 409,
    **{code: 409 for code in CONFLICT_MESSAGES},
    # from home: online numbers and appointments (qserver/engine/home.py)
    **{code: 409 for code in ("online_disabled", "online_closed", "online_limit", "online_barred",
                              "appointments_disabled", "slot_unavailable", "slot_full", "slot_closed", "same_slot",
                              "already_booked", "booking_limit", "booking_cancelled", "booking_used",
                              "booking_expired", "checkin_too_early", "checkin_too_late")},
    TooLarge.code: 413,
    InvalidField.code: 422, "invalid_cccd": 422, "invalid_id_number": 422, "invalid_phone": 422,
    "invalid_change": 422, "invalid_state": 422, "procedure_agency_mismatch": 422,
    RateLimited.code: 429,
    ArchiveUnavailable.code: 500,
    Unavailable.code: 503, **{code: 503 for code in PRINTER_ERRORS},
}


def unknown_site(slug: str) -> NotFound:
    return NotFound(f"Không có điểm phục vụ '{slug}'. / site '{slug}' not found", code="unknown_site")


def unknown_agency(slug: str, site: str) -> NotFound:
    return NotFound(f"Không có cơ quan '{slug}' ở {site}. / agency '{slug}' is not configured for site '{site}'",
                    code="unknown_agency")


def unknown_counter(counter: str, site: str) -> NotFound:
    return NotFound(f"Quầy '{counter}' không có ở {site}. / counter '{counter}' is not configured for site '{site}'",
                    code="unknown_counter")


def unknown_ticket(ticket: str) -> NotFound:
    return NotFound(f"Không tìm thấy số '{ticket}'. / ticket '{ticket}' not found", code="unknown_ticket")


def unknown_procedure(code: str, site: str) -> NotFound:
    return NotFound(f"Không có thủ tục '{code}' trong danh mục của {site}. / procedure '{code}' is not in the "
                    f"catalogue of site '{site}'", code="unknown_procedure")


def unknown_printer(name: str, site: str, known: list[str]) -> NotFound:
    listed = ", ".join(known) or "none"
    return NotFound(f"Không có máy in '{name}' ở {site}. / printer '{name}' is not configured for site '{site}' "
                    f"(configured: {listed})", code="unknown_printer")


def procedure_agency_mismatch(procedure: Any, agency: str, agency_name: str, **details: Any) -> InvalidField:
    """A procedure given with (or for a ticket of) another agency than its own."""
    return InvalidField(f"Thủ tục “{procedure.name}” ({procedure.code}) không thuộc {agency_name}. "
                        f"/ procedure '{procedure.code}' belongs to agency '{procedure.agency}', not '{agency}'",
                        code="procedure_agency_mismatch", procedure=procedure.code, procedure_agency=procedure.agency,
                        **details)
