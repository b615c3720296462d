"""Which catalogue file belongs to a site, and each site's catalogue with its search index, loaded once.

A site's catalogue is ``procedures/<slug>.csv`` (or ``.json``) in the folder of the site's own file —
``/etc/qserver/sites/cantho.toml`` → ``/etc/qserver/sites/procedures/cantho.csv`` — else the built-in
``config/procedures/<slug>.csv``; a site with neither has an empty catalogue (the kiosk then offers no
search). :func:`load_catalogues` reads and validates every site's file and builds its
:class:`SearchIndex` once per process; a broken file stops the start with every problem listed
(``qserver check-config`` shows the same list beforehand).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from config import Site

from .loader import find_catalogue, load_catalogue
from .model import Catalogue, FieldCount, Procedure
from .search import SearchIndex, SearchResult

__all__ = ["SiteCatalogue", "catalogue_path", "catalogue_folders", "load_catalogues"]

#: The folder beside a site file that holds its catalogue.
FOLDER = "procedures"


def catalogue_folders(site: Site) -> list[Path]:
    """Where the site's catalogue may be, besides the built-in folder: ``procedures/`` beside its file."""
    source = Path(site.source) if site.source else None
    if source is None or not source.is_file():
        return []
    return [source.parent / FOLDER]


def catalogue_path(site: Site) -> Path | None:
    """The site's catalogue file, or None when it has none."""
    return find_catalogue(site.slug, *catalogue_folders(site))


@dataclass(frozen=True)
class SiteCatalogue:
    """One site's catalogue and its search index (built once; searching never touches the file)."""

    catalogue: Catalogue
    index: SearchIndex

    @classmethod
    def of(cls, site: Site, catalogue: Catalogue) -> SiteCatalogue:
        return cls(catalogue, SearchIndex(catalogue, site))

    def __len__(self) -> int:
        return len(self.catalogue)

    def search(self, query: str, *, agency: str | None = None, limit: int = 20) -> SearchResult:
        return self.index.search(query, agency=agency, limit=limit)

    def fields(self, agency: str | None = None) -> list[FieldCount]:
        return self.catalogue.fields(agency)

    def listing(self, *, field: str | None = None, agency: str | None = None) -> tuple[Procedure, ...]:
        """Every procedure of a field and/or an agency, in file order (the common ones first)."""
        if field is not None:
            return self.catalogue.in_field(field, agency)
        if agency is not None:
            return self.catalogue.for_agency(agency)
        return self.catalogue.procedures


def load_catalogues(sites: dict[str, Site]) -> dict[str, SiteCatalogue]:
    """slug → the site's catalogue and index (empty for a site without a file); raises
    :class:`~qserver.procedures.CatalogueError` for the first site whose file has problems."""
    loaded = {}
    for slug, site in sites.items():
        path = catalogue_path(site)
        catalogue = load_catalogue(path, site) if path is not None else Catalogue(site.slug)
        loaded[slug] = SiteCatalogue.of(site, catalogue)
    return loaded
