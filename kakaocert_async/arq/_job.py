"""One run of the job on one receipt: wait a slice, verify once, hold the data, store it."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import arq
import attrs
from arq.typing import WorkerCoroutine
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from kakaocert_async import _validation, _wire, barocert
from kakaocert_async._client import Client
from kakaocert_async._connection import UnclaimedAnswer
from kakaocert_async._errors import (
    KakaocertError,
    RawAnswer,
    ServiceUnreachable,
    SignTimeout,
    ValidationError,
    VerifyOutcomeUnknown,
)
from kakaocert_async._kinds import ESIGN, AnyKind
from kakaocert_async._models import _length_only
from kakaocert_async._polling import DEFAULT_INTERVAL
from kakaocert_async._secret import total_repr
from kakaocert_async.barocert import State, VerifyTooLate

from ._records import (
    _ANY_BUT_STORED,
    _OWNERSHIP,
    ALL_KINDS,
    Record,
    Stage,
    _Records,
    _Step,
)

log = logging.getLogger("kakaocert_async.arq")

PREFIX = "kakaocert"
"""The start of every Redis key and job id this module makes."""
VERIFY_LEASE = {"2.x": 240.0, "barocert": 300.0}
"""The default ``verify_lease`` per generation: over a verify with the default client
(211.9 s for 2.x's GET, 281.9 s for Barocert's signed POST)."""
MAX_TRIES = 10_000
"""arq's limit on a job's runs: every slice and retry is a run; the record sets the real limits."""
PENDING_AFTER_EXPIRY = 60.0
"""Seconds a receipt may stay pending past its ``expire_dt`` before the wait is given up."""
UNREADABLE_FOR = 1000.0 + 600.0
"""Seconds after enqueueing to give up on a receipt whose state cannot be read: the longest
a request lives, plus the ten minutes the service gives for a verify after signing."""
VERIFY_FAILURES = 3
"""Verifies refused (or never sent) before the receipt is failed."""
SLICE_OVERRUN = 1.5
"""A wait slice still running at this many times its length is cut (and the job requeued)."""
REDIS_BACKOFF = (0.05, 1.0)
"""First and longest wait between attempts at Redis after a verify (seconds)."""


@attrs.frozen(kw_only=True)
class Signed:
    """What the store callback receives: a receipt's signed data, verified once.

    Attributes:
        kind: The kind's name: ``esign``, ``identity``, ``cms``, ``barocert.sign``, ...
        client_code: The client code (이용기관코드) the receipt was enqueued with.
        receipt_id: The receipt's id: the key to store it by (the store must be
            idempotent by it).
        signed_data: The signed data; a multi-sign's is a JSON array, one per document.
            Shown in reprs by its length only.
        verification: The verify's whole answer, as the client returns it
            (``ESignVerification``, ``barocert.Verification``,
            ``barocert.MultiSignVerification``, ...): Barocert's carries the receiver's
            encrypted ``ci`` and fields besides the signed data.
    """

    kind: str
    client_code: str
    receipt_id: str
    signed_data: str = attrs.field(repr=_length_only)
    verification: Any = None


class StoreFailed(Exception):
    """The store callback failed ``store_attempts`` times; the signed data stays in the record.

    ``receipt_id`` names the receipt; enqueue it again to retry the store.
    """

    receipt_id: str

    def __init__(self, message: str, *, receipt_id: str) -> None:
        """Raised by the job, which arq then ends; make one in a test of your own handling.

        Args:
            message: The receipt, how many times the store failed and the last error's type.
            receipt_id: The receipt whose signed data the store never took.
        """
        super().__init__(message)
        self.receipt_id = receipt_id


ClientFactory = Callable[[], Client | barocert.Client]
"""Makes the worker process's client, at start-up: a :class:`~kakaocert_async.Client` for
KakaoCert 2.x's kinds, a :class:`~kakaocert_async.barocert.Client` for Barocert's."""
Store = Callable[[dict[Any, Any], Signed], Awaitable[None]]
"""``await store(ctx, signed)``: keep the signed data (arq's ``ctx``: your own resources too)."""


@attrs.define
class _Process:
    """What one worker process holds: its client, the store callback, the verifies in
    flight, and the receipts whose verify's answer was lost but may still come."""

    client: Client | barocert.Client
    store: Store
    in_flight: set[asyncio.Task[Any]] = attrs.Factory(set)
    late: dict[str, _Work] = attrs.Factory(dict)
    """By receipt id: through httpx's own pool, a verify that timed out goes on being
    read, and its answer, if it comes, is handed to the client's ``on_unclaimed``."""
    _unclaimed: Callable[[UnclaimedAnswer], object] = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        # The client's own hook (yours, or the SDK's warning) keeps all but those answers.
        self._unclaimed, self.client._on_unclaimed = self.client._on_unclaimed, self.unclaimed

    def keep(self, task: asyncio.Task[Any]) -> None:
        """Keep ``task`` in :attr:`in_flight` (which ``on_shutdown`` waits for) until it ends."""
        self.in_flight.add(task)
        task.add_done_callback(self.in_flight.discard)

    def unclaimed(self, answer: UnclaimedAnswer) -> None:
        """The client's ``on_unclaimed``: the late answer of a verify in :attr:`late` is
        taken as if it had come in time (see :meth:`_Work.take_late`)."""
        work = self.late.pop(answer.receipt_id or "", None)
        raw = getattr(answer.error, "raw_answer", None)  # it came, but could not be read
        if work is None or (answer.result is None and raw is None):
            self._unclaimed(answer)
            return
        self.keep(asyncio.ensure_future(work.take_late(answer.result, raw)))


class _Job:
    """A queue's settings, checked, and its job: what a run reads of its queue. The public
    class, ``_queue.ReceiptQueue``, documents the arguments."""

    def __init__(
        self,
        *,
        client: ClientFactory | None = None,
        store: Store | None = None,
        kind: AnyKind | Iterable[AnyKind] = ESIGN,
        prefix: str = PREFIX,
        queue_name: str | None = None,
        interval: float | None = None,
        wait_slice: float = 60.0,
        verify_lease: float | None = None,
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
        kinds = tuple(kind) if isinstance(kind, Iterable) else (kind,)
        if not kinds or any(k not in ALL_KINDS for k in kinds):
            raise ValidationError("kind", "must be a kind (ESIGN, BAROCERT_SIGN, ...) or kinds")
        if len({k.generation for k in kinds}) > 1:
            raise ValidationError(
                "kind", "must be of one generation, 2.x or Barocert: a worker runs a queue of each"
            )
        _validation.check_text("prefix", prefix, max_length=100)
        if queue_name is not None:
            _validation.check_text("queue_name", queue_name, max_length=200)
        for name, seconds, at_least in (
            ("interval", interval, 0.01),
            ("wait_slice", wait_slice, 0.0),
            ("verify_lease", verify_lease, 0.0),
            ("store_timeout", store_timeout, 0.0),
            ("store_backoff", store_backoff, 0.0),
            ("redis_patience", redis_patience, 0.0),
            ("record_ttl", record_ttl, 1.0),
        ):
            if seconds is not None:  # interval, verify_lease and record_ttl may be None
                _validation.check_seconds(seconds, name, at_least=at_least)
        # Every store attempt is a run of the job, and arq runs a job at most MAX_TRIES times.
        _validation.check_count(store_attempts, "store_attempts", at_most=MAX_TRIES)
        self.kinds: tuple[AnyKind, ...] = tuple(dict.fromkeys(kinds))
        """The kinds it serves."""
        self.kind = self.kinds[0]
        """Its kind (the first, if it serves several)."""
        self._names = ",".join(k.name for k in self.kinds)
        self.prefix = prefix
        self.queue_name = queue_name
        self.interval = interval
        self.wait_slice = float(wait_slice)
        self.verify_lease = float(verify_lease or VERIFY_LEASE[self.kind.generation])
        self.store_timeout = float(store_timeout)
        self.store_attempts = store_attempts
        self.store_backoff = float(store_backoff)
        self.record_ttl = None if record_ttl is None else int(record_ttl)
        self.redis_patience = float(redis_patience)
        self._make_client = client
        self._store = store
        self._ctx_key = f"{prefix}.{self._names}.process"

    def _job(self, kind: AnyKind) -> WorkerCoroutine:
        """The job of ``kind``: move a receipt's record on until it is final; answers its
        stage.

        Raises ``arq.Retry`` to go back to the queue: at the end of a wait slice, while
        another worker's lease runs, and after a failure that may pass.
        """

        async def job(ctx: dict[Any, Any], client_code: str, receipt_id: str) -> str:
            work = _Work(self, ctx, kind, client_code, receipt_id)
            try:
                record = await work.records.load(client_code, receipt_id)
                if record is None:  # enqueued by hand, or the record was lost
                    await work.records.create(client_code, receipt_id)
                    record = await work.load()
                while not record.stage.is_final:  # each pass moves the record on, or ends the run
                    record = await _NEXT[record.stage](work, record)
                return record.stage.value
            except RedisError as exc:
                # Before a verify: nothing is lost, the job runs again once Redis is back.
                log.warning("receipt %s: Redis failed (%s); the job runs again", receipt_id, exc)
                raise arq.Retry(defer=1.0) from exc

        return job


_FINISHED = {
    Stage.OUTCOME_UNKNOWN: (logging.ERROR, "needs attention: outcome unknown: "),
    Stage.FAILED: (logging.WARNING, "failed: "),
}
"""The final stages someone must look at: how they are logged."""


class _Work:
    """One run of the job on one receipt."""

    def __init__(
        self, queue: _Job, ctx: dict[Any, Any], kind: AnyKind, client_code: str, receipt_id: str
    ) -> None:
        self.queue = queue
        self.kind = kind
        self.ctx = ctx
        self.process: _Process = ctx[queue._ctx_key]
        self.records = _Records(ctx["redis"], queue.prefix, kind.name)
        self.step = functools.partial(self.records.step, client_code, receipt_id)
        self.client_code = client_code
        self.receipt_id = receipt_id
        # The receipt the client's operations take, rebuilt from its id as a request
        # returns it (a Barocert receipt knows its kind).
        self.receipt = self.process.client._received(kind, kind.receipt(receipt_id=receipt_id))

    async def load(self) -> Record:
        record = await self.records.load(self.client_code, self.receipt_id)
        if record is None:
            raise RedisConnectionError("the record vanished (was Redis emptied?)")
        return record

    async def finish(self, to: Stage, *, owner: str | None = None, **fields: str) -> Record:
        """Into a final stage, from verifying under ``owner`` or else from waiting, logged:
        the kept ones expire, the ones to look at join the list."""
        level, what = _FINISHED.get(to, (logging.INFO, to.value))
        log.log(level, "receipt %s %s%s", self.receipt_id, what, fields.get("error", ""))
        attention = to in _FINISHED
        ttl = None if attention else self.queue.record_ttl
        await self._let_go(to, owner, set=fields or None, ttl=ttl, attention=attention)
        return await self.load()

    async def _let_go(self, to: Stage, owner: str | None, **options: Any) -> None:
        """From waiting, or from verifying under ``owner``, into ``to``, owned by none."""
        leaving = [Stage.WAITING if owner is None else Stage.VERIFYING]
        await self.step(leaving=leaving, to=to, owner=owner, **options, **{"del": _OWNERSHIP})

    # waiting -----------------------------------------------------------------------

    async def wait(self, record: Record) -> Record:
        queue, client, code = self.queue, self.process.client, self.client_code
        # Until final: Barocert's completed, expired, refused or failed; 2.x's signed or expired.
        wait: Callable[..., Awaitable[Any]] = (
            client.await_completed if isinstance(client, barocert.Client) else client.await_signed
        )
        waiting = wait(code, self.receipt, timeout=queue.wait_slice, interval=queue.interval)
        try:
            status = await asyncio.wait_for(waiting, SLICE_OVERRUN * queue.wait_slice)
        except (SignTimeout, ServiceUnreachable) as exc:
            return await self._still_pending(record, exc)
        except asyncio.TimeoutError:
            # The slice overran its deadline (an overloaded process): back to the queue now,
            # rather than be failed by arq's job timeout. Nothing was sent but state reads.
            raise arq.Retry(defer=0) from None
        except KakaocertError as exc:  # refused: an unknown receipt, bad credentials, ...
            return await self.finish(Stage.FAILED, error=str(exc))
        # 2.x's SignState shares Barocert's numbers: 1 signed (completed), 2 expired.
        state = status.state
        final = {State.EXPIRED: Stage.EXPIRED, State.REFUSED: Stage.REFUSED}.get(state)
        if final is not None:
            return await self.finish(final)
        if state != State.COMPLETED:  # Barocert's FAILED, or unknown
            why = f"the service says {state!r}: nothing to verify"
            return await self.finish(Stage.FAILED, error=why)
        if status.verify_dt is not None:
            # Verified, but not by this fleet's record: a verify elsewhere, or a record
            # lost with a Redis that kept no data. Never a second verify.
            why = (
                "the service says this receipt was verified (verify_dt is set) before this"
                " job verified it; its signed data is not in this record"
            )
            verify_dt = status.verify_dt.isoformat()
            return await self.finish(Stage.OUTCOME_UNKNOWN, verify_dt=verify_dt, error=why)
        return await self.verify()

    async def _still_pending(self, record: Record, exc: SignTimeout | ServiceUnreachable) -> Record:
        last = exc.last_status if isinstance(exc, SignTimeout) else None
        if last is None or exc.__cause__ is not None:
            # The last reads failed: nothing is known since the last one that worked (the
            # receipt may have been signed just before it expired), so nothing is given
            # up until its state has been unreadable for a long time.
            if time.time() - record.created_at.timestamp() > UNREADABLE_FOR:
                why = f"its state could not be read for {UNREADABLE_FOR:.0f} s: {exc}"
                return await self.finish(Stage.FAILED, error=why)
            raise arq.Retry(defer=self.queue.interval or DEFAULT_INTERVAL) from exc
        expire_dt = last.expire_dt
        if expire_dt is not None and time.time() > expire_dt.timestamp() + PENDING_AFTER_EXPIRY:
            why = f"still pending {PENDING_AFTER_EXPIRY:.0f} s after it expired"
            return await self.finish(Stage.FAILED, error=why)
        raise arq.Retry(defer=0)  # another slice, on whichever worker takes it

    # verifying ---------------------------------------------------------------------

    async def verify(self) -> Record:
        """Own the receipt (waiting -> verifying), then verify and store it, shielded."""
        lease = self.queue.verify_lease
        owner = await self._claim(Stage.WAITING, Stage.VERIFYING, lease, attention=False)
        # Shielded: neither arq's cancellation at shutdown nor a timeout may cut the
        # verify from the writing of its answer; on_shutdown waits for it.
        task = asyncio.create_task(self._verify_and_store(owner))
        self.process.keep(task)
        return await asyncio.shield(task)

    async def _verify_and_store(self, owner: str) -> Record:
        try:
            verification = await self.process.client.verify(self.client_code, self.receipt)
        except VerifyOutcomeUnknown as exc:
            # Sent, answer lost. Decided when the lease has run out, by verify_dt: by then
            # the request went through or never will. Through httpx's own pool the answer
            # may still come meanwhile (_Process.unclaimed): it is stored then.
            late, receipt_id = self.process.late, self.receipt_id
            late[receipt_id] = self
            forget = functools.partial(late.pop, receipt_id, None)
            asyncio.get_running_loop().call_later(self.queue.verify_lease, forget)
            log.error("receipt %s: %s", receipt_id, exc.message)
            kept = {"error": str(exc)}
            if exc.raw_answer is not None:  # it came, unreadable: the signed data may be in it
                kept["raw_answer"] = exc.raw_answer.text
            await self.step(leaving=[Stage.VERIFYING], to=Stage.VERIFYING, owner=owner, set=kept)
            # Back to the queue: the next run waits out this lease (settle_verifying), then decides.
            raise arq.Retry(defer=0.05) from exc
        except KakaocertError as exc:
            # Refused, or never sent (no token, no connection): this verify consumed nothing.
            # Failed at once if Barocert's 10 minutes passed: no verify ever will.
            error = f"verify: {exc}"
            failures = (await self.load()).verify_failures + 1
            if isinstance(exc, VerifyTooLate) or failures >= VERIFY_FAILURES:
                return await self.finish(Stage.FAILED, owner=owner, error=error)
            log.warning("receipt %s: verify failed (%s); it is tried again", self.receipt_id, exc)
            await self._let_go(Stage.WAITING, owner, set={"error": error}, incr="verify_failures")
            raise arq.Retry(defer=self.queue.interval or DEFAULT_INTERVAL) from exc
        return await self._store(self._signed(verification), owner, held=False)

    async def take_late(self, verification: Any, raw: RawAnswer | None) -> None:
        """The answer of this receipt's verify that came after the verify timed out (its
        record says still verifying, or outcome unknown), as if it had come in time: stored;
        or, if the client could not read it (``raw``), kept in the record."""
        try:
            if raw is not None:  # (then there is no verification)
                what = "its verify's answer came late, unreadable; it is kept"
                log.warning("receipt %s: %s", self.receipt_id, what)
                for stage in (Stage.VERIFYING, Stage.OUTCOME_UNKNOWN):  # whichever it is at
                    await self._patiently(leaving=[stage], to=stage, set={"raw_answer": raw.text})
                return
            log.warning("receipt %s: its verify's answer came late; it is stored", self.receipt_id)
            await self._store(self._signed(verification), uuid.uuid4().hex, held=False)
        except (arq.Retry, StoreFailed):
            pass  # held in the record: the receipt's next run stores it (or says it failed)
        except Exception:
            log.exception("receipt %s: its verify's late answer was not stored", self.receipt_id)

    async def _claim(self, leaving: Stage, to: Stage, lease: float, **options: Any) -> str:
        """Own the receipt for ``lease`` seconds, from ``leaving`` into ``to``: the new
        owner's token. Back to the queue while another worker's lease on it (at ``to``)
        runs, or at once if another run moved the record on meanwhile (the next run reads
        it again)."""
        owner = uuid.uuid4().hex
        lease_ms = int(lease * 1000)
        taken = await self.step(leaving=[leaving], to=to, claim=owner, lease_ms=lease_ms, **options)
        if taken.done:
            return owner
        # At ``to``, its owner may still be at work.
        raise arq.Retry(defer=taken.lease_left + 0.05 if taken.stage is to else 0)

    async def settle_verifying(self, record: Record) -> Record:
        """A receipt found verifying: wait out a live lease, then let ``verify_dt`` decide."""
        queue = self.queue
        verifying = Stage.VERIFYING
        owner = await self._claim(verifying, verifying, queue.verify_lease, lease_expired=True)
        read_state = getattr(self.process.client, self.kind.get_state)  # get_esign_state, ...
        try:
            status = await read_state(self.client_code, self.receipt_id)
        except KakaocertError as exc:
            # Cannot tell yet: it stays verifying, under this run's lease, for a later look.
            raise arq.Retry(defer=queue.interval or DEFAULT_INTERVAL) from exc
        if status.verify_dt is None:
            # The service sets verify_dt on every verify it answers: none went through,
            # so nothing was consumed and verifying is safe.
            log.warning(
                "receipt %s: its verify never went through (verify_dt unset); verifying again",
                self.receipt_id,
            )
            await self._let_go(Stage.WAITING, owner)
            return await self.load()
        record = await self.load()
        why = record.error or (
            "a verify went through (verify_dt is set) but its answer never reached the"
            " record: the worker stopped in between"
        )
        verify_dt = status.verify_dt.isoformat()
        return await self.finish(Stage.OUTCOME_UNKNOWN, owner=owner, verify_dt=verify_dt, error=why)

    # verified and stored ----------------------------------------------------------

    async def store_held(self, record: Record) -> Record:
        """A record found verified: hand its held data to the store, once no other
        worker owns it (its store may be running: a worker stopped at that moment)."""
        lease = self.queue.store_timeout + self.queue.redis_patience
        owner = await self._claim(Stage.VERIFIED, Stage.VERIFIED, lease, lease_expired=True)
        kind = self.kind
        if record.verification is None:  # held by a release that held the signed data alone
            verification = kind.verification(
                receipt_id=self.receipt_id, signed_data=record.signed_data
            )
        else:
            verification = _wire.structure(json.loads(record.verification), kind.verification)
        return await self._store(self._signed(verification), owner, held=True)

    def _signed(self, verification: Any) -> Signed:
        multi = getattr(verification, "multi_signed_data", None)  # a JSON array of them
        return Signed(
            kind=self.kind.name,
            client_code=self.client_code,
            receipt_id=self.receipt_id,
            signed_data=verification.signed_data if multi is None else json.dumps(list(multi)),
            verification=verification,
        )

    async def _store(self, signed: Signed, owner: str, *, held: bool) -> Record:
        """Call the store callback, the data held in the record first (unless ``held``
        already); the record says stored only after it returned."""
        queue, store = self.queue, self.process.store
        backoff = 0.1
        while True:
            if not held:
                # The data wins: whatever the record says (but stored), it now holds the data,
                # owned by this worker while the store runs.
                verification = json.dumps(_wire.converter.unstructure(signed.verification))
                step = await self._patiently(
                    leaving=_ANY_BUT_STORED,
                    to=Stage.VERIFIED,
                    set={
                        "signed_data": signed.signed_data,
                        "verification": verification,
                        "error": "",
                    },
                    claim=owner,
                    lease_ms=int((queue.store_timeout + queue.redis_patience) * 1000),
                    attention=False,
                )
                held = step is not None and step.done
            try:
                await asyncio.wait_for(store(self.ctx, signed), queue.store_timeout)
                break
            except Exception as exc:
                failure = exc
            name = type(failure).__name__
            log.error("receipt %s: the store failed (%s)", self.receipt_id, name, exc_info=failure)
            if not held:
                # Redis would not take the data either: it exists only here. Keep trying both.
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            error = f"store failed: {name} (see the worker's log)"
            # Counted, and let go: the next run may take the receipt at once.
            counted = await self._patiently(
                leaving=[Stage.VERIFIED],
                to=Stage.VERIFIED,
                set={"error": error},
                incr="store_failures",
                **{"del": _OWNERSHIP},
            )
            failures = (await self.load()).store_failures if counted is not None else 0
            if failures >= queue.store_attempts:
                await self.step(leaving=[Stage.VERIFIED], to=Stage.VERIFIED, attention=True)
                raise StoreFailed(
                    f"receipt {self.receipt_id}: the store failed {failures} times (last:"
                    f" {name}); the signed data stays in its record (stage verified):"
                    " enqueue it again to retry",
                    receipt_id=self.receipt_id,
                ) from failure
            raise arq.Retry(defer=min(queue.store_backoff * 2 ** (failures - 1), 60.0)) from failure
        stored = await self._patiently(
            leaving=_ANY_BUT_STORED,
            to=Stage.STORED,
            ttl=queue.record_ttl,
            attention=False,
            **{"del": ["signed_data", "verification", "error", "raw_answer", *_OWNERSHIP]},
        )
        if stored is None:
            log.error(
                "receipt %s: stored, but Redis would not record it; the data is stored again"
                " by the next run (the store must be idempotent)",
                self.receipt_id,
            )
            raise arq.Retry(defer=1.0)
        log.info("receipt %s verified and stored", self.receipt_id)
        return await self.load()

    async def _patiently(self, **options: Any) -> _Step | None:
        """Take a step after a verify, through a Redis outage of ``redis_patience``;
        ``None`` if Redis stayed away (the caller keeps the data)."""
        deadline = time.monotonic() + self.queue.redis_patience
        wait, longest = REDIS_BACKOFF
        while True:
            try:
                return await self.step(**options)
            except RedisError as exc:
                if time.monotonic() + wait > deadline:
                    log.error(
                        "receipt %s: Redis unreachable after a verify: %s", self.receipt_id, exc
                    )
                    return None
                await asyncio.sleep(wait + random.uniform(0, wait))  # noqa: S311
                wait = min(wait * 2, longest)


_NEXT = {
    Stage.WAITING: _Work.wait,
    Stage.VERIFYING: _Work.settle_verifying,
    Stage.VERIFIED: _Work.store_held,
}
"""What a run does with a record at each stage that is not final."""

total_repr(Signed)  # a half-built one's repr does not raise
