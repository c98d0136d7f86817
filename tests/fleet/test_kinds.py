"""Every kind of receipt, of both generations, on the fleet: a real Redis, workers in this
process and the sandbox as the service.

Each kind is waited for, verified once and stored (with the verify's whole answer);
KakaoCert 2.x identity and Barocert sign go through the same exactly-once cases as
e-sign (``test_queue.py``): a verifier that died after or before its verify, a lost
answer, a Redis that lost its data, a job arq dropped, a store that fails. The
sandbox counts every verify that reaches it (refused ones too), per kind.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis

import kakaocert_async
from kakaocert_async import ESignReceipt, MalformedResponse, ValidationError, barocert
from kakaocert_async._models import ESignVerification
from kakaocert_async.arq import (
    BAROCERT_KINDS,
    BAROCERT_MULTI_SIGN,
    BAROCERT_SIGN,
    CMS,
    ESIGN,
    IDENTITY,
    KINDS,
    ReceiptKind,
    ReceiptQueue,
    Signed,
    Stage,
)
from kakaocert_async.arq._records import _Records
from kakaocert_async.sandbox import Fault, Sandbox
from tests.fleet._support import (
    ALL_KINDS,
    MemoryStore,
    Scene,
    expected_verification,
    verify_endpoint,
)

pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning")

MakeScene = Callable[..., Scene]
Kind = ReceiptKind[Any, Any, Any, Any]
ONE_OF_EACH = [IDENTITY, BAROCERT_SIGN]
"""A kind of each generation besides e-sign, for the exactly-once cases."""


def names(kinds: list[Kind]) -> list[str]:
    return [kind.name for kind in kinds]


def signed_of(s: Scene, kind: Kind, receipt_id: str) -> Signed:
    """What the store must receive for a receipt: the sandbox's verify answer, whole."""
    verification = expected_verification(s.sandbox, kind, receipt_id)
    multi = getattr(verification, "multi_signed_data", None)
    return Signed(
        kind=kind.name,
        client_code=s.code,
        receipt_id=receipt_id,
        signed_data=verification.signed_data if multi is None else json.dumps(list(multi)),
        verification=verification,
    )


def verify_dt(s: Scene, kind: Kind, receipt_id: str) -> dt.datetime | None:
    """The receipt's ``verify_dt`` as the service tells it: to the second."""
    when = s.state(kind, receipt_id).verify_dt
    return None if when is None else when.replace(microsecond=0)


async def claim(s: Scene, kind: Kind, receipt_id: str, owner: str, *, lease_ms: int) -> None:
    """What a worker does before its verify: waiting -> verifying, owned for ``lease_ms``."""
    step = await _Records(s.redis, "kakaocert", kind.name).step(
        s.code,
        receipt_id,
        leaving=[Stage.WAITING],
        to=Stage.VERIFYING,
        claim=owner,
        lease_ms=lease_ms,
    )
    assert step.done


@pytest.mark.parametrize("kind", ALL_KINDS, ids=names(list(ALL_KINDS)))
async def test_every_kind_is_waited_for_verified_once_and_stored(
    scene: MakeScene, kind: Kind
) -> None:
    async with scene(Sandbox(sign_after=None), kind=kind) as s:
        signed, expired = await s.request(kind), await s.request(kind)
        s.control(kind).sign(signed.receipt_id)
        s.control(kind).expire(expired.receipt_id)
        for receipt in (signed, expired):
            assert await s.queue.enqueue(s.redis, s.code, receipt)
            # The same receipt again (a retried web request): no second job.
            assert not await s.queue.enqueue(s.redis, s.code, receipt)
        jobs = sorted(str(job.job_id) for job in await s.redis.queued_jobs())
        keys = sorted(f"kakaocert:{kind.name}:{s.code}:{r.receipt_id}" for r in (signed, expired))
        assert jobs == keys
        assert {job.function for job in await s.redis.queued_jobs()} == {
            f"kakaocert_await_{kind.name}"
        }
        await s.work()
        # Final: enqueueing again starts nothing, by the receipt or by its id alone.
        assert not await s.queue.enqueue(s.redis, s.code, signed)
        assert not await s.queue.enqueue(s.redis, s.code, signed.receipt_id)
        assert await s.redis.queued_jobs() == []

        record = await s.queue.record(s.redis, s.code, signed)
        assert record is not None
        assert (record.kind, record.stage, record.signed_data) == (kind.name, Stage.STORED, None)
        assert await s.redis.exists(keys[0])
        assert await s.redis.exists(keys[1])
        gone = await s.queue.record(s.redis, s.code, expired)
        assert gone is not None
        assert gone.stage is Stage.EXPIRED
        assert s.verifies(kind) == 1
        assert s.store.stored == [signed_of(s, kind, signed.receipt_id)]
        assert await s.queue.needs_attention(s.redis) == []


