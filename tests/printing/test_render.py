"""Rendering a ticket with python-escpos's Dummy printer: the bytes carry init, raster text, QR, cut."""

from __future__ import annotations

import re
import unicodedata

import pytest
from PIL import Image, ImageOps

from qserver.printing import PrinterConfigError, PrinterSettings, render_ticket
from qserver.printing.encoding import encode_text
from qserver.printing.raster import (
    REALTIME, draw_blocks, find_fonts, raster_bytes, scrub_realtime_commands,
)
from qserver.printing.slip import QR, Line, layout

ESC_INIT, GS_V0, CUT_PARTIAL, CUT_FULL = b"\x1b@", b"\x1dv0", b"\x1dV\x01", b"\x1dV\x00"
VIETNAMESE = "aàáảãạăằắẳẵặâầấẩẫậeèéẻẽẹêềếểễệiìíỉĩịoòóỏõọôồốổỗộơờớởỡợuùúủũụưừứửữựyỳýỷỹỵđ"


def raster_images(data: bytes) -> list[Image.Image]:
    """Every GS v 0 image in a job, decoded back to black-on-white pictures."""
    images, at = [], 0
    while (at := data.find(GS_V0, at)) >= 0:
        width_bytes = data[at + 4] + 256 * data[at + 5]
        height = data[at + 6] + 256 * data[at + 7]
        payload = data[at + 8: at + 8 + width_bytes * height]
        assert len(payload) == width_bytes * height, "truncated image data"
        images.append(ImageOps.invert(Image.frombytes("1", (width_bytes * 8, height), payload).convert("L")))
        at += 8 + width_bytes * height
    return images


def test_raster_job_starts_with_init_draws_text_and_qr_and_ends_with_a_cut(slip):
    """Default (raster): ESC @, the text as a 576-dot GS v 0 image, the QR as an image, a feed and a partial cut."""
    data = render_ticket(slip)
    assert data.startswith(ESC_INIT) and data.endswith(b"\x1bd\x06" + CUT_PARTIAL), "feed 6 lines, then cut"
    images = raster_images(data)
    assert len(images) == 3  # text above the QR, the QR, text below it
    assert {image.width for image in images} == {576}
    text_above = [b for b in layout(slip)[:layout(slip).index(QR(slip.qr_url))]]
    expected = scrub_realtime_commands(draw_blocks(text_above, find_fonts(), 576))
    assert raster_bytes(images[0]) == raster_bytes(expected)
    assert b"\x1d(k" not in data, "no native QR in image mode"


def test_qr_image_holds_the_ticket_url(slip):
    """The QR picture is a square block of dots, the size python-escpos makes for the URL at size 6."""
    qr = raster_images(render_ticket(slip))[1]
    box = ImageOps.invert(qr).getbbox()
    assert box is not None
    left, top, right, bottom = box
    assert right - left == bottom - top and right - left >= 25 * 6, "a version 2+ QR, 6 dots per module"


def test_native_qr_sends_gs_k_with_the_url(slip):
    """qr_native: the URL goes in GS ( k (store, then print) and the QR is not an image."""
    data = render_ticket(slip, PrinterSettings(qr_native=True))
    store = b"\x1d(k" + bytes([len(slip.qr_url) + 3, 0]) + b"1P0" + slip.qr_url.encode()
    assert store in data and b"\x1d(k\x03\x001Q0" in data
    assert len(raster_images(data)) == 2


def test_text_mode_uses_cp1258_with_the_code_page_and_double_sizes(slip):
    """Text mode: ESC t n, Vietnamese in CP1258 (tones as combining marks), the number at 4x, a full cut."""
    data = render_ticket(slip, PrinterSettings(text_mode="text", codepage=30, qr_native=True, cut="full"))
    assert data.startswith(ESC_INIT + b"\x1bt\x1e") and data.endswith(CUT_FULL)
    assert b"\x1d!\x33" + b"\x1bE\x01\x1ba\x01V012\n" in data
    assert encode_text("Sở Tư pháp") == b"S\xf5\xd2 T\xfd ph\xe1p" and b"S\xf5\xd2 T\xfd ph\xe1p\n" in data
    assert encode_text("Hồ sơ cần mang:") in data and GS_V0 not in data
    assert re.search(rb"-{48}\n", data), "a rule is 48 columns of font A"
    after_qr = data.find(encode_text("Quét mã để theo dõi lượt của bạn"))
    assert data.rfind(b"\x1bt", 0, after_qr) == data.rfind(b"\x1bt\x1e", 0, after_qr) > data.find(b"\x1d(k"), \
        "the code page is selected again after the QR"


