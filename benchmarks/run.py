"""Run the benchmarks, print the report and write it as Markdown and JSON.

python -m benchmarks            # full sizes (a few minutes at most)
python -m benchmarks --smoke    # tiny sizes, seconds: CI runs this
python benchmarks/run.py --only overhead,latency --out benchmarks/results
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: python benchmarks/run.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import fleet, latency, overhead, scale, throughput
from benchmarks._figures import Figure, machine, table, write

SIZES = {
    # name: (full, smoke)
    "overhead": ({"calls": 2000, "rounds": 7}, {"calls": 50, "rounds": 2}),
    "throughput": ({"calls": 3000, "concurrency": 100}, {"calls": 100, "concurrency": 10}),
    "scale": (
        {"flows": 10_000, "spread": 4.0, "interval": 1.0, "idle_waiters": 2000},
        {"flows": 100, "spread": 0.3, "interval": 0.1, "idle_waiters": 50},
    ),
    "latency": (
        {"receipts": 60, "interval": 0.5, "spread": 3.0},
        {"receipts": 5, "interval": 0.1, "spread": 0.3},
    ),
    "fleet": (fleet.FULL, fleet.SMOKE),
}
BENCHMARKS = {
    "overhead": overhead.run,
    "throughput": throughput.run,
    "scale": scale.run,
    "latency": latency.run,
    "fleet": fleet.run,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to check they run")
    parser.add_argument("--only", default="", help="comma-separated: " + ", ".join(BENCHMARKS))
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent / "results",
        help="where to write benchmarks.md and benchmarks.json (benchmarks/results)",
    )
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()] or list(BENCHMARKS)
    unknown = sorted(set(chosen) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmarks: {', '.join(unknown)}")

    print(f"# kakaocert_async benchmarks{' (smoke sizes)' if args.smoke else ''}")
    print(f"on {machine()}\n", flush=True)
    started = time.perf_counter()
    figures: list[Figure] = []
    for name in chosen:
        sizes = SIZES[name][1 if args.smoke else 0]
        print(f"running {name} {sizes} ...", flush=True)
        figures += asyncio.run(BENCHMARKS[name](**sizes))  # type: ignore[operator]
    seconds = time.perf_counter() - started

    command = "python -m benchmarks" + (" --smoke" if args.smoke else "")
    if args.only:
        command += f" --only {args.only}"
    print()
    print(table(figures))
    print(f"\n{len(figures)} figures in {seconds:.0f} s")
    write(figures, args.out, command=command, seconds=seconds)
    print(f"written to {args.out / 'benchmarks.md'} and benchmarks.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
