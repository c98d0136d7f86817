"""The fleet: worker processes on a real Redis, the sandbox served, counted end to end.

- 1,000 receipts, 900 signed at times spread over 5 s and 100 left to expire, awaited
  by three ``arq`` worker processes; midway the busiest one is killed with SIGKILL.
  Every signed receipt is verified exactly once (the sandbox's per-receipt count),
  its signed data stored once, every expired one recorded as expired, and a receipt
  caught between verify and store reported as outcome-unknown; none is lost, and
  enqueueing a receipt again starts nothing.
- Redis is stopped and started again on the same port while two workers wait and
  receipts are being enqueued: nothing is lost, no verify is repeated.

The timings are short (a 1 s poll, 2 s wait slices, a client timeout of 2 s and so a
44 s verify lease, a 51 s job timeout) so that a killed worker's jobs come back
within 61 s; the module takes about 80 s.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from arq.connections import ArqRedis

from kakaocert_async import Client
from kakaocert_async.arq import ReceiptQueue, Record, Stage
from kakaocert_async.sandbox import Sandbox
from tests._support import make_request
from tests.fleet._fleet import Fleet
from tests.fleet._redis import RedisServer
from tests.fleet._support import signed_data_of

pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning")

CLIENT_TIMEOUT = 2.0  # exchanges take up to 0.15 s here; at 0.5 s, some timed out in a pause
TIMINGS = {
    "interval": 1.0,
    "wait_slice": 2.0,
    "verify_lease": 44.0,  # the least accepted: 21 exchanges of 2 s, 1.9 s of backoff
    "store_timeout": 1.0,
    "redis_patience": 3.0,
}  # a job timeout of 51 s: a killed worker's jobs come back 61 s after the kill


async def request_all(client: Client, sandbox: Sandbox, expires: Sequence[int]) -> list[str]:
    """One receipt per ``expires_in``, 50 requests at a time."""
    ids: list[str] = []
    for start in range(0, len(expires), 50):
        batch = expires[start : start + 50]
        receipts = await asyncio.gather(
            *(client.request_esign(sandbox.client_code, make_request(expires_in=e)) for e in batch)
        )
        ids += [receipt.receipt_id for receipt in receipts]
    return ids


@contextlib.asynccontextmanager
async def running(
    workers: int, expires: Sequence[int], redis_process: RedisServer, directory: Path
) -> AsyncIterator[tuple[Sandbox, Fleet, list[str]]]:
    """A served sandbox, ``workers`` worker processes, and a receipt per ``expires_in``."""
    sandbox = Sandbox(sign_after=None)  # the receivers sign when the test says
    with (
        sandbox.serve_in_thread() as url,
        Fleet(
            directory,
            sandbox,
            url,
            redis_port=redis_process.port,
            queue=TIMINGS,
            max_jobs=350,
            client_timeout=CLIENT_TIMEOUT,
        ) as fleet,
    ):
        fleet.start(workers)
        async with sandbox.client() as client:
            ids = await request_all(client, sandbox, expires)
        yield sandbox, fleet, ids


async def sign_spread(
    sandbox: Sandbox, receipt_ids: Sequence[str], start: float, over: float
) -> None:
    """The receivers sign, evenly spread from ``start`` to ``start + over`` seconds from now."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    for n, receipt_id in enumerate(receipt_ids):
        due = began + start + over * n / len(receipt_ids)
        await asyncio.sleep(max(due - loop.time(), 0))
        await sandbox.sign(receipt_id)


async def records(
    queue: ReceiptQueue, redis: ArqRedis, code: str, ids: Sequence[str]
) -> dict[str, Record]:
    found = {}
    for receipt_id in ids:
        record = await queue.record(redis, code, receipt_id)
        assert record is not None, receipt_id
        found[receipt_id] = record
    return found


async def until_final(
    queue: ReceiptQueue,
    redis: ArqRedis,
    code: str,
    ids: Sequence[str],
    fleet: Fleet,
    timeout: float,
) -> None:
    """Return once every record is final and arq's queue empty (a killed worker's last
    jobs come back after their in-progress timeout); fail after ``timeout``."""
    keys = [f"kakaocert:esign:{code}:{receipt_id}" for receipt_id in ids]
    final = {stage.value.encode() for stage in Stage if stage.is_final}
    deadline = time.monotonic() + timeout
    while True:
        async with redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.hget(key, "stage")
            pipe.zrange("arq:queue", 0, -1)
            *stages, jobs = await pipe.execute()
        left = collections.Counter(s for s in stages if s not in final)
        queued = sum(job.startswith(b"kakaocert:esign:") for job in jobs)  # not the sweeper's
        if not left and not queued:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"after {timeout} s: {dict(left)}, {queued} queued\n{fleet.logs()}")
        fleet.supervise()
        await asyncio.sleep(0.25)


