"""QR codes as SVG, drawn on the server: a cheap phone gets a few kilobytes of markup, no script."""

from __future__ import annotations

from functools import lru_cache

import qrcode
import qrcode.image.svg

__all__ = ["qr_svg"]


@lru_cache(maxsize=512)
def qr_svg(text: str) -> bytes:
    """An SVG (one path, scalable, black on white) of the QR code of ``text``, error correction M."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=10, border=2,
                         image_factory=qrcode.image.svg.SvgPathFillImage)
    code.add_data(text)
    code.make(fit=True)
    return code.make_image().to_string(encoding="utf-8")
