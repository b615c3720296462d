"""A simulated day at a service center, driven over the public HTTP API only.

``model`` is the pure plan (arrival curve, officers' decisions; deterministic per seed), ``client`` the
HTTP side (pooled, retried with idempotency keys, measured), ``actors`` the asyncio tasks that play
the kiosk, the officers, the citizens who rate and the floor manager. ``qserver simulate`` and
``qserver demo`` are thin commands over :func:`run_simulation`.
"""

from .actors import Simulation, SimulationConfig
from .client import Answer, ApiClient, Report
from .model import (Arrival, Decision, Layout, OfficerPlan, Plan, build_plan, iter_arrivals, mean_service_s,
                    pick_counters, plan_arrivals, served_agencies)
from .run import SimulationError, fetch_layout, load_config, run_simulation

__all__ = [
    "Simulation", "SimulationConfig", "Answer", "ApiClient", "Report", "Arrival", "Decision", "Layout",
    "OfficerPlan", "Plan", "build_plan", "iter_arrivals", "mean_service_s", "pick_counters", "plan_arrivals",
    "served_agencies", "SimulationError", "fetch_layout", "load_config", "run_simulation",
]
