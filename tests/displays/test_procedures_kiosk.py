"""In real Chromium: a citizen finds a procedure on the kiosk's on-screen keyboard and takes a ticket that
carries it; the officer pad shows it and corrects it; the report counts it. Printing from the kiosk on a
thermal printer (through the server, or the USB agent on the kiosk PC), and a printer out of paper:
the kiosk says so, the console shows the alert, the ticket stands."""

from __future__ import annotations

import shutil
import threading

import pytest
from playwright.sync_api import expect

import config
from qserver.labels import ONLINE_FILING
from qserver.printing import printer_from_settings
from qserver.printing.agent import make_server
from qserver.procedures import load_site_catalogue
from tests.support import ServerProcess, free_port, wait_until
from tests.support.browser import Pages
from tests.support.printer import FakePrinter

pytestmark = pytest.mark.browser

SITE = "/api/v1/sites/cantho"
LLTP, TRICH_LUC = "CT.TP.001", "CT.TP.003"
PAPER_OUT = "Máy in hết giấy — mời lấy số ở máy bên cạnh"
CATALOGUE = load_site_catalogue(config.load_sites()["cantho"])


def type_on_screen(page, text: str) -> None:
    """Tap each key of the kiosk's on-screen keyboard."""
    for char in text:
        page.tap(f"#osk [data-key='{'space' if char == ' ' else char}']")


def ticket(server, ticket_id: str) -> dict:
    response = server.call("GET", f"{SITE}/tickets/{ticket_id}")
    assert response.status_code == 200, response.text
    return response.json()


def test_a_citizen_finds_the_procedure_takes_a_ticket_and_the_officer_corrects_it(server, pages):
    """"ly lich tu phap" typed on the on-screen keyboard finds the criminal record certificate; its page
    lists the documents, time, fee and online filing; "Lấy số" gives a Sở Tư pháp ticket naming it (on
    screen, on paper, on the citizen's phone). The officer pad shows it, the officer corrects it (the
    phone follows), the report counts it."""
    page = pages.open(f"/k/cantho?token={server.token('kiosk')}", has_touch=True)
    expect(page.locator("#find-procedure")).to_be_visible()
    page.tap("#find-procedure")
    expect(page.locator("body")).to_have_attribute("data-step", "search")
    type_on_screen(page, "ly lich tu phap")
    expect(page.locator("#proc-query")).to_have_value("ly lich tu phap")
    first = page.locator("#proc-results .proc-result").first
    expect(first).to_have_attribute("data-code", LLTP)
    expect(first).to_contain_text(CATALOGUE.get(LLTP).name)
    expect(first).to_contain_text("Sở Tư pháp · Tầng 1 · Quầy 32, 33, 34, 35")
    first.tap()

    expect(page.locator("body")).to_have_attribute("data-step", "procedure")
    expect(page.locator("#pp-name")).to_have_text(CATALOGUE.get(LLTP).name)
    expect(page.locator("#pp-documents li")).to_have_text(list(CATALOGUE.get(LLTP).documents))
    expect(page.locator("#pp-time")).to_have_text("10 ngày làm việc")
    expect(page.locator("#pp-fee")).to_have_text(CATALOGUE.get(LLTP).fee)
    expect(page.locator("#pp-online")).to_have_text(ONLINE_FILING[True])
    page.tap("#pp-take")

    expect(page.locator("body")).to_have_attribute("data-step", "ticket")
    expect(page.locator("#tk-agency")).to_have_text("Sở Tư pháp")
    expect(page.locator("#tk-procedure")).to_have_text(CATALOGUE.get(LLTP).name)
    issued = ticket(server, page.locator("#ticket-big").get_attribute("data-ticket"))
    assert issued["agency"] == "so-tu-phap" and issued["procedure"]["code"] == LLTP
    assert issued["number"] == page.locator("#tk-number").inner_text()
    page.emulate_media(media="print")
    expect(page.locator("#pt-procedure")).to_have_text(CATALOGUE.get(LLTP).name)
    expect(page.locator("#pt-documents li")).to_have_count(len(CATALOGUE.get(LLTP).documents))
    page.emulate_media(media="screen")

    phone = pages.open(issued["track_url"], 390, 844, is_mobile=True)
    expect(phone.locator("#t-procedure")).to_have_text("Thủ tục: " + CATALOGUE.get(LLTP).name)

    officer = pages.open(f"/o/cantho/counter/33?token={server.token('officer', counters=['33'], name='lan')}")
    officer.click("[data-action='call-next']")
    expect(officer.locator("#cur-number")).to_have_text(issued["number"])
    expect(officer.locator("#cur-procedure")).to_have_text(CATALOGUE.get(LLTP).name)
    officer.keyboard.press("t")
    expect(officer.locator("#procedure-modal")).to_be_visible()
    officer.fill("#procedure-search", "trich luc")
    choice = officer.locator(f"#procedure-choices [data-code='{TRICH_LUC}']")
    expect(choice).to_be_visible()
    choice.click()
    expect(officer.locator("#cur-procedure")).to_have_text(CATALOGUE.get(TRICH_LUC).name)
    expect(officer.locator("#pad-message")).to_have_text(
        f"Đã sửa thủ tục của số {issued['number']}: {CATALOGUE.get(TRICH_LUC).name}.")
    assert ticket(server, issued["id"])["procedure"]["code"] == TRICH_LUC
    expect(phone.locator("#t-procedure")).to_have_text("Thủ tục: " + CATALOGUE.get(TRICH_LUC).name)  # live
    officer.click("[data-action='complete']")
    expect(officer.locator("#cur-number")).to_have_text("Chưa có số")

    reports = pages.open(f"/m/cantho/reports?token={server.token('manager')}", wait_online=False)
    row = reports.locator(f"#r-procedures tr[data-key='{TRICH_LUC}']")
    expect(row.locator("td").nth(0)).to_have_text(CATALOGUE.get(TRICH_LUC).name)
    expect(row.locator("td").nth(1)).to_have_text("1")   # issued
    expect(row.locator("td").nth(2)).to_have_text("1")   # served
    expect(reports.locator(f"#r-procedures tr[data-key='{LLTP}']")).to_have_count(0)


