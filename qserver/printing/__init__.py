"""Tickets on 80 mm ESC/POS thermal printers: a network printer driven by the server (raw port
9100) or a USB printer behind the small agent on the kiosk PC (:mod:`.agent`).

Light on purpose: python-escpos, Pillow and the standard library only, so the agent can run on a
kiosk PC without the server's dependencies.
"""

from .exceptions import (
    CoverOpen, PaperOut, PrinterConfigError, PrinterFault, PrinterOffline, PrintingError, TicketDataError,
)
from .printer import PrintResult, ThermalPrinter, printer_from_settings
from .render import render_ticket
from .settings import PrinterSettings
from .slip import TicketSlip, layout
from .status import PrinterStatus
from .transport import DeviceTransport, NetworkTransport

__all__ = [
    "CoverOpen", "DeviceTransport", "NetworkTransport", "PaperOut", "PrintResult", "PrinterConfigError",
    "PrinterFault", "PrinterOffline", "PrinterSettings", "PrinterStatus", "PrintingError", "ThermalPrinter",
    "TicketDataError", "TicketSlip", "layout", "printer_from_settings", "render_ticket",
]
