"""The fleet: worker processes on a real Redis, the sandbox served, counted end to end.

Each worker serves both generations, a queue of each: KakaoCert 2.x e-sign and
identity, and Barocert sign. The receipts are a mix of the three.

- 1,000 receipts, most signed at times spread over 5 s, 100 left to expire and some
  Barocert ones refused, awaited by three ``arq`` worker processes; midway the busiest
  one is killed with SIGKILL. Every signed receipt is verified exactly once (the
  sandbox's count: per receipt for 2.x, per kind for Barocert), its signed data stored
  once, every expired one recorded as expired and every refused one as refused, and a
  receipt caught between verify and store reported as outcome-unknown; none is lost,
  and enqueueing a receipt again starts nothing.
- Redis is stopped and started again on the same port while two workers wait and
  receipts are being enqueued: nothing is lost, no verify is repeated.
- A worker stopped while Redis is away, its verify held at the service: arq's own
  shutdown fails before the queue's, and the process still stores the answer first.

The timings are short (a 1 s poll, 2 s wait slices, a client timeout of 2 s, 1.5 s for
Barocert's, and so a 44 s verify lease, a 51 s job timeout) so that a killed worker's
jobs come back within 61 s; the module takes about 80 s.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from arq.connections import ArqRedis

from kakaocert_async.arq import BAROCERT_SIGN, ESIGN, IDENTITY, ReceiptQueue, Record, Stage
from kakaocert_async.sandbox import Fault, Sandbox
from tests.fleet._fleet import Fleet
from tests.fleet._redis import RedisServer
from tests.fleet._support import expected_verification, is_barocert, request_of

pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning")

CLIENT_TIMEOUT = 2.0  # exchanges take up to 0.15 s here; at 0.5 s, some timed out in a pause
BAROCERT_TIMEOUT = 1.5  # its verify is a signed POST: 28 exchanges, where 2.x's GET has 21
TIMINGS = {
    "interval": 1.0,
    "wait_slice": 2.0,
    "verify_lease": 44.0,  # the least accepted: 21 exchanges of 2 s (28 of 1.5 s), 1.9 s of backoff
    "store_timeout": 1.0,
    "redis_patience": 3.0,
}  # a job timeout of 51 s: a killed worker's jobs come back 61 s after the kill
KINDS = [ESIGN, IDENTITY, BAROCERT_SIGN]
QUEUES = [ReceiptQueue(kind=[ESIGN, IDENTITY]), ReceiptQueue(kind=BAROCERT_SIGN)]
"""The web app's side: the workers' queues, by their names."""


@attrs.frozen
class Receipts:
    """What the test asked for: each receipt, its kind, and what its receiver does."""

    receipts: dict[str, Any]
    kinds: dict[str, Any]
    to_sign: list[str]
    to_expire: list[str]
    to_refuse: list[str]

    def queue(self, receipt_id: str) -> ReceiptQueue:
        return QUEUES[is_barocert(self.kinds[receipt_id])]

    async def enqueue(self, redis: ArqRedis, code: str, receipt_id: str) -> bool:
        return await self.queue(receipt_id).enqueue(redis, code, self.receipts[receipt_id])

    def key(self, code: str, receipt_id: str) -> str:
        return f"kakaocert:{self.kinds[receipt_id].name}:{code}:{receipt_id}"


async def request_all(sandbox: Sandbox, count: int) -> Receipts:
    """``count`` receipts, the kinds in turn; every tenth expires in 2-4 s, and of the
    Barocert ones signed, one in five is refused instead. 50 requests at a time."""
    plan = [(KINDS[n % 3], 2 + n % 3 if n % 10 == 9 else 120) for n in range(count)]
    receipts: dict[str, Any] = {}
    kinds: dict[str, Any] = {}
    async with sandbox.client() as client, sandbox.barocert_client() as baro:
        for start in range(0, count, 50):
            batch = plan[start : start + 50]
            made = await asyncio.gather(
                *(
                    (baro if is_barocert(kind) else client).request(
                        sandbox.client_code, request_of(kind, expires_in=expires)
                    )
                    for kind, expires in batch
                )
            )
            for (kind, _), receipt in zip(batch, made, strict=True):
                receipts[receipt.receipt_id] = receipt
                kinds[receipt.receipt_id] = kind
    ids = list(receipts)
    expiring = [rid for rid, (_, e) in zip(ids, plan, strict=True) if e != 120]
    answered = [rid for rid in ids if rid not in expiring]
    baro_answered = [rid for rid in answered if is_barocert(kinds[rid])]
    refused = baro_answered[::5]
    signed = [rid for rid in answered if rid not in set(refused)]
    return Receipts(receipts, kinds, signed, expiring, refused)


@contextlib.asynccontextmanager
async def running(
    workers: int, count: int, redis_process: RedisServer, directory: Path
) -> AsyncIterator[tuple[Sandbox, Fleet, Receipts]]:
    """A served sandbox, ``workers`` worker processes, and ``count`` receipts."""
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
            barocert_timeout=BAROCERT_TIMEOUT,
            kinds=["esign", "identity"],
            barocert=["barocert.sign"],
        ) as fleet,
    ):
        fleet.start(workers)
        yield sandbox, fleet, await request_all(sandbox, count)


async def answer_spread(sandbox: Sandbox, r: Receipts, start: float, over: float) -> None:
    """The receivers sign (or refuse), evenly spread from ``start`` to ``start + over``
    seconds from now."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    answering = [*r.to_sign, *r.to_refuse]
    answering.sort(key=list(r.receipts).index)
    refusing = set(r.to_refuse)
    for n, receipt_id in enumerate(answering):
        due = began + start + over * n / len(answering)
        await asyncio.sleep(max(due - loop.time(), 0))
        if receipt_id in refusing:
            sandbox.barocert.refuse(receipt_id)
        elif is_barocert(r.kinds[receipt_id]):
            sandbox.barocert.sign(receipt_id)
        else:
            await sandbox.sign(receipt_id)


