"""The procedure catalogue of a site: loading and validating it, browsing it by field, searching it.

Pure: no Redis, no I/O beyond reading the catalogue file. ``docs/procedures.md`` describes the file.
"""

from .exceptions import CatalogueError, ProceduresError, UnknownProcedure
from .fold import fold, tokens
from .loader import (
    BUILTIN_CATALOGUE_DIR, COLUMNS, check_catalogue, find_catalogue, load_catalogue, load_site_catalogue,
    parse_catalogue,
)
from .model import Catalogue, FieldCount, Procedure
from .search import SearchHit, SearchIndex, SearchResult
from .sites import SiteCatalogue, catalogue_folders, catalogue_path, load_catalogues

__all__ = [
    "BUILTIN_CATALOGUE_DIR", "COLUMNS", "Catalogue", "CatalogueError", "FieldCount", "Procedure",
    "ProceduresError", "SearchHit", "SearchIndex", "SearchResult", "SiteCatalogue", "UnknownProcedure",
    "catalogue_folders", "catalogue_path", "check_catalogue", "find_catalogue", "fold", "load_catalogue",
    "load_catalogues", "load_site_catalogue", "parse_catalogue", "tokens",
]
