"""Waiting on a fleet: waits per second and state calls per wait, one process against arq workers.

The sandbox runs in its own process and signs each receipt ``sign_after`` seconds
after its request; Redis (``redis-server`` on a free port, no persistence) runs in
its own. For each way of waiting, ``receipts`` requests are made first (50 at a
time, not timed), and then, timed:

- **one process**: a task per receipt in this process awaits it (``await_signed``)
  and verifies it, as a single-process service would: the figure to compare with;
- **1 and 2 arq workers**: each receipt is enqueued (``ReceiptQueue.enqueue``) and
  awaited, verified and stored by ``arq`` worker processes already running.

Measured from the start of the waits to the last verify (one process) or the last
record final (workers): waits per second, and state calls per wait (the sandbox's
counters). Every run checks that each receipt was verified exactly once. The waits
must start before the signatures come (the requests must take less than
``sign_after``): a run where they did not says so.

    python -m benchmarks.fleet            # the sizes of python -m benchmarks
    python -m benchmarks.fleet --smoke    # tiny, seconds
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path

import httpx
from arq.connections import ArqRedis, RedisSettings, create_pool

from kakaocert_async import Client, SignState
from kakaocert_async.arq import ReceiptQueue, Stage
from kakaocert_async.sandbox import DEFAULT_CLIENT_CODE, DEFAULT_LINK_ID, DEFAULT_SECRET_KEY

from ._figures import Figure, exactly, machine, table
from .overhead import REQUEST
from .throughput import served_sandbox

FULL = {"receipts": 2000, "interval": 1.0, "sign_after": 5.0}
SMOKE = {"receipts": 40, "interval": 0.2, "sign_after": 1.0}
ROOT = Path(__file__).resolve().parent.parent
WORKER = [sys.executable, "-m", "arq", "benchmarks._fleet_worker.WorkerSettings"]
CODE = DEFAULT_CLIENT_CODE


@contextlib.contextmanager
def redis_server() -> Iterator[int]:
    """``redis-server`` on a free loopback port, without persistence; yields the port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    with tempfile.TemporaryDirectory() as directory:
        command = [
            "redis-server", "--port", str(port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", directory,
        ]  # fmt: skip
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 10
            while True:
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not start")
                time.sleep(0.01)
            yield port
        finally:
            process.terminate()
            process.wait(timeout=10)


@contextlib.contextmanager
def workers(count: int, settings: dict[str, object], log: Path) -> Iterator[None]:
    """``count`` arq worker processes, started (and idle) when the block begins."""
    env = {**_environ(), "FLEET_BENCH": json.dumps(settings), "PYTHONUNBUFFERED": "1"}
    with log.open("wb") as out:
        processes = [
            subprocess.Popen(WORKER, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
            for _ in range(count)
        ]
        try:
            deadline = time.monotonic() + 60
            while log.read_text(errors="replace").count("Starting worker") < count:
                if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
                    raise RuntimeError(f"the workers did not start:\n{log.read_text()[-2000:]}")
                time.sleep(0.05)
            yield
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=60)


def _environ() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if "PYTHONPATH" in env else "")
    return env


async def _request(client: Client, count: int) -> list[str]:
    ids: list[str] = []
    for start in range(0, count, 50):
        batch = min(50, count - start)
        receipts = await asyncio.gather(
            *(client.request_esign(CODE, REQUEST) for _ in range(batch))
        )
        ids += [receipt.receipt_id for receipt in receipts]
    return ids


async def _stats(url: str, *, reset: bool = False) -> dict[str, int]:
    async with httpx.AsyncClient(base_url=url) as http:
        response = await (http.delete if reset else http.get)("/_sandbox/stats")
        answer: dict[str, int] = response.json()
        return answer


@contextlib.asynccontextmanager
async def _requested(url: str, receipts: int) -> AsyncIterator[tuple[Client, list[str], float]]:
    """A client, ``receipts`` fresh receipt ids, and seconds left before the first is signed."""
    async with Client(DEFAULT_LINK_ID, DEFAULT_SECRET_KEY, base_url=url, auth_url=url) as client:
        started = time.monotonic()
        ids = await _request(client, receipts)
        async with httpx.AsyncClient(base_url=url) as http:
            settings = (await http.get("/_sandbox/settings")).json()
        left = settings["signAfter"] - (time.monotonic() - started)
        await _stats(url, reset=True)
        yield client, ids, left


