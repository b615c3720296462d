"""Helpers of the city tests: the Cần Thơ city folder (104 sites), generated cities of any size, the app
serving a city, and a small client for the city API."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

import config
from tests.support import TIMEOUT, LiveApp

CITY_DIR = config.CITIES_DIR / "cantho"
CITY_CONSOLE = "/api/v1/city/console"
COMMUNE = "xa-co-do"                       # 5 counters, wait_alert_s 1200, groups Cần Thơ cũ / Khu vực Cờ Đỏ
TU_PHAP_HO_TICH = "tu-phap-ho-tich"        # a commune field served by counter 1 of xa-co-do


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def generated_city(folder: Path, communes: int) -> Path:
    """A city folder of ``communes`` copies of one shipped commune (slugs ``xa-0000`` ...), with the template."""
    shutil.copytree(CITY_DIR / "_templates", folder / "_templates")
    commune = (CITY_DIR / "can-tho-cu" / "phuong-ninh-kieu.toml").read_text(encoding="utf-8")
    for number in range(communes):
        area = folder / f"khu-{number // 100}"
        area.mkdir(exist_ok=True)
        text = commune.replace("phuong-ninh-kieu", f"xa-{number:04d}").replace(
            '"Khu vực Ninh Kiều"', f'"Khu vực {number // 100}"')
        (area / f"xa-{number:04d}.toml").write_text(text, encoding="utf-8")
    return folder


def city_app(redis_url: str, tmp_path: Path, clock=None, *, folder: Path = CITY_DIR, **settings) -> LiveApp:
    """The app serving every site of ``folder`` (the city console's cache off unless given)."""
    settings.setdefault("city_cache_s", 0.0)
    return LiveApp(redis_url, tmp_path, clock, config=(str(folder),), **settings)


async def wait_seeded(app: LiveApp) -> None:
    """Until the lifespan has seeded every site's counters (it does so in the background)."""
    engines = app.app.state.engines
    deadline = time.monotonic() + TIMEOUT * 3
    last = list(engines.values())[-1]
    while not await app.app.state.redis.exists(last.keys.counters):
        if time.monotonic() > deadline:
            raise TimeoutError("the sites were not seeded")
        await asyncio.sleep(0.05)


class CityApi:
    """Kiosk, officer and manager calls on any site of a city app, and the city console."""

    def __init__(self, app: LiveApp):
        self.app, self.http = app, app.client()
        self.city = app.token("manager", site="*", name="thanhpho")
        self.managers: dict[str, str] = {}
        self.kiosks: dict[str, str] = {}

    def _kiosk(self, site: str) -> str:
        if site not in self.kiosks:
            self.kiosks[site] = self.app.token("kiosk", site=site)
        return self.kiosks[site]

    def _manager(self, site: str) -> str:
        if site not in self.managers:
            self.managers[site] = self.app.token("manager", site=site)
        return self.managers[site]

    async def issue(self, site: str, agency: str, **body) -> dict:
        r = await self.http.post(f"/api/v1/sites/{site}/tickets", json={"agency": agency, **body},
                                 headers=bearer(self._kiosk(site)))
        assert r.status_code == 201, r.text
        return r.json()

    async def act(self, site: str, counter: str, action: str, **body):
        r = await self.http.post(f"/api/v1/sites/{site}/counters/{counter}/{action}", json=body,
                                 headers=bearer(self._manager(site)))
        assert r.status_code in (200, 204), r.text
        return r.json() if r.status_code == 200 else None

    async def rate(self, site: str, ticket: str, score: int) -> None:
        r = await self.http.post(f"/api/v1/sites/{site}/tickets/{ticket}/rating", json={"score": score},
                                 headers=bearer(self._kiosk(site)))
        assert r.status_code == 200, r.text

    async def console(self, group: str | None = None, token: str | None = None):
        params = {"group": group} if group else None
        return await self.http.get(CITY_CONSOLE, params=params, headers=bearer(token or self.city))

    async def centers(self, group: str | None = None) -> dict[str, dict]:
        r = await self.console(group)
        assert r.status_code == 200, r.text
        return {c["slug"]: c for c in r.json()["centers"]}

    async def aclose(self) -> None:
        await self.http.aclose()