@pytest.mark.parametrize("kinds", [KINDS, BAROCERT_KINDS], ids=["2.x", "barocert"])
async def test_one_queue_serves_every_kind_of_a_generation(
    scene: MakeScene, kinds: tuple[Kind, ...]
) -> None:
    async with scene(Sandbox(sign_after=0), kind=kinds) as s:
        receipts = {kind: await s.request(kind) for kind in kinds}
        for receipt in receipts.values():
            assert await s.queue.enqueue(s.redis, s.code, receipt)
            assert not await s.queue.enqueue(s.redis, s.code, receipt)
        some = next(iter(receipts.values())).receipt_id
        with pytest.raises(ValidationError, match="receipt: must be a receipt of a kind"):
            await s.queue.enqueue(s.redis, s.code, some)  # an id alone names no kind here
        await s.work()
        functions = sorted(f.name for f in s.queue.functions)
        assert functions == sorted(f"kakaocert_await_{kind.name}" for kind in kinds)
        (sweeper,) = s.queue.cron_jobs
        assert sweeper.name == "kakaocert_sweep_" + ",".join(names(list(kinds)))

        for kind, receipt in receipts.items():
            record = await s.queue.record(s.redis, s.code, receipt)
            assert record is not None
            assert (record.kind, record.stage) == (kind.name, Stage.STORED)
            assert s.verifies(kind) == 1
        assert sorted(s.store.stored, key=lambda signed: signed.kind) == sorted(
            (signed_of(s, kind, r.receipt_id) for kind, r in receipts.items()),
            key=lambda signed: signed.kind,
        )


async def test_barocert_receipts_refused_or_failed_are_never_verified(scene: MakeScene) -> None:
    async with scene(Sandbox(sign_after=None), kind=BAROCERT_SIGN) as s:
        refused, failed = await s.request(BAROCERT_SIGN), await s.request(BAROCERT_SIGN)
        s.sandbox.barocert.refuse(refused.receipt_id)
        s.sandbox.barocert.fail(failed.receipt_id)
        for receipt in (refused, failed):
            assert await s.queue.enqueue(s.redis, s.code, receipt)
        await s.work()

        was_refused = await s.queue.record(s.redis, s.code, refused)
        was_failed = await s.queue.record(s.redis, s.code, failed)
        assert was_refused is not None
        assert was_failed is not None
        assert (was_refused.stage, was_refused.error) == (Stage.REFUSED, None)
        assert was_refused.stage.is_final
        assert was_failed.stage is Stage.FAILED
        assert was_failed.error == "the service says <State.FAILED: 4>: nothing to verify"
        assert s.verifies(BAROCERT_SIGN) == 0
        assert s.store.calls == []
        # Refused is an answer, kept like an expired one; a failed signature is listed.
        assert await s.queue.needs_attention(s.redis) == [was_failed]
        assert await s.redis.ttl(f"kakaocert:barocert.sign:{s.code}:{refused.receipt_id}") > 0


@pytest.mark.parametrize("kind", ONE_OF_EACH, ids=names(ONE_OF_EACH))
async def test_a_dead_verifier_whose_verify_went_through_is_outcome_unknown(
    scene: MakeScene, kind: Kind
) -> None:
    async with scene(Sandbox(sign_after=None), kind=kind) as s:
        receipt = await s.request(kind)
        s.control(kind).sign(receipt.receipt_id)
        assert await s.queue.enqueue(s.redis, s.code, receipt)
        # A worker claimed it, sent the verify, and died before writing the answer down.
        await claim(s, kind, receipt.receipt_id, "dead", lease_ms=1)
        await s.verify(kind, receipt)
        await s.work()

        record = await s.queue.record(s.redis, s.code, receipt)
        assert record is not None
        assert record.stage is Stage.OUTCOME_UNKNOWN
        assert record.verify_dt is not None
        assert record.verify_dt == verify_dt(s, kind, receipt.receipt_id)
        assert s.verifies(kind) == 1  # never verified twice
        assert s.store.calls == []
        assert await s.queue.needs_attention(s.redis) == [record]


