"""The arq job on a real Redis, with workers in this process and the sandbox as the service.

Each test starts its own ``redis-server``; the sandbox's per-receipt verify counts
say how many verifies reached the service.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import subprocess
import sys
from typing import Any

import arq
import pytest
from arq.connections import ArqRedis, RedisSettings, create_pool

from kakaocert_async import Client, KakaocertError, ValidationError
from kakaocert_async.arq import (
    ESIGN,
    ReceiptQueue,
    Record,
    Signed,
    Stage,
    _Records,
)
from kakaocert_async.sandbox import Fault, Sandbox
from tests._served import ROOT, clean_env
from tests.fleet._support import MemoryStore, queue_for, request, run_burst, signed_data_of

pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning")


def verify_dt(sandbox: Sandbox, receipt_id: str) -> dt.datetime | None:
    """The receipt's ``verify_dt`` as the service tells it: to the second."""
    when = sandbox.state(receipt_id).verify_dt
    return None if when is None else when.replace(microsecond=0)


async def claim(
    redis: ArqRedis, client_code: str, receipt_id: str, owner: str, *, lease_ms: int
) -> None:
    """What a worker does before its verify: waiting -> verifying, owned for ``lease_ms``."""
    step = await _Records(redis, "kakaocert", "esign").step(
        client_code,
        receipt_id,
        leaving=[Stage.WAITING],
        to=Stage.VERIFYING,
        claim=owner,
        lease_ms=lease_ms,
    )
    assert step.done


async def record_of(queue: ReceiptQueue, redis: ArqRedis, sandbox: Sandbox, rid: str) -> Record:
    record = await queue.record(redis, sandbox.client_code, rid)
    assert record is not None
    return record


async def test_a_signed_receipt_is_verified_once_and_stored(
    redis: ArqRedis, redis_settings: RedisSettings
) -> None:
    sandbox = Sandbox(sign_after=0.1)
    store = MemoryStore()
    queue = queue_for(sandbox, store)
    async with sandbox, sandbox.client() as client:
        (receipt_id,) = await request(client, sandbox)
        assert await queue.enqueue(redis, sandbox.client_code, receipt_id)
        waiting = await record_of(queue, redis, sandbox, receipt_id)
        await run_burst(queue, redis_settings)

    assert waiting.stage is Stage.WAITING
    record = await record_of(queue, redis, sandbox, receipt_id)
    assert record.stage is Stage.STORED
    assert (record.kind, record.client_code, record.receipt_id) == (
        "esign",
        sandbox.client_code,
        receipt_id,
    )
    assert record.signed_data is None  # it left Redis once stored
    assert record.created_at == waiting.created_at < record.updated_at
    assert store.data == {receipt_id: signed_data_of(sandbox)(receipt_id)}
    assert store.calls == [receipt_id]
    assert sandbox.verify_counts == {receipt_id: 1}
    ttl = await redis.ttl(f"kakaocert:esign:{sandbox.client_code}:{receipt_id}")
    assert 0 < ttl <= 30 * 86400
    assert await queue.needs_attention(redis) == []


async def test_an_expired_receipt_is_recorded_without_a_verify(
    redis: ArqRedis, redis_settings: RedisSettings
) -> None:
    sandbox = Sandbox()
    store = MemoryStore()
    queue = queue_for(sandbox, store)
    async with sandbox, sandbox.client() as client:
        (receipt_id,) = await request(client, sandbox)
        await sandbox.expire(receipt_id)
        await queue.enqueue(redis, sandbox.client_code, receipt_id)
        await run_burst(queue, redis_settings)

    assert (await record_of(queue, redis, sandbox, receipt_id)).stage is Stage.EXPIRED
    assert sandbox.verify_count(receipt_id) == 0
    assert store.calls == []


