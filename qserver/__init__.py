"""qserver: real-time queues and counter displays for one-stop public administrative service centers.

Importing ``qserver`` loads nothing heavy: devices import :mod:`qserver.protocol` alone, and the names
below are loaded on first use (the app factory pulls in starlette and redis).
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["create_app", "Clock", "FakeClock", "SystemClock", "SiteEngine", "QServerError", "Settings"]
__version__ = "0.1.0"

_WHERE = {"create_app": "qserver.web.app", "Clock": "qserver.clock", "FakeClock": "qserver.clock",
          "SystemClock": "qserver.clock", "SiteEngine": "qserver.engine", "QServerError": "qserver.exceptions",
          "Settings": "qserver.settings"}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'qserver' has no attribute {name!r}")
