"""Fleet test support: a sandbox-backed queue, a burst worker in this process, the store."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

import arq
from arq.connections import ArqRedis, RedisSettings

from kakaocert_async import Client, _wire, barocert
from kakaocert_async.arq import (
    BAROCERT_KINDS,
    ESIGN,
    KINDS,
    ReceiptKind,
    ReceiptQueue,
    Record,
    Signed,
)
from kakaocert_async.sandbox import Sandbox
from tests._served import expected_signed_data
from tests._support import make_cms_request, make_request, make_verify_auth_request
from tests.barocert._requests import make_request as make_barocert_request

TOKEN = "전자서명 원문"  # make_request()'s
ALL_KINDS: tuple[ReceiptKind[Any, Any, Any, Any], ...] = (*KINDS, *BAROCERT_KINDS)
_REQUESTS: dict[str, Callable[..., Any]] = {
    "esign": make_request,
    "identity": make_verify_auth_request,
    "cms": make_cms_request,
}


def is_barocert(kind: Any) -> bool:
    """Whether a kind (or the first of several) is Barocert's."""
    first = kind if isinstance(kind, ReceiptKind) else next(iter(kind))
    return bool(first.generation == "barocert")


def request_of(kind: ReceiptKind[Any, Any, Any, Any], *, expires_in: int | None = None) -> Any:
    """A valid request of ``kind`` (expiring in ``expires_in`` seconds, if given)."""
    if is_barocert(kind):
        changes = {} if expires_in is None else {"expire_in": expires_in}
        return make_barocert_request(barocert.Kind(kind.segment), **changes)
    return _REQUESTS[kind.name](**({} if expires_in is None else {"expires_in": expires_in}))


def verify_endpoint(kind: ReceiptKind[Any, Any, Any, Any]) -> str:
    """The sandbox's counter of the kind's verifies (every arrival, refused ones too)."""
    return "verify" if kind is ESIGN else f"{kind.name}.verify"


def expected_verification(
    sandbox: Sandbox, kind: ReceiptKind[Any, Any, Any, Any], receipt_id: str
) -> Any:
    """The verify answer the sandbox gives (gave) for a receipt: derived, not stored."""
    if is_barocert(kind):
        answer = sandbox.barocert._receipts[receipt_id].verified(sandbox.settings.key)
        return _wire.structure(answer, kind.verification)
    token = getattr(sandbox.service._receipts[receipt_id].request, "token", None) or ""
    data = expected_signed_data(sandbox, receipt_id, token)
    return kind.verification(receipt_id=receipt_id, signed_data=data)


class MemoryStore:
    """The user's store: keeps the signed data by receipt id (an upsert), counts calls,
    and fails its first ``failures`` calls."""

    def __init__(self, failures: int = 0) -> None:
        self.data: dict[str, str] = {}
        self.calls: list[str] = []
        self.stored: list[Signed] = []
        """What each call that returned was given."""
        self.failures = failures

    async def __call__(self, ctx: dict[Any, Any], signed: Signed) -> None:
        assert isinstance(ctx["redis"], arq.ArqRedis)
        self.calls.append(signed.receipt_id)
        if self.failures:
            self.failures -= 1
            raise OSError("the database is down")
        self.data[signed.receipt_id] = signed.signed_data
        self.stored.append(signed)


def queue_for(
    sandbox: Sandbox,
    store: MemoryStore,
    *,
    timeout: float = 0.1,
    client: Callable[[], Any] | None = None,
    **options: Any,
) -> ReceiptQueue:
    """A queue whose workers' client (``timeout``) is wired to ``sandbox`` in-process (or
    made by ``client``): a ``Client``, or a ``barocert.Client`` for Barocert's kinds; fast
    timings, the verify lease just over the longest a verify can take (retries don't wait
    under ``set_testing``: 21 exchanges of ``timeout``, 28 for Barocert's signed POST)."""
    baro = is_barocert(options.get("kind", ESIGN))
    timings: dict[str, Any] = {
        "interval": 0.02,
        "wait_slice": 2.0,
        "verify_lease": (28 if baro else 21) * timeout + 0.1,
        "store_timeout": 2.0,
        "store_backoff": 0.02,
        "redis_patience": 2.0,
    }
    timings.update(options)
    make = sandbox.barocert_client if baro else sandbox.client
    client = client or functools.partial(make, timeout=timeout)
    return ReceiptQueue(client=client, store=store, **timings)


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
    # Without the sweeper's cron job: a burst worker would wait for its next run.
    worker = arq.Worker(**{**queue.settings(**options), "cron_jobs": []})
    try:
        await asyncio.wait_for(worker.main(), timeout)
    finally:
        await worker.close()
    return worker


