"""The arq job on a real Redis, with workers in this process and the sandbox as the service.

Each test starts its own ``redis-server``; the sandbox's per-receipt verify counts
say how many verifies reached the service.
"""

from __future__ import annotations

import asyncio
import logging
import re
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import arq
import pytest
from arq.connections import ArqRedis, RedisSettings, create_pool

import kakaocert_async
from kakaocert_async import Client, KakaocertError, MalformedResponse, ValidationError
from kakaocert_async.arq import ESIGN, ReceiptQueue, Record, Signed, Stage, _job
from kakaocert_async.arq._records import _Records
from kakaocert_async.sandbox import Fault, Sandbox
from tests._served import ROOT, clean_env
from tests._support import make_request
from tests.fleet._support import MemoryStore, Scene, queue_for, stop_polling

pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning")

MakeScene = Callable[..., Scene]


async def claim(s: Scene, receipt_id: str, owner: str, *, lease_ms: int) -> None:
    """What a worker does before its verify: waiting -> verifying, owned for ``lease_ms``."""
    step = await _Records(s.redis, "kakaocert", "esign").step(
        s.code,
        receipt_id,
        leaving=[Stage.WAITING],
        to=Stage.VERIFYING,
        claim=owner,
        lease_ms=lease_ms,
    )
    assert step.done


def first_deferral(caplog: pytest.LogCaptureFixture) -> float:
    """Seconds the first run that went back to the queue deferred its next (arq's log)."""
    deferrals = re.findall(r"retrying job in ([\d.]+)s", caplog.text)
    assert deferrals
    return float(deferrals[0])


async def test_a_signed_receipt_is_verified_once_and_stored(scene: MakeScene) -> None:
    async with scene(Sandbox(sign_after=0.1)) as s:
        receipt_id = await s.receipt()
        waiting = await s.record(receipt_id)
        await s.work()

    assert waiting.stage is Stage.WAITING
    record = await s.record(receipt_id)
    assert record.stage is Stage.STORED
    assert (record.kind, record.client_code, record.receipt_id) == ("esign", s.code, receipt_id)
    assert record.signed_data is None  # it left Redis once stored
    assert record.created_at == waiting.created_at < record.updated_at
    assert s.store.data == {receipt_id: s.signed_data(receipt_id)}
    assert s.store.calls == [receipt_id]
    assert s.sandbox.verify_counts == {receipt_id: 1}
    ttl = await s.redis.ttl(f"kakaocert:esign:{s.code}:{receipt_id}")
    assert 0 < ttl <= 30 * 86400
    assert await s.queue.needs_attention(s.redis) == []


async def test_an_expired_receipt_is_recorded_without_a_verify(scene: MakeScene) -> None:
    async with scene(Sandbox(sign_after=None)) as s:
        receipt_id = await s.receipt(enqueue=False)
        await s.sandbox.expire(receipt_id)
        await s.queue.enqueue(s.redis, s.code, receipt_id)
        await s.work()

    assert (await s.record(receipt_id)).stage is Stage.EXPIRED
    assert s.sandbox.verify_count(receipt_id) == 0
    assert s.store.calls == []


async def test_enqueue_starts_one_job_per_receipt(scene: MakeScene) -> None:
    async with scene(Sandbox(sign_after=0.05)) as s:
        first = await s.receipt()
        assert not await s.queue.enqueue(s.redis, s.code, first)  # queued: arq refuses the id
        second = await s.receipt()
        queued = sorted(str(job.job_id) for job in await s.redis.queued_jobs())
        assert queued == sorted([s.queue.job_id(s.code, first), s.queue.job_id(s.code, second)])
        assert s.queue.job_id(s.code, first) == f"kakaocert:esign:{s.code}:{first}"
        await s.work()
        assert s.sandbox.verify_counts == {first: 1, second: 1}

        # Finished: the record is final, so nothing is enqueued.
        assert not await s.queue.enqueue(s.redis, s.code, first)
        assert await s.redis.queued_jobs() == []
        # The job keeps no arq result (the record is its result), so arq itself would
        # take the id again: such a job ends at once on the final record.
        job_id = s.queue.job_id(s.code, first)
        assert not await s.redis.exists(f"arq:result:{job_id}")
        before = s.sandbox.stats
        job = await s.redis.enqueue_job(s.queue.function_name, s.code, first, _job_id=job_id)
        assert job is not None
        await s.work()
        assert s.sandbox.stats == before  # no token, no state read, no verify
    assert s.sandbox.verify_counts == {first: 1, second: 1}


