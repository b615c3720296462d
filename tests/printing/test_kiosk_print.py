"""Kiosk tickets on thermal printers through the server: a network printer (a fake port-9100 server started
by the test) named in the site's printers/<slug>.toml, the slip a kiosk hands its USB agent, what a
kiosk's printer said recorded for the console, and a printer out of paper never costing the ticket."""

from __future__ import annotations

import dataclasses
import shutil

import pytest

import config
from qserver.clock import FakeClock
from qserver.printing import TicketSlip, render_ticket
from qserver.printing.sites import load_printers
from qserver.web.printing import slip_of
from tests.support import MORNING, LiveApp

SITE = "/api/v1/sites/cantho"
LLTP = "CT.TP.001"
PAPER_OUT = "Máy in hết giấy — mời lấy số ở máy bên cạnh"
GS_V0, GS_V, GS_K = b"\x1dv0", b"\x1dV", b"\x1d(k"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def site_file(tmp_path, fake_printer):
    """The Cần Thơ site in its own folder with printers/cantho.toml naming the fake printer "kiosk-1"."""
    folder = tmp_path / "sites"
    (folder / "printers").mkdir(parents=True)
    shutil.copy(config.BUILTIN_SITES_DIR / "cantho.toml", folder / "cantho.toml")
    (folder / "printers" / "cantho.toml").write_text(
        '[[printers]]\nname = "kiosk-1"\nhost = "127.0.0.1"\n'
        f"port = {fake_printer.port}\nstatus_timeout_s = 0.5\nqr_native = true\n", encoding="utf-8")
    return folder / "cantho.toml"


@pytest.fixture
async def app(redis_server, flushed, tmp_path, site_file):
    live = LiveApp(redis_server.url, tmp_path, FakeClock(MORNING), config=(str(site_file),))
    await live.start()
    yield live
    await live.stop()


@pytest.fixture
async def http(app):
    async with app.client() as client:
        yield client


async def issue(app, http, kiosk: str, **body) -> dict:
    response = await http.post(f"{SITE}/tickets", json=body or {"procedure": LLTP}, headers=bearer(kiosk))
    assert response.status_code == 201, response.text
    return response.json()


async def console(app, http) -> dict:
    response = await http.get(f"{SITE}/console", headers=bearer(app.token("manager")))
    assert response.status_code == 200, response.text
    return response.json()


def expected_job(app, site_file, stored: dict) -> bytes:
    """The bytes the server should have sent: the slip of the stored ticket rendered with kiosk-1's settings."""
    site = config.load_sites(str(site_file))["cantho"]
    settings = load_printers(site)["kiosk-1"]
    engine = app.app.state.engines["cantho"]
    slip = slip_of(site, stored, engine.catalogue, base_url=app.base_url + "/", documents=settings.documents)
    return render_ticket(slip, settings)


async def test_a_kiosk_ticket_prints_on_the_network_printer(app, http, site_file, fake_printer):
    """POST .../tickets/{id}/print {"printer": "kiosk-1"}: status checks around exactly the ticket's bytes
    (raster Vietnamese, the printer's QR of the ticket page, a cut); the console lists the printer as ok."""
    kiosk = app.token("kiosk", name="kiosk-1")
    ticket = await issue(app, http, kiosk)
    response = await http.post(f"{SITE}/tickets/{ticket['id']}/print", json={"printer": "kiosk-1"},
                               headers=bearer(kiosk))
    assert response.status_code == 200, response.text
    assert response.json()["ok"] is True and response.json()["paper_low"] is False
    fake_printer.wait_closed()
    job = fake_printer.job
    stored = await app.app.state.engines["cantho"].ticket(ticket["id"])
    assert job == expected_job(app, site_file, stored)
    assert response.json()["bytes"] == len(job)
    assert job.startswith(b"\x1b@") and GS_V0 in job                        # init, text as raster images
    assert GS_K in job and f"{app.base_url}/t/cantho/{ticket['id']}".encode() in job  # the QR, drawn by the printer
    assert job.endswith(b"\x1bd\x06" + GS_V + b"\x01")                      # fed 6 lines, then a partial cut
    assert fake_printer.queries == [1, 2, 4, 1, 2, 4]
    devices = {d["device"]: d for d in (await console(app, http))["devices"]}
    assert devices["printer:kiosk-1"]["ok"] is True and devices["printer:kiosk-1"]["printer"] == "kiosk-1"


