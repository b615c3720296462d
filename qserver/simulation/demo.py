"""``qserver demo`` (what ``make demo`` runs): the Cần Thơ center, alive.

It serves the site like ``qserver run --always-open`` (the embedded Redis unless ``QSERVER_REDIS_URL`` is
set), creates tokens and two web logins, prints the address of every page, then plays simulated days
against itself in a background thread at ``--speed`` (simulated seconds per real second): citizens take
tickets (a share of them on their phones, ``/s/cantho``), a few people per agency book a visit and check
in at the kiosk when their window opens (real time), officers call and serve them, a floor manager moves
counters. Counter 12 is left to a human with the officer pad. The floor-0 announcer runs as a subprocess when it is installed. Ctrl-C or SIGTERM stops
everything within a few seconds; ``--duration`` stops it after that many real seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import config

from ..settings import Settings

__all__ = ["cmd_demo", "has_audio_device", "announcer_command"]

logger = logging.getLogger(__name__)

SITE = "cantho"
HUMAN_COUNTER = "12"            # the simulator leaves this counter to whoever opens the officer pad
TICKETS_PER_DAY = 900           # a busy day at a city center (CENTER.md: 434 dossiers the first morning)
UTILISATION = 0.8
ONLINE_SHARE = 0.2              # a fifth of the citizens take their number on the phone
BOOKINGS_PER_AGENCY = 3
#: The demo's Cần Thơ books and checks in without notice (its days are minutes long; slots are real time).
DEMO_APPOINTMENTS = "\n[appointments]\nmin_notice_minutes = 0\ncheckin_before_minutes = 90\n"
CREDENTIALS_TTL_S = 24 * 3600
MANAGER_USER, OFFICER_USER = "quanly", f"canbo{HUMAN_COUNTER}"


@dataclass(frozen=True)
class Credentials:
    manager: str
    kiosk: str
    officer: str
    simulator: str
    manager_password: str
    officer_password: str


def has_audio_device() -> bool:
    """True when ALSA lists a sound card (``/dev/snd`` exists and ``aplay -l`` succeeds)."""
    aplay = shutil.which("aplay")
    if not Path("/dev/snd").exists() or not aplay:
        return False
    try:
        return subprocess.run([aplay, "-l"], capture_output=True, timeout=5).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def announcer_command(url: str, data_dir: Path, *, audio: bool) -> list[str] | None:
    """The floor-0 announcer's command line, or None when the ``announcer`` command is not installed."""
    program = shutil.which("announcer")
    if program is None:  # `make demo` runs .venv/bin/qserver without the venv on PATH
        beside = Path(sys.executable).with_name("announcer")
        program = str(beside) if beside.exists() else None
    if program is None:
        return None
    command = [program, "--url", url, "--site", SITE, "--floor", "0",
               "--state-file", str(data_dir / "announcer-floor-0.last")]
    if not audio:
        command += ["--wav-dir", str(data_dir / "announcements")]
    return command


async def _create_credentials(redis_url: str) -> Credentials:
    from ..connection import connect_redis

    from ..auth import Auth

    client = connect_redis(redis_url)
    try:
        auth = Auth(client, cache_s=0)

        async def token(role: str, name: str, counters: tuple[str, ...] = ()) -> str:
            return await auth.create_token(role, SITE, counters, name=name, ttl_s=CREDENTIALS_TTL_S)

        passwords = secrets.token_urlsafe(6), secrets.token_urlsafe(6)
        await auth.add_user(MANAGER_USER, passwords[0], "manager", SITE)
        await auth.add_user(OFFICER_USER, passwords[1], "officer", SITE, (HUMAN_COUNTER,))
        return Credentials(manager=await token("manager", "demo"), kiosk=await token("kiosk", "demo-kiosk"),
                           officer=await token("officer", f"demo-quay-{HUMAN_COUNTER}", (HUMAN_COUNTER,)),
                           simulator=await token("manager", "mo-phong"),
                           manager_password=passwords[0], officer_password=passwords[1])
    finally:
        await client.aclose()


