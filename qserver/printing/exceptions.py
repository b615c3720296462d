"""Every error the printing package raises on purpose.

Each carries a machine ``code`` (for the console's device alert) and ``message_vi``, the line the
kiosk screen shows the citizen; ``str()`` is the technical English for logs, naming the printer.
"""

from __future__ import annotations

__all__ = [
    "CoverOpen", "PaperOut", "PrinterConfigError", "PrinterFault", "PrinterOffline", "PrintingError",
    "TicketDataError",
]

NEXT_KIOSK = "mời lấy số ở máy bên cạnh"


class PrintingError(Exception):
    """Base of the printing errors; ``code`` and ``message_vi`` say what the kiosk and console show."""

    code = "printer_error"
    message_vi = f"Máy in đang gặp lỗi — {NEXT_KIOSK}"

    def __init__(self, detail: str, *, printer: str = ""):
        self.detail, self.printer = detail, printer
        super().__init__(f"printer {printer}: {detail}" if printer else detail)

    def to_dict(self) -> dict[str, str]:
        """The JSON body the print agent answers with (and the kiosk page shows)."""
        return {"code": self.code, "message": self.message_vi, "detail": str(self)}


class PrinterOffline(PrintingError, ConnectionError):
    """The printer cannot be reached, does not answer, or reports itself offline."""

    code = "printer_offline"
    message_vi = f"Máy in không hoạt động — {NEXT_KIOSK}"


class PaperOut(PrintingError):
    """The paper roll is empty (before printing, or it ran out while printing)."""

    code = "paper_out"
    message_vi = f"Máy in hết giấy — {NEXT_KIOSK}"


class CoverOpen(PrintingError):
    """The printer's cover is open."""

    code = "cover_open"
    message_vi = f"Nắp máy in đang mở — {NEXT_KIOSK}"


class PrinterFault(PrintingError):
    """The printer reports an error (cutter jam, head too hot) or answers what is not ESC/POS."""


class TicketDataError(PrintingError, ValueError):
    """The ticket handed to the printer lacks a field or has one of the wrong kind."""

    code = "bad_ticket"
    message_vi = "Không in được phiếu: dữ liệu phiếu không hợp lệ"


class PrinterConfigError(PrintingError, ValueError):
    """Printer settings that cannot be used; ``problems`` lists every one."""

    code = "printer_config"
    message_vi = f"Máy in chưa được cấu hình đúng — {NEXT_KIOSK}"

    def __init__(self, source: str, problems: list[str]):
        self.source, self.problems = source, problems
        super().__init__(f"{source}: " + "; ".join(problems))