async def test_the_ticket_names_its_procedure_and_documents(app, http, site_file, fake_printer):
    """The slip the server prints (and hands an agent) names the procedure and lists its documents;
    documents=false leaves them off."""
    kiosk = app.token("kiosk")
    ticket = await issue(app, http, kiosk)
    slip = (await http.get(f"{SITE}/tickets/{ticket['id']}/slip", headers=bearer(kiosk))).json()
    parsed = TicketSlip.from_mapping(slip)  # what the agent does with it
    engine = app.app.state.engines["cantho"]
    procedure = engine.catalogue.get(LLTP)
    assert parsed.procedure == procedure.name and parsed.documents == procedure.documents
    assert parsed.number == ticket["number"] and parsed.agency == "Sở Tư pháp" and parsed.floor == "Tầng 1"
    assert parsed.counters == ("32", "33", "34", "35") and parsed.qr_url == f"{app.base_url}/t/cantho/{ticket['id']}"
    bare = (await http.get(f"{SITE}/tickets/{ticket['id']}/slip?documents=0", headers=bearer(kiosk))).json()
    assert bare["procedure"] == procedure.name and bare["documents"] == []
    plain = await issue(app, http, kiosk, agency="so-noi-vu")
    assert (await http.get(f"{SITE}/tickets/{plain['id']}/slip", headers=bearer(kiosk))).json()["procedure"] == ""

    response = await http.post(f"{SITE}/tickets/{ticket['id']}/print", json={"printer": "kiosk-1", "documents": False},
                               headers=bearer(kiosk))
    assert response.status_code == 200
    fake_printer.wait_closed()
    settings = dataclasses.replace(load_printers(config.load_sites(str(site_file))["cantho"])["kiosk-1"],
                                   documents=False)
    stored = await engine.ticket(ticket["id"])
    slip_sent = slip_of(engine.site, stored, engine.catalogue, base_url=app.base_url + "/", documents=False)
    assert fake_printer.job == render_ticket(slip_sent, settings)


async def test_out_of_paper_keeps_the_ticket_and_alerts_the_console(app, http, fake_printer):
    """Paper out: 503 paper_out with the kiosk's sentence, nothing printed, the ticket still waiting, and a
    printer alert on the console naming the kiosk; the next good print clears it."""
    kiosk = app.token("kiosk", name="kiosk-1")
    ticket = await issue(app, http, kiosk)
    fake_printer.state = "paper_out"
    response = await http.post(f"{SITE}/tickets/{ticket['id']}/print", json={"printer": "kiosk-1"},
                               headers=bearer(kiosk))
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "paper_out" and error["message"].startswith(PAPER_OUT)
    assert error["printer"] == "kiosk-1"
    fake_printer.wait_closed()
    assert fake_printer.job == b""
    assert (await http.get(f"{SITE}/tickets/{ticket['id']}")).json()["status"] == "waiting"

    state = await console(app, http)
    (alert,) = [a for a in state["alerts"] if a["kind"] == "printer"]
    assert alert["kiosk"] == "kiosk-1" and alert["code"] == "paper_out"
    assert alert["message"] == (f"Máy lấy số “kiosk-1” (máy in mạng “kiosk-1”): hết giấy "
                                f"(lúc 08:00; số {ticket['number']} chưa in được).")

    fake_printer.state = "ok"
    again = await http.post(f"{SITE}/tickets/{ticket['id']}/print", json={"printer": "kiosk-1"}, headers=bearer(kiosk))
    assert again.status_code == 200
    assert [a for a in (await console(app, http))["alerts"] if a["kind"] == "printer"] == []


