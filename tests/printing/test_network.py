"""A network printer on raw port 9100 (a fake one started by the test): status checks around the job."""

from __future__ import annotations

import socket

import pytest

from qserver.printing import (
    CoverOpen, NetworkTransport, PaperOut, PrinterFault, PrinterOffline, PrintingError, ThermalPrinter,
    printer_from_settings, render_ticket,
)

PAPER_OUT = "Máy in hết giấy — mời lấy số ở máy bên cạnh"


def test_a_ready_printer_gets_the_job_between_two_status_checks(fake_printer, slip):
    """DLE EOT 1, 2, 4 before and after; the bytes between are exactly the rendered ticket."""
    settings = fake_printer.settings()
    result = printer_from_settings(settings).print_ticket(slip)
    assert fake_printer.queries == [1, 2, 4, 1, 2, 4]
    assert fake_printer.job == render_ticket(slip, settings)
    assert result.sent == len(fake_printer.job) and result.before.ready and not result.paper_low


def test_out_of_paper_raises_the_clear_error_and_prints_nothing(fake_printer, slip):
    """Paper out before the job: PaperOut with the kiosk's Vietnamese line; only status queries were sent."""
    fake_printer.state = "paper_out"
    with pytest.raises(PaperOut) as caught:
        printer_from_settings(fake_printer.settings(name="kiosk-1")).print_ticket(slip)
    assert caught.value.message_vi == PAPER_OUT
    assert str(caught.value) == "printer kiosk-1: out of paper"
    assert caught.value.to_dict() == {"code": "paper_out", "message": PAPER_OUT, "detail": "printer kiosk-1: out of paper"}
    assert fake_printer.job == b"" and fake_printer.queries == [1, 2, 4]


@pytest.mark.parametrize("state, error, code, detail", [
    ("offline", PrinterOffline, "printer_offline", "the printer reports itself offline"),
    ("cover_open", CoverOpen, "cover_open", "cover open"),
    ("cutter_jam", PrinterFault, "printer_error", "printer error (autocutter)"),
])
def test_other_states_stop_the_job_with_their_error(fake_printer, slip, state, error, code, detail):
    """Offline, cover open, cutter jam: each its error and code, and nothing printed."""
    fake_printer.state = state
    with pytest.raises(error) as caught:
        printer_from_settings(fake_printer.settings()).print_ticket(slip)
    assert caught.value.code == code and caught.value.detail == detail
    assert caught.value.message_vi.endswith("mời lấy số ở máy bên cạnh")
    assert fake_printer.job == b""


def test_a_silent_printer_is_reported_off(fake_printer, slip):
    """A printer that accepts the connection but never answers the status is offline; nothing printed."""
    fake_printer.silent = True
    with pytest.raises(PrinterOffline, match=r"no answer to the status query DLE EOT 1 within 0.5 s"):
        printer_from_settings(fake_printer.settings()).print_ticket(slip)
    assert fake_printer.job == b""


def test_a_printer_that_is_off_cannot_be_reached(slip):
    """Nothing listening on the port: PrinterOffline naming host:port, with the kiosk's message."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    printer = ThermalPrinter(NetworkTransport("127.0.0.1", port, timeout_s=1))
    with pytest.raises(PrinterOffline, match=f"cannot connect to 127.0.0.1:{port}") as caught:
        printer.print_ticket(slip)
    assert caught.value.message_vi == "Máy in không hoạt động — mời lấy số ở máy bên cạnh"
    assert isinstance(caught.value, (PrintingError, ConnectionError))


def test_paper_low_after_the_job_is_reported(fake_printer, slip):
    """Near-end after printing: the ticket printed and the result says paper_low (for a console warning)."""
    fake_printer.state = "paper_low"
    result = printer_from_settings(fake_printer.settings()).print_ticket(slip)
    assert result.paper_low and result.after.paper == "low" and fake_printer.job


def test_paper_running_out_during_the_job_is_an_error(fake_printer, slip):
    """Paper that ends during the ticket: PaperOut saying the ticket may be cut short."""
    fake_printer.runs_out_after = 1
    with pytest.raises(PaperOut, match="ran out of paper while printing ticket V012: it may be cut short") as caught:
        printer_from_settings(fake_printer.settings()).print_ticket(slip)
    assert caught.value.message_vi == PAPER_OUT and len(fake_printer.job) > 1000


def test_without_status_queries_the_job_goes_straight(fake_printer, slip):
    """status_query=False (no back channel): no DLE EOT at all, just the job."""
    result = printer_from_settings(fake_printer.settings(status_query=False, text_mode="text")).print_ticket(slip)
    fake_printer.wait_closed()
    assert fake_printer.queries == [] and result.before is None and not result.paper_low
    assert fake_printer.job.startswith(b"\x1b@\x1bt\x34")


def test_status_alone(fake_printer):
    """status() asks DLE EOT 1, 2, 4 and decodes; cutter errors also ask DLE EOT 3."""
    printer = printer_from_settings(fake_printer.settings())
    assert printer.status().to_dict() == {"online": True, "paper": "ok", "cover_open": False, "error": ""}
    fake_printer.state = "cutter_jam"
    assert printer.status().error == "autocutter" and fake_printer.queries == [1, 2, 4, 1, 2, 4, 3]


async def test_printing_from_the_event_loop(fake_printer, slip):
    """aprint_ticket runs the blocking job in a thread and returns its result."""
    result = await printer_from_settings(fake_printer.settings()).aprint_ticket(slip)
    assert result.sent == len(fake_printer.job) > 0
