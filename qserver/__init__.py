"""qserver: real-time queues and counter displays for one-stop public administrative service centers."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

# The exports load on first use (PEP 562), so a light entry point such as the kiosk PC's print
# agent (qserver.printing.agent) imports without starlette, uvicorn, redis or jinja2.
_EXPORTS = {
    "create_app": ".app", "Clock": ".clock", "FakeClock": ".clock", "SystemClock": ".clock",
    "SiteEngine": ".engine", "QServerError": ".exceptions", "Settings": ".settings",
}
__all__ = ["create_app", "Clock", "FakeClock", "SystemClock", "SiteEngine", "QServerError", "Settings"]
__version__ = "0.1.0"

if TYPE_CHECKING:
    from .app import create_app
    from .clock import Clock, FakeClock, SystemClock
    from .engine import SiteEngine
    from .exceptions import QServerError
    from .settings import Settings


def __getattr__(name: str):
    try:
        module = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'qserver' has no attribute {name!r}") from None
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value
