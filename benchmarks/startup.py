"""Start-up cost: importing the SDK, beside the official SDK and the HTTP libraries
alone, and what its pytest plugin adds to a pytest run that does not use its fixture.

Every figure comes from fresh interpreters, run in turns (one of each, then again) so
that a change in the machine's load touches them all alike; best and median of the
runs. An import is timed inside its interpreter (the statement alone, not the
interpreter's own start); a pytest run (``pytest --co`` of a one-test project) from
outside, whole, once with the plugin and once with ``-p no:kakaocert_sandbox``: the
difference of the two bests is shown, but on a loaded machine a whole run varies by
more than the plugin costs, so the target is held against what pytest does with the
plugin in a run that does not use its fixture: import its module (pytest loaded),
timed alone. The interpreters may write bytecode caches (a first run of each, not
counted, writes them), as an installed package has.
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks import official
from benchmarks._figures import Figure, at_most, median

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = "kakaocert_async.sandbox.pytest_plugin"
IMPORT_TARGET_MS = 150
PLUGIN_TARGET_MS = 50

IMPORTS = {
    "import kakaocert_async": ("", "import kakaocert_async"),
    "from kakaocert_async import Client, ESignRequest": (
        "",
        "from kakaocert_async import Client, ESignRequest",
    ),
    "… and Client(...) made (aiohttp loaded)": (
        "",
        "from kakaocert_async import Client; Client('LINK', 'c2VjcmV0')",
    ),
    "from kakaocert_async.barocert import Client": (
        "",
        "from kakaocert_async.barocert import Client",
    ),
    "the pytest plugin's module, pytest loaded": (
        "import pytest",
        f"import {PLUGIN}",
    ),
    "import kakaocert (the official SDK)": ("", "import kakaocert"),
    "import aiohttp (alone)": ("", "import aiohttp"),
    "import httpx (alone)": ("", "import httpx"),
}
"""Row: what runs first, untimed, and the statement timed."""


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def _import_ms(setup: str, statement: str, env: dict[str, str]) -> float:
    timed = (
        f"{setup}\nimport time; t = time.perf_counter(); {statement}\n"
        "print(time.perf_counter() - t)"
    )
    result = subprocess.run(
        [sys.executable, "-c", timed], env=env, capture_output=True, text=True, check=True
    )
    return float(result.stdout.split()[-1]) * 1000


def _run_ms(command: Sequence[str], env: dict[str, str], cwd: str) -> float:
    began = time.perf_counter()
    subprocess.run(command, env=env, cwd=cwd, capture_output=True, check=True)
    return (time.perf_counter() - began) * 1000


def _pytest_commands() -> tuple[list[str], list[str]]:
    """``pytest --co`` with the plugin (its entry point when installed, else ``-p``)
    and without it."""
    base = [sys.executable, "-m", "pytest", "--co", "-q", "-p", "no:cacheprovider"]
    installed = PLUGIN in {e.value for e in importlib.metadata.entry_points(group="pytest11")}
    if installed:
        return base, [*base, "-p", "no:kakaocert_sandbox"]
    return [*base, "-p", PLUGIN], base


def run(*, runs: int) -> list[Figure]:
    env = _env()
    statements = {
        row: statement
        for row, statement in IMPORTS.items()
        if "kakaocert (the official" not in row or official.available()
    }
    with_plugin, without_plugin = _pytest_commands()
    times: dict[str, list[float]] = {row: [] for row in statements}
    plugin_rows = ("pytest --co, the plugin loaded", "pytest --co, -p no:kakaocert_sandbox")
    times.update({row: [] for row in plugin_rows})
    with tempfile.TemporaryDirectory() as project:
        Path(project, "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
        Path(project, "test_one.py").write_text("def test_one():\n    pass\n", encoding="utf-8")
        for turn in range(runs + 1):  # the first turn writes the bytecode caches
            for row, (setup, statement) in statements.items():
                measured = _import_ms(setup, statement, env)
                if turn:
                    times[row].append(measured)
            for row, command in zip(plugin_rows, (with_plugin, without_plugin), strict=True):
                measured = _run_ms(command, env, project)
                if turn:
                    times[row].append(measured)

    name = f"start-up ({runs} fresh interpreters each)"
    figures = [
        Figure(name, column, value, "ms", row=row)
        for row, values in times.items()
        for column, value in (("best", min(values)), ("median", median(values)))
    ]
    best_with, best_without = (min(times[row]) for row in plugin_rows)
    figures += [
        at_most(
            name,
            "import kakaocert_async (best)",
            min(times["import kakaocert_async"]),
            "ms",
            IMPORT_TARGET_MS,
        ),
        at_most(
            name,
            "from kakaocert_async import Client, ESignRequest (best)",
            min(times["from kakaocert_async import Client, ESignRequest"]),
            "ms",
            IMPORT_TARGET_MS,
        ),
        at_most(
            name,
            "the pytest plugin's cost: its import, pytest loaded (best)",
            min(times["the pytest plugin's module, pytest loaded"]),
            "ms",
            PLUGIN_TARGET_MS,
        ),
        Figure(
            name,
            "`pytest --co`: best with the plugin − best without (a run varies by more)",
            best_with - best_without,
            "ms",
            note=f"{best_with:,.0f} vs {best_without:,.0f} ms",
        ),
    ]
    return figures
