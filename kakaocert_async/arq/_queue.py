"""The queue: enqueue receipts, read their records, and the job, hooks and sweeper for arq."""

from __future__ import annotations

import asyncio
import concurrent.futures.thread  # noqa: F401 -- its exit hook registered first: see below
import contextlib
import dataclasses
import logging
import math
import threading
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
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.exceptions import WatchError

from kakaocert_async import _kinds, _telemetry, _validation, barocert
from kakaocert_async._bound import Bound
from kakaocert_async._client import Client
from kakaocert_async._errors import ValidationError
from kakaocert_async._kinds import AnyKind
from kakaocert_async._models import ReceiptBase
from kakaocert_async._secret import total_repr
from kakaocert_async.barocert import _kinds as barocert_kinds

from ._job import MAX_TRIES, SLICE_OVERRUN, ClientFactory, Store, _Job, _Process
from ._records import Record, Stage, _names, _Records, check_ids

log = logging.getLogger("kakaocert_async.arq")

_unfinished: dict[int, tuple[asyncio.AbstractEventLoop, _Process, ReceiptQueue]] = {}
"""By ``id`` of each worker process's ``_Process`` until its ``on_shutdown``: its loop, the
process, and the queue whose ``_finish_verifies`` waits for its verifies in flight."""


def _finish_verifies_at_exit() -> None:
    """Wait for the verifies in flight if arq skipped ``on_shutdown``. Its ``close()``
    calls it after Redis commands (finishing the jobs, deleting its health key) and
    leaves it out when one fails: Redis away at SIGTERM, or the very error that stopped
    the worker. The process would end with its verifies in flight, and their answers
    (the signed data) lost. The client stays open: jobs arq left running would fail
    their receipts on a closed one; they end with the process, and arq runs them again."""
    for loop, process, queue in list(_unfinished.values()):
        if not process.in_flight or loop.is_closed() or loop.is_running():  # another thread's
            continue
        log.warning(
            "arq stopped without calling on_shutdown (a Redis command before it failed);"
            " its verifies in flight (%d) are finished before the process ends",
            len(process.in_flight),
        )
        try:
            loop.run_until_complete(queue._finish_verifies(process))
        except Exception:
            log.exception("the verifies in flight could not be waited for")


# Called as Python ends, before it stops its threads, and before the hook that stops
# the executor asyncio looks host names up in (imported above: registered earlier,
# called later): at atexit's time, reconnecting to Redis by name would fail.
threading._register_atexit(_finish_verifies_at_exit)  # type: ignore[attr-defined]  # not in typeshed


def outage_tolerant(settings: RedisSettings, *, seconds: float = 30.0) -> RedisSettings:
    """``settings`` with every Redis command retried through an outage of ``seconds`` at least.

    An arq worker stops at the first Redis error it meets (a restart of Redis, a
    failover); with these settings its commands, and the jobs' own, wait for Redis
    to come back instead (with jittered backoff up to 1 s between attempts).

    Args:
        settings: arq's Redis settings to start from (``RedisSettings(...)``); left as
            they are.
        seconds: How long an outage is waited out at least, in seconds, before a
            command fails. A MULTI/EXEC transaction (most of arq's own) fails after
            about that; a single command may wait many times as long, as redis-py
            reconnects with the same retries within each of its attempts (17.6 s
            measured at ``seconds=1``).

    Returns:
        A copy of ``settings`` that retries each command on a connection error, a
            timeout or an ``OSError``, and connects with at least as many retries.

    Raises:
        ValidationError: ``seconds`` is not a finite number above 0.
    """
    _validation.check_seconds(seconds, "seconds")
    retries = int(seconds / 0.75) + 5  # the backoff averages 0.75 s once it reaches its cap
    return dataclasses.replace(
        settings,
        retry=RedisRetry(EqualJitterBackoff(cap=1.0, base=0.05), retries),
        retry_on_error=[RedisConnectionError, RedisTimeoutError, OSError],
        conn_retries=max(settings.conn_retries, retries),
    )


