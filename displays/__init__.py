"""The web pages people look at: hall and counter displays, kiosk, officer pad, citizen ticket page.

Jinja2 templates live in ``templates/``, plain JS/CSS and the vendored fonts and libraries in
``static/``; :mod:`qserver.pages` serves them. The pages speak only the public API and ``/ws``.
"""

from pathlib import Path

__all__ = ["STATIC_DIR", "TEMPLATES_DIR"]

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