async def test_only_one_of_many_can_start_the_verify(
    redis: ArqRedis, redis_settings: RedisSettings
) -> None:
    code, receipt_id = "020040000001", "1"
    await _Records(redis, "kakaocert", "esign").create(code, receipt_id)
    pools = [await create_pool(redis_settings) for _ in range(5)]  # five "workers"

    async def try_claim(pool: ArqRedis, owner: str) -> bool:
        step = await _Records(pool, "kakaocert", "esign").step(
            code,
            receipt_id,
            leaving=[Stage.WAITING],
            to=Stage.VERIFYING,
            claim=owner,
            lease_ms=60_000,
        )
        return step.done

    try:
        won = await asyncio.gather(*(try_claim(pools[n % 5], f"worker-{n}") for n in range(100)))
        assert sum(won) == 1
        winner = f"worker-{won.index(True)}"
        # A step repeated (after a broken connection, say) is done once: the winner is
        # told so again, and nobody else gets it.
        assert await try_claim(pools[0], winner)
        assert not await try_claim(pools[1], "worker-late")
    finally:
        for pool in pools:
            await pool.aclose(close_connection_pool=True)
    record = await redis.hgetall(f"kakaocert:esign:{code}:{receipt_id}")  # type: ignore[misc]
    assert record[b"owner"] == winner.encode()


async def test_a_dead_verifier_whose_verify_went_through_is_outcome_unknown(
    scene: MakeScene,
) -> None:
    async with scene(Sandbox(sign_after=None)) as s:
        receipt_id = await s.receipt(sign=True)
        # A worker claimed it, sent the verify, and died before writing the answer down.
        await claim(s, receipt_id, "dead", lease_ms=1)
        await s.client.verify_esign(s.code, receipt_id)
        await s.work()

    record = await s.record(receipt_id)
    assert record.stage is Stage.OUTCOME_UNKNOWN
    assert record.verify_dt is not None
    assert record.verify_dt == s.verify_dt(receipt_id)
    assert record.error is not None
    assert "worker stopped" in record.error
    assert s.sandbox.verify_count(receipt_id) == 1  # never verified twice
    assert s.store.calls == []
    assert await s.queue.needs_attention(s.redis) == [record]
    assert await s.queue.dismiss(s.redis, s.code, receipt_id)
    assert await s.queue.needs_attention(s.redis) == []
    assert await s.redis.ttl(f"kakaocert:esign:{s.code}:{receipt_id}") > 0


async def test_a_dead_verifier_whose_verify_never_went_through_is_verified_again(
    scene: MakeScene,
) -> None:
    async with scene(Sandbox(sign_after=None)) as s:
        receipt_id = await s.receipt(sign=True)
        await claim(s, receipt_id, "dead", lease_ms=1)
        await s.work()

    assert (await s.record(receipt_id)).stage is Stage.STORED
    assert s.sandbox.verify_count(receipt_id) == 1
    assert s.store.data == {receipt_id: s.signed_data(receipt_id)}


async def test_a_live_lease_is_waited_out(
    scene: MakeScene, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="arq.worker")
    async with scene(Sandbox(sign_after=None)) as s:
        receipt_id = await s.receipt(sign=True)
        await claim(s, receipt_id, "busy", lease_ms=300)
        await s.work()

    # The first run found the owner's lease running and went back to the queue for it.
    assert 0.1 < first_deferral(caplog) <= 0.36
    assert (await s.record(receipt_id)).stage is Stage.STORED
    assert s.sandbox.verify_count(receipt_id) == 1