async def test_enqueue_starts_one_job_per_receipt(
    redis: ArqRedis, redis_settings: RedisSettings
) -> None:
    sandbox = Sandbox(sign_after=0.05)
    queue = queue_for(sandbox, MemoryStore())
    code = sandbox.client_code
    async with sandbox, sandbox.client() as client:
        first, second = await request(client, sandbox, 2)
        assert await queue.enqueue(redis, code, first)
        assert not await queue.enqueue(redis, code, first)  # queued: arq refuses the id
        assert await queue.enqueue(redis, code, second)
        queued = sorted(job.job_id for job in await redis.queued_jobs())
        assert queued == sorted([queue.job_id(code, first), queue.job_id(code, second)])
        assert queue.job_id(code, first) == f"kakaocert:esign:{code}:{first}"
        await run_burst(queue, redis_settings)
        assert sandbox.verify_counts == {first: 1, second: 1}

        # Finished: the record is final, so nothing is enqueued.
        assert not await queue.enqueue(redis, code, first)
        assert await redis.queued_jobs() == []
        # The job keeps no arq result (the record is its result), so arq itself would
        # take the id again: such a job ends at once on the final record.
        job_id = queue.job_id(code, first)
        assert not await redis.exists(f"arq:result:{job_id}")
        before = sandbox.stats
        job = await redis.enqueue_job(queue.function_name, code, first, _job_id=job_id)
        assert job is not None
        await run_burst(queue, redis_settings)
        assert sandbox.stats == before  # no token, no state read, no verify
    assert sandbox.verify_counts == {first: 1, second: 1}


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
    owner = await redis.hget(f"kakaocert:esign:{code}:{receipt_id}", "owner")
    assert owner == winner.encode()


async def test_a_dead_verifier_whose_verify_went_through_is_outcome_unknown(
    redis: ArqRedis, redis_settings: RedisSettings
) -> None:
    sandbox = Sandbox()
    store = MemoryStore()
    queue = queue_for(sandbox, store)
    code = sandbox.client_code
    async with sandbox, sandbox.client() as client:
        (receipt_id,) = await request(client, sandbox)
        await sandbox.sign(receipt_id)
        await queue.enqueue(redis, code, receipt_id)
        # A worker claimed it, sent the verify, and died before writing the answer down.
        await claim(redis, code, receipt_id, "dead", lease_ms=1)
        await client.verify_esign(code, receipt_id)
        await run_burst(queue, redis_settings)

    record = await record_of(queue, redis, sandbox, receipt_id)
    assert record.stage is Stage.OUTCOME_UNKNOWN
    assert record.verify_dt is not None
    assert record.verify_dt == verify_dt(sandbox, receipt_id)
    assert record.error is not None
    assert "worker stopped" in record.error
    assert sandbox.verify_count(receipt_id) == 1  # never verified twice
    assert store.calls == []
    assert await queue.needs_attention(redis) == [record]
    assert await queue.dismiss(redis, code, receipt_id)
    assert await queue.needs_attention(redis) == []
    assert await redis.ttl(f"kakaocert:esign:{code}:{receipt_id}") > 0


async def test_a_dead_verifier_whose_verify_never_went_through_is_verified_again(
    redis: ArqRedis, redis_settings: RedisSettings
) -> None:
    sandbox = Sandbox()
    store = MemoryStore()
    queue = queue_for(sandbox, store)
    code = sandbox.client_code
    async with sandbox, sandbox.client() as client:
        (receipt_id,) = await request(client, sandbox)
        await sandbox.sign(receipt_id)
        await queue.enqueue(redis, code, receipt_id)
        await claim(redis, code, receipt_id, "dead", lease_ms=1)
        await run_burst(queue, redis_settings)

    assert (await record_of(queue, redis, sandbox, receipt_id)).stage is Stage.STORED
    assert sandbox.verify_count(receipt_id) == 1
    assert store.data == {receipt_id: signed_data_of(sandbox)(receipt_id)}


