"""The queue: enqueue receipts, read their records, and the job, hooks and sweeper for arq."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any, cast

import arq
from arq.connections import ArqRedis, RedisSettings
from arq.constants import job_key_prefix, result_key_prefix
from arq.cron import CronJob
from redis.asyncio.retry import Retry as RedisRetry
from redis.backoff import EqualJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, WatchError
from redis.exceptions import TimeoutError as RedisTimeoutError

from kakaocert_async import _validation
from kakaocert_async._client import Client
from kakaocert_async._errors import ValidationError
from kakaocert_async._secret import total_repr

from ._job import SLICE_OVERRUN, Signed, _Process, _Work
from ._kinds import ESIGN, ReceiptKind
from ._records import Record, Stage, _names, _Records

log = logging.getLogger("kakaocert_async.arq")

PREFIX = "kakaocert"
"""The start of every Redis key and job id this module makes."""
MAX_TRIES = 10_000
"""arq's limit on a job's runs: every slice and retry is a run; the record sets the real limits."""


def outage_tolerant(settings: RedisSettings, *, seconds: float = 30.0) -> RedisSettings:
    """``settings`` with every Redis command retried through an outage of about ``seconds``.

    An arq worker stops at the first Redis error it meets (a restart of Redis, a
    failover); with these settings its commands, and the jobs' own, wait for Redis
    to come back instead (with jittered backoff up to 1 s between attempts).
    """
    _validation.check_seconds(seconds, "seconds")
    retries = int(seconds / 0.75) + 5  # the backoff averages 0.75 s once it reaches its cap
    return dataclasses.replace(
        settings,
        retry=RedisRetry(EqualJitterBackoff(cap=1.0, base=0.05), retries),
        retry_on_error=[RedisConnectionError, RedisTimeoutError, OSError],
        conn_retries=max(settings.conn_retries, retries),
    )


SDK_HANDLER = "kakaocert_async.arq: the SDK's warnings and errors"
"""The name of the handler :func:`show_sdk_logs` adds."""


def show_sdk_logs() -> None:
    """Show the SDK's warnings and errors on stderr, beside arq's lines, wherever no
    other handler shows them: arq's command line configures only the ``arq`` logger,
    and ``kakaocert_async``'s has only a ``NullHandler``.

    Adds (once per process) a WARNING handler to ``kakaocert_async`` that passes a
    record on only while no other handler (but a ``NullHandler``) meets it on its way
    up: logging the application configured, before or after, is never doubled.
    """
    sdk = logging.getLogger("kakaocert_async")
    if any(handler.name == SDK_HANDLER for handler in sdk.handlers):
        return
    handler = logging.StreamHandler()
    handler.set_name(SDK_HANDLER)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(
        logging.Formatter("%(asctime)s: %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
    )
    handler.addFilter(_shown_nowhere_else)
    sdk.addHandler(handler)


def _shown_nowhere_else(record: logging.LogRecord) -> bool:
    logger: logging.Logger | None = logging.getLogger(record.name)
    while logger is not None:
        for handler in logger.handlers:
            if handler.name != SDK_HANDLER and not isinstance(handler, logging.NullHandler):
                return False
        logger = logger.parent if logger.propagate else None
    return True


ClientFactory = Callable[[], Client]
"""Makes the worker process's Client, at start-up."""
Store = Callable[[dict[Any, Any], Signed], Awaitable[None]]
"""``await store(ctx, signed)``: keep the signed data (arq's ``ctx``: your own resources too)."""
Hook = Callable[[dict[Any, Any]], Awaitable[Any]]


