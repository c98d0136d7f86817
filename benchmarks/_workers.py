"""Child processes: servers on free ports, client runs, and a process's CPU time."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def served(command: list[str]) -> Iterator[tuple[str, int]]:
    """Run a server in a child process until its first line names its URL (``... on
    http://...``); yields (URL, pid)."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        if " on http://" not in first:
            raise RuntimeError(f"{' '.join(command[1:])} did not start: {first!r}")
        yield first.split(" on ", 1)[1].split()[0], process.pid
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def canned_server() -> contextlib.AbstractContextManager[tuple[str, int]]:
    """``python -m benchmarks.canned`` on a free port: (URL, pid)."""
    return served([sys.executable, "-m", "benchmarks.canned"])


def served_sandbox() -> contextlib.AbstractContextManager[tuple[str, int]]:
    """``python -m kakaocert_async sandbox`` on a free port: (URL, pid)."""
    return served(
        [
            sys.executable, "-m", "kakaocert_async", "sandbox",
            "--port", "0", "--sign-after", "never", "--log-level", "warning",
        ]
    )  # fmt: skip


def client_runs(
    name: str, url: str, runs: Sequence[str], *options: str, warmup: int = 100
) -> dict[str, Any]:
    """``python -m benchmarks.clients``: one client's runs (``1:1s``, ``1000:2``, ...)
    in its own process; what it printed."""
    command = [sys.executable, "-m", "benchmarks.clients", name, url, f"--warmup={warmup}"]
    command += [f"--run={run}" for run in runs]
    command += options
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=900)
    lines = done.stdout.strip().splitlines()
    if done.returncode or not lines:
        raise RuntimeError(f"client {name} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def cpu_seconds(pid: int) -> float | None:
    """User and system CPU seconds of a process so far (``None`` where /proc is missing)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
