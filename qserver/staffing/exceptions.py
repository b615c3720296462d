"""Every error the staffing package raises on purpose (a subclass of :class:`qserver.exceptions.QServerError`,
so the API turns it into the usual JSON error body). Messages are Vietnamese first and name the value."""

from __future__ import annotations

from ..exceptions import QServerError

__all__ = ["StaffingError", "UnknownAgency", "UnknownCounter", "InvalidChange", "InvalidState", "NoHistory"]


class StaffingError(QServerError, ValueError):
    """Base of the staffing errors: bad input to a forecast, a plan, an advice or a what-if."""

    status, code = 400, "staffing_error"


class UnknownAgency(StaffingError, LookupError):
    """An agency slug that is not configured for the site."""

    status, code = 404, "unknown_agency"


class UnknownCounter(StaffingError, LookupError):
    """A counter id that is not configured for the site."""

    status, code = 404, "unknown_counter"


class InvalidChange(StaffingError):
    """A what-if change that cannot be applied (unknown kind, bad time, nothing to open)."""

    status, code = 422, "invalid_change"


class InvalidState(StaffingError):
    """A live state (counters, waiting tickets) that cannot be read."""

    status, code = 422, "invalid_state"


class NoHistory(StaffingError):
    """Not enough usable days to build a profile or a forecast: the site's state, not the request (409)."""

    status, code = 409, "no_history"
