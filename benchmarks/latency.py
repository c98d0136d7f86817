"""Detection latency: from the sandbox marking a receipt signed to ``await_signed`` returning.

Receipts are awaited concurrently on the in-process sandbox; each is signed at a
random moment (a timer on the loop) and the time from that moment to its
``await_signed`` returning is recorded. The target is one interval plus 50 ms.
"""

from __future__ import annotations

import asyncio
import random
import time

from kakaocert_async import SignState
from kakaocert_async.sandbox import Sandbox

from ._figures import Figure, at_most, percentile
from .overhead import REQUEST


async def run(*, receipts: int, interval: float, spread: float) -> list[Figure]:
    latencies: list[float] = []
    async with Sandbox(sign_after=None) as sandbox, sandbox.client() as client:
        code = sandbox.client_code

        async def one() -> None:
            receipt = await client.request_esign(code, REQUEST)
            signed_at = 0.0

            def sign() -> None:
                nonlocal signed_at
                signed_at = time.perf_counter()
                sandbox.service.sign(receipt.receipt_id)

            # Sign after the first poll, at a random point of the waiting.
            asyncio.get_running_loop().call_later(interval / 2 + random.uniform(0, spread), sign)
            status = await client.await_signed(code, receipt, interval=interval)
            assert status.state is SignState.SIGNED
            latencies.append(time.perf_counter() - signed_at)

        await asyncio.gather(*(one() for _ in range(receipts)))
    name = f"detection latency ({receipts} receipts, interval {interval:g} s)"
    limit_ms = interval * 1000 + 50
    return [
        at_most(name, "p50", percentile(latencies, 0.5) * 1000, "ms", limit_ms),
        at_most(name, "p95", percentile(latencies, 0.95) * 1000, "ms", limit_ms),
    ]
