"""qserver: real-time queues and counter displays for one-stop public administrative service centers."""

from .app import create_app
from .clock import Clock, FakeClock, SystemClock
from .engine import SiteEngine
from .exceptions import QServerError
from .settings import Settings

__all__ = ["create_app", "Clock", "FakeClock", "SystemClock", "SiteEngine", "QServerError", "Settings"]
__version__ = "0.1.0"
