"""Vietnamese text drawn as a 1-bit image the width of the paper (raster mode).

A printer with no Vietnamese code page prints any letter this way. The font must have every
Vietnamese letter: Noto Sans from fonts-noto-core by default (the displays' vendored
``noto-sans-*.woff2`` files load in Pillow, but each is a unicode-range subset, so neither has
all the letters), DejaVu Sans or Windows' Arial as fallbacks, or a TTF named in the settings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from PIL import Image, ImageDraw, ImageFont, ImageOps

from .exceptions import PrinterConfigError
from .slip import Line, Rule

__all__ = ["FONT_CANDIDATES", "Fonts", "draw_blocks", "find_fonts", "raster_bytes", "scrub_realtime_commands"]

FONT_CANDIDATES = {
    False: ("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
            "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "C:/Windows/Fonts/arial.ttf"),
    True: ("/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf",
           "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", "C:/Windows/Fonts/arialbd.ttf"),
}
#: Pixel heights at 203 dpi: 24 px is 3 mm; the number is about 15 mm tall.
SIZES = {"small": 24, "normal": 28, "large": 36, "huge": 128}
MARGIN_PX = 8
LINE_GAP_PX = 6
RULE_PX = 2
#: Real-time commands a printer may obey even inside image data: DLE EOT (status), DLE ENQ, DLE DC4.
REALTIME = re.compile(rb"\x10[\x04\x05\x14]")


@dataclass(frozen=True)
class Fonts:
    regular: str
    bold: str

    def get(self, size: str, bold: bool) -> ImageFont.FreeTypeFont:
        return _font(self.bold if bold else self.regular, SIZES[size])


@lru_cache(maxsize=32)
def _font(path: str, pixels: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, pixels)


def find_fonts(regular: str = "", bold: str = "") -> Fonts:
    """The given TTF paths, or the first installed candidates; raises naming every path tried."""
    chosen = {}
    for is_bold, given in ((False, regular), (True, bold)):
        tried = [given] if given else list(FONT_CANDIDATES[is_bold])
        path = next((p for p in tried if Path(p).is_file()), None)
        if path is None:
            setting = "font_bold" if is_bold else "font_regular"
            raise PrinterConfigError("printer", [
                f"no font for raster printing: tried {', '.join(tried)} (install fonts-noto-core or set {setting})"])
        chosen[is_bold] = path
    return Fonts(chosen[False], chosen[True])


def wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """``text`` broken at spaces into lines no wider than ``width`` (a too-long word is cut)."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if font.getlength(candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        while font.getlength(word) > width:  # a word wider than the paper: cut it
            cut = 1
            while cut < len(word) and font.getlength(word[:cut + 1]) <= width:
                cut += 1
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    if current:
        lines.append(current)
    return lines


def draw_blocks(blocks: Iterable[Line | Rule], fonts: Fonts, width_px: int) -> Image.Image:
    """Lines and rules, top to bottom, as one black-on-white 1-bit image ``width_px`` wide."""
    inner = width_px - 2 * MARGIN_PX
    rows: list[tuple[str, ImageFont.FreeTypeFont | None, str]] = []
    for block in blocks:
        if isinstance(block, Rule):
            rows.append(("", None, "rule"))
            continue
        font = fonts.get(block.size, block.bold)
        rows += [(text, font, block.align) for text in wrap(block.text, font, inner)]
    heights = []
    for text, font, _ in rows:
        if font is None:
            heights.append(RULE_PX + 2 * LINE_GAP_PX)
        else:
            ascent, descent = font.getmetrics()
            heights.append(ascent + descent + LINE_GAP_PX)
    image = Image.new("L", (width_px, max(1, sum(heights))), 255)
    draw = ImageDraw.Draw(image)
    top = 0
    for (text, font, align), height in zip(rows, heights):
        if font is None:
            draw.rectangle((MARGIN_PX, top + LINE_GAP_PX, width_px - MARGIN_PX - 1,
                            top + LINE_GAP_PX + RULE_PX - 1), fill=0)
        else:
            left = MARGIN_PX if align == "left" else (width_px - font.getlength(text)) / 2
            draw.text((left, top), text, font=font, fill=0)
        top += height
    # Threshold instead of dithering: crisp letters, no speckled edges.
    return image.point(lambda v: 255 if v >= 128 else 0, mode="1")


def raster_bytes(image: Image.Image) -> bytes:
    """The image's dots as ``GS v 0`` carries them (what python-escpos sends): 1 = a black dot."""
    return ImageOps.invert(image.convert("L")).convert("1").tobytes()


def scrub_realtime_commands(image: Image.Image) -> Image.Image:
    """``image`` with the one or two dots removed that would make a real-time command in its data.

    A byte 0x10 followed by 0x04, 0x05 or 0x14 in the raster data reads as DLE EOT/ENQ/DC4 to many
    printers, which would answer a status byte in the middle of the job (or worse). Clearing the
    second byte (at most two dots of a letter) breaks the sequence without a visible change.
    """
    data = raster_bytes(image)
    matches = [m.start() + 1 for m in REALTIME.finditer(data)]
    if not matches:
        return image
    image = image.copy()
    pixels = image.load()
    row = (image.width + 7) // 8
    for index in matches:
        y, column = divmod(index, row)
        for x in range(column * 8, min(column * 8 + 8, image.width)):
            pixels[x, y] = 255
    return image
