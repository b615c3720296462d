"""``announcer``: the hall voice of one floor.

    announcer --url http://127.0.0.1:8000 --site cantho --floor 1 [--token T] [--config FILE_OR_DIR]
              [--wav-dir DIR | --play-cmd "aplay -q" [--device NAME]] [--voice V] [--engine espeak-ng|pyttsx3]

Settings come from flags, then ``QSERVER_URL``, ``QSERVER_TOKEN``, ``QSERVER_CONFIG``, then defaults;
voice, rate, volume, repeat, chime, wording and staleness from the site's ``[announce]``. Exits
(status 2, one clear line) only for configuration errors: unknown site, floor or voice, missing
programs. Everything else — qserver restarting, the network dropping, espeak failing once — is
logged and lived through.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Mapping, Sequence

from .bookmark import Bookmark
from .calls import CROSS_FLOOR_POLICIES
from .exc import AnnouncerError, ConfigurationError, UnknownFloor, UnknownSite
from .output import DEFAULT_PLAY_COMMAND, Player, WavFolder
from .queue import AnnouncementQueue
from .sentence import Wording
from .service import Announcer
from .speech import ENGINES, Speaker, make_engine

__all__ = ["build_parser", "main"]

logger = logging.getLogger(__name__)


def build_parser(environ: Mapping[str, str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="announcer", description="Speak one floor's calls (Vietnamese).")
    parser.add_argument("--url", default=environ.get("QSERVER_URL", "http://127.0.0.1:8000"),
                        help="qserver base URL (QSERVER_URL)")
    parser.add_argument("--site", default="cantho", help="site slug (default: cantho)")
    parser.add_argument("--floor", type=int, required=True, help="the floor whose calls this PC speaks")
    parser.add_argument("--token", default=environ.get("QSERVER_TOKEN"),
                        help="a display token, if the server asks for one (QSERVER_TOKEN)")
    parser.add_argument("--config", default=environ.get("QSERVER_CONFIG"),
                        help="extra site file or folder of *.toml (QSERVER_CONFIG)")
    parser.add_argument("--wav-dir", help="write each announcement to a WAV file here instead of playing it")
    parser.add_argument("--play-cmd", default=DEFAULT_PLAY_COMMAND,
                        help='play command; {file} and {device} are replaced (default: "aplay -q")')
    parser.add_argument("--device", help="sound device for the player (aplay -D NAME)")
    parser.add_argument("--voice", help="speech voice (default: the site's, e.g. vi-vn-x-south)")
    parser.add_argument("--engine", choices=sorted(ENGINES), default="espeak-ng",
                        help="speech engine (default espeak-ng; pyttsx3 is unreliable back to back, see docs)")
    parser.add_argument("--cross-floor", choices=CROSS_FLOOR_POLICIES, default="ticket",
                        help="which floor speaks a call whose counter is on another floor (default: ticket)")
    parser.add_argument("--max-merge", type=int, default=3, help="most calls merged into one sentence")
    parser.add_argument("--state-file", default=environ.get("QSERVER_ANNOUNCER_STATE"),
                        help="remember the last spoken call here; after a restart the calls made meanwhile "
                             "(still fresh) are spoken (QSERVER_ANNOUNCER_STATE)")
    parser.add_argument("--log-level", default=environ.get("QSERVER_LOG_LEVEL", "INFO"),
                        choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    return parser


def load_site(slug: str, floor: int, config_path: str | None):
    """The configured site, checked to have ``floor``; :class:`ConfigurationError` otherwise."""
    import config

    try:
        sites = config.load_sites(*([config_path] if config_path else []))
    except config.ConfigError as exc:
        raise ConfigurationError(str(exc)) from exc
    if slug not in sites:
        raise UnknownSite(f"site {slug!r} is not configured (known: {', '.join(sorted(sites))})")
    site = sites[slug]
    if floor not in site.floor_by_number:
        known = ", ".join(str(n) for n in sorted(site.floor_by_number))
        raise UnknownFloor(f"floor {floor} is not a floor of site {slug!r} (floors: {known})")
    return site


def build(args: argparse.Namespace):
    """Site, queue, started speaker and output from the arguments; raises ConfigurationError."""
    from . import audio

    site = load_site(args.site, args.floor, args.config)
    settings = site.announce
    if args.max_merge < 1:
        raise ConfigurationError(f"--max-merge {args.max_merge} must be at least 1")
    queue = AnnouncementQueue(
        Wording.from_site(site), args.floor, stale_after_s=settings.stale_after_s, repeat=settings.repeat,
        max_merge=args.max_merge, cross_floor=args.cross_floor,
        counter_floors={c.id: c.floor for c in site.counters})
    output = WavFolder(args.wav_dir) if args.wav_dir else Player(args.play_cmd, args.device)
    engine = make_engine(args.engine, args.voice or settings.voice, settings.rate, settings.volume)
    speaker = Speaker(engine, chime=audio.chime() if settings.chime else None, volume=settings.volume)
    speaker.start()  # opens the engine: an unknown voice fails here, before any call arrives
    return site, queue, speaker, output


async def serve(args: argparse.Namespace, site, queue: AnnouncementQueue, speaker: Speaker, output) -> None:
    from qserver.protocol.client import Link

    def on_state(up: bool) -> None:
        if up:
            logger.info("connected to %s (floor %d)", args.url, args.floor)
        else:
            logger.warning("offline from %s; reconnecting (calls made meanwhile are spoken on return)",
                           args.url)

    link = Link(args.url, site=site.slug, topics=[f"floor:{args.floor}"], token=args.token,
                device=f"announcer-floor-{args.floor}", on_state=on_state)
    on_spoken = None
    if args.state_file:
        bookmark = Bookmark(args.state_file)
        link.last_event_id = bookmark.load()
        if link.last_event_id:
            logger.info("resuming after event %s (from %s)", link.last_event_id, args.state_file)

        def on_spoken(record) -> None:
            if record.error is None:
                bookmark.advance(record.announcement.event_ids)

    announcer = Announcer(queue, speaker, output, send=link.send, on_spoken=on_spoken)
    tasks = [asyncio.create_task(link.run(announcer.on_frame), name="link"),
             asyncio.create_task(announcer.run(), name="speaker")]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()  # re-raises why the speaker gave up
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _run_until_signal(args, site, queue, speaker, output) -> None:
    main_task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, main_task.cancel)
    try:
        await serve(args, site, queue, speaker, output)
    except asyncio.CancelledError:
        logger.info("stopping")


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    environ = os.environ if environ is None else environ
    args = build_parser(environ).parse_args(argv)
    logging.basicConfig(level=args.log_level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        site, queue, speaker, output = build(args)
    except ConfigurationError as exc:
        print(f"announcer: error: {exc}", file=sys.stderr)
        return 2
    logger.info("floor %d of %s: voice %s, %s, repeat %d, stale after %.0f s", args.floor, site.slug,
                speaker.engine.voice.id, f"WAV files in {args.wav_dir}" if args.wav_dir else "playing aloud",
                site.announce.repeat, site.announce.stale_after_s)
    try:
        asyncio.run(_run_until_signal(args, site, queue, speaker, output))
    except AnnouncerError as exc:
        logger.error("giving up: %s", exc)
        return 1
    finally:
        speaker.close()
        output.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
