"""Site layouts (TOML) and their loader/validator. The built-in sites live in ``config/sites/``.

A folder (``config/cities/cantho/``) is read recursively; a site file there may name a template
(``[site] template = "commune"`` → the nearest ``_templates/commune.toml``) and give only what differs.
docs/deploy-city.md describes the city folder, templates, groups and ``qserver check-config``.
"""

from pathlib import Path

from .check import FileResult, Report, check_paths
from .exceptions import ConfigError, Problem
from .folder import load_folder
from .groups import group_names, sites_in_group
from .model import WEBHOOK_EVENTS, Appointments, Online, Webhook
from .site import Agency, Announce, Counter, Floor, Site, load_site, parse_site

__all__ = [
    "Agency", "Announce", "Appointments", "ConfigError", "Counter", "FileResult", "Floor", "Online", "Problem",
    "Report", "Site", "Webhook", "WEBHOOK_EVENTS", "BUILTIN_SITES_DIR",
    "CITIES_DIR", "check_paths", "group_names", "load_folder", "load_site", "load_sites", "parse_site",
    "sites_in_group",
]

BUILTIN_SITES_DIR = Path(__file__).parent / "sites"
CITIES_DIR = Path(__file__).parent / "cities"


def load_sites(*paths: str | Path) -> dict[str, Site]:
    """The built-in sites, then each extra file or folder (a folder is read recursively, see
    :func:`load_folder`). A slug given again by a later file or folder replaces the earlier site
    (``config/cities/cantho/cantho.toml`` replaces the built-in ``cantho`` that way); within one
    folder a slug given twice is an error."""
    sites: dict[str, Site] = {}
    for source in (BUILTIN_SITES_DIR, *paths):
        source = Path(source)
        if source.is_dir():
            sites.update(load_folder(source))
        else:
            site = load_site(source)
            sites[site.slug] = site
    return sites
