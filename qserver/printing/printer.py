"""Printing a ticket on one thermal printer: status before, the job, status after.

:meth:`ThermalPrinter.print_ticket` renders the ticket first (a font problem never reaches the
printer), opens the connection, asks the real-time status (DLE EOT 1, 2, 4) and, when the printer
is off, out of paper, open or in error, raises the matching :class:`PrintingError` having sent
nothing but the status queries. Otherwise it sends the job and asks again: paper that ran out
during the ticket raises :class:`PaperOut` (the ticket may be cut short), paper near its end is
reported in the result so the console can warn before it runs out.

The status after a job is the printer's state when the last byte arrived, not when the paper
stopped moving: a roll that ends during the final centimetres is caught by the next ticket's check.
The calls block (sockets); from asyncio use :meth:`ThermalPrinter.aprint_ticket`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from .exceptions import PaperOut, PrinterConfigError, PrinterFault, PrinterOffline
from .raster import Fonts
from .render import render_ticket
from .settings import PrinterSettings
from .slip import TicketSlip
from .status import QUERIES, PrinterStatus, decode, is_status_byte
from .transport import DeviceTransport, NetworkTransport, Transport

__all__ = ["PrintResult", "ThermalPrinter", "printer_from_settings"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PrintResult:
    sent: int                          # bytes of the job
    before: PrinterStatus | None       # None when the printer has no status channel
    after: PrinterStatus | None

    @property
    def paper_low(self) -> bool:
        return self.after is not None and self.after.paper == "low"


class ThermalPrinter:
    """One ESC/POS printer reached through ``transport``."""

    def __init__(self, transport: Transport, settings: PrinterSettings = PrinterSettings(), *,
                 fonts: Fonts | None = None):
        self.transport, self.settings, self.fonts = transport, settings, fonts
        self.name = settings.name or transport.name

    # -- status -----------------------------------------------------------------------------------
    def _answer(self, query: str) -> int:
        self.transport.write(QUERIES[query])
        answer = self.transport.read(1, self.settings.status_timeout_s)
        if not answer:
            raise PrinterOffline(f"no answer to the status query DLE EOT {QUERIES[query][-1]} within "
                                 f"{self.settings.status_timeout_s:g} s (off, or not an ESC/POS printer)",
                                 printer=self.name)
        if not is_status_byte(answer[0]):
            raise PrinterFault(f"status query DLE EOT {QUERIES[query][-1]} answered 0x{answer[0]:02x}, "
                               "which is not an ESC/POS status byte", printer=self.name)
        return answer[0]

    def _query(self) -> PrinterStatus:
        while self.transport.read(64, 0):  # drop anything unasked (automatic status back)
            pass
        printer, offline, paper = self._answer("printer"), self._answer("offline"), self._answer("paper")
        error = self._answer("error") if offline & 0x40 else None
        status = decode(printer, offline, paper, error)
        logger.debug("printer %s status %s", self.name, status)
        return status

    def status(self) -> PrinterStatus:
        """The printer's state now; raises :class:`PrinterOffline` when it cannot be reached or is silent."""
        self.transport.open()
        try:
            return self._query()
        finally:
            self.transport.close()

    # -- printing ---------------------------------------------------------------------------------
    def print_ticket(self, slip: TicketSlip) -> PrintResult:
        """Print ``slip``; raises a :class:`PrintingError` (with ``message_vi``) when it cannot."""
        data = render_ticket(slip, self.settings, fonts=self.fonts)
        return self.print_bytes(data, label=f"ticket {slip.number}")

    async def aprint_ticket(self, slip: TicketSlip) -> PrintResult:
        """:meth:`print_ticket` in a worker thread, for the server's event loop."""
        return await asyncio.to_thread(self.print_ticket, slip)

    def print_bytes(self, data: bytes, *, label: str = "job") -> PrintResult:
        """Send a rendered job with the status checks around it."""
        check = self.settings.status_query
        self.transport.open()
        try:
            before = self._query() if check else None
            if before is not None and (problem := before.problem(self.name)) is not None:
                logger.warning("printer %s cannot print %s: %s", self.name, label, problem.detail)
                raise problem
            self.transport.write(data)
            after = self._query() if check else None
        finally:
            self.transport.close()
        if after is not None and after.paper == "out":
            raise PaperOut(f"ran out of paper while printing {label}: it may be cut short", printer=self.name)
        if after is not None and (problem := after.problem(self.name)) is not None:
            raise problem
        if after is not None and after.paper == "low":
            logger.warning("printer %s: paper near its end", self.name)
        return PrintResult(len(data), before, after)


def printer_from_settings(settings: PrinterSettings, *, fonts: Fonts | None = None) -> ThermalPrinter:
    """A network printer when ``host`` is set, else the USB device file ``device``."""
    if settings.host:
        transport: Transport = NetworkTransport(settings.host, settings.port, timeout_s=settings.timeout_s)
    elif settings.device:
        transport = DeviceTransport(settings.device)
    else:
        raise PrinterConfigError(settings.label, ["set host (network printer) or device (USB printer)"])
    return ThermalPrinter(transport, settings, fonts=fonts)