def test_browsing_by_field_and_taking_with_options(server, pages):
    """"Xem theo lĩnh vực" → a field → its procedures → a procedure; with "Ưu tiên, căn cước…" the confirm
    step names the procedure and the staff-confirmed priority goes with it."""
    page = pages.open(f"/k/cantho?token={server.token('kiosk')}")
    page.click("#find-procedure")
    expect(page.locator("#proc-message")).to_contain_text("không cần dấu")
    page.click("#proc-browse")
    expect(page.locator("body")).to_have_attribute("data-step", "fields")
    page.click("#field-choices [data-field='Lý lịch tư pháp']")
    listed = page.locator("#field-procedures .proc-result")
    expect(listed).to_have_count(len(CATALOGUE.in_field("Lý lịch tư pháp")))
    expect(listed.first).to_have_attribute("data-code", LLTP)
    listed.first.click()
    expect(page.locator("#pp-name")).to_have_text(CATALOGUE.get(LLTP).name)
    page.click("#pp-back")
    expect(page.locator("body")).to_have_attribute("data-step", "fields")
    expect(listed.first).to_be_visible()
    listed.first.click()
    page.click("#pp-options")
    expect(page.locator("body")).to_have_attribute("data-step", "options")
    expect(page.locator("#chosen-agency")).to_contain_text("Sở Tư pháp")
    expect(page.locator("#chosen-procedure")).to_have_text("Thủ tục: " + CATALOGUE.get(LLTP).name)
    page.click("[data-priority='disabled']")
    page.click("#staff-ok")
    page.click("#take")
    expect(page.locator("body")).to_have_attribute("data-step", "ticket")
    issued = ticket(server, page.locator("#ticket-big").get_attribute("data-ticket"))
    assert issued["procedure"]["code"] == LLTP and issued["priority"] == "disabled"


def test_a_query_matching_nothing_says_so(server, pages):
    """Nonsense typed on the keyboard: no result and the server's Vietnamese line; backspace and
    "Xóa hết" edit the query."""
    page = pages.open(f"/k/cantho?token={server.token('kiosk')}", has_touch=True)
    page.tap("#find-procedure")
    type_on_screen(page, "qwzx")
    expect(page.locator("#proc-message")).to_have_text(
        "Không tìm thấy thủ tục nào khớp với “qwzx”. Hãy thử từ khác hoặc tìm theo lĩnh vực.")
    expect(page.locator("#proc-results .proc-result")).to_have_count(0)
    page.tap("#osk [data-key='backspace']")
    expect(page.locator("#proc-query")).to_have_value("qwz")
    page.tap("#osk [data-key='clear']")
    expect(page.locator("#proc-query")).to_have_value("")


# ------------------------------------------------------------------------------------------ printing
@pytest.fixture
def fake_printer():
    printer = FakePrinter().start()
    yield printer
    printer.stop()


@pytest.fixture
def agent_port() -> int:
    return free_port()


@pytest.fixture
def print_server(redis_server, flushed, tmp_path, fake_printer, agent_port):
    """`qserver run` with the site's printers/cantho.toml naming the fake printer "kiosk-1", and the
    kiosk's print agent expected on ``agent_port``."""
    folder = tmp_path / "sites"
    (folder / "printers").mkdir(parents=True)
    shutil.copy(config.BUILTIN_SITES_DIR / "cantho.toml", folder / "cantho.toml")
    (folder / "printers" / "cantho.toml").write_text(
        f'[[printers]]\nname = "kiosk-1"\nhost = "127.0.0.1"\nport = {fake_printer.port}\n'
        "status_timeout_s = 0.5\nqr_native = true\n", encoding="utf-8")
    process = ServerProcess(redis_server.url, tmp_path, extra_env={
        "QSERVER_CONFIG": str(folder / "cantho.toml"),
        "QSERVER_PRINT_AGENT_URL": f"http://127.0.0.1:{agent_port}"})
    process.start()
    yield process
    process.close()


