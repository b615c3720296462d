"""Site layouts (TOML) and their loader/validator. The built-in sites live in ``config/sites/``."""

from pathlib import Path

from .site import Agency, Announce, ConfigError, Counter, Floor, Site, load_site, parse_site

__all__ = [
    "Agency", "Announce", "ConfigError", "Counter", "Floor", "Site", "BUILTIN_SITES_DIR",
    "load_site", "load_sites", "parse_site",
]

BUILTIN_SITES_DIR = Path(__file__).parent / "sites"


def load_sites(*paths: str | Path) -> dict[str, Site]:
    """The built-in sites, then each extra file or folder of ``*.toml`` (a later slug replaces an earlier)."""
    sites: dict[str, Site] = {}
    for source in (BUILTIN_SITES_DIR, *paths):
        source = Path(source)
        files = sorted(source.glob("*.toml")) if source.is_dir() else [source]
        for file in files:
            site = load_site(file)
            sites[site.slug] = site
    return sites
