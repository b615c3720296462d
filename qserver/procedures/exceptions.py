"""Every error the procedures package raises on purpose."""

from __future__ import annotations

from config import ConfigError

__all__ = ["CatalogueError", "ProceduresError", "UnknownProcedure"]


class ProceduresError(Exception):
    """Base of the procedure catalogue's errors."""


class CatalogueError(ProceduresError, ConfigError):
    """A catalogue file that cannot be used; ``problems`` lists every error with its line."""


class UnknownProcedure(ProceduresError, LookupError):
    """A procedure code that is not in the site's catalogue."""