async def stop_polling(worker: arq.Worker, running: asyncio.Task[None]) -> None:
    """End ``running`` (``worker.async_run()``) between two polls, before ``worker.close()``:
    cancelled in a WATCH pipeline's reset (where arq's poll may be), redis-py leaks the
    pipeline's connection, and the test fails on its ResourceWarning."""
    worker.allow_pick_jobs = False
    await asyncio.sleep(0.05)  # the poll under way (0.01 s apart) ends; the next start none
    running.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await running
    assert running.cancelled()


async def request(client: Client, sandbox: Sandbox, count: int = 1, **changes: Any) -> list[str]:
    return [
        (await client.request_esign(sandbox.client_code, make_request(**changes))).receipt_id
        for _ in range(count)
    ]


def signed_data_of(sandbox: Sandbox) -> Callable[[str], str]:
    return lambda receipt_id: expected_signed_data(sandbox, receipt_id, TOKEN)


class Scene:
    """One test's world: a sandbox with a client on it, the user's store, and a queue
    whose workers (in this process, :meth:`work`) reach both, on the test's Redis."""

    def __init__(
        self,
        redis: ArqRedis,
        redis_settings: RedisSettings,
        sandbox: Sandbox,
        store: MemoryStore | None = None,
        **options: Any,
    ) -> None:
        self.redis = redis
        self.redis_settings = redis_settings
        self.sandbox = sandbox
        self.store = store or MemoryStore()
        self.queue = queue_for(sandbox, self.store, **options)
        self.code = sandbox.client_code
        self.client = sandbox.client()
        self.barocert = sandbox.barocert_client()

    async def __aenter__(self) -> Scene:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.client.aclose()
        await self.barocert.aclose()
        await self.sandbox.aclose()

    async def request(
        self, kind: ReceiptKind[Any, Any, Any, Any], *, expires_in: int | None = None
    ) -> Any:
        """A new receipt of ``kind`` (not enqueued): what the request returned."""
        request = request_of(kind, expires_in=expires_in)
        if is_barocert(kind):
            return await self.barocert.request(self.code, request)
        return await self.client.request(self.code, request)

    async def worked(self, kind: ReceiptKind[Any, Any, Any, Any]) -> Any:
        """A new receipt of ``kind``, enqueued, once a worker has done all it could."""
        receipt = await self.request(kind)
        assert await self.queue.enqueue(self.redis, self.code, receipt)
        await self.work()
        return receipt

    def control(self, kind: ReceiptKind[Any, Any, Any, Any]) -> Any:
        """What the receiver does (``sign``, ``expire``; Barocert's ``refuse`` too), now."""
        return self.sandbox.barocert if is_barocert(kind) else self.sandbox.service

    def state(self, kind: ReceiptKind[Any, Any, Any, Any], receipt_id: str) -> Any:
        """The receipt's state as the service holds it (no token, not counted)."""
        if is_barocert(kind):
            return self.sandbox.barocert.state(receipt_id)
        return self.sandbox.state(receipt_id)

    async def verify(self, kind: ReceiptKind[Any, Any, Any, Any], receipt: Any) -> Any:
        """A verify of the receipt by the scene's own client (not a worker's)."""
        if is_barocert(kind):
            return await self.barocert.verify(self.code, receipt)
        return await self.client.verify(self.code, receipt)

    def verifies(self, kind: ReceiptKind[Any, Any, Any, Any]) -> int:
        """Verifies of ``kind`` that reached the sandbox, refused ones too."""
        return self.sandbox.stats[verify_endpoint(kind)]

    async def receipt(self, *, sign: bool = False, enqueue: bool = True) -> str:
        """A new receipt: signed now if ``sign``; enqueued (its first enqueue) if ``enqueue``."""
        (receipt_id,) = await request(self.client, self.sandbox)
        if sign:
            await self.sandbox.sign(receipt_id)
        if enqueue:
            assert await self.queue.enqueue(self.redis, self.code, receipt_id)
        return receipt_id

    async def work(self, queue: ReceiptQueue | None = None) -> arq.Worker:
        """Run a worker of ``queue`` (this scene's) until nothing is left to do."""
        return await run_burst(queue or self.queue, self.redis_settings)

    async def record(self, receipt_id: str) -> Record:
        record = await self.queue.record(self.redis, self.code, receipt_id)
        assert record is not None
        return record

    def signed_data(self, receipt_id: str) -> str:
        return expected_signed_data(self.sandbox, receipt_id, TOKEN)

    def verify_dt(self, receipt_id: str) -> dt.datetime | None:
        """The receipt's ``verify_dt`` as the service tells it: to the second."""
        when = self.sandbox.state(receipt_id).verify_dt
        return None if when is None else when.replace(microsecond=0)