async def test_a_live_lease_is_waited_out(
    redis: ArqRedis, redis_settings: RedisSettings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="arq.worker")
    sandbox = Sandbox()
    store = MemoryStore()
    queue = queue_for(sandbox, store)
    code = sandbox.client_code
    async with sandbox, sandbox.client() as client:
        (receipt_id,) = await request(client, sandbox)
        await sandbox.sign(receipt_id)
        await queue.enqueue(redis, code, receipt_id)
        await claim(redis, code, receipt_id, "busy", lease_ms=300)
        await run_burst(queue, redis_settings)

    # The first run found the owner's lease running and went back to the queue for it.
    deferrals = [float(m) for m in re.findall(r"retrying job in ([\d.]+)s", caplog.text)]
    assert deferrals
    assert 0.1 < deferrals[0] <= 0.36
    assert (await record_of(queue, redis, sandbox, receipt_id)).stage is Stage.STORED
    assert sandbox.verify_count(receipt_id) == 1


async def test_a_lost_verify_answer_is_outcome_unknown(
    redis: ArqRedis, redis_settings: RedisSettings
) -> None:
    # The sandbox verifies, then breaks the connection halfway through the answer.
    sandbox = Sandbox(sign_after=0, faults=[Fault(action="drop", endpoints={"verify"})])
    store = MemoryStore()
    queue = queue_for(sandbox, store)
    async with sandbox, sandbox.client() as client:
        (receipt_id,) = await request(client, sandbox)
        await queue.enqueue(redis, sandbox.client_code, receipt_id)
        await run_burst(queue, redis_settings)

    record = await record_of(queue, redis, sandbox, receipt_id)
    assert record.stage is Stage.OUTCOME_UNKNOWN
    assert record.verify_dt == verify_dt(sandbox, receipt_id) is not None
    assert record.error is not None
    assert "answer was lost" in record.error
    assert sandbox.verify_count(receipt_id) == 1
    assert store.calls == []


async def test_a_gateway_error_instead_of_the_verify_is_verified_again(
    redis: ArqRedis, redis_settings: RedisSettings
) -> None:
    # A 503 page answers the first verify before it reaches the service: the client
    # cannot tell, so it is an unknown outcome; verify_dt stays unset, so it is retried.
    fault = Fault(action="error", endpoints={"verify"}, times=1)
    sandbox = Sandbox(sign_after=0, faults=[fault])
    store = MemoryStore()
    queue = queue_for(sandbox, store)
    async with sandbox, sandbox.client() as client:
        (receipt_id,) = await request(client, sandbox)
        await queue.enqueue(redis, sandbox.client_code, receipt_id)
        await run_burst(queue, redis_settings)

    assert (await record_of(queue, redis, sandbox, receipt_id)).stage is Stage.STORED
    assert sandbox.stats["verify"] == 2
    assert sandbox.verify_count(receipt_id) == 1  # the first never reached the receipt
    assert store.data == {receipt_id: signed_data_of(sandbox)(receipt_id)}


class CheckingStore(MemoryStore):
    """Fails at first; every call finds the signed data already held in the record."""

    def __init__(self, queue: list[ReceiptQueue], failures: int) -> None:
        super().__init__(failures)
        self.queue = queue
        self.held: list[Record | None] = []

    async def __call__(self, ctx: dict[Any, Any], signed: Signed) -> None:
        queue = self.queue[0]
        self.held.append(await queue.record(ctx["redis"], signed.client_code, signed.receipt_id))
        await super().__call__(ctx, signed)


async def test_a_failing_store_keeps_the_data_in_the_record_and_is_retried(
    redis: ArqRedis, redis_settings: RedisSettings
) -> None:
    sandbox = Sandbox(sign_after=0)
    holder: list[ReceiptQueue] = []
    store = CheckingStore(holder, failures=2)
    queue = queue_for(sandbox, store)
    holder.append(queue)
    async with sandbox, sandbox.client() as client:
        (receipt_id,) = await request(client, sandbox)
        await queue.enqueue(redis, sandbox.client_code, receipt_id)
        await run_burst(queue, redis_settings)

    data = signed_data_of(sandbox)(receipt_id)
    assert store.calls == [receipt_id] * 3
    assert [(r.stage, r.signed_data) for r in store.held if r] == [(Stage.VERIFIED, data)] * 3
    assert [r.store_failures for r in store.held if r] == [0, 1, 2]
    assert store.data == {receipt_id: data}
    record = await record_of(queue, redis, sandbox, receipt_id)
    assert (record.stage, record.signed_data, record.error) == (Stage.STORED, None, None)
    assert sandbox.verify_count(receipt_id) == 1