async def test_a_printer_that_is_off_is_reported_too(app, http, fake_printer):
    """A printer that never answers its status: 503 printer_offline with its sentence; alert 'không hoạt động'."""
    kiosk = app.token("kiosk", name="kiosk-2")
    ticket = await issue(app, http, kiosk)
    fake_printer.silent = True
    response = await http.post(f"{SITE}/tickets/{ticket['id']}/print", json={"printer": "kiosk-1"},
                               headers=bearer(kiosk))
    assert response.status_code == 503 and response.json()["error"]["code"] == "printer_offline"
    assert response.json()["error"]["message"].startswith("Máy in không hoạt động — mời lấy số ở máy bên cạnh")
    (alert,) = [a for a in (await console(app, http))["alerts"] if a["kind"] == "printer"]
    assert alert["kiosk"] == "kiosk-2" and "không hoạt động" in alert["message"]


async def test_print_requests_that_are_refused(app, http, fake_printer):
    """An unknown printer is 404 listing the configured ones (the server connects nowhere else); an
    officer may not print; an unknown ticket is 404; nothing reaches the printer."""
    kiosk = app.token("kiosk")
    ticket = await issue(app, http, kiosk)
    unknown = await http.post(f"{SITE}/tickets/{ticket['id']}/print", json={"printer": "10.0.0.9"},
                              headers=bearer(kiosk))
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_printer"
    assert "(configured: kiosk-1)" in unknown.json()["error"]["message"]
    officer = await http.post(f"{SITE}/tickets/{ticket['id']}/print", json={"printer": "kiosk-1"},
                              headers=bearer(app.token("officer", ["33"])))
    assert officer.status_code == 403
    missing = await http.post(f"{SITE}/tickets/20261124-V999/print", json={"printer": "kiosk-1"},
                              headers=bearer(kiosk))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "unknown_ticket"
    bad = await http.post(f"{SITE}/tickets/{ticket['id']}/print", json={"printer": "kiosk-1", "documents": "có"},
                          headers=bearer(kiosk))
    assert bad.status_code == 422
    assert fake_printer.received == bytearray()


async def test_a_kiosk_reports_its_usb_printer(app, http):
    """POST .../printer-status from a kiosk whose agent could not print: a console alert; ok clears it;
    a code that is no printer problem is 422, a display token 403."""
    kiosk = app.token("kiosk", name="kiosk-3")
    report = {"printer": "USB", "ok": False, "code": "cover_open", "detail": "printer kiosk-3: cover open",
              "ticket": "V007"}
    response = await http.post(f"{SITE}/printer-status", json=report, headers=bearer(kiosk))
    assert response.status_code == 200 and response.json() == {"kiosk": "kiosk-3", "ok": False}
    (alert,) = [a for a in (await console(app, http))["alerts"] if a["kind"] == "printer"]
    assert alert["message"] == ("Máy lấy số “kiosk-3” (máy in USB “USB”): nắp máy in đang mở "
                                "(lúc 08:00; số V007 chưa in được).")
    assert alert["detail"] == "printer kiosk-3: cover open"
    low = await http.post(f"{SITE}/printer-status", json={"ok": True, "paper_low": True}, headers=bearer(kiosk))
    assert low.status_code == 200
    (alert,) = [a for a in (await console(app, http))["alerts"] if a["kind"] == "printer"]
    assert "sắp hết giấy" in alert["message"]
    await http.post(f"{SITE}/printer-status", json={"ok": True}, headers=bearer(kiosk))
    assert [a for a in (await console(app, http))["alerts"] if a["kind"] == "printer"] == []
    bad = await http.post(f"{SITE}/printer-status", json={"ok": False, "code": "on_fire"}, headers=bearer(kiosk))
    assert bad.status_code == 422 and "on_fire" in bad.json()["error"]["message"]
    display = await http.post(f"{SITE}/printer-status", json={"ok": True}, headers=bearer(app.token("display")))
    assert display.status_code == 403
