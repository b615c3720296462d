"""Moving bytes to a printer and status bytes back: raw TCP (port 9100) or a USB device file.

Both answer ``read`` with ``b""`` when nothing came in time, and raise :class:`PrinterOffline`
naming the printer when it cannot be reached or a write fails.
"""

from __future__ import annotations

import logging
import os
import select
import socket
from typing import Protocol

from .exceptions import PrinterOffline

__all__ = ["DeviceTransport", "NetworkTransport", "Transport"]

logger = logging.getLogger(__name__)


class Transport(Protocol):
    name: str

    def open(self) -> None: ...

    def write(self, data: bytes) -> None: ...

    def read(self, size: int, timeout_s: float) -> bytes: ...

    def close(self) -> None: ...


class NetworkTransport:
    """A network printer's raw port (JetDirect/"AppSocket", 9100)."""

    def __init__(self, host: str, port: int = 9100, *, timeout_s: float = 3.0):
        self.host, self.port, self.timeout_s = host, port, timeout_s
        self.name = f"{host}:{port}"
        self._socket: socket.socket | None = None

    def open(self) -> None:
        try:
            self._socket = socket.create_connection((self.host, self.port), timeout=self.timeout_s)
        except OSError as exc:
            raise PrinterOffline(f"cannot connect to {self.name}: {exc.strerror or exc}", printer=self.name) from exc

    def write(self, data: bytes) -> None:
        assert self._socket is not None, "open() first"
        try:
            self._socket.settimeout(self.timeout_s)
            self._socket.sendall(data)
        except OSError as exc:
            raise PrinterOffline(f"sending {len(data)} bytes to {self.name} failed: {exc.strerror or exc}",
                                 printer=self.name) from exc

    def read(self, size: int, timeout_s: float) -> bytes:
        assert self._socket is not None, "open() first"
        try:
            if timeout_s > 0:
                self._socket.settimeout(timeout_s)
            else:
                self._socket.setblocking(False)
            return self._socket.recv(size)
        except (TimeoutError, BlockingIOError):
            return b""
        except OSError as exc:
            raise PrinterOffline(f"reading from {self.name} failed: {exc.strerror or exc}", printer=self.name) from exc

    def close(self) -> None:
        if self._socket is not None:
            try:
                self._socket.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._socket.close()
            self._socket = None


class DeviceTransport:
    """A printer's device file on the kiosk PC (Linux usblp: ``/dev/usb/lp0``), read and written."""

    def __init__(self, path: str):
        self.path = path
        self.name = path
        self._fd: int | None = None

    def open(self) -> None:
        try:
            self._fd = os.open(self.path, os.O_RDWR | os.O_NOCTTY)
        except OSError as exc:
            raise PrinterOffline(f"cannot open {self.path}: {exc.strerror} (is the printer on and plugged in?)",
                                 printer=self.name) from exc

    def write(self, data: bytes) -> None:
        assert self._fd is not None, "open() first"
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self._fd, view):]
        except OSError as exc:
            raise PrinterOffline(f"writing to {self.path} failed: {exc.strerror}", printer=self.name) from exc

    def read(self, size: int, timeout_s: float) -> bytes:
        assert self._fd is not None, "open() first"
        try:
            ready, _, _ = select.select([self._fd], [], [], max(timeout_s, 0))
            return os.read(self._fd, size) if ready else b""
        except OSError as exc:
            raise PrinterOffline(f"reading from {self.path} failed: {exc.strerror}", printer=self.name) from exc

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