def page_lines(base: str, creds: Credentials) -> list[tuple[str, str]]:
    """(what, address) of every page the demo shows, with the tokens they need."""
    c = HUMAN_COUNTER
    return [
        ("Hall display, ground floor", f"{base}/d/{SITE}/floor/0"),
        ("Hall display, floor 1", f"{base}/d/{SITE}/floor/1"),
        (f"Counter display, counter {c}", f"{base}/d/{SITE}/counter/{c}"),
        ("Kiosk", f"{base}/k/{SITE}?token={creds.kiosk}"),
        ("A number from the phone", f"{base}/s/{SITE}"),
        ("Book a visit", f"{base}/s/{SITE}/hen"),
        (f"Officer pad, counter {c} (yours)", f"{base}/o/{SITE}/counter/{c}?token={creds.officer}"),
        ("Manager console", f"{base}/m/{SITE}?token={creds.manager}"),
        ("Reports", f"{base}/m/{SITE}/reports"),
        (f"Rating tablet, counter {c}", f"{base}/r/{SITE}/counter/{c}?token={creds.kiosk}"),
        ("Live state (JSON)", f"{base}/api/v1/sites/{SITE}/state"),
    ]


class Demo:
    """The background half of the demo: credentials, the printed pages, the simulation, the announcer."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None
        self.announcer: subprocess.Popen | None = None

    # -- called by serve() in the main thread, Redis up, before uvicorn starts ---------------------
    def before_serving(self, settings: Settings, server) -> None:
        self.settings, self.server = settings, server
        host = settings.host if settings.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
        self.base = f"http://{host}:{settings.port}"
        self.credentials = asyncio.run(_create_credentials(settings.redis_url))
        self.thread = threading.Thread(target=lambda: asyncio.run(self._drive()), name="demo", daemon=True)
        self.thread.start()

    def shutdown(self) -> None:
        """Stop the simulation and the announcer (main thread, after uvicorn returned)."""
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(timeout=5)
        self._stop_announcer()

    # -- the demo thread --------------------------------------------------------------------------
    async def _drive(self) -> None:
        from . import SimulationConfig, run_simulation

        while not self.server.started:
            if self.server.should_exit or self.stopping.is_set():
                return
            await asyncio.sleep(0.05)
        self._print_pages()
        self._start_announcer()
        running = []

        def configure(layout):
            counters = tuple(c.id for c in layout.counters if c.id != HUMAN_COUNTER)
            return SimulationConfig(counters=counters, seed=self.args.seed, expected=TICKETS_PER_DAY,
                                    speed=self.args.speed, days=None, utilisation=UTILISATION,
                                    reset_counters=True, restore_moves=False, grace_s=1.0,
                                    online_share=ONLINE_SHARE, bookings_per_agency=BOOKINGS_PER_AGENCY)

        simulation = asyncio.create_task(run_simulation(
            f"http://127.0.0.1:{self.settings.port}", SITE, configure, manager_token=self.credentials.simulator,
            kiosk_token=self.credentials.kiosk, started=running.append))
        deadline = time.monotonic() + self.args.duration if self.args.duration else None
        hour = None
        while not (self.server.should_exit or self.stopping.is_set() or simulation.done()
                   or (deadline and time.monotonic() >= deadline)):
            if running:
                now = running[0].now()
                clock = running[0].layout.clock_of(now)
                if clock[:2] != hour:
                    hour = clock[:2]
                    counts = running[0].report.counts
                    logger.info("simulated %s (day %d): %d tickets issued, %d served, %d no-shows", clock,
                                int(now // running[0].layout.open_s) + 1, counts["issued"], counts["served"],
                                counts["no_shows"])
            await asyncio.sleep(0.1)
        if running:
            running[0].stop()
        try:
            await asyncio.wait_for(simulation, 3)
        except asyncio.TimeoutError:
            logger.warning("the simulation did not stop in time")
        except Exception:
            logger.exception("the simulation failed")
        if deadline and time.monotonic() >= deadline:
            logger.info("--duration %gs reached; stopping", self.args.duration)
            self.server.should_exit = True

    def _print_pages(self) -> None:
        creds = self.credentials
        lines = [f"qserver demo — {SITE}: a simulated day at ×{self.args.speed:g} (seed {self.args.seed}), "
                 f"counter {HUMAN_COUNTER} left for you", ""]
        width = max(len(what) for what, _ in page_lines(self.base, creds))
        lines += [f"  {what:<{width}}  {url}" for what, url in page_lines(self.base, creds)]
        lines += ["", "  Web logins:",
                  f"    manager                 {MANAGER_USER} / {creds.manager_password}",
                  f"    officer, counter {HUMAN_COUNTER:<5}  {OFFICER_USER} / {creds.officer_password}",
                  "  Tokens (Authorization: Bearer ..., valid 24 h):",
                  f"    manager  {creds.manager}", f"    kiosk    {creds.kiosk}",
                  f"    officer  {creds.officer}  (counter {HUMAN_COUNTER})", "",
                  "Ctrl-C stops the demo.", ""]
        print("\n".join(lines), flush=True)

    def _start_announcer(self) -> None:
        if self.args.no_announcer:
            logger.info("announcer not started (--no-announcer)")
            return
        audio = has_audio_device()
        command = announcer_command(f"http://127.0.0.1:{self.settings.port}", self.settings.data_dir, audio=audio)
        if command is None:
            logger.info("announcer not installed; the demo runs without the hall voice")
            return
        log_path = self.settings.data_dir / "announcer.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as log:
            self.announcer = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                              stdin=subprocess.DEVNULL)
        logger.info("announcer for floor 0 started (%s; log %s)",
                    "speakers" if audio else f"no audio device: WAV files in {command[-1]}", log_path)
        check = threading.Timer(2.0, self._check_announcer, args=(log_path,))
        check.daemon = True
        check.start()

    def _check_announcer(self, log_path: Path) -> None:
        process = self.announcer
        if process is not None and process.poll() is not None and not self.stopping.is_set():
            logger.warning("the announcer exited with code %s; see %s", process.returncode, log_path)

    def _stop_announcer(self) -> None:
        process, self.announcer = self.announcer, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def cmd_demo(args: argparse.Namespace) -> int:
    from ..server import serve

    logging.getLogger("httpx").setLevel(logging.WARNING)
    if args.speed <= 0:
        print("error: --speed must be positive", file=sys.stderr)
        return 2
    # The simulated day runs ×60: its kiosk issues in a minute what a real one does in an hour, so the
    # per-kiosk ticket limit (a real-time bound) is off for the demo.
    settings = Settings.from_env(host=args.host, port=args.port,
                                 config=tuple(args.config) if args.config else None, always_open=True,
                                 limit_issue_per_kiosk="", limit_home_per_address="", limit_home_per_person="")
    if not args.config:  # the built-in Cần Thơ, with appointments that need no notice (see DEMO_APPOINTMENTS)
        override = settings.data_dir / "demo-cantho.toml"
        override.parent.mkdir(parents=True, exist_ok=True)
        override.write_text((config.BUILTIN_SITES_DIR / "cantho.toml").read_text(encoding="utf-8") + DEMO_APPOINTMENTS,
                            encoding="utf-8")
        settings = settings.with_(config=(*settings.config, str(override)))
    if SITE not in config.load_sites(*settings.config):
        print(f"error: the demo needs the site '{SITE}'", file=sys.stderr)
        return 2
    demo = Demo(args)
    # uvicorn restores this handler after its graceful shutdown and re-raises SIGTERM into it: the
    # KeyboardInterrupt then unwinds serve() so the embedded Redis is stopped too.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        serve(settings, before_serving=demo.before_serving)
    except KeyboardInterrupt:
        pass
    finally:
        demo.shutdown()
        logger.info("demo stopped")
    return 0
