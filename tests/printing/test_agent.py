"""The kiosk PC's print agent: light imports, HTTP answers the kiosk page can show, a USB device file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import tty
import urllib.error
import urllib.request

import pytest

from qserver.printing import DeviceTransport, PrinterOffline, PrinterSettings, ThermalPrinter, render_ticket
from qserver.printing.agent import main, make_server
from qserver.printing.printer import printer_from_settings
from tests.support import TIMEOUT

from .conftest import STATES

HEAVY = ("starlette", "uvicorn", "redis", "jinja2", "websockets", "httpx", "msgpack", "hiredis")


def test_the_agent_imports_only_light_modules():
    """A fresh interpreter importing the agent loads python-escpos and Pillow but none of the server's stack."""
    code = ("import sys, qserver.printing.agent; "
            "print(sorted({m.split('.')[0] for m in sys.modules}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=TIMEOUT, check=True)
    loaded = set(json.loads(out.stdout.replace("'", '"')))
    assert {"escpos", "PIL", "qserver"} <= loaded
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))


@pytest.fixture
def agent(fake_printer):
    """The agent on a free port, printing on the fake network printer."""
    server = make_server(printer_from_settings(fake_printer.settings()), port=0,
                         allow_origins=("http://10.0.0.2:8000",))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def call(url: str, method: str = "GET", body: bytes | None = None, headers: dict | None = None):
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def post_ticket(agent: str, data: dict):
    return call(f"{agent}/print", "POST", json.dumps(data).encode(),
                {"Content-Type": "application/json", "Origin": "http://10.0.0.2:8000"})


def test_a_posted_ticket_is_printed(agent, fake_printer, slip):
    """POST /print with the slip's JSON: 200 ok, and the printer got exactly the rendered ticket."""
    status, headers, body = post_ticket(agent, slip.to_mapping())
    assert (status, json.loads(body)) == (200, {"ok": True, "paper_low": False})
    assert headers["Access-Control-Allow-Origin"] == "http://10.0.0.2:8000"
    assert fake_printer.job == render_ticket(slip, fake_printer.settings())


def test_out_of_paper_is_a_503_with_the_vietnamese_message(agent, fake_printer, slip):
    """Paper out: 503 with code paper_out and the line the kiosk shows; nothing printed."""
    fake_printer.state = "paper_out"
    status, _, body = post_ticket(agent, slip.to_mapping())
    answer = json.loads(body)
    assert status == 503 and answer["ok"] is False and answer["code"] == "paper_out"
    assert answer["message"] == "Máy in hết giấy — mời lấy số ở máy bên cạnh"
    assert fake_printer.job == b""


def test_bad_bodies_are_400_naming_the_problem(agent, fake_printer, slip):
    """A ticket without its number, or a body that is not JSON, is refused before printing."""
    data = slip.to_mapping()
    del data["number"]
    status, _, body = post_ticket(agent, data)
    assert status == 400 and json.loads(body)["code"] == "bad_ticket" and "'number' is missing" in json.loads(body)["detail"]
    status, _, body = call(f"{agent}/print", "POST", b"{not json", {"Content-Type": "application/json"})
    assert status == 400 and json.loads(body)["code"] == "bad_json"
    assert call(f"{agent}/nowhere")[0] == 404 and fake_printer.job == b""


def test_preflight_allows_the_kiosk_origin_only(agent):
    """OPTIONS from the kiosk's origin gets CORS and Private Network Access; another origin gets no CORS."""
    status, headers, _ = call(f"{agent}/print", "OPTIONS", headers={
        "Origin": "http://10.0.0.2:8000", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Private-Network": "true"})
    assert status == 204 and headers["Access-Control-Allow-Origin"] == "http://10.0.0.2:8000"
    assert headers["Access-Control-Allow-Private-Network"] == "true"
    assert "POST" in headers["Access-Control-Allow-Methods"]
    _, headers, _ = call(f"{agent}/print", "OPTIONS", headers={"Origin": "http://evil.example"})
    assert headers["Access-Control-Allow-Origin"] is None


def test_status_endpoint(agent, fake_printer):
    """GET /status: 200 with the decoded status, 503 with the message when the printer cannot print."""
    status, _, body = call(f"{agent}/status")
    assert status == 200 and json.loads(body)["status"]["paper"] == "ok"
    fake_printer.state = "cover_open"
    status, _, body = call(f"{agent}/status")
    assert status == 503 and json.loads(body)["message"] == "Nắp máy in đang mở — mời lấy số ở máy bên cạnh"


def test_a_usb_device_file_is_read_and_written(slip):
    """DeviceTransport on a pseudo-terminal standing in for /dev/usb/lp0: status answered, job received."""
    controller, device = os.openpty()
    tty.setraw(device)
    received = bytearray()
    done = threading.Event()

    def usb_printer() -> None:  # answers DLE EOT n like a ready printer, records the rest
        pending = b""
        while not done.is_set():
            try:
                chunk = os.read(controller, 65536)
            except OSError:
                return
            received.extend(chunk)
            pending += chunk
            while (at := pending.find(b"\x10\x04")) >= 0 and at + 2 < len(pending):
                os.write(controller, bytes([STATES["ok"][pending[at + 2]]]))
                pending = pending[at + 3:]

    thread = threading.Thread(target=usb_printer, daemon=True)
    thread.start()
    try:
        settings = PrinterSettings(device=os.ttyname(device), status_timeout_s=TIMEOUT)
        result = ThermalPrinter(DeviceTransport(settings.device), settings).print_ticket(slip)
        assert result.after.ready and result.sent == len(render_ticket(slip, settings))
        assert render_ticket(slip, settings) in bytes(received)
    finally:
        done.set()
        os.close(device)
        os.close(controller)
        thread.join(TIMEOUT)


def test_a_missing_device_is_offline(tmp_path, slip):
    """No device file (printer unplugged): PrinterOffline saying so."""
    printer = ThermalPrinter(DeviceTransport(str(tmp_path / "lp0")))
    with pytest.raises(PrinterOffline, match="cannot open .*lp0: No such file or directory"):
        printer.print_ticket(slip)


def test_main_refuses_bad_settings(caplog):
    """Bad options end with exit status 2 and the problem logged; --help works through python -m."""
    assert main(["--device", "/dev/usb/lp0", "--codepage", "300"]) == 2
    assert "codepage = 300 is not 0-255" in caplog.text
    out = subprocess.run([sys.executable, "-m", "qserver.printing.agent", "--help"], capture_output=True,
                         text=True, timeout=TIMEOUT, check=True)
    assert "--allow-origin" in out.stdout