async def records(r: Receipts, redis: ArqRedis, code: str) -> dict[str, Record]:
    found = {}
    for receipt_id, receipt in r.receipts.items():
        record = await r.queue(receipt_id).record(redis, code, receipt)
        assert record is not None, receipt_id
        found[receipt_id] = record
    return found


async def until_final(
    r: Receipts, redis: ArqRedis, code: str, fleet: Fleet, timeout: float
) -> None:
    """Return once every record is final and arq's queue empty (a killed worker's last
    jobs come back after their in-progress timeout); fail after ``timeout``."""
    keys = [r.key(code, receipt_id) for receipt_id in r.receipts]
    final = {stage.value.encode() for stage in Stage if stage.is_final}
    deadline = time.monotonic() + timeout
    while True:
        async with redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.hget(key, "stage")
            pipe.zrange("arq:queue", 0, -1)
            *stages, jobs = await pipe.execute()
        left = collections.Counter(s for s in stages if s not in final)
        queued = sum(job.startswith(b"kakaocert:") for job in jobs)  # not the sweepers'
        if not left and not queued:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"after {timeout} s: {dict(left)}, {queued} queued\n{fleet.logs()}")
        fleet.supervise()
        await asyncio.sleep(0.25)


def verified_once(sandbox: Sandbox, r: Receipts, found: dict[str, Record]) -> None:
    """Every signed receipt verified exactly once, no other one verified: counted per
    receipt for 2.x; for Barocert, per kind, each signed one having gone through (stored,
    or outcome-unknown with ``verify_dt``) and no more verifies than there are."""
    two = [rid for rid in r.to_sign if not is_barocert(r.kinds[rid])]
    baro = [rid for rid in r.to_sign if is_barocert(r.kinds[rid])]
    assert sandbox.verify_counts == dict.fromkeys(two, 1)
    assert sandbox.stats["barocert.sign.verify"] == len(baro)
    assert all(found[rid].stage is Stage.STORED or found[rid].verify_dt is not None for rid in baro)