async def test_held_data_is_stored_by_one_worker_at_a_time(
    scene: MakeScene, caplog: pytest.LogCaptureFixture
) -> None:
    # A worker stopped while its store ran: the job runs again elsewhere at once, and
    # finds the data held and owned; it calls the store only once that lease is over.
    caplog.set_level(logging.INFO, logger="arq.worker")
    async with scene(Sandbox(sign_after=None)) as s:
        receipt_id = await s.receipt(sign=True)
        await s.client.verify_esign(s.code, receipt_id)  # the stopped worker's verify
        held = await _Records(s.redis, "kakaocert", "esign").step(
            s.code,
            receipt_id,
            leaving=[Stage.WAITING],
            to=Stage.VERIFIED,
            set={"signed_data": s.signed_data(receipt_id)},
            claim="storing",
            lease_ms=300,
        )
        assert held.done
        await s.work()

    assert 0.1 < first_deferral(caplog) <= 0.36
    assert s.store.calls == [receipt_id]
    assert s.store.data == {receipt_id: s.signed_data(receipt_id)}
    assert (await s.record(receipt_id)).stage is Stage.STORED
    assert s.sandbox.verify_count(receipt_id) == 1


async def test_a_lost_verify_answer_is_outcome_unknown(scene: MakeScene) -> None:
    # The sandbox verifies, then breaks the connection halfway through the answer.
    dropped = Fault(action="drop", endpoints={"verify"})
    async with scene(Sandbox(sign_after=0, faults=[dropped])) as s:
        receipt_id = await s.receipt()
        await s.work()

    record = await s.record(receipt_id)
    assert record.stage is Stage.OUTCOME_UNKNOWN
    assert record.verify_dt == s.verify_dt(receipt_id) is not None
    assert record.error is not None
    assert "answer was lost" in record.error
    assert record.raw_answer is None  # none came
    assert s.sandbox.verify_count(receipt_id) == 1
    assert s.store.calls == []