async def test_a_store_that_never_works_leaves_the_data_in_the_record(
    redis: ArqRedis, redis_settings: RedisSettings, caplog: pytest.LogCaptureFixture
) -> None:
    sandbox = Sandbox(sign_after=0)
    broken = MemoryStore(failures=1000)
    queue = queue_for(sandbox, broken, store_attempts=2)
    code = sandbox.client_code
    async with sandbox, sandbox.client() as client:
        (receipt_id,) = await request(client, sandbox)
        await queue.enqueue(redis, code, receipt_id)
        await run_burst(queue, redis_settings)
        data = signed_data_of(sandbox)(receipt_id)

        assert broken.calls == [receipt_id] * 2
        record = await record_of(queue, redis, sandbox, receipt_id)
        assert (record.stage, record.signed_data, record.store_failures) == (
            Stage.VERIFIED,
            data,
            2,
        )
        assert record.error == "store failed: OSError (see the worker's log)"
        assert "the store failed 2 times" in caplog.text  # the job failed: StoreFailed
        assert data not in caplog.text
        assert await queue.needs_attention(redis) == [record]
        assert not await queue.dismiss(redis, code, receipt_id)  # held data is never dismissed
        assert data not in repr(record)

        # Enqueued again once the store works: stored, and still one verify.
        working = MemoryStore()
        queue = queue_for(sandbox, working, store_attempts=2)
        assert await queue.enqueue(redis, code, receipt_id)
        await run_burst(queue, redis_settings)

    assert working.data == {receipt_id: data}
    assert (await record_of(queue, redis, sandbox, receipt_id)).stage is Stage.STORED
    assert await queue.needs_attention(redis) == []
    assert sandbox.verify_count(receipt_id) == 1


async def test_a_refused_verify_is_tried_three_times_then_failed(
    redis: ArqRedis, redis_settings: RedisSettings
) -> None:
    # An App to App receipt verified without its signature is refused every time
    # (such receipts are for your app to verify; here they make a refusal).
    sandbox = Sandbox(sign_after=0)
    store = MemoryStore()
    queue = queue_for(sandbox, store)
    code = sandbox.client_code
    async with sandbox, sandbox.client() as client:
        receipt = await client.request_esign(code, _request(), app_to_app=True)
        receipt_id = receipt.receipt_id
        await queue.enqueue(redis, code, receipt_id)
        await run_burst(queue, redis_settings)
        record = await record_of(queue, redis, sandbox, receipt_id)
        assert record.stage is Stage.FAILED
        assert record.error is not None
        assert record.error.startswith("verify: [-11040007]")
        assert sandbox.verify_count(receipt_id) == 3
        assert await queue.needs_attention(redis) == [record]

        # A failed receipt starts again when enqueued again, with its attempts reset.
        assert await queue.enqueue(redis, code, receipt_id)
        await run_burst(queue, redis_settings)
        assert sandbox.verify_count(receipt_id) == 6
    assert store.calls == []


async def test_an_unknown_receipt_fails_without_a_verify(
    redis: ArqRedis, redis_settings: RedisSettings
) -> None:
    sandbox = Sandbox()
    queue = queue_for(sandbox, MemoryStore())
    async with sandbox:
        await queue.enqueue(redis, sandbox.client_code, "000000000000000009")
        await run_burst(queue, redis_settings)
    record = await queue.record(redis, sandbox.client_code, "000000000000000009")
    assert record is not None
    assert record.stage is Stage.FAILED
    assert record.error is not None
    assert "-11040002" in record.error
    assert sandbox.stats["verify"] == 0