@pytest.fixture
def print_pages(browser, print_server):
    opened = Pages(browser, print_server)
    yield opened
    opened.close()
    assert not opened.errors, f"JavaScript errors: {opened.errors}"


def take_ticket(page, agency: str = "so-tu-phap", floor: int = 1) -> str:
    page.click(f"#floor-choices [data-floor='{floor}']")
    page.click(f"#agency-choices [data-agency='{agency}']")
    page.click("#take")
    expect(page.locator("body")).to_have_attribute("data-step", "ticket")
    return page.locator("#ticket-big").get_attribute("data-ticket")


def test_a_network_printer_out_of_paper(print_server, print_pages, fake_printer):
    """?printer=network:kiosk-1: the server prints the ticket (its page's URL in the printer's QR); out of
    paper, the kiosk shows the ticket with its QR and "Máy in hết giấy — mời lấy số ở máy bên cạnh", the
    console shows the alert; the next ticket that prints clears both."""
    kiosk = print_pages.open(f"/k/cantho?token={print_server.token('kiosk', name='kiosk-1')}&printer=network:kiosk-1")
    assert "printer=" not in kiosk.url
    first = take_ticket(kiosk)
    expect(kiosk.locator("body")).to_have_attribute("data-print", "ok")
    fake_printer.wait_closed(1)
    assert f"/t/cantho/{first}".encode() in fake_printer.job

    fake_printer.state = "paper_out"
    kiosk.click("#ticket-done")
    second = take_ticket(kiosk)
    expect(kiosk.locator("body")).to_have_attribute("data-print", "failed")
    expect(kiosk.locator("#tk-print-note")).to_contain_text(PAPER_OUT)
    expect(kiosk.locator("#tk-print-note")).to_have_class("message error")
    expect(kiosk.locator("#tk-qr img")).to_be_visible()
    assert ticket(print_server, second)["status"] == "waiting"
    kiosk.click("#ticket-done")
    expect(kiosk.locator("#printer-alert")).to_have_text(PAPER_OUT)   # stays on the first screen

    console = print_pages.open(f"/m/cantho?token={print_server.token('manager')}&refresh_s=1", wait_online=False)
    alert = console.locator(".c-alert[data-alert='printer']")
    expect(alert).to_contain_text("Máy lấy số “kiosk-1” (máy in mạng “kiosk-1”): hết giấy")

    fake_printer.state = "ok"
    take_ticket(kiosk)
    expect(kiosk.locator("body")).to_have_attribute("data-print", "ok")
    expect(kiosk.locator("#printer-alert")).to_be_hidden()
    expect(alert).to_have_count(0)


def test_the_usb_agent_prints_and_reports_a_problem(print_server, print_pages, fake_printer, agent_port):
    """?printer=agent: the page posts the slip to qserver-print-agent on this PC (allowed by the kiosk's
    Content-Security-Policy), which prints it; out of paper, the agent's sentence is shown and the
    kiosk reports it to the console; an agent that is not running is "Máy in không hoạt động"."""
    agent = make_server(printer_from_settings(fake_printer.settings(qr_native=True, name="usb-1")), port=agent_port)
    thread = threading.Thread(target=agent.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        kiosk = print_pages.open(f"/k/cantho?token={print_server.token('kiosk', name='kiosk-2')}&printer=agent")
        first = take_ticket(kiosk)
        expect(kiosk.locator("body")).to_have_attribute("data-print", "ok")
        expect(kiosk.locator("#tk-print-note")).to_have_text("Phiếu đang được in. Vui lòng nhận phiếu.")
        fake_printer.wait_closed(1)
        assert f"/t/cantho/{first}".encode() in fake_printer.job

        fake_printer.state = "paper_out"
        kiosk.click("#ticket-done")
        second = take_ticket(kiosk)
        expect(kiosk.locator("#tk-print-note")).to_contain_text(PAPER_OUT)
        manager = print_server.token("manager")
        alerts = wait_until(lambda: [a for a in print_server.call("GET", f"{SITE}/console", manager).json()["alerts"]
                                     if a["kind"] == "printer"], what="the printer alert")
        assert alerts[0]["kiosk"] == "kiosk-2" and alerts[0]["code"] == "paper_out"
        assert "máy in USB" in alerts[0]["message"] and "printer usb-1: out of paper" in alerts[0]["detail"]
        assert ticket(print_server, second)["status"] == "waiting"
    finally:
        agent.shutdown()
        agent.server_close()
        thread.join()
    kiosk.click("#ticket-done")
    take_ticket(kiosk)
    expect(kiosk.locator("#tk-print-note")).to_contain_text("Máy in không hoạt động — mời lấy số ở máy bên cạnh")
    offline = wait_until(lambda: [a for a in print_server.call("GET", f"{SITE}/console", manager).json()["alerts"]
                                  if a["kind"] == "printer" and a["code"] == "printer_offline"],
                         what="the offline alert")
    assert "does not answer" in offline[0]["detail"]
