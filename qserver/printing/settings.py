"""One thermal printer's settings: where it is, how to draw Vietnamese on it, what the ticket lists.

``PrinterSettings.from_mapping`` reads a table (a site file's ``[kiosks.printer]``, the agent's
options) and reports every bad value at once, like the site loader.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Mapping

from .exceptions import PrinterConfigError

__all__ = ["PrinterSettings", "TEXT_MODES"]

TEXT_MODES = ("raster", "text")
ENCODINGS = ("cp1258", "ascii")
CUTS = ("partial", "full")


@dataclass(frozen=True)
class PrinterSettings:
    """How to reach and drive one 80 mm ESC/POS printer."""

    name: str = ""                # shown in errors and device alerts ("kiosk-1 printer")
    host: str = ""                # a network printer's address (raw TCP, usually port 9100)
    port: int = 9100
    device: str = ""              # a USB printer's device file on the kiosk PC (/dev/usb/lp0)
    text_mode: str = "raster"     # "raster": text drawn as an image (any printer, right Vietnamese);
                                  # "text": the printer's own font (needs a Vietnamese code page)
    encoding: str = "cp1258"      # text mode: "cp1258" (code page below) or "ascii" (no diacritics)
    codepage: int = 52            # text mode: the ESC t number of CP1258 on this model (Epson 52)
    width_px: int = 576           # printable dots across: 80 mm paper at 203 dpi prints 72 mm
    qr_native: bool = False       # True: the printer draws the QR (GS ( k); False: sent as an image
    qr_size: int = 6              # QR module size in dots (1-16)
    documents: bool = True        # list the documents to bring under the procedure
    cut: str = "partial"          # "partial" or "full"
    font_regular: str = ""        # raster mode: a TTF with Vietnamese letters (default Noto Sans)
    font_bold: str = ""
    status_query: bool = True     # ask DLE EOT before and after printing (needs a back channel)
    timeout_s: float = 3.0        # connect/write timeout
    status_timeout_s: float = 1.0  # how long a status answer may take

    @property
    def label(self) -> str:
        return self.name or (f"{self.host}:{self.port}" if self.host else self.device or "printer")

    @classmethod
    def from_mapping(cls, table: Mapping[str, Any], source: str = "printer") -> PrinterSettings:
        """Settings from a TOML/JSON table; raises :class:`PrinterConfigError` listing every problem."""
        problems: list[str] = []
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in table.items():
            if key not in known:
                problems.append(f"unknown setting '{key}' (known: {', '.join(known)})")
                continue
            default = known[key].default
            kind = type(default)
            if kind is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                problems.append(f"{key} = {value!r} is not {'a ' + kind.__name__}")
                continue
            values[key] = value
        settings = cls(**values)
        problems.extend(settings._problems())
        if problems:
            raise PrinterConfigError(source, problems)
        return settings

    def _problems(self) -> list[str]:
        problems = []
        choices = (("text_mode", TEXT_MODES), ("encoding", ENCODINGS), ("cut", CUTS))
        for key, allowed in choices:
            if getattr(self, key) not in allowed:
                problems.append(f"{key} = {getattr(self, key)!r} is not one of {', '.join(allowed)}")
        if self.host and self.device:
            problems.append("give host (network printer) or device (USB printer), not both")
        if not 0 < self.port < 65536:
            problems.append(f"port = {self.port} is not a TCP port")
        if not 0 <= self.codepage <= 255:
            problems.append(f"codepage = {self.codepage} is not 0-255")
        if not 200 <= self.width_px <= 832 or self.width_px % 8:
            problems.append(f"width_px = {self.width_px} is not a multiple of 8 between 200 and 832")
        if not 1 <= self.qr_size <= 16:
            problems.append(f"qr_size = {self.qr_size} is not 1-16")
        if self.timeout_s <= 0 or self.status_timeout_s <= 0:
            problems.append("timeout_s and status_timeout_s must be > 0")
        return problems
