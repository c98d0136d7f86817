"""A figure with its target, the report's tables, and the machine it was measured on."""

from __future__ import annotations

import json
import os
import platform
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import httpx

import kakaocert_async


@dataclass(frozen=True)
class Figure:
    """One measured value; ``target`` and ``met`` when the issue sets one.

    A figure with a ``row`` is a cell of its benchmark's matrix (row: a client,
    ``name``: the column) rather than a line of the figures table.
    """

    benchmark: str
    name: str
    value: float
    unit: str
    target: str = ""
    met: bool | None = None
    row: str = ""
    note: str = ""
    """Shown after the value, e.g. what a ratio was made of."""

    def shown(self) -> str:
        if self.value == int(self.value) or self.value >= 100:
            text = f"{self.value:,.0f}"
        else:
            text = f"{self.value:.2f}"
        text = f"{text} {self.unit}".strip()
        return f"{text} ({self.note})" if self.note else text

    @property
    def verdict(self) -> str:
        return {True: "met", False: "not met", None: ""}[self.met]


def at_most(
    benchmark: str, name: str, value: float, unit: str, limit: float, note: str = ""
) -> Figure:
    shown = f"≤ {limit:g} {unit}".strip()
    return Figure(benchmark, name, value, unit, shown, value <= limit, note=note)


def at_least(
    benchmark: str, name: str, value: float, unit: str, limit: float, note: str = ""
) -> Figure:
    shown = f"≥ {limit:g} {unit}".strip()
    return Figure(benchmark, name, value, unit, shown, value >= limit, note=note)


def exactly(benchmark: str, name: str, value: float, unit: str, wanted: float) -> Figure:
    return Figure(benchmark, name, value, unit, f"= {wanted:,g}", value == wanted)


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def machine() -> str:
    """One line naming the machine, the Python and the libraries measured."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    versions = [f"kakaocert_async {kakaocert_async.__version__}", f"httpx {httpx.__version__}"]
    try:
        import aiohttp
    except ImportError:
        pass
    else:
        versions.append(f"aiohttp {aiohttp.__version__}")
    return (
        f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, {', '.join(versions)}"
    )


def matrices(figures: Sequence[Figure]) -> str:
    """Each benchmark's matrix figures as a Markdown table: a row per client."""
    out = []
    for benchmark in dict.fromkeys(f.benchmark for f in figures if f.row):
        cells = [f for f in figures if f.benchmark == benchmark and f.row]
        columns = list(dict.fromkeys(f.name for f in cells))
        rows = list(dict.fromkeys(f.row for f in cells))
        found = {(f.row, f.name): f.shown() for f in cells}
        lines = [
            f"**{benchmark}**",
            "",
            "| client | " + " | ".join(columns) + " |",
            "|---|" + "---:|" * len(columns),
        ]
        lines += [
            f"| {row} | " + " | ".join(found.get((row, c), "—") for c in columns) + " |"
            for row in rows
        ]
        out.append("\n".join(lines))
    return "\n\n".join(out)


def table(figures: Sequence[Figure]) -> str:
    """The figures that are not matrix cells, as a Markdown table."""
    rows = [
        "| benchmark | figure | value | target | |",
        "|---|---|---:|---|---|",
    ]
    previous = None
    for f in figures:
        if f.row:
            continue
        shown_benchmark = "" if f.benchmark == previous else f.benchmark
        previous = f.benchmark
        rows.append(f"| {shown_benchmark} | {f.name} | {f.shown()} | {f.target} | {f.verdict} |")
    return "\n".join(rows)


def report(figures: Sequence[Figure]) -> str:
    """The matrices, then the figures table."""
    parts = [matrices(figures), table(figures)]
    return "\n\n".join(part for part in parts if part)


def write(figures: Sequence[Figure], directory: Path, *, command: str, seconds: float) -> None:
    """``benchmarks.md`` and ``benchmarks.json`` in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    header = f"Measured with `{command}` in {seconds:.0f} s on {machine()}.\n\n"
    (directory / "benchmarks.md").write_text(header + report(figures) + "\n", encoding="utf-8")
    data = {
        "machine": machine(),
        "command": command,
        "seconds": round(seconds, 1),
        "figures": [asdict(f) for f in figures],
    }
    (directory / "benchmarks.json").write_text(
        json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def read(path: Path) -> tuple[dict[str, Any], list[Figure]]:
    """A ``benchmarks.json`` back: its header fields and its figures."""
    data = json.loads(path.read_text(encoding="utf-8"))
    known = {f.name for f in fields(Figure)}
    figures = [Figure(**{k: v for k, v in f.items() if k in known}) for f in data["figures"]]
    return data, figures