async def test_three_workers_verify_each_receipt_once_through_a_sigkill(
    redis_process: RedisServer, redis: ArqRedis, tmp_path: Path
) -> None:
    async with running(3, 1000, redis_process, tmp_path) as (sandbox, fleet, r):
        code = sandbox.client_code
        ids = list(r.receipts)
        for receipt_id in ids:
            assert await r.enqueue(redis, code, receipt_id)
        # A retried web request: the same receipts again start no second job.
        assert not any([await r.enqueue(redis, code, rid) for rid in ids[::7]])
        answering = asyncio.create_task(answer_spread(sandbox, r, start=0.3, over=5.0))

        await asyncio.sleep(2.0)
        busiest = max(range(3), key=lambda n: sum(fleet.running(n).values()))
        fleet.kill(busiest)
        cut = fleet.running(busiest)  # the runs the kill cut off, from its complete log
        killed_pid = fleet.pids[busiest]
        await answering
        await until_final(r, redis, code, fleet, timeout=90)

        # Everything final: enqueueing again starts nothing.
        assert not any([await r.enqueue(redis, code, rid) for rid in ids])
        assert [job for job in await redis.queued_jobs() if "_sweep_" not in job.function] == []
    found = await records(r, redis, code)
    stored = fleet.stored()

    assert len(cut) > 0, "the kill cut no job off"
    stages = collections.Counter(record.stage.value for record in found.values())
    twice = sum(len(calls) > 1 for calls in stored.values())
    print(f"\nstages {dict(stages)}; the kill cut {len(cut)} runs; stored twice: {twice}")

    # Every signed receipt verified exactly once; no expired or refused one verified.
    verified_once(sandbox, r, found)
    # Every expired one recorded as such, every refused one too.
    assert {found[rid].stage for rid in r.to_expire} == {Stage.EXPIRED}
    assert {found[rid].stage for rid in r.to_refuse} == {Stage.REFUSED}
    assert {r.kinds[rid] for rid in r.to_expire} == set(KINDS)
    # Every signed one stored, or reported outcome-unknown: none lost silently.
    unknown = [rid for rid in r.to_sign if found[rid].stage is Stage.OUTCOME_UNKNOWN]
    assert {found[rid].stage for rid in r.to_sign} <= {Stage.STORED, Stage.OUTCOME_UNKNOWN}
    assert set(stored) | set(unknown) == set(r.to_sign)
    # Outcome-unknown: only receipts the killed worker was verifying, verify_dt kept.
    assert set(unknown) <= set(cut)
    assert all(found[rid].verify_dt is not None for rid in unknown)
    assert not set(unknown) & set(stored)
    assert {rec.receipt_id for rec in await QUEUES[0].needs_attention(redis)} == set(unknown)
    # Stored once: one signed data per receipt, the right one; a second call of the
    # (idempotent) store only where the kill fell between a store and its record.
    for receipt_id, calls in stored.items():
        expected = expected_verification(sandbox, r.kinds[receipt_id], receipt_id)
        assert {data for _, data in calls} == {expected.signed_data}
        if len(calls) > 1:
            assert receipt_id in cut
            assert len(calls) == 2
            assert killed_pid in {pid for pid, _ in calls}
    assert all(found[rid].signed_data is None for rid in ids)


async def test_the_fleet_rides_out_a_redis_restart(
    redis_process: RedisServer, redis: ArqRedis, tmp_path: Path
) -> None:
    async with running(2, 300, redis_process, tmp_path) as (sandbox, fleet, r):
        code = sandbox.client_code
        ids = list(r.receipts)
        early, late = ids[:200], ids[200:]
        for receipt_id in early:
            assert await r.enqueue(redis, code, receipt_id)
        answering = asyncio.create_task(answer_spread(sandbox, r, start=0.2, over=3.0))
        await asyncio.sleep(1.0)

        async def enqueue_late() -> None:
            for receipt_id in late:
                await r.enqueue(redis, code, receipt_id)

        # Down for half a second while the workers poll, verify and store, and while
        # the web side enqueues: every command waits for Redis to come back.
        enqueued = asyncio.create_task(enqueue_late())
        await asyncio.to_thread(redis_process.restart, down_for=0.5)
        await enqueued
        await answering
        # Within seconds, but for arq's own race: an EXEC that set a job's in-progress
        # key just as Redis went down, its reply lost, leaves the job to wait out that
        # key (61 s) though no worker runs it (arq reads the WatchError as "started
        # elsewhere"). Nothing is lost meanwhile: the job runs then.
        await until_final(r, redis, code, fleet, timeout=75)
    # arq stops a worker when a connection breaks under one of its WATCHes; the
    # supervisor starts it again (the stopped one finishes its running jobs first).
    print(f"\nworkers restarted after the Redis restart: {fleet.restarts}")
    found = await records(r, redis, code)
    stored = fleet.stored()

    verified_once(sandbox, r, found)
    expected_stage = dict.fromkeys(r.to_sign, Stage.STORED)
    expected_stage |= dict.fromkeys(r.to_expire, Stage.EXPIRED)
    expected_stage |= dict.fromkeys(r.to_refuse, Stage.REFUSED)
    assert {rid: found[rid].stage for rid in ids} == expected_stage
    assert {rid: [data for _, data in calls] for rid, calls in stored.items()} == {
        rid: [expected_verification(sandbox, r.kinds[rid], rid).signed_data] for rid in r.to_sign
    }


