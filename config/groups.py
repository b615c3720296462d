"""Groups of sites (``[site] groups = ["Sóc Trăng cũ", "Khu vực Vĩnh Châu"]``): what the city console
and the city-wide reports let a manager choose. A site may be in several groups, or in none."""

from __future__ import annotations

from collections.abc import Mapping

from .model import Site

__all__ = ["group_names", "sites_in_group"]


def group_names(sites: Mapping[str, Site]) -> list[str]:
    """Every group named by the sites, in the order the sites first name them."""
    return list(dict.fromkeys(group for site in sites.values() for group in site.groups))


def sites_in_group(sites: Mapping[str, Site], group: str) -> dict[str, Site]:
    """The sites of ``group`` by slug, in load order; an unknown group is a :class:`KeyError` naming it."""
    chosen = {slug: site for slug, site in sites.items() if group in site.groups}
    if not chosen:
        raise KeyError(f"no site is in group {group!r} (groups: {', '.join(group_names(sites)) or 'none'})")
    return chosen
