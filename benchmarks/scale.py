"""Waiting at scale: 10,000 concurrent request → await_signed → verify flows on one event loop.

Against the in-process sandbox. Each flow requests a signature; the receiver
"signs" it at a random moment within ``spread`` seconds (one timer per receipt on
the loop, no extra tasks); the flow awaits it polling every ``interval`` and
verifies. Checked: every flow completes, the client made exactly one token
request, and no flow polled more than ceil(signing time / interval) + 1 times.
Separately, tracemalloc measures the memory held per idle waiter (at most 4 KiB).
"""

from __future__ import annotations

import asyncio
import gc
import math
import random
import time
import tracemalloc

from kakaocert_async import Client, SignState
from kakaocert_async.sandbox import Sandbox

from ._figures import Figure, at_most, exactly
from .overhead import REQUEST


async def _flow(
    client: Client, sandbox: Sandbox, *, spread: float, interval: float
) -> tuple[int, int]:
    """One flow: (polls made, the most it may make for its signing time)."""
    code = sandbox.client_code
    receipt = await client.request_esign(code, REQUEST)
    waiting_since = time.monotonic()
    signed_at = math.inf

    def sign() -> None:
        nonlocal signed_at
        signed_at = time.monotonic()
        sandbox.service.sign(receipt.receipt_id)

    asyncio.get_running_loop().call_later(random.uniform(0.0, spread), sign)
    polls = 0
    last = None
    async for last in client.watch_esign_state(code, receipt.receipt_id, interval=interval):  # noqa: B007
        polls += 1
    assert last is not None
    assert last.state is SignState.SIGNED, last.state
    await client.verify_esign(code, receipt.receipt_id)
    return polls, math.ceil((signed_at - waiting_since) / interval) + 1


async def _idle_bytes_per_waiter(waiters: int, interval: float) -> float:
    """Memory held per waiter while it sleeps between polls (tracemalloc)."""
    async with Sandbox(sign_after=None) as sandbox, sandbox.client() as client:
        code = sandbox.client_code
        receipts = [(await client.request_esign(code, REQUEST)).receipt_id for _ in range(waiters)]
        # Token and clock in place, and the in-process sandbox's own per-receipt
        # state built (its cached answers are the service's memory, not the waiters').
        for receipt_id in receipts:
            await client.get_esign_state(code, receipt_id)
        first_polls = 0
        all_polled = asyncio.Event()

        async def wait(receipt_id: str) -> None:
            nonlocal first_polls
            async for _ in client.watch_esign_state(code, receipt_id, interval=interval * 100):
                first_polls += 1
                if first_polls == waiters:
                    all_polled.set()

        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        tasks = [asyncio.create_task(wait(receipt_id)) for receipt_id in receipts]
        await all_polled.wait()
        await asyncio.sleep(0.05)  # every waiter is asleep until its next poll
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return held / waiters


async def run(*, flows: int, spread: float, interval: float, idle_waiters: int) -> list[Figure]:
    name = f"{flows:,} concurrent waiters (request, await_signed, verify; in-process sandbox)"
    per_waiter = await _idle_bytes_per_waiter(idle_waiters, interval)

    async with Sandbox(sign_after=None) as sandbox, sandbox.client() as client:
        started = time.perf_counter()
        results = await asyncio.gather(
            *(_flow(client, sandbox, spread=spread, interval=interval) for _ in range(flows))
        )
        wall = time.perf_counter() - started
        stats = sandbox.stats
    over_bound = sum(polls > bound for polls, bound in results)
    return [
        exactly(name, "flows completed (request, await, verify)", len(results), "", flows),
        exactly(name, "token requests", stats["token"], "", 1),
        exactly(name, "flows over ceil(wait / interval) + 1 polls", over_bound, "", 0),
        Figure(name, "state calls per flow (mean)", stats["status"] / flows, "calls"),
        Figure(name, f"signatures spread over {spread:g} s; interval", interval, "s"),
        Figure(name, "total wall time", wall, "s"),
        at_most(
            name,
            f"memory per idle waiter (tracemalloc, {idle_waiters:,} waiters)",
            per_waiter / 1024,
            "KiB",
            4,
        ),
    ]