@pytest.mark.parametrize("stopped_by", ["SIGTERM", "the Redis error"])
async def test_a_worker_that_arq_stops_on_a_redis_error_still_stores_its_verify(
    redis_process: RedisServer, redis: ArqRedis, tmp_path: Path, stopped_by: str
) -> None:
    # Redis goes away, where arq's commands do not wait for it (the same happens past
    # outage_tolerant()'s seconds), and the worker is stopped: by a deploy's SIGTERM,
    # or by arq itself at the Redis error. Either way arq's close() fails on a Redis
    # command (a job's end) before it calls on_shutdown, which waits for verifies in
    # flight, and the process ends. Its one verify is held at the service meanwhile:
    # its answer, the only copy of the signed data, is stored before the process is
    # gone. The other receipt, still waiting, is left waiting (arq runs its job
    # again), not failed.
    held = Fault(action="delay", seconds=2.0, endpoints={"verify"}, times=1)
    sandbox = Sandbox(sign_after=None, faults=[held])
    queue = ReceiptQueue(kind=ESIGN)  # the web app's side
    timings = {
        "interval": 0.2,
        "wait_slice": 2.0,  # the waiting one's first slice ends while Redis is away
        "verify_lease": 65.0,  # the least accepted at a 3 s timeout
        "store_timeout": 1.0,
        "redis_patience": 10.0,
    }
    code = sandbox.client_code
    with (
        sandbox.serve_in_thread() as url,
        Fleet(
            tmp_path,
            sandbox,
            url,
            redis_port=redis_process.port,
            queue=timings,
            max_jobs=10,
            client_timeout=3.0,
            arq_redis="plain",  # no outage_tolerant(): arq's commands fail at once
        ) as fleet,
    ):
        fleet.start(1)
        async with sandbox.client() as client:
            waiting, receipt = [await client.request(code, request_of(ESIGN)) for _ in "12"]
        rid = receipt.receipt_id
        await sandbox.sign(rid)
        assert await queue.enqueue(redis, code, waiting)
        assert await queue.enqueue(redis, code, receipt)
        deadline = time.monotonic() + 10
        while not sandbox.stats["verify"]:  # arrived; the service holds it 2 s
            assert time.monotonic() < deadline, fleet.logs()
            await asyncio.sleep(0.01)

        await asyncio.to_thread(redis_process.stop, save=True)
        worker = fleet.processes[0]
        if stopped_by == "SIGTERM":
            worker.terminate()
        # Away for 3 s: arq's commands fail (the end of the waiting one's slice too),
        # the verify's answer comes, and is written down once Redis is back.
        await asyncio.sleep(3.0)
        await asyncio.to_thread(redis_process.start)
        await asyncio.to_thread(worker.wait, 30)

    log = fleet.log(0)
    record = await queue.record(redis, code, receipt)
    assert record is not None
    assert record.stage is Stage.STORED, log
    assert sandbox.verify_counts == {rid: 1}
    signed_data = expected_verification(sandbox, ESIGN, rid).signed_data
    assert fleet.stored() == {rid: [(worker.pid, signed_data)]}
    assert "in close\n" in log  # arq's: it failed, it did not call on_shutdown
    assert "its verifies in flight (1) are finished before the process ends" in log
    left = await queue.record(redis, code, waiting)
    assert left is not None
    assert left.stage is Stage.WAITING, log
