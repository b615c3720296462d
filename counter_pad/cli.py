"""``counter-pad``: run one counter's keypad until stopped.

    counter-pad --site cantho --counter 12 --config /etc/counter-pad/pad.toml [--url URL] [--token TOKEN]

It reconnects to qserver forever and survives its restarts. It exits — with a message naming the
problem and status 2 — only for a configuration error a person must fix: a bad config file, a pin
used twice, an unknown site or counter, a token qserver refuses. SIGTERM or Ctrl-C stop it (status 0).
Logging is configured here and nowhere else.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Callable, Iterator

from qserver.protocol.client import Link, backoff_delays

from .checks import check_setup
from .config import PadConfig, load_config
from .exceptions import ConfigError
from .hardware import PadHardware
from .pad import Pad

__all__ = ["main", "serve", "build_link"]

logger = logging.getLogger("counter_pad")

EXIT_CONFIG = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="counter-pad", description="The physical counter keypad of qserver (Raspberry Pi, gpiozero).")
    parser.add_argument("--config", metavar="FILE", help="the pad's TOML file (see pad.example.toml)")
    parser.add_argument("--site", help="site slug, e.g. cantho (overrides qserver.site)")
    parser.add_argument("--counter", help="counter id, e.g. 12 (overrides qserver.counter)")
    parser.add_argument("--url", help="qserver address, e.g. http://192.168.1.10:8000 (overrides qserver.url)")
    parser.add_argument("--token", help="officer token for this counter (overrides qserver.token/token_file)")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return parser


def build_link(config: PadConfig, *, backoff: Callable[[], Iterator[float]] = backoff_delays) -> Link:
    """The pad's websocket: msgpack, its counter's topic, its officer token."""
    return Link(config.url, site=config.site, topics=[f"counter:{config.counter}"], token=config.token,
                device=f"counter-pad-{config.counter}", backoff=backoff)


def build_pad(config: PadConfig, hardware: PadHardware, link) -> Pad:
    return Pad(config.counter, hardware, link, grace_s=config.offline_grace_s,
               repeat_guard_s=config.buttons.repeat_guard_s, blink_s=config.display.blink_s)


async def serve(config: PadConfig, hardware: PadHardware, *,
                backoff: Callable[[], Iterator[float]] = backoff_delays) -> None:
    """Run the pad until cancelled; raises :class:`ConfigError` when the server proves the config wrong."""
    pad = build_pad(config, hardware, build_link(config, backoff=backoff))
    await pad.run(check_setup(config.url, config.site, config.counter, config.token, backoff=backoff))


async def _serve_until_signal(config: PadConfig, hardware: PadHardware) -> None:
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):  # no signal handlers on some platforms
        loop.add_signal_handler(signal.SIGTERM, task.cancel)
    await serve(config, hardware)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = load_config(args.config, overrides={"site": args.site, "counter": args.counter,
                                                     "url": args.url, "token": args.token})
        hardware = PadHardware(config)
    except ConfigError as exc:
        return _config_error(exc)
    logger.info("counter-pad for counter %s of %s, qserver %s", config.counter, config.site, config.url)
    try:
        asyncio.run(_serve_until_signal(config, hardware))
    except ConfigError as exc:
        return _config_error(exc)
    except (KeyboardInterrupt, asyncio.CancelledError):
        logger.info("stopped")
    finally:
        hardware.close()
    return 0


def _config_error(exc: ConfigError) -> int:
    print(f"counter-pad: configuration error (lỗi cấu hình): {exc}", file=sys.stderr)
    return EXIT_CONFIG
