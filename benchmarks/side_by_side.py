"""Side by side: the SDK's ``Client``, the official SDK and raw HTTP clients, on one canned server.

The server is :mod:`benchmarks.canned` in its own process (captured JSON, tens of
µs of CPU per call), so the clients are what is measured. Each client runs in its
own process (:mod:`benchmarks.clients`): state calls one after another, then from
100 and from 1,000 concurrent callers. Rounds alternate the order of the
clients; every figure is the median of the rounds, errors are the sum. The
targets are those of issue 9, for the SDK's default ``Client``.

The sequential targets (rate against the official SDK, CPU per call against raw
aiohttp) are measured apart, as rates here drift with the machine's by 10-30 %
within a minute: in sets of one sequential run of each of the three, one right
after the other (in turning order); each is the median of the sets' ratios, with
their range.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from . import official
from ._figures import Figure, at_least, at_most, exactly, median
from ._workers import canned_server, client_runs, cpu_seconds
from .clients import CLIENTS

NAME = "side by side: state calls against a canned server on loopback"
TARGETS = "side by side: targets (the SDK's default Client)"
SDK, OFFICIAL, AIOHTTP = "sdk", "official", "aiohttp"
OFFICIAL_THREADS = (32, 10)
"""Threads sharing one official SDK object, and calls each."""

Runs = dict[str, list[dict[str, Any]]]
"""Per run name (``sequential``, ``c100``, ...), one result per round."""


def _rate(run: dict[str, Any]) -> float:
    succeeded = run["calls"] - sum(run["errors"].values())
    return float(succeeded / run["wall"]) if run["wall"] else 0.0


def _cpu_us(run: dict[str, Any]) -> float:
    return float(run["cpu"] / run["calls"] * 1e6) if run["calls"] else 0.0


class _Results:
    """Every round's runs, per client; medians on demand."""

    def __init__(self) -> None:
        self.runs: dict[str, Runs] = defaultdict(lambda: defaultdict(list))

    def add(self, client: str, runs: dict[str, dict[str, Any]]) -> None:
        for name, run in runs.items():
            self.runs[client][name].append(run)

    def has(self, client: str, run: str) -> bool:
        return bool(self.runs[client][run])

    def median(self, client: str, run: str, of: Callable[[dict[str, Any]], float]) -> float:
        return median(of(r) for r in self.runs[client][run])

    def errors(self, client: str) -> int:
        """Failed calls of every round of every run but the official SDK's threads."""
        return sum(
            sum(r["errors"].values())
            for name, runs in self.runs[client].items()
            if name != "threads"
            for r in runs
        )


def run(
    *,
    rounds: int,
    sequential: float,
    concurrent: Sequence[tuple[int, str]],
    back_to_back: int,
    clients: Sequence[str] = tuple(CLIENTS),
) -> list[Figure]:
    """``sequential`` seconds of calls one after another (in each round, and in each
    of the ``back_to_back`` sets); ``concurrent``: (callers, spec) with spec
    ``EACH`` or ``SECONDSs`` (see :mod:`benchmarks.clients`)."""
    if not official.available():
        print("  (the official SDK is not installed: its figures are left out)")
        clients = [c for c in clients if c != OFFICIAL]
    specs = [f"1:{sequential:g}s", *(f"{callers}:{spec}" for callers, spec in concurrent)]
    results = _Results()
    server_cpu, server_calls = 0.0, 0
    with canned_server() as (url, pid):
        for round_ in range(rounds):
            order = list(clients) if round_ % 2 == 0 else list(reversed(clients))
            for client in order:
                options = []
                if client == OFFICIAL:
                    options.append("--threads={}:{}".format(*OFFICIAL_THREADS))
                before = cpu_seconds(pid)
                printed = client_runs(client, url, specs, *options)
                after = cpu_seconds(pid)
                if before is not None and after is not None:
                    server_cpu += after - before
                    server_calls += printed["made"]
                results.add(client, printed["runs"])
        sets = [
            _back_to_back(
                url, sequential, [SDK, *(c for c in (OFFICIAL, AIOHTTP) if c in clients)], n
            )
            for n in range(back_to_back)
        ]
    figures = _matrix(results, clients, [callers for callers, _ in concurrent])
    for check, name, other, measure, limit in _SEQUENTIAL:
        if sets and other in sets[0]:
            ratios = [measure(runs[SDK]) / measure(runs[other]) for runs in sets]
            note = f"median of {len(ratios)} sets run back to back: "
            note += f"{min(ratios):.2f}–{max(ratios):.2f}"
            figures.append(check(TARGETS, name, median(ratios), "×", limit, note=note))
    figures += _targets(results, [callers for callers, _ in concurrent])
    if results.has(OFFICIAL, "threads"):
        threads = results.runs[OFFICIAL]["threads"]
        failed = sum(sum(r["errors"].values()) for r in threads) / sum(r["calls"] for r in threads)
        figures.append(
            Figure(
                NAME,
                f"official SDK, {OFFICIAL_THREADS[0]} threads sharing one: calls failed",
                failed * 100,
                "%",
            )
        )
    if server_calls:
        figures.append(
            Figure(NAME, "canned server CPU per call", server_cpu / server_calls * 1e6, "µs")
        )
    return figures


