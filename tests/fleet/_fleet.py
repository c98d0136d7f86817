"""Worker processes running ``tests.fleet._worker``, what they logged, and what they stored."""

from __future__ import annotations

import collections
import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

from kakaocert_async.sandbox import Sandbox
from tests._served import ROOT, barocert_env, clean_env, service_env

WORKER = [sys.executable, "-m", "arq", "tests.fleet._worker.WorkerSettings"]
_RUN = r"kakaocert:[\w.]+:\d{12}:(\d+):kakaocert_await_[\w.]+"
_STARTED = re.compile(rf"→ {_RUN}")
_ENDED = re.compile(rf"[←↻!] {_RUN}")


class Fleet:
    """``count`` arq worker processes on one Redis, working for one served sandbox
    (``settings``: more of ``tests.fleet._worker``'s, such as the kinds they serve)."""

    def __init__(
        self,
        directory: Path,
        sandbox: Sandbox,
        url: str,
        *,
        redis_port: int,
        queue: dict[str, Any],
        max_jobs: int,
        client_timeout: float,
        **settings: Any,
    ) -> None:
        self.directory = directory
        self.store_dir = directory / "stored"
        self.store_dir.mkdir()
        settings = {
            **settings,
            "redis_port": redis_port,
            "store_dir": str(self.store_dir),
            "queue": queue,
            "max_jobs": max_jobs,
            "client_timeout": client_timeout,
        }
        self.env = clean_env(
            **service_env(sandbox, url),
            **barocert_env(sandbox, url),
            FLEET_SETTINGS=json.dumps(settings),
            PYTHONUNBUFFERED="1",  # a killed worker's log is complete up to the kill
        )
        self.processes: list[subprocess.Popen[bytes]] = []
        self.restarts: list[str] = []
        """Why each restart of a worker that stopped by itself happened (its last log line)."""
        self._killed: set[int] = set()
        self._logs: list[IO[bytes]] = []

    def _spawn(self, n: int) -> subprocess.Popen[bytes]:
        log = (self.directory / f"worker-{n}.log").open("ab")
        self._logs.append(log)
        return subprocess.Popen(  # noqa: S603 -- this Python, a fixed module
            WORKER, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )

    def start(self, count: int) -> None:
        """Start the workers; return once each has said it started."""
        self.processes = [self._spawn(n) for n in range(count)]
        deadline = time.monotonic() + 30
        while not all("Starting worker" in self.log(n) for n in range(count)):
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.processes):
                raise RuntimeError("a worker did not start:\n" + self.logs())
            time.sleep(0.05)

    def log(self, n: int) -> str:
        return (self.directory / f"worker-{n}.log").read_text(encoding="utf-8", errors="replace")

    def logs(self) -> str:
        count = len(self.processes)  # a restarted worker appends to its own log
        return "\n".join(f"--- worker {n}\n{self.log(n)[-3000:]}" for n in range(count))

    def running(self, n: int) -> collections.Counter[str]:
        """Receipts whose job worker ``n`` started and has not ended (as its log says)."""
        text = self.log(n)
        started = collections.Counter(_STARTED.findall(text))
        started.subtract(_ENDED.findall(text))
        return +started

    def kill(self, n: int) -> None:
        """SIGKILL worker ``n``; it stays dead."""
        self._killed.add(n)
        self.processes[n].send_signal(signal.SIGKILL)
        self.processes[n].wait(timeout=10)

    def supervise(self) -> None:
        """Start again any worker that stopped by itself, as systemd or Kubernetes would."""
        for n, process in enumerate(self.processes):
            if n not in self._killed and process.poll() is not None:
                lines = self.log(n).strip().splitlines()
                self.restarts.append(lines[-1] if lines else f"exit code {process.returncode}")
                self.processes[n] = self._spawn(n)

    def stop(self) -> None:
        """SIGTERM (arq's graceful stop) to the live ones, then close the logs."""
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log in self._logs:
            log.close()

    def stored(self) -> dict[str, list[tuple[int, str]]]:
        """Every store call, per receipt: ``(pid of the worker, signed data)``."""
        calls: dict[str, list[tuple[int, str]]] = collections.defaultdict(list)
        for path in self.store_dir.glob("*.stored"):
            pid = int(path.stem)
            for line in path.read_text(encoding="ascii").splitlines():
                receipt_id, signed_data = line.split(" ")
                calls[receipt_id].append((pid, signed_data))
        return dict(calls)

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self.processes]

    def __enter__(self) -> Fleet:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<Fleet pids={self.pids}>"
