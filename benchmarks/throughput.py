"""Throughput of state calls against the sandbox served on a real loopback port.

The sandbox runs in its own process (uvicorn), so client and server do not share
an event loop. Measured: sequential calls per second, calls per second with 100
in flight, and, when the official synchronous SDK is installed, its sequential
figure on the same server and what happens to it when 32 threads share it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx

from kakaocert_async import Client
from kakaocert_async.sandbox import DEFAULT_CLIENT_CODE, DEFAULT_LINK_ID, DEFAULT_SECRET_KEY

from . import official
from ._figures import Figure
from .overhead import REQUEST


@contextlib.contextmanager
def served_sandbox(sign_after: str = "never") -> Iterator[str]:
    """``python -m kakaocert_async sandbox`` on a free port, in a child process."""
    command = [
        sys.executable, "-m", "kakaocert_async", "sandbox",
        "--port", "0", "--sign-after", sign_after, "--log-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        if " on http://" not in first:
            raise RuntimeError(f"the sandbox did not start: {first!r}")
        yield first.split(" on ", 1)[1].split()[0]
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


async def _sequential(client: Client, receipt_id: str, calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        await client.get_esign_state(DEFAULT_CLIENT_CODE, receipt_id)
    return calls / (time.perf_counter() - started)


async def _raw_httpx(url: str, token: str, receipt_id: str, calls: int) -> float:
    """The same state call with a bare ``httpx.AsyncClient``: the floor under the SDK."""
    headers = {"Authorization": f"Bearer {token}", "x-pb-version": "2.0"}
    async with httpx.AsyncClient(base_url=url, headers=headers) as http:
        path = f"/SignToken/Status/{receipt_id}"
        json.loads((await http.get(path)).content)
        started = time.perf_counter()
        for _ in range(calls):
            json.loads((await http.get(path)).content)
        return calls / (time.perf_counter() - started)


async def _concurrent(client: Client, receipt_id: str, calls: int, concurrency: int) -> float:
    per_worker = max(calls // concurrency, 1)

    async def worker() -> None:
        for _ in range(per_worker):
            await client.get_esign_state(DEFAULT_CLIENT_CODE, receipt_id)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return per_worker * concurrency / (time.perf_counter() - started)


async def run(*, calls: int, concurrency: int) -> list[Figure]:
    name = "throughput (sandbox on loopback, own process)"
    figures = []
    with served_sandbox() as url:
        async with Client(
            DEFAULT_LINK_ID, DEFAULT_SECRET_KEY, base_url=url, auth_url=url
        ) as client:
            receipt = await client.request_esign(DEFAULT_CLIENT_CODE, REQUEST)
            await _sequential(client, receipt.receipt_id, calls // 10 + 1)  # warm up
            sequential = await _sequential(client, receipt.receipt_id, calls)
            parallel = await _concurrent(client, receipt.receipt_id, calls, concurrency)
            token = await client._session.tokens.token(DEFAULT_CLIENT_CODE)
        raw = await _raw_httpx(url, token, receipt.receipt_id, calls)
        figures += [
            Figure(name, "kakaocert_async, sequential", sequential, "calls/s"),
            Figure(name, f"kakaocert_async, {concurrency} concurrent", parallel, "calls/s"),
            Figure(name, "bare httpx.AsyncClient, sequential", raw, "calls/s"),
        ]
        if official.available():
            with official.service(url) as sdk:
                rate = await asyncio.to_thread(official.sequential, sdk, receipt.receipt_id, calls)
                failed = await asyncio.to_thread(
                    official.threaded_failures, sdk, receipt.receipt_id, 32, max(calls // 32, 4)
                )
            figures += [
                Figure(name, "official SDK, sequential", rate, "calls/s"),
                Figure(name, "official SDK, 32 threads: calls failed", failed * 100, "%"),
            ]
        else:
            print("  (the official SDK is not installed: its figures are left out)")
    return figures
