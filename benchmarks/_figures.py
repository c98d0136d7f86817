"""A figure with its target, the report table, and the machine it was measured on."""

from __future__ import annotations

import json
import os
import platform
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

import kakaocert_async


@dataclass(frozen=True)
class Figure:
    """One measured value; ``target`` and ``met`` when the issue sets one."""

    benchmark: str
    name: str
    value: float
    unit: str
    target: str = ""
    met: bool | None = None

    def shown(self) -> str:
        if self.value == int(self.value) or self.value >= 100:
            text = f"{self.value:,.0f}"
        else:
            text = f"{self.value:.2f}"
        return f"{text} {self.unit}".strip()

    @property
    def verdict(self) -> str:
        return {True: "met", False: "MISSED", None: ""}[self.met]


def at_most(benchmark: str, name: str, value: float, unit: str, limit: float) -> Figure:
    shown = f"≤ {limit:g} {unit}".strip()
    return Figure(benchmark, name, value, unit, shown, value <= limit)


def exactly(benchmark: str, name: str, value: float, unit: str, wanted: float) -> Figure:
    return Figure(benchmark, name, value, unit, f"= {wanted:g}", value == wanted)


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
    return (
        f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, kakaocert_async {kakaocert_async.__version__}, "
        f"httpx {httpx.__version__}"
    )


def table(figures: Sequence[Figure]) -> str:
    """The figures as a Markdown table."""
    rows = [
        "| benchmark | figure | value | target | |",
        "|---|---|---:|---|---|",
    ]
    rows += [
        f"| {f.benchmark} | {f.name} | {f.shown()} | {f.target} | {f.verdict} |" for f in figures
    ]
    return "\n".join(rows)


def write(figures: Sequence[Figure], directory: Path, *, command: str, seconds: float) -> None:
    """``benchmarks.md`` and ``benchmarks.json`` in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    header = f"Measured with `{command}` in {seconds:.0f} s on {machine()}.\n\n"
    (directory / "benchmarks.md").write_text(header + table(figures) + "\n", encoding="utf-8")
    data = {"machine": machine(), "command": command, "figures": [asdict(f) for f in figures]}
    (directory / "benchmarks.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