async def test_three_workers_verify_each_receipt_once_through_a_sigkill(
    redis_process: RedisServer, redis: ArqRedis, tmp_path: Path
) -> None:
    queue = ReceiptQueue()
    expires = [2 + n % 3 if n % 10 == 9 else 120 for n in range(1000)]  # 100 expire in 2-4 s
    async with running(3, expires, redis_process, tmp_path) as (sandbox, fleet, ids):
        code = sandbox.client_code
        to_sign = [rid for rid, e in zip(ids, expires, strict=True) if e == 120]
        to_expire = [rid for rid, e in zip(ids, expires, strict=True) if e != 120]
        for receipt_id in ids:
            assert await queue.enqueue(redis, code, receipt_id)
        # A retried web request: the same receipts again start no second job.
        assert not any([await queue.enqueue(redis, code, rid) for rid in ids[::7]])
        signing = asyncio.create_task(sign_spread(sandbox, to_sign, start=0.3, over=5.0))

        await asyncio.sleep(2.0)
        busiest = max(range(3), key=lambda n: sum(fleet.running(n).values()))
        fleet.kill(busiest)
        cut = fleet.running(busiest)  # the runs the kill cut off, from its complete log
        killed_pid = fleet.pids[busiest]
        await signing
        await until_final(queue, redis, code, ids, fleet, timeout=90)

        # Everything final: enqueueing again starts nothing.
        assert not any([await queue.enqueue(redis, code, rid) for rid in ids])
        assert [
            job for job in await redis.queued_jobs() if job.function != "kakaocert_sweep_esign"
        ] == []
    found = await records(queue, redis, code, ids)
    stored = fleet.stored()
    verifies = sandbox.verify_counts
    expected = signed_data_of(sandbox)

    assert len(cut) > 0, "the kill cut no job off"
    stages = collections.Counter(record.stage.value for record in found.values())
    twice = sum(len(calls) > 1 for calls in stored.values())
    print(f"\nstages {dict(stages)}; the kill cut {len(cut)} runs; stored twice: {twice}")

    # Every signed receipt verified exactly once; no expired one verified.
    assert {rid: verifies.get(rid, 0) for rid in to_sign} == dict.fromkeys(to_sign, 1)
    assert not set(verifies) & set(to_expire)
    # Every expired one recorded as such.
    assert {found[rid].stage for rid in to_expire} == {Stage.EXPIRED}
    # Every signed one stored, or reported outcome-unknown: none lost silently.
    unknown = [rid for rid in to_sign if found[rid].stage is Stage.OUTCOME_UNKNOWN]
    assert {found[rid].stage for rid in to_sign} <= {Stage.STORED, Stage.OUTCOME_UNKNOWN}
    assert set(stored) | set(unknown) == set(to_sign)
    # Outcome-unknown: only receipts the killed worker was verifying, verify_dt kept.
    assert set(unknown) <= set(cut)
    assert all(found[rid].verify_dt is not None for rid in unknown)
    assert not set(unknown) & set(stored)
    assert {rec.receipt_id for rec in await queue.needs_attention(redis)} == set(unknown)
    # Stored once: one signed data per receipt, the right one; a second call of the
    # (idempotent) store only where the kill fell between a store and its record.
    for receipt_id, calls in stored.items():
        assert {data for _, data in calls} == {expected(receipt_id)}
        if len(calls) > 1:
            assert receipt_id in cut
            assert len(calls) == 2
            assert killed_pid in {pid for pid, _ in calls}
    assert all(found[rid].signed_data is None for rid in ids)


async def test_the_fleet_rides_out_a_redis_restart(
    redis_process: RedisServer, redis: ArqRedis, tmp_path: Path
) -> None:
    queue = ReceiptQueue()
    expires = [3 if n % 10 == 9 else 120 for n in range(300)]
    async with running(2, expires, redis_process, tmp_path) as (sandbox, fleet, ids):
        code = sandbox.client_code
        to_sign = [rid for rid, e in zip(ids, expires, strict=True) if e == 120]
        early, late = ids[:200], ids[200:]
        for receipt_id in early:
            assert await queue.enqueue(redis, code, receipt_id)
        signing = asyncio.create_task(sign_spread(sandbox, to_sign, start=0.2, over=3.0))
        await asyncio.sleep(1.0)

        async def enqueue_late() -> None:
            for receipt_id in late:
                await queue.enqueue(redis, code, receipt_id)

        # Down for half a second while the workers poll, verify and store, and while
        # the web side enqueues: every command waits for Redis to come back.
        enqueued = asyncio.create_task(enqueue_late())
        await asyncio.to_thread(redis_process.restart, down_for=0.5)
        await enqueued
        await signing
        await until_final(queue, redis, code, ids, fleet, timeout=40)
    # arq stops a worker when a connection breaks under one of its WATCHes; the
    # supervisor starts it again (the stopped one finishes its running jobs first).
    print(f"\nworkers restarted after the Redis restart: {fleet.restarts}")
    found = await records(queue, redis, code, ids)
    stored = fleet.stored()
    expected = signed_data_of(sandbox)

    assert sandbox.verify_counts == dict.fromkeys(to_sign, 1)
    assert {rid: found[rid].stage for rid in ids} == {
        rid: Stage.STORED if rid in to_sign else Stage.EXPIRED for rid in ids
    }
    assert {rid: [data for _, data in calls] for rid, calls in stored.items()} == {
        rid: [expected(rid)] for rid in to_sign
    }
