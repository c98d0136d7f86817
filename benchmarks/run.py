"""Run the benchmarks, print the report and write it as Markdown and JSON.

python -m benchmarks              # full sizes (a few minutes)
python -m benchmarks --smoke      # tiny sizes, seconds: CI runs this
python -m benchmarks --only side_by_side,served_sandbox --out /tmp/results
python -m benchmarks --readme     # the tables of docs/performance.md, from the last full run
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: python benchmarks/run.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import (
    barocert_state,
    fleet,
    latency,
    overhead,
    scale,
    served_sandbox,
    side_by_side,
    startup,
    tokens,
)
from benchmarks._figures import Figure, machine, read, report, write

RESULTS = Path(__file__).resolve().parent / "results"

Sizes = dict[str, Any]
BENCHMARKS: dict[str, tuple[Callable[..., Any], Sizes, Sizes]] = {
    # name: (run, full sizes, smoke sizes); run returns figures, or a coroutine of them.
    "side_by_side": (
        side_by_side.run,
        {
            "rounds": 3,
            "sequential": 1.0,
            "concurrent": [(100, "1.5s"), (1000, "2")],
            "back_to_back": 7,
        },
        {
            "rounds": 1,
            "sequential": 0.1,
            "concurrent": [(10, "0.1s"), (50, "1")],
            "back_to_back": 1,
        },
    ),
    "served_sandbox": (
        served_sandbox.run,
        {"rounds": 3, "seconds": 1.5},
        {"rounds": 1, "seconds": 0.2},
    ),
    "overhead": (
        overhead.run,
        {"calls": 2000, "rounds": 7},
        {"calls": 50, "rounds": 2},
    ),
    "scale": (
        scale.run,
        {"flows": 10_000, "spread": 4.0, "interval": 1.0, "idle_waiters": 10_000},
        {"flows": 100, "spread": 0.3, "interval": 0.1, "idle_waiters": 50},
    ),
    "latency": (
        latency.run,
        {"receipts": 60, "interval": 0.5, "spread": 3.0},
        {"receipts": 5, "interval": 0.1, "spread": 0.3},
    ),
    "barocert": (barocert_state.run, barocert_state.SIZES["full"], barocert_state.SIZES["smoke"]),
    "fleet": (fleet.run, fleet.FULL, fleet.SMOKE),
    "tokens": (
        tokens.run,
        {"client_codes": 10_000, "token_ttl": 2.0},
        {"client_codes": 300, "token_ttl": 2.0},
    ),
    "startup": (startup.run, {"runs": 15}, {"runs": 2}),
}


def _figures(run: Callable[..., Any], sizes: Sizes) -> list[Figure]:
    result = run(**sizes)
    if inspect.iscoroutine(result):
        result = asyncio.run(result)
    return list(result)


def readme(results: Path) -> str:
    """The performance tables of docs/performance.md, from the last full run in ``results``."""
    data, figures = read(results / "benchmarks.json")
    if "--smoke" in data["command"] or "--only" in data["command"]:
        raise SystemExit(f"{results}: the last run was `{data['command']}`, not a full run")
    intro = (
        f"From one full run (`{data['command']}`, {data.get('seconds', 0):.0f} s) on "
        f"{data['machine']}."
    )
    return intro + "\n\n" + report(figures)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to check they run")
    parser.add_argument("--only", default="", help="comma-separated: " + ", ".join(BENCHMARKS))
    parser.add_argument(
        "--out",
        type=Path,
        default=RESULTS,
        help="where to write benchmarks.md and benchmarks.json (benchmarks/results)",
    )
    parser.add_argument(
        "--readme",
        action="store_true",
        help="print docs/performance.md's tables from the last full run in --out, and exit",
    )
    args = parser.parse_args(argv)
    if args.readme:
        print(readme(args.out))
        return 0
    chosen = [name.strip() for name in args.only.split(",") if name.strip()] or list(BENCHMARKS)
    unknown = sorted(set(chosen) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmarks: {', '.join(unknown)}")

    print(f"# kakaocert_async benchmarks{' (smoke sizes)' if args.smoke else ''}")
    print(f"on {machine()}\n", flush=True)
    started = time.perf_counter()
    figures: list[Figure] = []
    for name in chosen:
        run, full, smoke = BENCHMARKS[name]
        sizes = smoke if args.smoke else full
        print(f"running {name} {sizes} ...", flush=True)
        began = time.perf_counter()
        figures += _figures(run, sizes)
        print(f"  {time.perf_counter() - began:.0f} s", flush=True)
    seconds = time.perf_counter() - started

    command = "python -m benchmarks" + (" --smoke" if args.smoke else "")
    if args.only:
        command += f" --only {args.only}"
    print()
    print(report(figures))
    missed = [f for f in figures if f.met is False]
    print(f"\n{len(figures)} figures in {seconds:.0f} s; targets not met: {len(missed)}")
    write(figures, args.out, command=command, seconds=seconds)
    print(f"written to {args.out / 'benchmarks.md'} and benchmarks.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
