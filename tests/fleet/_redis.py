"""A real ``redis-server`` on a free loopback port, for the fleet tests (never a fake one).

Started without persistence (``--save '' --appendonly no``); :meth:`RedisServer.restart`
stops it with ``SHUTDOWN SAVE``, which writes the data set once on the way down, and
starts it again on the same port and directory, where it reads it back: a planned
restart of a Redis that keeps its data.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

REQUIRED = "KAKAOCERT_REQUIRE_REDIS"
"""Set (as CI does) to fail, rather than skip, when ``redis-server`` is missing."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


class RedisServer:
    """One ``redis-server`` process; ``url`` and ``port`` stay the same across restarts."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [
            "redis-server",
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.directory),
            "--loglevel", "warning",
        ]  # fmt: skip
        self._process = subprocess.Popen(  # noqa: S603 -- a fixed program
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                with redis.Redis(port=self.port, socket_connect_timeout=0.2) as probe:
                    probe.ping()
                    return
            except redis.ConnectionError:
                if self._process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start on port {self.port}") from None
                time.sleep(0.01)

    def stop(self, *, save: bool = False) -> None:
        """``SHUTDOWN SAVE`` (keep the data for the next start) or ``NOSAVE``."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(redis.ConnectionError), redis.Redis(port=self.port) as client:
            client.shutdown(save=save, nosave=not save)
        process.wait(timeout=10)
        self._process = None

    def restart(self, *, down_for: float = 0.5) -> None:
        """Stop (keeping the data), stay down ``down_for`` seconds, start on the same port."""
        self.stop(save=True)
        time.sleep(down_for)
        self.start()

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port)


@contextlib.contextmanager
def redis_server(directory: Path) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        if os.environ.get(REQUIRED):
            pytest.fail("redis-server is not installed (apt-get install redis-server)")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    server = RedisServer(directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()
