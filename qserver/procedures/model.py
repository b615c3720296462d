"""A site's procedure catalogue: frozen records, looked up by code and browsed by agency or field."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .exceptions import UnknownProcedure
from .fold import fold, sort_key

__all__ = ["Catalogue", "FieldCount", "Procedure"]


@dataclass(frozen=True)
class Procedure:
    """One administrative procedure (thủ tục hành chính) as a citizen sees it at the kiosk."""

    code: str                      # mã thủ tục, unique in the catalogue
    name: str                      # tên thủ tục
    agency: str                    # the site's agency slug
    field: str                     # lĩnh vực
    documents: tuple[str, ...]     # thành phần hồ sơ: what to bring
    processing_time: str           # thời hạn giải quyết, as the province writes it
    fee: str                       # phí, lệ phí, as the province writes it
    online: bool                   # can be filed online (dịch vụ công trực tuyến)
    keywords: tuple[str, ...] = ()  # other words people use for it ("bằng lái" for "giấy phép lái xe")
    note: str = ""
    line: int = 0                  # where it was defined in its file (0 when built in code)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (for the HTTP API); ``line`` is left out."""
        return {
            "code": self.code, "name": self.name, "agency": self.agency, "field": self.field,
            "documents": list(self.documents), "processing_time": self.processing_time, "fee": self.fee,
            "online": self.online, "keywords": list(self.keywords), "note": self.note,
        }


@dataclass(frozen=True)
class FieldCount:
    """A field (lĩnh vực) with how many procedures it holds and which agencies handle them."""

    name: str
    count: int
    agencies: tuple[str, ...]


@dataclass(frozen=True)
class Catalogue:
    """Every procedure of one site, in file order (the order a center puts the common ones first)."""

    site: str
    procedures: tuple[Procedure, ...] = ()
    source: str = ""
    by_code: dict[str, Procedure] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self.by_code.update({p.code: p for p in self.procedures})

    def __len__(self) -> int:
        return len(self.procedures)

    def __iter__(self):
        return iter(self.procedures)

    def get(self, code: str) -> Procedure:
        """The procedure with ``code``; raises :class:`UnknownProcedure` naming it."""
        try:
            return self.by_code[code]
        except KeyError:
            raise UnknownProcedure(f"procedure '{code}' is not in the catalogue of site '{self.site}'") from None

    def for_agency(self, agency: str) -> tuple[Procedure, ...]:
        """The agency's procedures, in file order."""
        return tuple(p for p in self.procedures if p.agency == agency)

    def fields(self, agency: str | None = None) -> list[FieldCount]:
        """Every field with its procedure count (of one agency if given), in Vietnamese order."""
        counts: dict[str, int] = {}
        agencies: dict[str, dict[str, None]] = {}
        for p in self.procedures:
            if agency is None or p.agency == agency:
                counts[p.field] = counts.get(p.field, 0) + 1
                agencies.setdefault(p.field, {})[p.agency] = None
        return [FieldCount(name, counts[name], tuple(agencies[name]))
                for name in sorted(counts, key=sort_key)]

    def in_field(self, field_name: str, agency: str | None = None) -> tuple[Procedure, ...]:
        """The procedures of a field (compared folded, so "ho tich" finds "Hộ tịch"), in file order."""
        wanted = fold(field_name)
        return tuple(p for p in self.procedures
                     if fold(p.field) == wanted and (agency is None or p.agency == agency))

    def summary(self) -> str:
        """One line for ``qserver check-config``: how many procedures, agencies and fields."""
        agencies = {p.agency for p in self.procedures}
        return (f"{len(self.procedures)} procedures for {len(agencies)} agencies in "
                f"{len({p.field for p in self.procedures})} fields")
