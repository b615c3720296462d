"""The top entries of a py-spy profile (``--format raw`` collapsed stacks, as bench/floor.py --profile
writes them): inclusive and own time per function, and the share of each package.

    .venv/bin/python bench/profile_top.py FILE [--top 25] [--under FUNCTION]

``--under`` keeps only the samples whose stack passes through a function (e.g. ``run_asgi`` for the
request path, ``Hub._read_forever`` for the fan-out), so the shares are of that path's time.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^():]*?)(?::\d+)?\)$")


def parse(path: Path, under: str | None) -> list[tuple[list[tuple[str, str]], int]]:
    stacks = []
    for line in path.read_text().splitlines():
        text, _, count = line.rpartition(" ")
        if not text or not count.isdigit():
            continue
        frames = []
        for part in text.split(";"):
            match = FRAME.match(part)
            frames.append((match["func"], match["file"]) if match else (part, ""))
        if under and not any(under in func for func, _ in frames):
            continue
        stacks.append((frames, int(count)))
    return stacks


def package(file: str) -> str:
    """qserver/web/api.py → qserver/web; starlette/routing.py → starlette; <frozen ...> → python."""
    parts = file.split("/")
    if parts[0] == "qserver":
        return "/".join(parts[:2]) if len(parts) > 2 else file
    if parts[0] in ("asyncio", "json", "hashlib", "datetime", "re", "typing", "functools", "") or file.startswith("<"):
        return "python:" + parts[0]
    return parts[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--under")
    args = parser.parse_args()
    stacks = parse(args.file, args.under)
    total = sum(count for _, count in stacks) or 1
    own: Counter = Counter()
    inclusive: Counter = Counter()
    packages: Counter = Counter()
    for frames, count in stacks:
        func, file = frames[-1]
        own[f"{func} ({file})"] += count
        packages[package(file)] += count
        for name in {f"{func} ({file})" for func, file in frames}:
            inclusive[name] += count
    print(f"{args.file.name}: {total} samples" + (f" under {args.under}" if args.under else ""))
    print("inclusive (the function and what it calls):")
    for name, count in inclusive.most_common(args.top):
        print(f"  {100 * count / total:5.1f} %  {name}")
    print("own time (the innermost frame):")
    for name, count in own.most_common(args.top):
        print(f"  {100 * count / total:5.1f} %  {name}")
    print("own time per package:")
    for name, count in packages.most_common(15):
        print(f"  {100 * count / total:5.1f} %  {name}")


if __name__ == "__main__":
    main()