def _matrix(results: _Results, clients: Sequence[str], callers: Sequence[int]) -> list[Figure]:
    figures = []
    for client in clients:
        row = CLIENTS[client]

        def cell(name: str, value: float, unit: str, *, row: str = row) -> None:
            figures.append(Figure(NAME, name, value, unit, row=row))

        if results.has(client, "sequential"):
            cell("sequential", results.median(client, "sequential", _rate), "calls/s")
            cell("client CPU per call", results.median(client, "sequential", _cpu_us), "µs")
        for count in callers:
            run = f"c{count}"
            if not results.has(client, run):
                continue
            cell(f"{count:,} concurrent", results.median(client, run, _rate), "calls/s")
            if count == max(callers):
                p50 = results.median(client, run, lambda r: r["p50_ms"])
                p99 = results.median(client, run, lambda r: r["p99_ms"])
                cell(f"{count:,}: p50", p50, "ms")
                cell(f"{count:,}: p99", p99, "ms")
        cell("errors", results.errors(client), "")
    return figures


def _back_to_back(url: str, seconds: float, clients: list[str], n: int) -> dict[str, Any]:
    """One sequential run of each client, one right after the other (the order turned by
    ``n``): client -> its run."""
    order = clients[n % len(clients) :] + clients[: n % len(clients)]
    return {c: client_runs(c, url, [f"1:{seconds:g}s"])["runs"]["sequential"] for c in order}


Measure = Callable[[dict[str, Any]], float]
_SEQUENTIAL: list[tuple[Callable[..., Figure], str, str, Measure, float]] = [
    # (check, figure, compared with, measure, limit): the Client's measure / theirs, per set
    (at_least, "sequential state calls: Client / official SDK", OFFICIAL, _rate, 1.25),
    (at_most, "client CPU per call: Client / raw aiohttp", AIOHTTP, _cpu_us, 1.6),
]
_RATIOS: list[tuple[Callable[..., Figure], str, str, Measure, str, float, str]] = [
    # (check, figure, run, measure, compared with, limit, unit): the Client's measure / theirs
    (at_least, "100 concurrent callers: Client / raw aiohttp",
     "c100", _rate, AIOHTTP, 0.5, "calls/s"),
]  # fmt: skip


def _targets(results: _Results, callers: Sequence[int]) -> list[Figure]:
    figures = []
    for check, name, run, measure, other, limit, unit in _RATIOS:
        if results.has(SDK, run) and results.has(other, run):
            ours, theirs = results.median(SDK, run, measure), results.median(other, run, measure)
            note = f"{ours:,.0f} vs {theirs:,.0f} {unit}"
            figures.append(check(TARGETS, name, ours / theirs, "×", limit, note=note))
    most = max(callers)
    run = f"c{most}"
    errors = sum(sum(r["errors"].values()) for r in results.runs[SDK][run])
    figures.append(exactly(TARGETS, f"{most:,} concurrent callers: errors", errors, "", 0))
    p50 = results.median(SDK, run, lambda r: r["p50_ms"])
    p99 = results.median(SDK, run, lambda r: r["p99_ms"])
    figures.append(
        at_most(
            TARGETS,
            f"{most:,} concurrent callers: p99 / p50",
            p99 / p50 if p50 else float("inf"),
            "×",
            5,
            note=f"{p50:,.1f} / {p99:,.1f} ms",
        )
    )
    return figures