Hook = Callable[[dict[Any, Any]], Awaitable[Any]]
AnyReceipt = ReceiptBase[Any, Any] | barocert.Receipt | str
"""A receipt of any kind (``ESignReceipt``, ..., ``barocert.Receipt``), or a receipt id."""


class ReceiptQueue(_Job):
    """Durable, exactly-once waiting on arq: enqueue receipts, and the job that works on them.

    A queue serves one kind of receipt, or several of one generation: KakaoCert 2.x's
    (a worker's :class:`~kakaocert_async.Client` waits for them) or Barocert's (a
    :class:`~kakaocert_async.barocert.Client`). A worker that serves both runs a queue
    of each (:meth:`settings`).

    The web app needs only the queue's names (the defaults, or the same ``kind``,
    ``prefix`` and ``queue_name`` as the workers) for :meth:`enqueue` and
    :meth:`record`; a worker also needs ``client`` and ``store``, for
    :attr:`functions`, :meth:`on_startup`, :meth:`on_shutdown` or :meth:`settings`.

    Arguments:
        client: Makes the worker process's client, of the kinds' generation; called
            once per process at start-up, closed at shutdown.
        store: ``async def store(ctx, signed: Signed)``: keep the signed data, and
            return only once it is kept. Idempotent by receipt id.
        kind: The kind of receipt (:data:`ESIGN`), or kinds of one generation
            (:data:`KINDS`, :data:`BAROCERT_KINDS`, ``[IDENTITY, CMS]``, ...).
        prefix: The start of the Redis keys and job ids.
        queue_name: arq's queue (arq's default queue if ``None``).
        interval: Seconds between state reads (the client's default if ``None``).
        wait_slice: Seconds a job awaits before going back to the queue.
        verify_lease: Seconds a worker owns a receipt it verifies: at least the longest
            a verify can take with the worker's client (its timeout and retries, token
            and clock reads included), which :meth:`on_startup` checks. By default
            240 (2.x) or 300 (Barocert: its verify is a signed POST), which fit the
            default clients.
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

    Raises:
        ValidationError: An argument is of the wrong type or out of range: ``client`` or
            ``store`` not callable; ``kind`` no kind, or kinds of both generations; ``prefix``
            or ``queue_name`` blank, over 100 or 200 characters, or with control
            characters; seconds not above 0 (``interval`` under 0.01, ``record_ttl``
            under 1); ``store_attempts`` not from 1 to 10,000.
    """

    def __repr__(self) -> str:
        functions = ",".join(self._function(kind) for kind in self.kinds)
        return f"<ReceiptQueue kind={self._names!r} prefix={self.prefix!r} function={functions!r}>"

    # Names -------------------------------------------------------------------------

    def _function(self, kind: AnyKind) -> str:
        return f"{self.prefix}_await_{kind.name}"

    @property
    def function_name(self) -> str:
        """The arq function of the job of :attr:`kind`: ``kakaocert_await_esign`` by default
        (``kakaocert_await_<kind name>`` for each kind)."""
        return self._function(self.kind)

    def job_id(self, client_code: str, receipt: AnyReceipt) -> str:
        """The arq job id of a receipt: one receipt, one job.

        Args:
            client_code: The client code (이용기관코드) the receipt was requested with.
            receipt: The receipt (a ``barocert.Receipt`` with its ``kind``), or its id (on
                a queue of one kind).

        Returns:
            ``<prefix>:<kind name>:<client code>:<receipt id>``.

        Raises:
            ValidationError: ``receipt`` is not of a kind the queue serves (or is an id,
                on a queue of several kinds), or the client code or receipt id is malformed.
        """
        kind, _, receipt_id = self._which(client_code, receipt)
        return f"{self.prefix}:{kind.name}:{client_code}:{receipt_id}"  # its record's key

    def _which(self, client_code: str, receipt: AnyReceipt) -> tuple[AnyKind, str, str]:
        """The kind, client code and id of a receipt (its id alone, on a queue of one
        kind), checked."""
        if isinstance(receipt, barocert.Receipt) and receipt.kind is not None:
            kind: AnyKind | None = barocert_kinds.of(receipt.kind)
        else:
            one = isinstance(receipt, str) and len(self.kinds) == 1
            kind = self.kind if one else _kinds.of_receipt(receipt)
        if kind not in self.kinds:
            given = "a receipt id" if isinstance(receipt, str) else type(receipt).__name__
            raise ValidationError(
                "receipt", f"must be a receipt of a kind it serves ({self._names}), got {given}"
            )
        receipt_id = receipt if isinstance(receipt, str) else receipt.receipt_id
        check_ids(kind, client_code, receipt_id)
        return kind, client_code, receipt_id

    @property
    def job_timeout(self) -> float:
        """Seconds arq gives one run of the job: a slice (cut at 1.5 times its length in an
        overloaded process), a verify, a store, and Redis outages.

        A killed worker's receipts are picked up again by arq this long, plus 10 s, after
        it died (arq's in-progress key; the longest job timeout of the worker counts).
        """
        slice_at_most = SLICE_OVERRUN * self.wait_slice
        return slice_at_most + self.verify_lease + self.store_timeout + self.redis_patience

    # The web app's side ------------------------------------------------------------

    async def enqueue(self, redis: ArqRedis, client_code: str, receipt: AnyReceipt) -> bool:
        """Start the job of a receipt, unless one exists; ``True`` if a job was started.

        ``receipt`` is what the request returned, or one rebuilt from a stored id
        (``CMSReceipt(receipt_id=...)``, ``barocert.Receipt(receipt_id=..., kind=...)``);
        a queue of one kind takes the receipt id alone too.

        Idempotent: a retried web request, a second click or a replay starts no second
        job. The record is created (waiting) first. A receipt whose record is final
        (stored, expired, outcome-unknown) starts nothing; a failed one starts again.
        While a job of the receipt is queued or running, arq refuses its id, and this
        returns ``False`` (so does a call whose own job was written just as the
        connection broke: the job exists either way). Redis outages are waited out
        as the pool's settings say (:func:`outage_tolerant`).

        Args:
            redis: arq's Redis pool (``await arq.create_pool(...)``).
            client_code: The client code (이용기관코드) the receipt was requested with.
            receipt: The receipt (a ``barocert.Receipt`` with its ``kind``), or its id (on
                a queue of one kind).

        Returns:
            ``True`` if this call started the receipt's job; ``False`` if a job of it exists
                or its record is final.

        Raises:
            ValidationError: ``receipt`` is not of a kind the queue serves (or is an id,
                on a queue of several kinds), or the client code or receipt id is
                malformed; nothing was written.
            redis.exceptions.RedisError: Redis failed (beyond what the pool's settings
                retry), or arq's enqueue broke off 20 times (a
                ``redis.exceptions.ConnectionError``). The record may exist: enqueue again.
        """
        return await self._enqueue(redis, *self._which(client_code, receipt))

    async def _enqueue(
        self, redis: ArqRedis, kind: AnyKind, client_code: str, receipt_id: str
    ) -> bool:
        records = _Records(redis, self.prefix, kind.name)
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
        job_id = records.key(client_code, receipt_id)  # one receipt, one job
        restarted = created.before is Stage.FAILED
        for attempt in range(20):
            # WatchError: a connection broke under arq's WATCH, and nothing was written.
            with contextlib.suppress(WatchError):
                job = await redis.enqueue_job(
                    self._function(kind),
                    client_code,
                    receipt_id,
                    _job_id=job_id,
                    _queue_name=self.queue_name,
                )
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

    async def record(self, redis: ArqRedis, client_code: str, receipt: AnyReceipt) -> Record | None:
        """The record of a receipt (``None`` if it was never enqueued, or has expired).

        Args:
            redis: arq's Redis pool.
            client_code: The client code (이용기관코드) the receipt was requested with.
            receipt: The receipt (a ``barocert.Receipt`` with its ``kind``), or its id (on
                a queue of one kind).

        Returns:
            The record, or ``None``.

        Raises:
            ValidationError: ``receipt`` is not of a kind the queue serves, or the client
                code or receipt id is malformed.
            ValueError: The record in Redis cannot be read (its message says which field).
            redis.exceptions.RedisError: Redis failed.
        """
        kind, _, receipt_id = self._which(client_code, receipt)
        return await _Records(redis, self.prefix, kind.name).load(client_code, receipt_id)

    async def needs_attention(self, redis: ArqRedis) -> list[Record]:
        """The records someone must look at: outcome-unknown, failed, signed data the
        store never took, and records the sweeper set aside because it could not read
        them (stage unreadable, ``error`` naming the key and what is wrong), every kind
        under this prefix, oldest change first (the unreadable ones first).

        Args:
            redis: arq's Redis pool.

        Returns:
            The records, the least recently updated first.

        Raises:
            redis.exceptions.RedisError: Redis failed.
        """
        records = _Records(redis, self.prefix, self.kind.name)  # the attention set is the prefix's
        members = await cast("Awaitable[set[bytes]]", redis.smembers(records.attention_key))
        keys = sorted(members)
        answers = await records.fetch(keys)
        gone = [key for key, answer in zip(keys, answers, strict=True) if answer == {}]
        if gone:
            await cast("Awaitable[int]", redis.srem(records.attention_key, *gone))
        found = [_Records.record_at(k, a) for k, a in zip(keys, answers, strict=True) if a != {}]
        return sorted((r for r in found if r is not None), key=lambda r: r.updated_at)

    async def dismiss(self, redis: ArqRedis, client_code: str, receipt: AnyReceipt) -> bool:
        """Take a final record off :meth:`needs_attention` (it then expires like the
        others); ``False`` if it is not final. Held signed data is never dismissed.

        Args:
            redis: arq's Redis pool.
            client_code: The client code (이용기관코드) the receipt was requested with.
            receipt: The receipt (a ``barocert.Receipt`` with its ``kind``), or its id (on
                a queue of one kind).

        Returns:
            ``True`` if the record was taken off the list; ``False`` if there is no record,
                it is not final, or it moved on meanwhile.

        Raises:
            ValidationError: ``receipt`` is not of a kind the queue serves, or the client
                code or receipt id is malformed.
            ValueError: The record in Redis cannot be read.
            redis.exceptions.RedisError: Redis failed.
        """
        kind, _, receipt_id = self._which(client_code, receipt)
        records = _Records(redis, self.prefix, kind.name)
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

        Args:
            redis: arq's Redis pool.
            older_than: Seconds a record must have gone unchanged to be enqueued again.

        Returns:
            The ids of the receipts it enqueued again.

        Raises:
            redis.exceptions.RedisError: Redis failed (as :meth:`enqueue`).
        """
        stale = (time.time() - older_than) * 1000
        swept = []
        for kind in self.kinds:
            records = _Records(redis, self.prefix, kind.name)
            for key in await redis.zrangebyscore(records.open_key, "-inf", stale):
                _, client_code, receipt_id = _names(key)
                if await redis.exists(job_key_prefix.encode() + key):  # its job id is its key
                    continue  # queued, deferred or running
                if await cast("Awaitable[int]", redis.sismember(records.attention_key, key)):
                    continue  # someone must look at it first
                (answer,) = await records.fetch([key])
                record = _Records.record_at(key, answer)
                if record is not None and record.stage is Stage.UNREADABLE:
                    await records.set_aside(key)
                    log.warning("%s; set aside (see needs_attention)", record.error)
                    continue
                if await self._enqueue(redis, kind, client_code, receipt_id):
                    log.warning(
                        "receipt %s had no job (arq dropped it): enqueued again", receipt_id
                    )
                    swept.append(receipt_id)
        return swept

    # The worker's side -------------------------------------------------------------

    def worker_client(self, ctx: dict[Any, Any]) -> Client | barocert.Client:
        """The worker process's client (after :meth:`on_startup`), for your own jobs too.

        Args:
            ctx: arq's job context (``ctx``, the first argument of every job).

        Returns:
            The client :meth:`on_startup` made: a :class:`~kakaocert_async.Client`, or a
                :class:`~kakaocert_async.barocert.Client` for Barocert's kinds.

        Raises:
            KeyError: :meth:`on_startup` has not run in this process (or
                :meth:`on_shutdown` has).
        """
        process: _Process = ctx[self._ctx_key]
        return process.client

    @property
    def functions(self) -> list[arq.worker.Function]:
        """The job of each kind, for ``WorkerSettings.functions``."""
        self._worker_parts()
        return [
            arq.worker.func(
                self._job(kind),
                name=self._function(kind),
                timeout=self.job_timeout,
                max_tries=MAX_TRIES,
                keep_result=0,  # the record is the result
                keep_result_forever=False,  # whatever the worker's default
            )
            for kind in self.kinds
        ]

    @property
    def cron_jobs(self) -> list[CronJob]:
        """The sweeper (:meth:`sweep`, every 30 s, on one worker), for ``cron_jobs``."""
        self._worker_parts()
        return [
            arq.cron(
                self._sweep_job,
                name=f"{self.prefix}_sweep_{self._names}",
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
        """arq's ``on_startup``: make this process's client, refuse a ``verify_lease``
        shorter than its verify can take, and show the SDK's warnings and errors on
        stderr unless logging was set up to show them. The client's ``on_unclaimed``
        now stores the answer of a verify that came after the verify timed out (through
        httpx's own pool), and hands every other answer to the hook it had.

        Args:
            ctx: arq's worker context; the client is kept in it.

        Raises:
            ValidationError: The queue has no ``client`` or ``store``; ``client`` made no
                unbound client of the kinds' generation; or ``verify_lease`` is shorter
                than a verify can take with that client (which is then closed).
        """
        # The SDK's warnings and errors on stderr, beside arq's lines, wherever no other
        # handler shows them: arq's command line configures only the ``arq`` logger, and
        # ``kakaocert_async``'s has only a ``NullHandler``. The SDK's one handler (which
        # ``KAKAOCERT_LOG`` turns on too): logging the application configured is never doubled.
        _telemetry.show_logs(logging.WARNING)
        make_client, store = self._worker_parts()
        client = make_client()
        expected = barocert.Client if self.kind.generation == "barocert" else Client
        if not isinstance(client, expected) or isinstance(client, Bound):
            raise ValidationError(
                "client",
                f"must return a {expected.__module__.partition('._')[0]}.Client not bound to"
                f" a client code (for {self._names} receipts), got {type(client).__name__}",
            )
        try:
            self._check_verify_lease(client)
        except ValidationError:
            await client.aclose()
            raise
        ctx[self._ctx_key] = process = _Process(client, store)
        _unfinished[id(process)] = (asyncio.get_running_loop(), process, self)

    def _check_verify_lease(self, client: Client | barocert.Client) -> None:
        """Refuse a lease that could run out while the verify is still being sent: another
        worker would then find ``verify_dt`` unset and verify the receipt again."""
        least = math.ceil(client._longest_verify() * 10 - 1e-6) / 10  # to a tenth, up
        if self.verify_lease < least:
            timeout = client._sender.timeout
            raise ValidationError(
                "verify_lease",
                f"{self.verify_lease:g} s is shorter than a verify can take with this client"
                f" ({least:g} s at timeout={timeout:g} s, with its retries and token and clock"
                " reads), so another worker could verify the receipt again: make"
                f" verify_lease at least {least:g} s, or the client's timeout shorter",
            )

    async def on_shutdown(self, ctx: dict[Any, Any]) -> None:
        """arq's ``on_shutdown``: let verifies in flight finish writing, then close the Client.

        Verifies in flight are waited for ``verify_lease`` plus ``store_timeout`` seconds
        at most. Nothing is done if :meth:`on_startup` did not run. If arq leaves it
        out (its shutdown stops at a failed Redis command before calling it), the
        verifies in flight are waited for as Python ends, before it stops its threads.

        Args:
            ctx: arq's worker context, as :meth:`on_startup` left it.
        """
        await self._finish_verifies(ctx.get(self._ctx_key))
        await self._close(ctx)

    async def _finish_verifies(self, process: _Process | None) -> None:
        deadline = time.monotonic() + self.verify_lease + self.store_timeout
        # Again while any is left: jobs arq left running may have started one meanwhile.
        while process is not None and process.in_flight:
            if (left := deadline - time.monotonic()) <= 0:
                return
            await asyncio.wait(set(process.in_flight), timeout=left)

    async def _close(self, ctx: dict[Any, Any]) -> None:
        process: _Process | None = ctx.pop(self._ctx_key, None)
        if process is not None:
            del _unfinished[id(process)]
            await process.client.aclose()

    def settings(self, **worker: Any) -> dict[str, Any]:
        """arq worker settings with the job registered: ``WorkerSettings = queue.settings(...)``.

        ``worker`` holds any other of arq's settings (``redis_settings``, ...). Your
        own ``functions`` and ``cron_jobs`` are kept beside the job and the sweeper,
        your ``on_startup`` runs after the queue's (the Client exists) and your
        ``on_shutdown`` once the verifies in flight are stored, before the Client
        is closed.
        ``max_jobs`` (receipts awaited at once per process) defaults to 1,000.

        Args:
            **worker: arq's other worker settings (``redis_settings``, ``functions``,
                ``cron_jobs``, ``on_startup``, ``on_shutdown``, ``max_jobs``, ...).

        Returns:
            arq's worker settings, for ``WorkerSettings`` (arq takes a dict as it takes a
                class): yours, with the queue's jobs and hooks merged in, and ``queue_name``
                the queue's unless given.

        Raises:
            ValidationError: The queue has no ``client`` or ``store``.
        """
        worker["functions"] = [*worker.get("functions", ()), *self.functions]
        worker["cron_jobs"] = [*(worker.get("cron_jobs") or ()), *self.cron_jobs]
        their_startup: Hook | None = worker.get("on_startup")
        their_shutdown: Hook | None = worker.get("on_shutdown")

        async def on_startup(ctx: dict[Any, Any]) -> None:
            await self.on_startup(ctx)
            if their_startup is not None:
                await their_startup(ctx)

        async def on_shutdown(ctx: dict[Any, Any]) -> None:
            # First: their store may need what yours closes.
            await self._finish_verifies(ctx.get(self._ctx_key))
            try:
                if their_shutdown is not None:
                    await their_shutdown(ctx)
            finally:
                await self._close(ctx)

        worker.setdefault("max_jobs", 1000)
        if self.queue_name is not None:
            worker.setdefault("queue_name", self.queue_name)
        return worker | {"on_startup": on_startup, "on_shutdown": on_shutdown}

    def _worker_parts(self) -> tuple[ClientFactory, Store]:
        if self._make_client is None or self._store is None:
            raise ValidationError(
                "client" if self._make_client is None else "store",
                "a worker needs ReceiptQueue(client=..., store=...)",
            )
        return self._make_client, self._store


total_repr(ReceiptQueue)  # a half-built one's repr does not raise
