"""What a printed ticket says, as data and as Vietnamese lines (pure: no printer, no fonts).

A :class:`TicketSlip` is built by the server from the site and the issued ticket
(:meth:`TicketSlip.from_site`) or by the print agent from the JSON the kiosk page posts
(:meth:`TicketSlip.from_mapping`); :func:`layout` turns it into the lines of the ticket.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Mapping

from .exceptions import TicketDataError

if TYPE_CHECKING:
    from config import Site

__all__ = ["Line", "QR", "Rule", "TicketSlip", "layout"]


@dataclass(frozen=True)
class TicketSlip:
    number: str                    # "V012"
    agency: str                    # "Sở Tư pháp"
    floor: str                     # "Tầng 1"
    counters: tuple[str, ...]      # the counters that serve the agency
    ahead: int                     # people waiting before this ticket
    qr_url: str                    # the ticket page
    issued_at: dt.datetime         # local time of the site
    site_name: str = ""
    procedure: str = ""            # the procedure's name, when the citizen picked one
    documents: tuple[str, ...] = ()
    priority: str = ""             # "Người cao tuổi" when the ticket has priority

    @classmethod
    def from_site(cls, site: Site, *, agency: str, number: str, ahead: int, qr_url: str,
                  issued_at: dt.datetime, procedure: Any = None, priority: str = "") -> TicketSlip:
        """The slip of a ticket of ``agency`` (a slug); ``procedure`` is a procedures.Procedure or None."""
        try:
            info = site.agency_by_slug[agency]
        except KeyError:
            raise TicketDataError(f"agency '{agency}' is not configured for site '{site.slug}'") from None
        floor = site.floor_by_number.get(info.floor)
        counters = tuple(c.id for c in site.counters if agency in c.agencies)
        return cls(number=number, agency=info.name, floor=floor.name if floor else "", counters=counters,
                   ahead=ahead, qr_url=qr_url, issued_at=issued_at.astimezone(site.tz),
                   site_name=site.short_name or site.name,
                   procedure=procedure.name if procedure is not None else "",
                   documents=tuple(procedure.documents) if procedure is not None else (), priority=priority)

    @classmethod
    def from_mapping(cls, data: Any) -> TicketSlip:
        """A slip from JSON (see :meth:`to_mapping`); raises :class:`TicketDataError` naming the bad field."""
        if not isinstance(data, Mapping):
            raise TicketDataError(f"a ticket must be a JSON object, not {type(data).__name__}")
        problems = []

        def take(key: str, kind: type, default: Any = ...) -> Any:
            if key not in data:
                if default is ...:
                    problems.append(f"'{key}' is missing")
                return None if default is ... else default
            value = data[key]
            if kind is int and isinstance(value, bool) or not isinstance(value, kind):
                problems.append(f"'{key}' = {value!r} is not {kind.__name__}")
                return None
            return value

        def texts(key: str, required: bool) -> tuple[str, ...]:
            value = take(key, list, ... if required else [])
            if value is not None and not all(isinstance(v, str) for v in value):
                problems.append(f"'{key}' must be a list of text")
                return ()
            return tuple(value or ())

        values = {key: take(key, str) for key in ("number", "agency", "floor", "qr_url")}
        counters = texts("counters", required=True)
        ahead = take("ahead", int)
        if ahead is not None and ahead < 0:
            problems.append(f"'ahead' = {ahead} is negative")
        issued_text = take("issued_at", str)
        issued_at = None
        if issued_text is not None:
            try:
                issued_at = dt.datetime.fromisoformat(issued_text)
            except ValueError:
                problems.append(f"'issued_at' = {issued_text!r} is not an ISO date-time")
        optional = {key: take(key, str, "") for key in ("site_name", "procedure", "priority")}
        documents = texts("documents", required=False)
        if problems:
            raise TicketDataError("bad ticket: " + "; ".join(problems))
        return cls(**values, counters=counters, ahead=ahead, issued_at=issued_at, documents=documents,
                   **optional)

    def to_mapping(self) -> dict[str, Any]:
        """JSON-ready: what the server hands the kiosk page to post to the print agent."""
        data = asdict(self)
        data["issued_at"] = self.issued_at.isoformat()
        data["counters"], data["documents"] = list(self.counters), list(self.documents)
        return data


@dataclass(frozen=True)
class Line:
    text: str
    size: str = "normal"     # "small", "normal", "large", "huge" (the number)
    bold: bool = False
    align: str = "center"    # "center" or "left"


@dataclass(frozen=True)
class Rule:
    """A thin line across the ticket."""


@dataclass(frozen=True)
class QR:
    data: str


def counters_text(counters: tuple[str, ...]) -> str:
    return f"Quầy {', '.join(counters)}" if counters else ""


def ahead_text(ahead: int) -> str:
    return "Không có người chờ trước bạn" if ahead == 0 else f"Có {ahead} người chờ trước bạn"


def layout(slip: TicketSlip, *, documents: bool = True) -> list[Line | Rule | QR]:
    """The ticket from top to bottom; ``documents`` lists what to bring under the procedure."""
    where = " · ".join(part for part in (slip.floor, counters_text(slip.counters)) if part)
    blocks: list[Line | Rule | QR] = []
    if slip.site_name:
        blocks += [Line(slip.site_name, "small", bold=True), Rule()]
    blocks += [Line("SỐ THỨ TỰ", "normal"), Line(slip.number, "huge", bold=True),
               Line(slip.agency, "large", bold=True)]
    if where:
        blocks.append(Line(where))
    if slip.priority:
        blocks.append(Line(f"Ưu tiên: {slip.priority}", bold=True))
    blocks.append(Line(ahead_text(slip.ahead)))
    if slip.procedure:
        blocks += [Rule(), Line(f"Thủ tục: {slip.procedure}", align="left")]
        if documents and slip.documents:
            blocks.append(Line("Hồ sơ cần mang:", "small", bold=True, align="left"))
            blocks += [Line(f"• {item}", "small", align="left") for item in slip.documents]
    blocks += [Rule(), QR(slip.qr_url), Line("Quét mã để theo dõi lượt của bạn", "small"),
               Line(f"Lấy số lúc {slip.issued_at:%H:%M} ngày {slip.issued_at:%d/%m/%Y}", "small")]
    return blocks