@pytest.mark.parametrize("kind", ONE_OF_EACH, ids=names(ONE_OF_EACH))
async def test_a_dead_verifier_whose_verify_never_went_through_is_verified_once(
    scene: MakeScene, kind: Kind
) -> None:
    async with scene(Sandbox(sign_after=None), kind=kind) as s:
        receipt = await s.request(kind)
        s.control(kind).sign(receipt.receipt_id)
        assert await s.queue.enqueue(s.redis, s.code, receipt)
        await claim(s, kind, receipt.receipt_id, "dead", lease_ms=1)
        await s.work()

        record = await s.queue.record(s.redis, s.code, receipt)
        assert record is not None
        assert record.stage is Stage.STORED
        assert s.verifies(kind) == 1
        assert s.store.stored == [signed_of(s, kind, receipt.receipt_id)]


@pytest.mark.parametrize("kind", ONE_OF_EACH, ids=names(ONE_OF_EACH))
async def test_a_lost_verify_answer_is_outcome_unknown(scene: MakeScene, kind: Kind) -> None:
    # The sandbox verifies, then breaks the connection halfway through the answer.
    dropped = Fault(action="drop", endpoints={verify_endpoint(kind)})
    async with scene(Sandbox(sign_after=0, faults=[dropped]), kind=kind) as s:
        receipt = await s.worked(kind)

        record = await s.queue.record(s.redis, s.code, receipt)
        assert record is not None
        assert record.stage is Stage.OUTCOME_UNKNOWN
        assert record.verify_dt == verify_dt(s, kind, receipt.receipt_id) is not None
        assert record.error is not None
        assert "answer was lost" in record.error
        assert s.verifies(kind) == 1
        assert s.store.calls == []