async def test_redis_that_lost_its_data_never_causes_a_second_verify(
    redis: ArqRedis, redis_settings: RedisSettings
) -> None:
    sandbox = Sandbox(sign_after=0)
    store = MemoryStore()
    queue = queue_for(sandbox, store)
    code = sandbox.client_code
    async with sandbox, sandbox.client() as client:
        (receipt_id,) = await request(client, sandbox)
        await queue.enqueue(redis, code, receipt_id)
        await run_burst(queue, redis_settings)
        await redis.flushall()  # records and queue gone, as after a Redis without persistence

        assert await queue.enqueue(redis, code, receipt_id)  # say, replayed from a log
        await run_burst(queue, redis_settings)

    record = await record_of(queue, redis, sandbox, receipt_id)
    assert record.stage is Stage.OUTCOME_UNKNOWN
    assert record.verify_dt == verify_dt(sandbox, receipt_id) is not None
    assert sandbox.verify_count(receipt_id) == 1
    assert store.calls == [receipt_id]


async def test_a_long_wait_goes_back_to_the_queue_between_slices(
    redis: ArqRedis, redis_settings: RedisSettings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="arq.worker")
    sandbox = Sandbox(sign_after=0.5)
    queue = queue_for(sandbox, MemoryStore(), wait_slice=0.1)
    async with sandbox, sandbox.client() as client:
        (receipt_id,) = await request(client, sandbox)
        await queue.enqueue(redis, sandbox.client_code, receipt_id)
        await run_burst(queue, redis_settings)

    runs = [int(n) for n in re.findall(r"try=(\d+)", caplog.text)]
    assert max(runs) >= 3
    assert (await record_of(queue, redis, sandbox, receipt_id)).stage is Stage.STORED
    assert sandbox.verify_count(receipt_id) == 1


async def test_shutdown_lets_a_verify_in_flight_finish(
    redis: ArqRedis, redis_settings: RedisSettings
) -> None:
    slow = Fault(action="delay", seconds=0.3, endpoints={"verify"})
    sandbox = Sandbox(sign_after=0, faults=[slow])
    store = MemoryStore()
    queue = queue_for(sandbox, store, verify_lease=5.0)
    async with sandbox, sandbox.client() as client:
        (receipt_id,) = await request(client, sandbox)
        await queue.enqueue(redis, sandbox.client_code, receipt_id)
        settings = queue.settings(
            redis_settings=redis_settings, poll_delay=0.01, handle_signals=False
        )
        worker = arq.Worker(**settings)
        running = asyncio.create_task(worker.async_run())
        for _ in range(1000):
            if sandbox.stats["verify"]:
                break
            await asyncio.sleep(0.005)
        assert sandbox.stats["verify"] == 1  # arrived, answer not sent yet
        await worker.close()  # cancels the job; on_shutdown waits for the verify
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running

    record = await record_of(queue, redis, sandbox, receipt_id)
    assert record.stage is Stage.STORED
    assert store.calls == [receipt_id]
    assert sandbox.verify_count(receipt_id) == 1


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
        functions=[arq.worker.func(theirs, name="theirs")],
        on_startup=their_startup,
        on_shutdown=their_shutdown,
        redis_settings=redis_settings,
    )
    worker = arq.Worker(**settings, handle_signals=False)
    assert sorted(worker.functions) == ["kakaocert_await_esign", "theirs"]
    job = worker.functions["kakaocert_await_esign"]
    assert isinstance(job, arq.worker.Function)
    assert (job.timeout_s, job.keep_result_s, job.max_tries) == (
        queue.job_timeout,
        0,
        10_000,
    )
    assert queue.job_timeout == 60 + 60 + 30 + 60
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


def _request() -> Any:
    from tests._support import make_request

    return make_request()
