"""A fake ESC/POS network printer (a real TCP server on a free port, :mod:`tests.support.printer`) and
a ticket slip to print."""

from __future__ import annotations

import datetime as dt

import pytest

import config
from qserver.printing import TicketSlip
from qserver.procedures import load_site_catalogue
from tests.support.printer import DLE_EOT, STATES, FakePrinter

__all__ = ["DLE_EOT", "STATES", "FakePrinter"]


@pytest.fixture
def fake_printer():
    printer = FakePrinter().start()
    yield printer
    printer.stop()


@pytest.fixture(scope="session")
def site() -> config.Site:
    return config.load_sites()["cantho"]


@pytest.fixture(scope="session")
def slip(site) -> TicketSlip:
    """Ticket V012 of Sở Tư pháp for the criminal record certificate, 08:00 on 24-11-2026 in Cần Thơ."""
    procedure = load_site_catalogue(site).get("CT.TP.001")
    return TicketSlip.from_site(site, agency="so-tu-phap", number="V012", ahead=5,
                                qr_url="http://10.0.0.2:8000/t/cantho/V012?k=3f9a",
                                issued_at=dt.datetime(2026, 11, 24, 1, 0, tzinfo=dt.timezone.utc),
                                procedure=procedure)
