"""ESC/POS real-time status (DLE EOT n) decoded, and what it means for the next ticket (pure).

Each answer is one byte with bits 1 and 4 set and bits 0 and 7 clear:

- n=1, printer: bit 3 offline.
- n=2, offline cause: bit 2 cover open, bit 3 paper being fed by the button, bit 5 printing
  stopped at the paper end, bit 6 an error.
- n=3, error cause: bit 3 autocutter, bit 5 unrecoverable, bit 6 auto-recoverable (head hot).
- n=4, roll paper sensor: bits 2-3 paper near its end, bits 5-6 paper end.
"""

from __future__ import annotations

from dataclasses import dataclass

from .exceptions import CoverOpen, PaperOut, PrinterFault, PrinterOffline, PrintingError

__all__ = ["PrinterStatus", "QUERIES", "decode", "is_status_byte"]

DLE_EOT = b"\x10\x04"
QUERIES = {"printer": DLE_EOT + b"\x01", "offline": DLE_EOT + b"\x02", "error": DLE_EOT + b"\x03",
           "paper": DLE_EOT + b"\x04"}


def is_status_byte(value: int) -> bool:
    """True for a byte shaped like a DLE EOT answer (fixed bits 1 and 4 set, 0 and 7 clear)."""
    return value & 0b1001_0011 == 0b0001_0010


@dataclass(frozen=True)
class PrinterStatus:
    online: bool
    paper: str                 # "ok", "low" (near end) or "out"
    cover_open: bool = False
    error: str = ""            # "", "autocutter", "unrecoverable", "recoverable" or "unknown"

    @property
    def ready(self) -> bool:
        return self.problem("") is None

    def problem(self, printer: str) -> PrintingError | None:
        """The error a ticket sent now would meet, or None when the printer can print."""
        if self.paper == "out":
            return PaperOut("out of paper", printer=printer)
        if self.cover_open:
            return CoverOpen("cover open", printer=printer)
        if self.error:
            return PrinterFault(f"printer error ({self.error})", printer=printer)
        if not self.online:
            return PrinterOffline("the printer reports itself offline", printer=printer)
        return None

    def to_dict(self) -> dict:
        return {"online": self.online, "paper": self.paper, "cover_open": self.cover_open, "error": self.error}


def decode(printer: int, offline: int, paper: int, error: int | None = None) -> PrinterStatus:
    """The status from the answers to DLE EOT 1, 2, 4 (and 3 when the offline cause says error)."""
    paper_state = "out" if paper & 0x60 or offline & 0x20 else "low" if paper & 0x0C else "ok"
    error_kind = ""
    if offline & 0x40:
        if error is None:
            error_kind = "unknown"
        elif error & 0x08:
            error_kind = "autocutter"
        elif error & 0x20:
            error_kind = "unrecoverable"
        elif error & 0x40:
            error_kind = "recoverable"
        else:
            error_kind = "unknown"
    return PrinterStatus(online=not printer & 0x08, paper=paper_state, cover_open=bool(offline & 0x04),
                         error=error_kind)
