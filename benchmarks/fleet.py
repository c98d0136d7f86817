"""Waiting on a fleet: waits per second and state calls per wait, one process against arq workers.

The sandbox runs in its own process, and Redis (``redis-server`` on a free port, no
persistence) in its own. Three ways of waiting are measured on the same receipts:

- **one process**: a task per receipt in this process awaits it (``await_signed``)
  and verifies it, as a single-process service would: the figure to compare with;
- **1 and 2 arq workers**: each receipt is enqueued (``ReceiptQueue.enqueue``) and
  awaited, verified and stored by ``arq`` worker processes already running.

Each way gets two batches of ``receipts``, requested beforehand (not timed):

- **signed**: every receipt already signed, so a wait is one state read and one
  verify (and, on the fleet, its job and record): **waits per second** from the
  start of the waits to the last verified;
- **pending**: every receipt left to expire ``pending`` seconds after its request,
  polled every ``interval``: **state calls per wait**, beside the ideal
  ceil(pending time / interval) + 1 for the time each was really pending: a way
  that cannot keep up polls less, and one process gives a wait up (``SignTimeout``)
  when no read succeeds by the receipt's expiry and a few seconds' grace.

Every run checks that each signed receipt was verified exactly once.

    python -m benchmarks.fleet            # the sizes of python -m benchmarks
    python -m benchmarks.fleet --smoke    # tiny, seconds
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs
import httpx
from arq.connections import ArqRedis, RedisSettings, create_pool

from kakaocert_async import Client, ESignReceipt, SignState, SignTimeout
from kakaocert_async.arq import ReceiptQueue, Stage
from kakaocert_async.sandbox import DEFAULT_CLIENT_CODE, DEFAULT_LINK_ID, DEFAULT_SECRET_KEY

from ._figures import Figure, exactly, machine, table
from ._workers import served_sandbox
from .overhead import REQUEST

FULL = {"receipts": 1000, "interval": 2.0, "pending": 10}
SMOKE = {"receipts": 40, "interval": 0.2, "pending": 2}
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


async def _stats(url: str, *, reset: bool = False) -> dict[str, int]:
    async with httpx.AsyncClient(base_url=url) as http:
        response = await (http.delete if reset else http.get)("/_sandbox/stats")
        answer: dict[str, int] = response.json()
        return answer


async def prepare(client: Client, url: str, receipts: int, *, pending: int | None) -> Batch:
    """Request ``receipts`` (50 at a time): signed at once if ``pending`` is ``None``, else
    left to expire ``pending`` seconds after their request. The counters start at 0."""
    request = attrs.evolve(REQUEST, expires_in=pending or 600)
    batch = Batch()
    async with httpx.AsyncClient(base_url=url) as http:
        for start in range(0, receipts, 50):
            size = min(50, receipts - start)
            made = await asyncio.gather(*(client.request_esign(CODE, request) for _ in range(size)))
            ids = [receipt.receipt_id for receipt in made]
            batch.ids += ids
            if pending is None:
                signed = [http.post(f"/_sandbox/receipts/{rid}/sign") for rid in ids]
                assert all(r.status_code == 200 for r in await asyncio.gather(*signed))
            else:
                batch.expire_at += [time.time() + pending] * size
    await _stats(url, reset=True)
    return batch


@attrs.define
class Batch:
    ids: list[str] = attrs.Factory(list)
    expire_at: list[float] = attrs.Factory(list)
    """When each receipt expires (epoch seconds, a little late: taken after its request)."""

    def ideal_polls(self, started: float, interval: float) -> float:
        """The mean of ceil(time pending / interval) + 1 over the receipts."""
        polls = [math.ceil(max(at - started, 0) / interval) + 1 for at in self.expire_at]
        return sum(polls) / len(polls)


Wait = Callable[[Sequence[str]], Awaitable[int]]
"""Await every receipt until it is final (verifying the signed ones); how many were given up."""


def in_this_process(client: Client, interval: float) -> Wait:
    async def flow(receipt_id: str) -> bool:
        try:
            status = await client.await_signed(
                CODE, ESignReceipt(receipt_id=receipt_id), interval=interval
            )
        except SignTimeout:  # an overloaded process: no state read in time
            return False
        if status.state is SignState.SIGNED:
            await client.verify_esign(CODE, receipt_id)
        return True

    async def wait(ids: Sequence[str]) -> int:
        done = await asyncio.gather(*(flow(receipt_id) for receipt_id in ids))
        return done.count(False)

    return wait


def on_the_fleet(redis: ArqRedis) -> Wait:
    queue = ReceiptQueue()
    prefix = f"{queue.prefix}:{queue.kind.name}:{CODE}:"
    final = {stage.value.encode() for stage in Stage if stage.is_final}

    async def wait(ids: Sequence[str]) -> int:
        for start in range(0, len(ids), 50):  # as concurrent web requests would
            batch = ids[start : start + 50]
            await asyncio.gather(*(queue.enqueue(redis, CODE, rid) for rid in batch))
        while True:
            async with redis.pipeline(transaction=False) as pipe:
                for receipt_id in ids:
                    pipe.hget(prefix + receipt_id, "stage")
                stages = await pipe.execute()
            if all(stage in final for stage in stages):
                failed = [rid for rid, st in zip(ids, stages, strict=True) if st == b"failed"]
                if failed:
                    record = await queue.record(redis, CODE, failed[0])
                    print(f"  ({len(failed)} failed, as {failed[0]}: {record and record.error})")
                return len(failed)
            await asyncio.sleep(0.05)

    return wait


async def measure(
    label: str, name: str, client: Client, url: str, wait: Wait, sizes: dict[str, Any]
) -> list[Figure]:
    receipts, interval, pending = sizes["receipts"], sizes["interval"], sizes["pending"]
    signed = await prepare(client, url, receipts, pending=None)
    started = time.perf_counter()
    gave_up = await wait(signed.ids)
    seconds = time.perf_counter() - started
    verifies = (await _stats(url))["verify"]

    waiting = await prepare(client, url, receipts, pending=pending)
    began = time.time()
    gave_up += await wait(waiting.ids)
    polls = (await _stats(url))["status"] / receipts
    ideal = waiting.ideal_polls(began, interval)
    print(f"  {label}: {seconds:.2f} s for the signed ones; {polls:.2f} polls a wait", flush=True)
    return [
        Figure(name, f"{label}: waits per second (signed: a read and a verify each)",
               receipts / seconds, "waits/s"),
        exactly(name, f"{label}: verifies per signed wait", verifies / receipts, "", 1),
        Figure(name, f"{label}: state calls per wait, pending {pending} s", polls, "",
               f"ideal {ideal:.2f}"),
        Figure(name, f"{label}: waits given up (SignTimeout, failed)", gave_up, ""),
    ]  # fmt: skip


async def run(*, receipts: int, interval: float, pending: int) -> list[Figure]:
    name = (
        f"fleet: {receipts:,} waits, interval {interval:g} s;"
        " sandbox and Redis in their own processes"
    )
    sizes = {"receipts": receipts, "interval": interval, "pending": pending}
    figures: list[Figure] = []
    with served_sandbox() as (url, _):
        async with Client(
            DEFAULT_LINK_ID, DEFAULT_SECRET_KEY, base_url=url, auth_url=url
        ) as client:
            here = in_this_process(client, interval)
            figures += await measure("one process", name, client, url, here, sizes)
            if shutil.which("redis-server") is None:
                print("  (redis-server is not installed: the fleet's figures are left out)")
                return figures
            with redis_server() as port, tempfile.TemporaryDirectory() as logs:
                redis = await create_pool(RedisSettings(port=port))
                try:
                    for count in (1, 2):
                        settings = {
                            "url": url,
                            "redis_port": port,
                            "interval": interval,
                            "max_jobs": receipts,
                        }
                        log = Path(logs) / f"workers-{count}.log"
                        label = f"{count} arq worker{'s' if count > 1 else ''}"
                        with workers(count, settings, log):
                            fleet = on_the_fleet(redis)
                            figures += await measure(label, name, client, url, fleet, sizes)
                finally:
                    await redis.aclose(close_connection_pool=True)
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
