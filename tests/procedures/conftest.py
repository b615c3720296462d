"""The Cần Thơ site and its sample catalogue, loaded once for the procedure tests."""

from __future__ import annotations

import pytest

import config
from qserver.procedures import SearchIndex, load_site_catalogue


@pytest.fixture(scope="session")
def site() -> config.Site:
    return config.load_sites()["cantho"]


@pytest.fixture(scope="session")
def catalogue(site):
    return load_site_catalogue(site)


@pytest.fixture(scope="session")
def index(catalogue, site) -> SearchIndex:
    return SearchIndex(catalogue, site)