async def one_process(url: str, receipts: int, interval: float) -> tuple[float, dict[str, int]]:
    """Await and verify every receipt in this process: (seconds, sandbox stats)."""
    async with _requested(url, receipts) as (client, ids, left):

        async def flow(receipt_id: str) -> None:
            status = await client.await_signed(CODE, receipt_id, interval=interval)
            assert status.state is SignState.SIGNED
            await client.verify_esign(CODE, receipt_id)

        started = time.perf_counter()
        await asyncio.gather(*(flow(receipt_id) for receipt_id in ids))
        seconds = time.perf_counter() - started
    _warn_if_late(left)
    return seconds, await _stats(url)


async def _all_final(redis: ArqRedis, queue: ReceiptQueue, ids: Sequence[str]) -> None:
    keys = [f"{queue.prefix}:{queue.kind.name}:{CODE}:{receipt_id}" for receipt_id in ids]
    final = {stage.value.encode() for stage in Stage if stage.is_final}
    while True:
        async with redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.hget(key, "stage")
            stages = await pipe.execute()
        if all(stage in final for stage in stages):
            return
        await asyncio.sleep(0.05)


async def fleet(url: str, redis_port: int, receipts: int) -> tuple[float, dict[str, int]]:
    """Enqueue every receipt; the workers await, verify and store them."""
    queue = ReceiptQueue()
    redis = await create_pool(RedisSettings(port=redis_port))
    try:
        async with _requested(url, receipts) as (_, ids, left):
            started = time.perf_counter()
            for receipt_id in ids:
                await queue.enqueue(redis, CODE, receipt_id)
            await _all_final(redis, queue, ids)
            seconds = time.perf_counter() - started
        stored = [await queue.record(redis, CODE, receipt_id) for receipt_id in ids]
        assert all(r is not None and r.stage is Stage.STORED for r in stored)
        await redis.flushall()
    finally:
        await redis.aclose(close_connection_pool=True)
    _warn_if_late(left)
    return seconds, await _stats(url)


def _warn_if_late(left: float) -> None:
    if left < 0:
        print(
            f"  (the requests took {-left:.1f} s longer than sign_after: some receipts were"
            " signed before their wait began; is the machine busy?)"
        )


async def run(*, receipts: int, interval: float, sign_after: float) -> list[Figure]:
    name = (
        f"fleet: {receipts:,} waits, signed {sign_after:g} s after each request,"
        f" interval {interval:g} s; sandbox and Redis in their own processes"
    )
    figures: list[Figure] = []

    def figures_of(label: str, seconds: float, stats: dict[str, int]) -> list[Figure]:
        print(f"  {label}: {seconds:.2f} s", flush=True)
        return [
            Figure(name, f"{label}: waits per second", receipts / seconds, "waits/s"),
            Figure(name, f"{label}: state calls per wait", stats["status"] / receipts, ""),
            exactly(name, f"{label}: verifies per wait", stats["verify"] / receipts, "", 1),
        ]

    with served_sandbox(sign_after=str(sign_after)) as url:
        seconds, stats = await one_process(url, receipts, interval)
        figures += figures_of("one process", seconds, stats)
        if shutil.which("redis-server") is None:
            print("  (redis-server is not installed: the fleet's figures are left out)")
            return figures
        with redis_server() as port, tempfile.TemporaryDirectory() as logs:
            settings = {"url": url, "redis_port": port, "interval": interval}
            for count in (1, 2):
                settings["max_jobs"] = receipts
                log = Path(logs) / f"workers-{count}.log"
                with workers(count, settings, log):
                    seconds, stats = await fleet(url, port, receipts)
                label = f"{count} arq worker{'s' if count > 1 else ''}"
                figures += figures_of(label, seconds, stats)
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fleet", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to check it runs")
    args = parser.parse_args(argv)
    sizes = SMOKE if args.smoke else FULL
    print(f"# fleet benchmark {sizes}\non {machine()}\n", flush=True)
    started = time.perf_counter()
    figures = asyncio.run(run(**sizes))  # type: ignore[arg-type]
    print()
    print(table(figures))
    print(f"\n{len(figures)} figures in {time.perf_counter() - started:.0f} s")
    return 0 if all(f.met is not False for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