def test_text_mode_ascii_and_without_documents(slip):
    """encoding ascii drops the marks; documents=False leaves the list out."""
    data = render_ticket(slip, PrinterSettings(text_mode="text", encoding="ascii", documents=False))
    assert b"So Tu phap\n" in data and b"\x1bt\x34" not in data
    assert b"Ho so can mang" not in data and b"Thu tuc: Cap Phieu ly lich tu phap" in data


def test_cp1258_round_trips_every_vietnamese_letter():
    """Each letter, in both cases, comes back from the printer's CP1258 as the same letter."""
    for letter in VIETNAMESE + VIETNAMESE.upper():
        assert unicodedata.normalize("NFC", encode_text(letter).decode("cp1258")) == letter


def test_the_raster_font_has_every_vietnamese_letter():
    """Noto Sans draws each Vietnamese letter differently from the missing-glyph box."""
    font = find_fonts().get("normal", False)
    missing = bytes(font.getmask("\uffff"))
    for letter in VIETNAMESE + VIETNAMESE.upper():
        assert bytes(font.getmask(letter)) != missing, letter
    marked, bare = draw_blocks([Line("Lệ phí")], find_fonts(), 576), draw_blocks([Line("Le phi")], find_fonts(), 576)
    assert raster_bytes(marked) != raster_bytes(bare)


def test_a_job_never_holds_an_accidental_real_time_command(slip):
    """Image data with 0x10 0x04 would read as DLE EOT: the scrub removes the dot that makes it."""
    image = Image.new("1", (576, 4), 255)
    image.putpixel((3, 1), 0)      # byte 0 of row 1 = 0x10
    image.putpixel((13, 1), 0)     # byte 1 of row 1 = 0x04
    assert REALTIME.search(raster_bytes(image))
    cleaned = scrub_realtime_commands(image)
    assert not REALTIME.search(raster_bytes(cleaned)) and cleaned.getpixel((3, 1)) == 0
    assert not REALTIME.search(render_ticket(slip))


def test_a_missing_font_is_named(tmp_path, slip):
    """A font path that does not exist is a configuration error naming it, before any byte is made."""
    with pytest.raises(PrinterConfigError, match="tried /nope/font.ttf"):
        render_ticket(slip, PrinterSettings(font_regular="/nope/font.ttf"))


def test_settings_from_a_table_report_every_problem():
    """from_mapping checks names, types and ranges and lists all problems at once."""
    with pytest.raises(PrinterConfigError) as caught:
        PrinterSettings.from_mapping({"host": "10.0.0.9", "device": "/dev/usb/lp0", "text_mode": "graphics",
                                      "port": "9100", "qr_size": 30, "colour": "red"}, source="kiosk-1")
    assert caught.value.problems == [
        "port = '9100' is not a int",
        "unknown setting 'colour' (known: name, host, port, device, text_mode, encoding, codepage, width_px, "
        "qr_native, qr_size, documents, cut, font_regular, font_bold, status_query, timeout_s, status_timeout_s)",
        "text_mode = 'graphics' is not one of raster, text",
        "give host (network printer) or device (USB printer), not both",
        "qr_size = 30 is not 1-16",
    ]
    ok = PrinterSettings.from_mapping({"host": "10.0.0.9", "timeout_s": 2, "qr_native": True})
    assert (ok.port, ok.timeout_s, ok.qr_native, ok.label) == (9100, 2.0, True, "10.0.0.9:9100")