@pytest.mark.parametrize("readable", [True, False], ids=["readable", "unreadable"])
@pytest.mark.parametrize("kind", [ESIGN, BAROCERT_SIGN], ids=names([ESIGN, BAROCERT_SIGN]))
async def test_a_verify_answer_that_comes_after_its_timeout_is_kept(
    scene: MakeScene,
    kind: Kind,
    readable: bool,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The worker's client reaches the service through an httpx.AsyncClient whose own
    # timeouts are longer than the SDK's: the verify times out (outcome unknown), and
    # httpx goes on reading its answer, which comes 0.6 s after it was sent. That
    # answer is the only copy of the signed data: stored, not dropped; kept in the
    # record if the client cannot read it (a shape it does not know), as it is in time.
    if not readable:

        def unreadable(answer: bytes, cls: type[Any], *, about: str, label: str) -> Any:
            raise MalformedResponse(f"{label}: not a shape it knows", http_status=200)

        client_class = barocert.Client if kind in BAROCERT_KINDS else kakaocert_async.Client
        monkeypatch.setattr(client_class, "_decode_verification", staticmethod(unreadable))
    slow = Fault(action="delay", seconds=0.6, endpoints={verify_endpoint(kind)}, times=1)
    sandbox = Sandbox(sign_after=0, faults=[slow])
    cls = barocert.Client if kind in BAROCERT_KINDS else kakaocert_async.Client
    http_client = httpx.AsyncClient()  # httpx's own timeouts: 5 s
    unclaimed: list[kakaocert_async.UnclaimedAnswer] = []
    async with sandbox.serve() as url, http_client:

        def served_client() -> Any:
            return cls(
                sandbox.link_id,
                sandbox.secret_key,
                base_url=url,
                auth_url=url,
                timeout=0.2,
                http_client=http_client,
                on_unclaimed=unclaimed.append,  # the application's own hook
            )

        async with scene(sandbox, kind=kind, client=served_client, timeout=0.2) as s:
            receipt = await s.worked(kind)

            record = await s.queue.record(s.redis, s.code, receipt)
            assert record is not None
            assert s.verifies(kind) == 1
            signed = signed_of(s, kind, receipt.receipt_id)
            if readable:
                assert record.stage is Stage.STORED
                assert s.store.stored == [signed]
                assert await s.queue.needs_attention(s.redis) == []
                assert "verify's answer came late; it is stored" in caplog.text
            else:
                assert record.stage is Stage.OUTCOME_UNKNOWN
                assert record.raw_answer is not None
                assert signed.signed_data in record.raw_answer
                assert s.store.calls == []
                assert "verify's answer came late, unreadable; it is kept" in caplog.text
    assert unclaimed == []  # taken by the fleet, not left to the application's hook


async def test_the_fleet_leaves_other_unclaimed_answers_to_the_clients_own_hook(
    scene: MakeScene,
) -> None:
    async with scene(Sandbox()) as s:
        unclaimed: list[kakaocert_async.UnclaimedAnswer] = []
        client = s.sandbox.client(on_unclaimed=unclaimed.append)
        ctx: dict[Any, Any] = {}
        queue = ReceiptQueue(client=lambda: client, store=s.store)
        await queue.on_startup(ctx)
        try:
            # A request's receipt whose caller had gone: not a verify the fleet awaits.
            receipt = kakaocert_async.ESignReceipt(receipt_id="1")
            answer = kakaocert_async.UnclaimedAnswer(
                call="POST /SignToken/RequestESign", receipt_id="1", result=receipt, error=None
            )
            client._on_unclaimed(answer)
            assert unclaimed == [answer]
        finally:
            await queue.on_shutdown(ctx)


@pytest.mark.parametrize("kind", ONE_OF_EACH, ids=names(ONE_OF_EACH))
async def test_redis_that_lost_its_data_never_causes_a_second_verify(
    scene: MakeScene, kind: Kind
) -> None:
    async with scene(Sandbox(sign_after=0), kind=kind) as s:
        receipt = await s.worked(kind)
        await s.redis.flushall()  # records and queue gone, as after a Redis without persistence

        assert await s.queue.enqueue(s.redis, s.code, receipt)  # say, replayed from a log
        await s.work()

        record = await s.queue.record(s.redis, s.code, receipt)
        assert record is not None
        assert record.stage is Stage.OUTCOME_UNKNOWN
        assert record.verify_dt == verify_dt(s, kind, receipt.receipt_id) is not None
        assert s.verifies(kind) == 1
        assert s.store.calls == [receipt.receipt_id]


@pytest.mark.parametrize("kind", ONE_OF_EACH, ids=names(ONE_OF_EACH))
async def test_a_receipt_whose_job_arq_dropped_is_swept_back(scene: MakeScene, kind: Kind) -> None:
    async with scene(Sandbox(sign_after=0), kind=kind) as s:
        dropped, kept = await s.request(kind), await s.request(kind)
        for receipt in (dropped, kept):
            assert await s.queue.enqueue(s.redis, s.code, receipt)
        job_id = s.queue.job_id(s.code, dropped)
        assert job_id == f"kakaocert:{kind.name}:{s.code}:{dropped.receipt_id}"
        await s.redis.delete(f"arq:job:{job_id}")
        await s.redis.zrem("arq:queue", job_id)

        assert await s.queue.sweep(s.redis, older_than=0) == [dropped.receipt_id]
        assert await s.queue.sweep(s.redis, older_than=0) == []
        await s.work()

        for receipt in (dropped, kept):
            record = await s.queue.record(s.redis, s.code, receipt)
            assert record is not None
            assert record.stage is Stage.STORED
        assert s.verifies(kind) == 2


@pytest.mark.parametrize(
    "kind", [*ONE_OF_EACH, BAROCERT_MULTI_SIGN], ids=names([*ONE_OF_EACH, BAROCERT_MULTI_SIGN])
)
async def test_a_failing_store_keeps_the_whole_answer_in_the_record(
    scene: MakeScene, kind: Kind
) -> None:
    async with scene(
        Sandbox(sign_after=0), MemoryStore(failures=1000), kind=kind, store_attempts=1
    ) as s:
        receipt = await s.worked(kind)
        expected = signed_of(s, kind, receipt.receipt_id)

        held = await s.queue.record(s.redis, s.code, receipt)
        assert held is not None
        assert (held.stage, held.signed_data) == (Stage.VERIFIED, expected.signed_data)
        assert held.verification is not None
        assert expected.signed_data not in repr(held)
        assert await s.queue.needs_attention(s.redis) == [held]

        # Stored by a later run, from the record alone: the whole answer, as verified.
        s.store.failures = 0
        assert await s.queue.enqueue(s.redis, s.code, receipt)
        await s.work()
        stored = await s.queue.record(s.redis, s.code, receipt)
        assert stored is not None
        assert (stored.stage, stored.signed_data, stored.verification) == (Stage.STORED, None, None)
        assert s.store.stored == [expected]
        assert s.verifies(kind) == 1


async def test_data_held_by_the_release_before_is_stored(scene: MakeScene) -> None:
    # A record an earlier release left verified (its store failing): the signed data
    # alone, no whole answer; its key and job id are the same as ever.
    async with scene(Sandbox(sign_after=None)) as s:
        receipt_id = await s.receipt(sign=True, enqueue=False)
        await s.client.verify(s.code, ESignReceipt(receipt_id=receipt_id))
        key = f"kakaocert:esign:{s.code}:{receipt_id}"
        await s.redis.hset(
            key,
            mapping={
                "kind": "esign",
                "client_code": s.code,
                "receipt_id": receipt_id,
                "stage": "verified",
                "created_at": "1",
                "updated_at": "1",
                "signed_data": s.signed_data(receipt_id),
                "store_failures": "5",
            },
        )
        assert await s.queue.enqueue(s.redis, s.code, receipt_id)
        await s.work()

    assert (await s.record(receipt_id)).stage is Stage.STORED
    verification = ESignVerification(receipt_id=receipt_id, signed_data=s.signed_data(receipt_id))
    assert s.store.stored == [
        Signed(
            kind="esign",
            client_code=s.code,
            receipt_id=receipt_id,
            signed_data=s.signed_data(receipt_id),
            verification=verification,
        )
    ]
    assert s.sandbox.verify_count(receipt_id) == 1


async def test_a_barocert_verify_too_late_fails_at_once(scene: MakeScene) -> None:
    # Completed 11 minutes before a worker gets to it (a fleet that was down): Barocert
    # answers a verify only within 10 minutes of the signature. One verify, refused;
    # failed at once (no second try can succeed), its error saying why.
    shift = [0.0]
    sandbox = Sandbox(sign_after=None, clock=lambda: time.time() + shift[0])
    async with scene(sandbox, kind=BAROCERT_SIGN) as s:
        receipt = await s.request(BAROCERT_SIGN)
        s.control(BAROCERT_SIGN).sign(receipt.receipt_id)
        shift[0] = 660.0
        assert await s.queue.enqueue(s.redis, s.code, receipt)
        await s.work()

        record = await s.queue.record(s.redis, s.code, receipt)
        assert record is not None
        assert record.stage is Stage.FAILED
        assert record.error is not None
        assert record.error.startswith("verify: ")
        assert "verify comes too late" in record.error
        assert s.verifies(BAROCERT_SIGN) == 1
        assert s.store.calls == []


async def test_the_client_must_be_of_the_kinds_generation(scene: MakeScene) -> None:
    sandbox = Sandbox()
    store = MemoryStore()
    wrong = [
        ReceiptQueue(client=sandbox.client, store=store, kind=BAROCERT_SIGN),
        ReceiptQueue(client=sandbox.barocert_client, store=store, kind=IDENTITY),
        ReceiptQueue(client=lambda: sandbox.client().for_client(), store=store),
    ]
    for queue in wrong:
        with pytest.raises(ValidationError, match=r"\] client: must return a kakaocert_async"):
            await queue.on_startup({})
    await sandbox.aclose()


async def test_the_default_lease_fits_the_default_barocert_client() -> None:
    sandbox = Sandbox()
    queue = ReceiptQueue(client=sandbox.barocert_client, store=MemoryStore(), kind=BAROCERT_KINDS)
    assert queue.verify_lease == 300.0
    with kakaocert_async.set_testing(False):  # the backoff counts, as in production
        await queue.on_startup({})
        # A signed POST: four exchanges a pass, 28 of the client's 10 s, and the backoff.
        with pytest.raises(ValidationError, match=r"at least 281\.9 s, or the client's timeout"):
            await ReceiptQueue(
                client=sandbox.barocert_client,
                store=MemoryStore(),
                kind=BAROCERT_SIGN,
                verify_lease=281.8,
            ).on_startup({})
    await sandbox.aclose()


async def test_receipts_and_kinds_a_queue_does_not_serve_are_validation_errors(
    redis: ArqRedis,
) -> None:
    esign = ReceiptQueue()
    sign = barocert.Receipt(receipt_id="1" * 32, kind=barocert.Kind.SIGN)
    with pytest.raises(ValidationError, match=r"serves \(esign\), got Receipt"):
        await esign.enqueue(redis, "020040000001", sign)
    baro = ReceiptQueue(kind=BAROCERT_SIGN)
    with pytest.raises(ValidationError, match="receipt: must be a receipt of a kind"):
        await baro.enqueue(redis, "020040000001", barocert.Receipt(receipt_id="1" * 32))
    with pytest.raises(ValidationError, match="receipt_id: must be exactly 32 digits"):
        await baro.enqueue(redis, "020040000001", "1" * 18)
    assert baro.job_id("020040000001", sign) == f"kakaocert:barocert.sign:020040000001:{'1' * 32}"
    assert repr(ReceiptQueue(kind=[ESIGN, CMS])) == (
        "<ReceiptQueue kind='esign,cms' prefix='kakaocert'"
        " function='kakaocert_await_esign,kakaocert_await_cms'>"
    )
    with pytest.raises(ValidationError, match="kind: must be of one generation"):
        ReceiptQueue(kind=[ESIGN, BAROCERT_SIGN])
    for bad in ([], "esign", [object()]):
        with pytest.raises(ValidationError, match="kind: must be a kind"):
            ReceiptQueue(kind=bad)  # type: ignore[arg-type]
    assert await redis.keys("*") == []  # checked before Redis is touched
