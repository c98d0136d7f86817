"""Fleet test support: a sandbox-backed queue, a burst worker in this process, the store."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import arq
from arq.connections import RedisSettings

from kakaocert_async import Client
from kakaocert_async.arq import ReceiptQueue, Signed
from kakaocert_async.sandbox import Sandbox
from tests._served import expected_signed_data
from tests._support import make_request

TOKEN = "전자서명 원문"  # make_request()'s


class MemoryStore:
    """The user's store: keeps the signed data by receipt id (an upsert), counts calls,
    and fails its first ``failures`` calls."""

    def __init__(self, failures: int = 0) -> None:
        self.data: dict[str, str] = {}
        self.calls: list[str] = []
        self.failures = failures

    async def __call__(self, ctx: dict[Any, Any], signed: Signed) -> None:
        assert isinstance(ctx["redis"], arq.ArqRedis)
        self.calls.append(signed.receipt_id)
        if self.failures:
            self.failures -= 1
            raise OSError("the database is down")
        self.data[signed.receipt_id] = signed.signed_data


def queue_for(sandbox: Sandbox, store: MemoryStore, **options: Any) -> ReceiptQueue:
    """A queue whose workers' Client is wired to ``sandbox`` in-process; fast timings."""
    timings: dict[str, Any] = {
        "interval": 0.02,
        "wait_slice": 2.0,
        "verify_lease": 0.3,
        "store_timeout": 2.0,
        "store_backoff": 0.02,
        "redis_patience": 2.0,
    }
    timings.update(options)
    return ReceiptQueue(client=sandbox.client, store=store, **timings)


async def run_burst(
    queue: ReceiptQueue, redis_settings: RedisSettings, *, timeout: float = 20.0, **settings: Any
) -> arq.Worker:
    """An arq worker in this process, until the queue is empty (deferred jobs included)."""
    options: dict[str, Any] = {
        "redis_settings": redis_settings,
        "burst": True,
        "poll_delay": 0.01,
        "handle_signals": False,
    }
    options.update(settings)
    worker = arq.Worker(**queue.settings(**options))
    try:
        await asyncio.wait_for(worker.main(), timeout)
    finally:
        await worker.close()
    return worker


async def request(client: Client, sandbox: Sandbox, count: int = 1, **changes: Any) -> list[str]:
    return [
        (await client.request_esign(sandbox.client_code, make_request(**changes))).receipt_id
        for _ in range(count)
    ]


def signed_data_of(sandbox: Sandbox) -> Callable[[str], str]:
    return lambda receipt_id: expected_signed_data(sandbox, receipt_id, TOKEN)
