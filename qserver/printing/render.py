"""A ticket as the ESC/POS bytes of one 80 mm print job (pure: python-escpos's Dummy printer).

Raster mode draws the text as images (``GS v 0``, cleaned of accidental real-time commands) so
Vietnamese is right on any printer; text mode uses the printer's font with a Vietnamese code page
(``ESC t n``, CP1258) and its own double sizes. The QR code of the ticket page is drawn by the printer (``GS ( k``, ``qr_native``) or sent as an
image; the job starts with ``ESC @`` and ends with a feed and a cut (``GS V``).
"""

from __future__ import annotations

import copy

from escpos.printer import Dummy

from .encoding import encode_text
from .raster import Fonts, draw_blocks, find_fonts, scrub_realtime_commands
from .settings import PrinterSettings
from .slip import QR, Line, Rule, TicketSlip, layout

__all__ = ["render_ticket"]

#: Text mode: font A is 12 dots wide; the size's width multiplier, height multiplier.
_FONT_A_DOTS = 12
_TEXT_SIZES = {"small": (1, 1), "normal": (1, 1), "large": (2, 2), "huge": (4, 4)}


def _printer(width_px: int) -> Dummy:
    """A Dummy whose profile knows the paper width (centred QR images, an error for a too-wide image)."""
    printer = Dummy()
    profile = printer.profile  # python-escpos's "default": cuts, QR, raster images
    profile.profile_data = copy.deepcopy(profile.profile_data)  # this instance only, not the shared class
    profile.profile_data["media"]["width"]["pixels"] = width_px
    return printer


def render_ticket(slip: TicketSlip, settings: PrinterSettings = PrinterSettings(), *,
                  fonts: Fonts | None = None) -> bytes:
    """The bytes to send to the printer for ``slip``."""
    blocks = layout(slip, documents=settings.documents)
    printer = _printer(settings.width_px)
    printer.hw("INIT")
    if settings.text_mode == "raster":
        _raster(printer, blocks, settings, fonts or find_fonts(settings.font_regular, settings.font_bold))
    else:
        _text(printer, blocks, settings)
    printer.cut(mode="PART" if settings.cut == "partial" else "FULL")
    return printer.output


def _select_code_page(printer: Dummy, settings: PrinterSettings) -> None:
    if settings.text_mode == "text" and settings.encoding == "cp1258":
        printer._raw(b"\x1bt" + bytes([settings.codepage]))  # ESC t n


def _qr(printer: Dummy, block: QR, settings: PrinterSettings) -> None:
    if settings.qr_native:
        printer.set(align="center")
        printer.qr(block.data, size=settings.qr_size, native=True)
        printer.set(align="left")
        printer._raw(b"\n")
    else:
        printer.qr(block.data, size=settings.qr_size, native=False, center=True)
    # python-escpos's qr() writes its line feeds through its own encoder, which selects code page 0
    # (ESC t 0) on first use: select ours again for the text that follows.
    _select_code_page(printer, settings)


def _raster(printer: Dummy, blocks: list, settings: PrinterSettings, fonts: Fonts) -> None:
    pending: list[Line | Rule] = []

    def flush() -> None:
        if pending:
            image = scrub_realtime_commands(draw_blocks(pending, fonts, settings.width_px))
            printer.image(image, impl="bitImageRaster")
            pending.clear()

    for block in blocks:
        if isinstance(block, QR):
            flush()
            _qr(printer, block, settings)
        else:
            pending.append(block)
    flush()


def _wrap_columns(text: str, columns: int) -> list[str]:
    lines, current = [], ""
    for word in text.split():
        while len(word) > columns:
            if current:
                lines.append(current)
                current = ""
            lines.append(word[:columns])
            word = word[columns:]
        if current and len(current) + 1 + len(word) > columns:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        lines.append(current)
    return lines


def _text(printer: Dummy, blocks: list, settings: PrinterSettings) -> None:
    columns = settings.width_px // _FONT_A_DOTS
    _select_code_page(printer, settings)
    for block in blocks:
        if isinstance(block, QR):
            _qr(printer, block, settings)
        elif isinstance(block, Rule):
            printer.set(align="left", bold=False, normal_textsize=True)
            printer._raw(b"-" * columns + b"\n")
        else:
            width, height = _TEXT_SIZES[block.size]
            if width == 1:
                printer.set(align=block.align, bold=block.bold, normal_textsize=True)
            else:
                printer.set(align=block.align, bold=block.bold, custom_size=True, width=width, height=height)
            for line in _wrap_columns(block.text, columns // width):
                printer._raw(encode_text(line, settings.encoding) + b"\n")
    printer.set(align="left", bold=False, normal_textsize=True)
