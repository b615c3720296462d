"""The one error the config package raises, and the located problem it carries."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ConfigError", "Problem"]


@dataclass(frozen=True)
class Problem:
    """One mistake: the file it is in, its line (when known), the table it is in, and what is wrong."""

    file: str
    line: int | None
    where: str
    message: str

    def text(self, relative_to: str | None = None) -> str:
        """``line 12, [[counters]] #3 (id "3"): message``, prefixed by the file unless it is ``relative_to``."""
        head = ", ".join(part for part in (f"line {self.line}" if self.line else "", self.where) if part)
        body = f"{head}: {self.message}" if head and self.message else head or self.message
        return body if self.file == relative_to else f"{self.file}: {body}"

    def __str__(self) -> str:
        """``file:line: [table]: message``, the form editors and CI logs link to."""
        at = f"{self.file}:{self.line}" if self.line else self.file
        return f"{at}: {self.where}: {self.message}" if self.where else f"{at}: {self.message}"


class ConfigError(ValueError):
    """A site file (or folder) that cannot be used; ``problems`` lists every error with its place.

    ``problems`` are sentences (``line 212, [[counters]] #12 (id "12"): unknown agency 'so-xyz'``; one
    found in another file than ``source``, such as a template, starts with that file's name);
    ``details`` holds the same problems as :class:`Problem` records.
    """

    def __init__(self, source: str, problems: list[str] | list[Problem]):
        self.source = source
        self.details = [p if isinstance(p, Problem) else Problem(source, None, "", p) for p in problems]
        self.problems = [p.text(relative_to=source) for p in self.details]
        super().__init__(f"{source}: " + "; ".join(self.problems))
