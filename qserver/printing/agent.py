"""``qserver-print-agent``: the kiosk PC's USB thermal printer, for the kiosk page in its browser.

    qserver-print-agent --device /dev/usb/lp0 [--port 8089] [--allow-origin http://10.0.0.2:8000]
                        [--text-mode raster|text] [--codepage 52] [--encoding cp1258|ascii]
                        [--qr-native] [--no-documents] [--no-status-query] [--name kiosk-1]
    qserver-print-agent --host 192.168.1.50 [--printer-port 9100]   # a network printer instead

After taking a number, the kiosk page posts the ticket (the JSON of ``TicketSlip.to_mapping()``)
to ``http://127.0.0.1:8089/print`` and shows the answer:

- ``200 {"ok": true, "paper_low": false}``
- ``503 {"ok": false, "code": "paper_out", "message": "Máy in hết giấy — mời lấy số ở máy bên
  cạnh", "detail": "..."}`` (also ``printer_offline``, ``cover_open``, ``printer_error``)
- ``400 {"ok": false, "code": "bad_ticket" | "bad_json", ...}``

``GET /status`` answers ``{"ok": true, "status": {...}}`` or the same 503. The agent listens on
127.0.0.1 only and answers CORS (with Chrome's Private Network Access preflight) for the
``--allow-origin`` origins, any origin by default: it can only print tickets. One job at a time.

It imports only the standard library, python-escpos and Pillow — none of the server's
dependencies — so it runs on a plain kiosk PC (``tests/printing/test_agent.py`` checks this).
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Sequence

from .exceptions import PrinterConfigError, PrintingError, TicketDataError
from .printer import ThermalPrinter, printer_from_settings
from .settings import PrinterSettings
from .slip import TicketSlip

__all__ = ["AgentServer", "main", "make_server"]

logger = logging.getLogger(__name__)
MAX_BODY = 64 * 1024


class AgentServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], printer: ThermalPrinter, allow_origins: Sequence[str]):
        super().__init__(address, _Handler)
        self.printer, self.allow_origins = printer, tuple(allow_origins)
        self.lock = threading.Lock()  # one printer: one job at a time


class _Handler(BaseHTTPRequestHandler):
    server: AgentServer
    server_version = "qserver-print-agent"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        logger.info("%s %s", self.address_string(), format % args)

    def _cors(self) -> None:
        origin = self.headers.get("Origin")
        allowed = self.server.allow_origins
        if origin and ("*" in allowed or origin in allowed):
            self.send_header("Access-Control-Allow-Origin", origin)
            self.send_header("Vary", "Origin")

    def _answer(self, status: HTTPStatus, body: dict[str, Any]) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self._cors()
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def do_OPTIONS(self) -> None:  # noqa: N802 - the stdlib's name
        self.send_response(HTTPStatus.NO_CONTENT)
        self._cors()
        self.send_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", "Content-Type")
        if self.headers.get("Access-Control-Request-Private-Network") == "true":
            self.send_header("Access-Control-Allow-Private-Network", "true")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:  # noqa: N802
        if self.path.split("?")[0] != "/status":
            self._answer(HTTPStatus.NOT_FOUND, {"ok": False, "code": "not_found", "detail": self.path})
            return
        try:
            with self.server.lock:
                status = self.server.printer.status()
        except PrintingError as exc:
            self._answer(HTTPStatus.SERVICE_UNAVAILABLE, {"ok": False, **exc.to_dict()})
            return
        problem = status.problem(self.server.printer.name)
        if problem is not None:
            self._answer(HTTPStatus.SERVICE_UNAVAILABLE, {"ok": False, **problem.to_dict(), "status": status.to_dict()})
        else:
            self._answer(HTTPStatus.OK, {"ok": True, "status": status.to_dict()})

    def do_POST(self) -> None:  # noqa: N802
        if self.path.split("?")[0] != "/print":
            self._answer(HTTPStatus.NOT_FOUND, {"ok": False, "code": "not_found", "detail": self.path})
            return
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            length = -1
        if not 0 < length <= MAX_BODY:
            self._answer(HTTPStatus.BAD_REQUEST, {"ok": False, "code": "bad_json",
                                                  "detail": f"a JSON body of 1 to {MAX_BODY} bytes is needed"})
            return
        try:
            slip = TicketSlip.from_mapping(json.loads(self.rfile.read(length)))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            self._answer(HTTPStatus.BAD_REQUEST, {"ok": False, "code": "bad_json", "detail": f"not JSON: {exc}"})
            return
        except TicketDataError as exc:
            self._answer(HTTPStatus.BAD_REQUEST, {"ok": False, **exc.to_dict()})
            return
        try:
            with self.server.lock:
                result = self.server.printer.print_ticket(slip)
        except PrintingError as exc:
            logger.warning("ticket %s not printed: %s", slip.number, exc)
            self._answer(HTTPStatus.SERVICE_UNAVAILABLE, {"ok": False, **exc.to_dict()})
            return
        self._answer(HTTPStatus.OK, {"ok": True, "paper_low": result.paper_low})


def make_server(printer: ThermalPrinter, *, host: str = "127.0.0.1", port: int = 8089,
                allow_origins: Sequence[str] = ("*",)) -> AgentServer:
    """The agent's HTTP server (not yet serving: call ``serve_forever``); port 0 picks a free one."""
    return AgentServer((host, port), printer, allow_origins)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="qserver-print-agent", description=__doc__.splitlines()[0].strip("`: "))
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--device", help="the USB printer's device file, e.g. /dev/usb/lp0")
    where.add_argument("--host", help="a network printer's address (raw port)")
    p.add_argument("--printer-port", type=int, default=9100, help="the network printer's raw port")
    p.add_argument("--port", type=int, default=8089, help="the agent's HTTP port on 127.0.0.1")
    p.add_argument("--allow-origin", action="append", default=None,
                   help="an origin allowed to post tickets (repeat; default: any)")
    p.add_argument("--name", default="", help="the printer's name in messages")
    p.add_argument("--text-mode", choices=("raster", "text"), default="raster")
    p.add_argument("--encoding", choices=("cp1258", "ascii"), default="cp1258")
    p.add_argument("--codepage", type=int, default=52, help="ESC t number of CP1258 (text mode)")
    p.add_argument("--qr-native", action="store_true", help="let the printer draw the QR code")
    p.add_argument("--no-documents", action="store_true", help="do not list the documents to bring")
    p.add_argument("--no-status-query", action="store_true", help="the printer cannot answer DLE EOT")
    p.add_argument("--font", default="", help="a TTF with Vietnamese letters (raster mode)")
    p.add_argument("--font-bold", default="")
    p.add_argument("-v", "--verbose", action="store_true")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = PrinterSettings.from_mapping({
            "name": args.name, "host": args.host or "", "port": args.printer_port, "device": args.device or "",
            "text_mode": args.text_mode, "encoding": args.encoding, "codepage": args.codepage,
            "qr_native": args.qr_native, "documents": not args.no_documents,
            "status_query": not args.no_status_query, "font_regular": args.font, "font_bold": args.font_bold,
        }, source="qserver-print-agent")
        printer = printer_from_settings(settings)
    except PrinterConfigError as exc:
        logger.error("%s", exc)
        return 2
    server = make_server(printer, port=args.port, allow_origins=args.allow_origin or ("*",))
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    try:
        logger.info("printer %s: %s", printer.name, printer.status().to_dict())
    except PrintingError as exc:
        logger.warning("%s (printing will be retried for each ticket)", exc)
    logger.info("print agent on http://127.0.0.1:%s (POST /print, GET /status)", server.server_address[1])
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