class ReceiptQueue:
    """Durable, exactly-once waiting on arq: enqueue receipts, and the job that works on them.

    The web app needs only the queue's names (the defaults, or the same ``kind``,
    ``prefix`` and ``queue_name`` as the workers) for :meth:`enqueue` and
    :meth:`record`; a worker also needs ``client`` and ``store``, for
    :attr:`functions`, :meth:`on_startup`, :meth:`on_shutdown` or :meth:`settings`.

    Arguments:
        client: Makes the worker process's :class:`~kakaocert_async.Client`; called
            once per process at start-up, closed at shutdown.
        store: ``async def store(ctx, signed: Signed)``: keep the signed data, and
            return only once it is kept. Idempotent by receipt id.
        kind: The kind of receipt (:data:`ESIGN`).
        prefix: The start of the Redis keys and job ids.
        queue_name: arq's queue (arq's default queue if ``None``).
        interval: Seconds between state reads (the client's default if ``None``).
        wait_slice: Seconds a job awaits before going back to the queue.
        verify_lease: Seconds a worker owns a receipt it verifies: at least the longest
            a verify can take with the worker's client (its timeout and retries, token
            and clock reads included), which :meth:`on_startup` checks.
        store_timeout: Seconds the store callback may take before it counts as failed.
        store_attempts: Calls of the store callback before the job gives up (the
            signed data stays in the record).
        store_backoff: Seconds before the second call of a failed store, doubling
            for each one after (at most 60 s).
        record_ttl: Seconds a stored or expired record is kept (``None``: for ever).
            Outcome-unknown and failed records, and held signed data, are kept
            until :meth:`dismiss`.
        redis_patience: Seconds to keep trying Redis after a verify, whose outcome
            must be written down.
    """

    def __init__(
        self,
        *,
        client: ClientFactory | None = None,
        store: Store | None = None,
        kind: ReceiptKind = ESIGN,
        prefix: str = PREFIX,
        queue_name: str | None = None,
        interval: float | None = None,
        wait_slice: float = 60.0,
        verify_lease: float = 240.0,
        store_timeout: float = 30.0,
        store_attempts: int = 5,
        store_backoff: float = 1.0,
        record_ttl: float | None = 30 * 86400.0,
        redis_patience: float = 30.0,
    ) -> None:
        if client is not None and not callable(client):
            raise ValidationError("client", "must be a callable that returns a Client")
        if store is not None and not callable(store):
            raise ValidationError("store", "must be an async callable: store(ctx, signed)")
        if not isinstance(kind, ReceiptKind):
            raise ValidationError("kind", "must be a ReceiptKind, such as ESIGN")
        _validation.check_text("prefix", prefix, max_length=100)
        if queue_name is not None:
            _validation.check_text("queue_name", queue_name, max_length=200)
        if interval is not None:
            _validation.check_seconds(interval, "interval", at_least=0.01)
        for name, seconds in (
            ("wait_slice", wait_slice),
            ("verify_lease", verify_lease),
            ("store_timeout", store_timeout),
            ("store_backoff", store_backoff),
            ("redis_patience", redis_patience),
        ):
            _validation.check_seconds(seconds, name)
        if record_ttl is not None:
            _validation.check_seconds(record_ttl, "record_ttl", at_least=1.0)
        if isinstance(store_attempts, bool) or not isinstance(store_attempts, int):
            raise ValidationError("store_attempts", "must be an int")
        if store_attempts < 1:
            raise ValidationError("store_attempts", "must be at least 1")
        self.kind = kind
        self.prefix = prefix
        self.queue_name = queue_name
        self.interval = interval
        self.wait_slice = float(wait_slice)
        self.verify_lease = float(verify_lease)
        self.store_timeout = float(store_timeout)
        self.store_attempts = store_attempts
        self.store_backoff = float(store_backoff)
        self.record_ttl = None if record_ttl is None else int(record_ttl)
        self.redis_patience = float(redis_patience)
        self._make_client = client
        self._store = store
        self._ctx_key = f"{prefix}.{kind.name}.process"

    def __repr__(self) -> str:
        return (
            f"<ReceiptQueue kind={self.kind.name!r} prefix={self.prefix!r}"
            f" function={self.function_name!r}>"
        )

    # Names -------------------------------------------------------------------------

    @property
    def function_name(self) -> str:
        """The arq function of the job: ``kakaocert_await_esign`` by default."""
        return f"{self.prefix}_await_{self.kind.name}"

    def job_id(self, client_code: str, receipt_id: str) -> str:
        """The arq job id of a receipt: one receipt, one job."""
        return f"{self.prefix}:{self.kind.name}:{client_code}:{receipt_id}"

    @property
    def job_timeout(self) -> float:
        """Seconds arq gives one run of the job: a slice (cut at 1.5 times its length in an
        overloaded process), a verify, a store, and Redis outages.

        A killed worker's receipts are picked up again by arq this long, plus 10 s, after
        it died (arq's in-progress key; the longest job timeout of the worker counts).
        """
        slice_at_most = SLICE_OVERRUN * self.wait_slice
        return slice_at_most + self.verify_lease + self.store_timeout + self.redis_patience

    def _records(self, redis: ArqRedis) -> _Records:
        return _Records(redis, self.prefix, self.kind.name)

    # The web app's side ------------------------------------------------------------

    async def enqueue(self, redis: ArqRedis, client_code: str, receipt_id: str) -> bool:
        """Start the job of a receipt, unless one exists; ``True`` if a job was started.

        Idempotent: a retried web request, a second click or a replay starts no second
        job. The record is created (waiting) first. A receipt whose record is final
        (stored, expired, outcome-unknown) starts nothing; a failed one starts again.
        While a job of the receipt is queued or running, arq refuses its id, and this
        returns ``False`` (so does a call whose own job was written just as the
        connection broke: the job exists either way). Redis outages are waited out
        as the pool's settings say (:func:`outage_tolerant`).
        """
        _validation.check_client_code(client_code)
        _validation.check_receipt_id(receipt_id)
        records = self._records(redis)
        created = await records.create(client_code, receipt_id)
        if created.stage is not None and created.stage.is_final:
            return False
        if created.stage is Stage.VERIFIED:  # a store that gave up: give it its attempts again
            await records.step(
                client_code,
                receipt_id,
                leaving=[Stage.VERIFIED],
                to=Stage.VERIFIED,
                set={"store_failures": "0"},
            )
        job_id = self.job_id(client_code, receipt_id)
        restarted = created.before is Stage.FAILED
        for attempt in range(20):
            try:
                job = await redis.enqueue_job(
                    self.function_name,
                    client_code,
                    receipt_id,
                    _job_id=job_id,
                    _queue_name=self.queue_name,
                )
            except WatchError:  # a connection broke under arq's WATCH: nothing was written
                job = None
            if job is not None:
                return True
            # arq answers None when the id is taken, and also when a connection broke
            # under its WATCH: only the first means a job exists.
            if await redis.exists(job_key_prefix + job_id, result_key_prefix + job_id):
                if restarted and attempt < 10:  # the failed run may still be finishing
                    await asyncio.sleep(0.05 * (attempt + 1))
                    continue
                return False
            await asyncio.sleep(min(0.05 * 2**attempt, 1.0))
        raise RedisConnectionError(f"could not enqueue the job {job_id}")

    async def record(self, redis: ArqRedis, client_code: str, receipt_id: str) -> Record | None:
        """The record of a receipt (``None`` if it was never enqueued, or has expired)."""
        _validation.check_client_code(client_code)
        _validation.check_receipt_id(receipt_id)
        return await self._records(redis).load(client_code, receipt_id)

    async def needs_attention(self, redis: ArqRedis) -> list[Record]:
        """The records someone must look at: outcome-unknown, failed, signed data the
        store never took, and records the sweeper set aside because it could not read
        them (stage unreadable, ``error`` naming the key and what is wrong), every kind
        under this prefix, oldest change first (the unreadable ones first)."""
        records = self._records(redis)
        members = await cast("Awaitable[set[bytes]]", redis.smembers(records.attention_key))
        keys = sorted(members)
        answers = await records.fetch(keys)
        gone = [key for key, answer in zip(keys, answers, strict=True) if answer == {}]
        if gone:
            await cast("Awaitable[int]", redis.srem(records.attention_key, *gone))
        found = [_Records.record_at(k, a) for k, a in zip(keys, answers, strict=True) if a != {}]
        return sorted((r for r in found if r is not None), key=lambda r: r.updated_at)

    async def dismiss(self, redis: ArqRedis, client_code: str, receipt_id: str) -> bool:
        """Take a final record off :meth:`needs_attention` (it then expires like the
        others); ``False`` if it is not final. Held signed data is never dismissed."""
        _validation.check_client_code(client_code)
        _validation.check_receipt_id(receipt_id)
        records = self._records(redis)
        record = await records.load(client_code, receipt_id)
        if record is None or not record.stage.is_final:
            return False
        step = await records.step(
            client_code,
            receipt_id,
            leaving=[record.stage],
            to=record.stage,
            ttl=self.record_ttl,
            attention=False,
        )
        return step.done

    async def sweep(self, redis: ArqRedis, *, older_than: float = 10.0) -> list[str]:
        """Enqueue again every open receipt that has no job; returns their receipt ids.

        arq drops a job it ran past its timeout, past ``max_tries``, or that raised
        something unexpected; its receipt's record then stays open with no job to move
        it on. This finds those (not changed for ``older_than`` seconds, not listed by
        :meth:`needs_attention`) and enqueues them. The workers run it every 30 s
        (a cron job in :attr:`cron_jobs`); a receipt it enqueues is never verified twice.
        A record it cannot read is set aside, as it is, for :meth:`needs_attention`.
        """
        records = self._records(redis)
        stale = (time.time() - older_than) * 1000
        members = await redis.zrangebyscore(records.open_key, "-inf", stale)
        swept = []
        for key in members:
            _, client_code, receipt_id = _names(key)
            job_id = self.job_id(client_code, receipt_id)
            if await redis.exists(job_key_prefix + job_id):
                continue  # queued, deferred or running
            if await cast("Awaitable[int]", redis.sismember(records.attention_key, key)):
                continue  # someone must look at it first
            (answer,) = await records.fetch([key])
            record = _Records.record_at(key, answer)
            if record is not None and record.stage is Stage.UNREADABLE:
                await records.set_aside(key)
                log.warning("%s; set aside (see needs_attention)", record.error)
                continue
            if await self.enqueue(redis, client_code, receipt_id):
                log.warning("receipt %s had no job (arq dropped it): enqueued again", receipt_id)
                swept.append(receipt_id)
        return swept

    # The worker's side -------------------------------------------------------------

    def worker_client(self, ctx: dict[Any, Any]) -> Client:
        """The worker process's Client (after :meth:`on_startup`), for your own jobs too."""
        process: _Process = ctx[self._ctx_key]
        return process.client

    @property
    def functions(self) -> list[arq.worker.Function]:
        """The job, for ``WorkerSettings.functions``."""
        self._worker_parts()
        return [
            arq.worker.func(
                self._job,
                name=self.function_name,
                timeout=self.job_timeout,
                max_tries=MAX_TRIES,
                keep_result=0,  # the record is the result
                keep_result_forever=False,  # whatever the worker's default
            )
        ]

    @property
    def cron_jobs(self) -> list[CronJob]:
        """The sweeper (:meth:`sweep`, every 30 s, on one worker), for ``cron_jobs``."""
        self._worker_parts()
        return [
            arq.cron(
                self._sweep_job,
                name=f"{self.prefix}_sweep_{self.kind.name}",
                second={0, 30},
                # Never longer than the job's: arq's in-progress lease is the longest timeout
                # of the worker's functions (plus 10 s), and sets how soon a dead worker's
                # jobs come back.
                timeout=self.job_timeout,
                max_tries=1,
                keep_result=0,
            )
        ]

    async def _sweep_job(self, ctx: dict[Any, Any]) -> int:
        return len(await self.sweep(ctx["redis"]))

    async def on_startup(self, ctx: dict[Any, Any]) -> None:
        """arq's ``on_startup``: make this process's Client, refuse a ``verify_lease``
        shorter than its verify can take, and show the SDK's warnings and errors on
        stderr unless logging was set up to show them."""
        show_sdk_logs()
        make_client, _ = self._worker_parts()
        client = make_client()
        if not isinstance(client, Client):
            raise ValidationError("client", f"must return a Client, got {type(client).__name__}")
        try:
            self._check_verify_lease(client)
        except ValidationError:
            await client.aclose()
            raise
        ctx[self._ctx_key] = _Process(client)

    def _check_verify_lease(self, client: Client) -> None:
        """Refuse a lease that could run out while the verify is still being sent: another
        worker would then find ``verify_dt`` unset and verify the receipt again."""
        least = math.ceil(client._longest_verify() * 10 - 1e-6) / 10  # to a tenth, up
        if self.verify_lease < least:
            timeout = client._connection.sender.timeout
            raise ValidationError(
                "verify_lease",
                f"{self.verify_lease:g} s is shorter than a verify can take with this client"
                f" ({least:g} s at timeout={timeout:g} s, with its retries and token and clock"
                " reads), so another worker could verify the receipt again: make"
                f" verify_lease at least {least:g} s, or the client's timeout shorter",
            )

    async def on_shutdown(self, ctx: dict[Any, Any]) -> None:
        """arq's ``on_shutdown``: let verifies in flight finish writing, then close the Client."""
        process: _Process | None = ctx.pop(self._ctx_key, None)
        if process is None:
            return
        if process.in_flight:
            await asyncio.wait(process.in_flight, timeout=self.verify_lease + self.store_timeout)
        await process.client.aclose()

    def settings(self, **worker: Any) -> dict[str, Any]:
        """arq worker settings with the job registered: ``WorkerSettings = queue.settings(...)``.

        ``worker`` holds any other of arq's settings (``redis_settings``, ...). Your
        own ``functions`` and ``cron_jobs`` are kept beside the job and the sweeper,
        your ``on_startup`` runs after the queue's (the Client exists) and your
        ``on_shutdown`` before it.
        ``max_jobs`` (receipts awaited at once per process) defaults to 1,000.
        """
        functions = [*worker.pop("functions", ()), *self.functions]
        cron_jobs = [*(worker.pop("cron_jobs", None) or ()), *self.cron_jobs]
        their_startup: Hook | None = worker.pop("on_startup", None)
        their_shutdown: Hook | None = worker.pop("on_shutdown", None)

        async def on_startup(ctx: dict[Any, Any]) -> None:
            await self.on_startup(ctx)
            if their_startup is not None:
                await their_startup(ctx)

        async def on_shutdown(ctx: dict[Any, Any]) -> None:
            try:
                if their_shutdown is not None:
                    await their_shutdown(ctx)
            finally:
                await self.on_shutdown(ctx)

        worker.setdefault("max_jobs", 1000)
        if self.queue_name is not None:
            worker.setdefault("queue_name", self.queue_name)
        return {
            "functions": functions,
            "cron_jobs": cron_jobs,
            "on_startup": on_startup,
            "on_shutdown": on_shutdown,
            **worker,
        }

    def _worker_parts(self) -> tuple[ClientFactory, Store]:
        if self._make_client is None or self._store is None:
            raise ValidationError(
                "client" if self._make_client is None else "store",
                "a worker needs ReceiptQueue(client=..., store=...)",
            )
        return self._make_client, self._store

    # The job -----------------------------------------------------------------------

    async def _job(self, ctx: dict[Any, Any], client_code: str, receipt_id: str) -> str:
        """Move a receipt's record on until it is final; answers its stage.

        Raises ``arq.Retry`` to go back to the queue: at the end of a wait slice, while
        another worker's lease runs, and after a failure that may pass.
        """
        work = _Work(self, ctx, self._records(ctx["redis"]), client_code, receipt_id)
        try:
            record = await work.records.load(client_code, receipt_id)
            if record is None:  # enqueued by hand, or the record was lost
                await work.records.create(client_code, receipt_id)
                record = await work.load()
            for _ in range(10):  # each pass moves the record on, or ends the run
                if record.stage.is_final:
                    return record.stage.value
                if record.stage is Stage.WAITING:
                    record = await work.wait()
                elif record.stage is Stage.VERIFYING:
                    record = await work.settle_verifying()
                else:
                    record = await work.store_held(record)
            raise arq.Retry(defer=1.0)  # pragma: no cover -- a record that keeps moving
        except RedisError as exc:
            # Before a verify: nothing is lost, the job runs again once Redis is back.
            log.warning("receipt %s: Redis failed (%s); the job runs again", receipt_id, exc)
            raise arq.Retry(defer=1.0) from exc


total_repr(ReceiptQueue)  # a half-built one's repr does not raise
