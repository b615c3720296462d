"""Entry points: read the site's layout over HTTP, build a configuration, run, report."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .actors import Simulation, SimulationConfig
from .client import ApiClient, Report
from .model import Layout, pick_counters

__all__ = ["SimulationError", "fetch_layout", "load_config", "run_simulation"]


class SimulationError(RuntimeError):
    """The simulation cannot start (server unreachable, unknown site, no counters)."""


async def fetch_layout(client: ApiClient) -> Layout:
    """The site's layout from ``GET /api/v1/sites/{site}``."""
    answer = await client.layout()
    if answer.status == 404:
        raise SimulationError(f"site '{client.site}' is not configured on {client.http.base_url}")
    if not answer.ok:
        raise SimulationError(f"cannot read the layout of site '{client.site}' from {client.http.base_url}: "
                              f"{answer.code or answer.status}")
    return Layout.from_api(answer.body)


def load_config(layout: Layout, *, counters: int, rate: float, duration_s: float, seed: int,
                exclude: Iterable[str] = ()) -> SimulationConfig:
    """A whole receiving day compressed into ``duration_s`` real seconds, ``rate`` tickets a second on
    average (the morning peak runs at about 1.6 times that), on ``counters`` counters spread over agencies."""
    if rate <= 0 or duration_s <= 0:
        raise SimulationError("--rate and --duration must be positive")
    chosen = pick_counters(layout, counters, exclude)
    if not chosen:
        raise SimulationError(f"site '{layout.slug}' has no counter to simulate")
    return SimulationConfig(counters=chosen, seed=seed, expected=rate * duration_s,
                            speed=layout.open_s / duration_s, days=1)


async def run_simulation(url: str, site: str, configure: Callable[[Layout], SimulationConfig], *,
                         manager_token: str, kiosk_token: str | None = None, duration_s: float | None = None,
                         started: Callable[[Simulation], None] | None = None, **client_options) -> Report:
    """Run a simulation against the server at ``url``; ``started`` receives it (to stop it from elsewhere)."""
    client = ApiClient(url, site, manager_token=manager_token, kiosk_token=kiosk_token, **client_options)
    try:
        layout = await fetch_layout(client)
        simulation = Simulation(configure(layout), layout, client)
        if started is not None:
            started(simulation)
        return await simulation.run(duration_s)
    finally:
        await client.aclose()