async def test_an_unreadable_verify_answer_is_kept_in_the_record(
    scene: MakeScene, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The verify went through and its answer came, but the client could not read it (a
    # shape it does not know): the signed data may be in the answer, the only copy.
    def unreadable(answer: bytes, cls: type[Any], *, about: str, label: str) -> Any:
        raise MalformedResponse(f"{label}: not a shape it knows", http_status=200)

    monkeypatch.setattr(Client, "_decode_verification", staticmethod(unreadable))
    async with scene(Sandbox(sign_after=0)) as s:
        receipt_id = await s.receipt()
        await s.work()

    record = await s.record(receipt_id)
    assert record.stage is Stage.OUTCOME_UNKNOWN
    assert record.verify_dt == s.verify_dt(receipt_id) is not None
    assert record.raw_answer is not None
    assert s.signed_data(receipt_id) in record.raw_answer
    assert s.signed_data(receipt_id) not in repr(record)
    assert s.sandbox.verify_count(receipt_id) == 1
    assert s.store.calls == []


async def test_a_gateway_error_instead_of_the_verify_is_verified_again(scene: MakeScene) -> None:
    # A 503 page answers the first verify before it reaches the service: the client
    # cannot tell, so it is an unknown outcome; verify_dt stays unset, so it is retried.
    gateway = Fault(action="error", endpoints={"verify"}, times=1)
    async with scene(Sandbox(sign_after=0, faults=[gateway])) as s:
        receipt_id = await s.receipt()
        await s.work()

    assert (await s.record(receipt_id)).stage is Stage.STORED
    assert s.sandbox.stats["verify"] == 2
    assert s.sandbox.verify_count(receipt_id) == 1  # the first never reached the receipt
    assert s.store.data == {receipt_id: s.signed_data(receipt_id)}


class CheckingStore(MemoryStore):
    """Fails at first; every call finds the signed data already held in the record."""

    def __init__(self, failures: int) -> None:
        super().__init__(failures)
        self.queue = ReceiptQueue()
        self.held: list[Record | None] = []

    async def __call__(self, ctx: dict[Any, Any], signed: Signed) -> None:
        code, receipt_id = signed.client_code, signed.receipt_id
        self.held.append(await self.queue.record(ctx["redis"], code, receipt_id))
        await super().__call__(ctx, signed)


async def test_a_failing_store_keeps_the_data_in_the_record_and_is_retried(
    scene: MakeScene,
) -> None:
    store = CheckingStore(failures=2)
    async with scene(Sandbox(sign_after=0), store) as s:
        receipt_id = await s.receipt()
        await s.work()

    data = s.signed_data(receipt_id)
    assert store.calls == [receipt_id] * 3
    assert [(r.stage, r.signed_data) for r in store.held if r] == [(Stage.VERIFIED, data)] * 3
    assert [r.store_failures for r in store.held if r] == [0, 1, 2]
    assert store.data == {receipt_id: data}
    record = await s.record(receipt_id)
    assert (record.stage, record.signed_data, record.error) == (Stage.STORED, None, None)
    assert s.sandbox.verify_count(receipt_id) == 1


async def test_a_store_that_never_works_leaves_the_data_in_the_record(
    scene: MakeScene, caplog: pytest.LogCaptureFixture
) -> None:
    async with scene(Sandbox(sign_after=0), MemoryStore(failures=1000), store_attempts=2) as s:
        receipt_id = await s.receipt()
        await s.work()
        data = s.signed_data(receipt_id)

        assert s.store.calls == [receipt_id] * 2
        record = await s.record(receipt_id)
        assert (record.stage, record.signed_data, record.store_failures) == (
            Stage.VERIFIED,
            data,
            2,
        )
        assert record.error == "store failed: OSError (see the worker's log)"
        assert "the store failed 2 times" in caplog.text  # the job failed: StoreFailed
        assert data not in caplog.text
        assert await s.queue.needs_attention(s.redis) == [record]
        assert not await s.queue.dismiss(s.redis, s.code, receipt_id)  # held: never dismissed
        assert data not in repr(record)

        # Enqueued again once the store works: stored, and still one verify.
        working = MemoryStore()
        queue = queue_for(s.sandbox, working, store_attempts=2)
        assert await queue.enqueue(s.redis, s.code, receipt_id)
        await s.work(queue)

    assert working.data == {receipt_id: data}
    assert (await s.record(receipt_id)).stage is Stage.STORED
    assert await s.queue.needs_attention(s.redis) == []
    assert s.sandbox.verify_count(receipt_id) == 1


async def test_a_refused_verify_is_tried_three_times_then_failed(scene: MakeScene) -> None:
    # An App to App receipt verified without its signature is refused every time
    # (such receipts are for your app to verify; here they make a refusal).
    async with scene(Sandbox(sign_after=0)) as s:
        receipt = await s.client.request_esign(s.code, make_request(), app_to_app=True)
        receipt_id = receipt.receipt_id
        await s.queue.enqueue(s.redis, s.code, receipt_id)
        await s.work()
        record = await s.record(receipt_id)
        assert record.stage is Stage.FAILED
        assert record.error is not None
        assert record.error.startswith("verify: [-11040007]")
        assert s.sandbox.verify_count(receipt_id) == 3
        assert await s.queue.needs_attention(s.redis) == [record]

        # A failed receipt starts again when enqueued again, with its attempts reset.
        assert await s.queue.enqueue(s.redis, s.code, receipt_id)
        await s.work()
        assert s.sandbox.verify_count(receipt_id) == 6
    assert s.store.calls == []


async def test_an_unknown_receipt_fails_without_a_verify(scene: MakeScene) -> None:
    async with scene(Sandbox(sign_after=None)) as s:
        await s.queue.enqueue(s.redis, s.code, "000000000000000009")
        await s.work()
    record = await s.record("000000000000000009")
    assert record.stage is Stage.FAILED
    assert record.error is not None
    assert "-11040002" in record.error
    assert s.sandbox.stats["verify"] == 0


async def test_redis_that_lost_its_data_never_causes_a_second_verify(scene: MakeScene) -> None:
    async with scene(Sandbox(sign_after=0)) as s:
        receipt_id = await s.receipt()
        await s.work()
        await s.redis.flushall()  # records and queue gone, as after a Redis without persistence

        assert await s.queue.enqueue(s.redis, s.code, receipt_id)  # say, replayed from a log
        await s.work()

    record = await s.record(receipt_id)
    assert record.stage is Stage.OUTCOME_UNKNOWN
    assert record.verify_dt == s.verify_dt(receipt_id) is not None
    assert s.sandbox.verify_count(receipt_id) == 1
    assert s.store.calls == [receipt_id]


async def test_a_receipt_whose_job_arq_dropped_is_swept_back(scene: MakeScene) -> None:
    async with scene(Sandbox(sign_after=0), store_attempts=1) as s:
        dropped, kept = await s.receipt(), await s.receipt()
        # arq drops a job it ran past its timeout or its max_tries: gone from its queue.
        job_id = s.queue.job_id(s.code, dropped)
        await s.redis.delete(f"arq:job:{job_id}")
        await s.redis.zrem("arq:queue", job_id)

        assert await s.queue.sweep(s.redis, older_than=60) == []  # too recent to tell
        assert await s.queue.sweep(s.redis, older_than=0) == [dropped]  # kept has its job
        assert await s.queue.sweep(s.redis, older_than=0) == []  # enqueued: it has one now
        await s.work()
        assert await s.queue.sweep(s.redis, older_than=0) == []  # final: no longer open

    assert {(await s.record(r)).stage for r in (dropped, kept)} == {Stage.STORED}
    assert s.sandbox.verify_counts == {dropped: 1, kept: 1}


async def test_the_sweeper_leaves_records_needing_attention_alone(scene: MakeScene) -> None:
    async with scene(Sandbox(sign_after=0), MemoryStore(failures=1), store_attempts=1) as s:
        receipt_id = await s.receipt()
        await s.work()  # the store fails once: StoreFailed, the data held in the record
        assert (await s.record(receipt_id)).stage is Stage.VERIFIED
        assert await s.queue.sweep(s.redis, older_than=0) == []
        assert s.store.calls == [receipt_id]


async def test_the_sweeper_sets_aside_records_it_cannot_read(
    scene: MakeScene, caplog: pytest.LogCaptureFixture
) -> None:
    # Beside receipts whose jobs arq dropped, records this release cannot read, older
    # than them all (the sweeper meets them first): each is set aside as it is and
    # listed with why; every healthy one is enqueued again.
    caplog.set_level(logging.WARNING, logger="kakaocert_async")
    async with scene(Sandbox(sign_after=0)) as s:
        healthy = [await s.receipt() for _ in range(3)]
        for receipt_id in healthy:
            await s.redis.delete(f"arq:job:{s.queue.job_id(s.code, receipt_id)}")
            await s.redis.zrem("arq:queue", s.queue.job_id(s.code, receipt_id))
        at = f"kakaocert:esign:{s.code}:".encode()
        fine = {"kind": "esign", "stage": "waiting", "created_at": "1", "updated_at": "1"}
        hashes: dict[bytes, tuple[dict[str, Any], str]] = {
            at + b"901": ({"stage": "approved"}, "unreadable stage 'approved'"),
            at + b"902": ({"stage": b"\xffwaiting"}, "stage is not UTF-8"),
            at + b"903": ({"store_failures": "many"}, "unreadable store_failures 'many'"),
            at + b"904": ({"verify_dt": "yesterday"}, "unreadable verify_dt 'yesterday'"),
            at + b"905": ({"created_at": "9" * 30}, f"unreadable created_at '{'9' * 30}'"),
            b"kakaocert:esign:not-a-receipt": ({}, "its key names no receipt"),
            b"kakaocert:esign:\xff:1": ({}, "its key names no receipt"),
        }
        for key, (fields, _) in hashes.items():
            await s.redis.hset(key, mapping={**fine, **fields})
        await s.redis.hset(at + b"906", mapping=fine)
        await s.redis.hdel(at + b"906", "updated_at")
        await s.redis.hset(at + b"907", "kind", "esign")
        await s.redis.set(at + b"908", "a string")
        await s.redis.rpush(at + b"909", "a", "list")
        why = {key: reason for key, (_, reason) in hashes.items()}
        why |= {at + b"906": "no updated_at", at + b"907": "no stage"}
        why |= {at + b"908": "not a hash", at + b"909": "not a hash"}
        await s.redis.zadd("kakaocert:esign:open", dict.fromkeys(why, 0))

        assert sorted(await s.queue.sweep(s.redis, older_than=0)) == sorted(healthy)
        assert await s.redis.zcard("arq:queue") == len(healthy)  # one job each, again
        assert await s.queue.sweep(s.redis, older_than=0) == []  # set aside: not met again
        listed = await s.queue.needs_attention(s.redis)
        assert {r.stage for r in listed} == {Stage.UNREADABLE}
        expected = {
            f"record {key.decode(errors='backslashreplace')}: {w}" for key, w in why.items()
        }
        assert {r.error for r in listed} == expected
        (named,) = (r for r in listed if r.receipt_id == "901")  # as its key names it
        assert (named.kind, named.client_code, named.stage.is_final) == ("esign", s.code, False)
        # Kept as they were, for someone to look at; one warning each.
        assert await s.redis.hget(at + b"901", "stage") == b"approved"
        assert await s.redis.type(at + b"909") == b"list"
        warned = [r.getMessage() for r in caplog.records if "set aside" in r.getMessage()]
        assert sorted(warned) == sorted(f"{e}; set aside (see needs_attention)" for e in expected)
        await s.work()

    assert {(await s.record(r)).stage for r in healthy} == {Stage.STORED}
    assert s.sandbox.verify_counts == dict.fromkeys(healthy, 1)


async def test_failing_reads_past_the_expiry_give_nothing_up(
    scene: MakeScene, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Read pending, then every read fails from just before the expiry until well after
    # it (an overloaded worker, a service outage). The receipt may have been signed in
    # between: it is not failed as "still pending after it expired", however late, but
    # read again until a read works (here: expired).
    monkeypatch.setattr(_job, "PENDING_AFTER_EXPIRY", 0.0)
    outage = Fault(action="error", endpoints={"status"}, window=(0.7, 2.5))
    async with scene(Sandbox(faults=[outage]), wait_slice=1.0) as s:
        receipt_id = (await s.client.request_esign(s.code, make_request(expires_in=1))).receipt_id
        await s.queue.enqueue(s.redis, s.code, receipt_id)
        await s.work()

    assert (await s.record(receipt_id)).stage is Stage.EXPIRED
    assert s.sandbox.faults.listing()[0]["struck"] > 0


async def test_a_long_wait_goes_back_to_the_queue_between_slices(
    scene: MakeScene, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="arq.worker")
    async with scene(Sandbox(sign_after=0.5), wait_slice=0.1) as s:
        receipt_id = await s.receipt()
        await s.work()

    runs = [int(n) for n in re.findall(r"try=(\d+)", caplog.text)]
    assert max(runs) >= 3
    assert (await s.record(receipt_id)).stage is Stage.STORED
    assert s.sandbox.verify_count(receipt_id) == 1


async def test_a_slice_that_overruns_goes_back_to_the_queue(
    scene: MakeScene, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A first wait that hangs, as in a process too busy to end its slice on time: the
    # job cuts it at 1.5 slices and goes back to the queue instead of being failed by
    # arq's job timeout.
    caplog.set_level(logging.INFO, logger="arq.worker")
    hung: list[str] = []
    await_signed = Client.await_signed

    async def hanging_once(client: Client, code: str, receipt: Any, **options: Any) -> Any:
        if not hung:
            hung.append(receipt.receipt_id)
            await asyncio.sleep(3600)
        return await await_signed.__get__(client, Client)(code, receipt, **options)

    monkeypatch.setattr(Client, "await_signed", hanging_once)
    async with scene(Sandbox(sign_after=0), wait_slice=0.1) as s:
        receipt_id = await s.receipt()
        await s.work()

    assert hung == [receipt_id]
    assert "retrying job in 0.00s" in caplog.text
    assert (await s.record(receipt_id)).stage is Stage.STORED
    assert s.sandbox.verify_count(receipt_id) == 1


class DatabaseStore(MemoryStore):
    """A store that needs the database the application's own hooks open and close (a
    job's ctx is a copy of the worker's: what they share is the pool, as here)."""

    async def __call__(self, ctx: dict[Any, Any], signed: Signed) -> None:
        if "database" in ctx and not ctx["database"]["open"]:
            raise OSError("the database is closed")
        await super().__call__(ctx, signed)


async def open_database(ctx: dict[Any, Any]) -> None:
    ctx["database"] = {"open": True}


async def close_database(ctx: dict[Any, Any]) -> None:
    ctx["database"]["open"] = False


@pytest.mark.parametrize("hooks", [False, True], ids=["queue alone", "with your hooks"])
async def test_shutdown_lets_a_verify_in_flight_finish(scene: MakeScene, hooks: bool) -> None:
    # With your own hooks, the store needs the database yours close: the verify in
    # flight is stored before your on_shutdown.
    slow = Fault(action="delay", seconds=0.3, endpoints={"verify"})
    yours = {"on_startup": open_database, "on_shutdown": close_database} if hooks else {}
    async with scene(Sandbox(sign_after=0, faults=[slow]), DatabaseStore(), timeout=0.5) as s:
        receipt_id = await s.receipt()
        settings = s.queue.settings(
            redis_settings=s.redis_settings, poll_delay=0.01, handle_signals=False, **yours
        )
        worker = arq.Worker(**settings)
        running = asyncio.create_task(worker.async_run())
        for _ in range(1000):
            if s.sandbox.stats["verify"]:
                break
            await asyncio.sleep(0.005)
        assert s.sandbox.stats["verify"] == 1  # arrived, answer not sent yet
        await stop_polling(worker, running)
        await worker.close()  # cancels the job; on_shutdown waits for the verify

    assert (await s.record(receipt_id)).stage is Stage.STORED
    assert s.store.calls == [receipt_id]
    assert s.sandbox.verify_count(receipt_id) == 1


async def test_a_lease_shorter_than_the_verify_is_refused_as_it_would_verify_twice(
    scene: MakeScene, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The service holds each verify 0.4 s before acting on it; the lease is 0.1 s. A
    # worker stopped during its verify (a deploy) gives the job back at once; another
    # worker takes it, waits out the lease, finds verify_dt unset, and verifies again.
    slow = Fault(action="delay", seconds=0.4, endpoints={"verify"})
    async with scene(Sandbox(sign_after=0, faults=[slow]), timeout=0.6, verify_lease=0.1) as s:
        refused = "verify_lease: 0.1 s is shorter than a verify can take with this client"
        with pytest.raises(ValidationError, match=refused) as caught:
            await s.queue.on_startup({})
        assert "(12.6 s at timeout=0.6 s," in str(caught.value)  # 21 exchanges of 0.6 s
        assert "make verify_lease at least 12.6 s, or the client's timeout shorter" in str(
            caught.value
        )

        # The same, with the check bypassed:
        monkeypatch.setattr(ReceiptQueue, "_check_verify_lease", lambda self, client: None)
        receipt_id = await s.receipt()
        settings = s.queue.settings(
            redis_settings=s.redis_settings, poll_delay=0.01, handle_signals=False
        )
        first = arq.Worker(**settings)
        running = asyncio.create_task(first.async_run())
        for _ in range(1000):
            if s.sandbox.stats["verify"]:
                break
            await asyncio.sleep(0.005)
        await stop_polling(first, running)
        stopping = asyncio.create_task(first.close())  # its verify goes on, shielded
        await s.work()  # the second worker
        await stopping

    assert s.sandbox.verify_count(receipt_id) == 2
    assert s.store.calls == [receipt_id]  # the first verify's data; the second was refused


async def test_the_default_lease_fits_the_default_client() -> None:
    sandbox = Sandbox()
    with kakaocert_async.set_testing(False):  # the backoff counts, as in production
        await ReceiptQueue(client=sandbox.client, store=MemoryStore()).on_startup({})
        with pytest.raises(ValidationError, match=r"at least 211\.9 s, or the client's timeout"):
            await ReceiptQueue(
                client=sandbox.client, store=MemoryStore(), verify_lease=211.8
            ).on_startup({})
    await sandbox.aclose()


async def test_an_explicit_zero_lease_is_refused_not_replaced_by_the_default() -> None:
    sandbox = Sandbox()
    with pytest.raises(ValidationError, match="verify_lease: must be a finite number of sec"):
        ReceiptQueue(client=sandbox.client, store=MemoryStore(), verify_lease=0)
    await sandbox.aclose()


async def test_the_worker_settings_hold_the_job_and_one_client_per_process(
    redis_settings: RedisSettings,
) -> None:
    sandbox = Sandbox()
    queue = ReceiptQueue(client=sandbox.client, store=MemoryStore())
    seen: list[str] = []

    async def theirs(ctx: dict[Any, Any]) -> None:
        seen.append("theirs")

    async def their_startup(ctx: dict[Any, Any]) -> None:
        # The queue's Client exists by now, for their own jobs too.
        seen.append(f"startup {type(queue.worker_client(ctx)).__name__}")

    async def their_shutdown(ctx: dict[Any, Any]) -> None:
        # Before the queue's: the Client is still there.
        seen.append(f"shutdown {type(queue.worker_client(ctx)).__name__}")

    settings = queue.settings(
        # With a timeout of its own: arq's default (300 s) would set the lease below.
        functions=[arq.worker.func(theirs, name="theirs", timeout=5)],
        on_startup=their_startup,
        on_shutdown=their_shutdown,
        redis_settings=redis_settings,
    )
    worker = arq.Worker(**settings, handle_signals=False)
    assert sorted(worker.functions) == ["kakaocert_await_esign", "kakaocert_sweep_esign", "theirs"]
    (sweeper,) = worker.cron_jobs
    assert (sweeper.name, sweeper.second, sweeper.unique) == (
        "kakaocert_sweep_esign",
        {0, 30},
        True,
    )
    # The in-progress lease, which sets how soon a dead worker's jobs come back, is the
    # longest timeout on the worker plus 10 s: the job's, not the sweeper's.
    assert sweeper.timeout_s == queue.job_timeout
    assert worker.in_progress_timeout_s == queue.job_timeout + 10
    job = worker.functions["kakaocert_await_esign"]
    assert isinstance(job, arq.worker.Function)
    assert (job.timeout_s, job.keep_result_s, job.keep_result_forever, job.max_tries) == (
        queue.job_timeout,
        0,
        False,
        10_000,
    )
    assert queue.job_timeout == 1.5 * 60 + 240 + 30 + 30
    assert worker.max_jobs == 1000

    ctx: dict[Any, Any] = {}
    await settings["on_startup"](ctx)
    client = queue.worker_client(ctx)
    assert isinstance(client, Client)
    await settings["on_shutdown"](ctx)
    assert seen == ["startup Client", "shutdown Client"]
    with pytest.raises(KakaocertError, match="closed"):
        await client.get_esign_state(sandbox.client_code, "1")
    await worker.close()


async def test_bad_settings_and_ids_are_validation_errors() -> None:
    with pytest.raises(ValidationError, match="wait_slice"):
        ReceiptQueue(wait_slice=0)
    with pytest.raises(ValidationError, match="store_attempts"):
        ReceiptQueue(store_attempts=0)
    with pytest.raises(ValidationError, match="interval"):
        ReceiptQueue(interval=0.001)
    with pytest.raises(ValidationError, match=r"\] client: "):
        ReceiptQueue().functions  # noqa: B018 -- a worker needs the client and the store
    with pytest.raises(ValidationError, match=r"\] store: "):
        ReceiptQueue(client=Sandbox().client).settings()
    queue = ReceiptQueue()
    redis: Any = None  # checked before Redis is touched
    with pytest.raises(ValidationError, match="receipt_id"):
        await queue.enqueue(redis, "020040000001", "12/34")
    with pytest.raises(ValidationError, match="client_code"):
        await queue.record(redis, "0200", "1")
    assert repr(queue) == (
        "<ReceiptQueue kind='esign' prefix='kakaocert' function='kakaocert_await_esign'>"
    )
    assert queue.kind is ESIGN


def test_reprs_never_show_the_signed_data() -> None:
    signed = Signed(kind="esign", client_code="020040000001", receipt_id="1", signed_data="MII+x")
    assert "MII+x" not in repr(signed)
    assert "<5 chars>" in repr(signed)


def test_without_arq_the_import_names_the_extra() -> None:
    code = "import sys; sys.modules['arq'] = None; import kakaocert_async.arq"
    done = subprocess.run(  # noqa: S603 -- this Python
        [sys.executable, "-c", code],
        env=clean_env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: kakaocert_async.arq needs arq and redis")
    assert "pip install 'kakaocert-async[arq]'" in last
