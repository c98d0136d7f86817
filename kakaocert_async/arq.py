"""Waiting on a worker fleet: await, verify once and store each receipt as an arq job on Redis.

One process can await a few thousand signatures; a service that sends more, or
that deploys while requests are outstanding (a wait lasts up to 1,000 s), needs
the waiting to live in a fleet of worker processes that survives restarts. This
module runs it on `arq <https://arq-docs.helpmanual.io>`_, with Redis holding the
queue and one record per receipt (``pip install 'kakaocert-async[arq]'``)::

    # shared by the web app and the workers
    receipts = ReceiptQueue()

    # the web app: after request_esign
    await receipts.enqueue(redis, client_code, receipt.receipt_id)  # idempotent
    record = await receipts.record(redis, client_code, receipt_id)  # how far it got

    # the worker module: ``arq yourapp.worker.WorkerSettings``
    receipts = ReceiptQueue(client=make_client, store=save_signed_data)
    WorkerSettings = receipts.settings(redis_settings=outage_tolerant(RedisSettings()))

A receipt's record moves through these stages, each step an atomic
compare-and-set in Redis (a Lua script), so two workers can never both start a
verify of one receipt::

    waiting ──> verifying ──> verified ──> stored        (the store callback returned)
       │            │    └──> outcome-unknown              (verify_dt set, answer never kept)
       │            └───────> waiting                      (the verify never went through)
       ├──> expired
       └──> failed                                         (refused; enqueue again to retry)

- **waiting**: a job awaits the signature, in slices of ``wait_slice`` seconds
  (between slices the job goes back to the queue, so a dead worker's receipts
  are picked up by another one within arq's in-progress timeout: the job
  timeout plus 10 s). A sweeper (a cron job) enqueues again any open receipt
  whose job arq dropped.
- **verifying**: one worker owns the receipt, with a lease of ``verify_lease``
  seconds, and sends the one verify. A worker that finds a receipt verifying
  after the lease ran out (its owner died, or lost the answer) never verifies
  on sight: it reads the state. ``verify_dt`` set means the verify went through
  and its answer is gone: the record becomes **outcome-unknown**, with that
  ``verify_dt``, and is reported. ``verify_dt`` unset means the verify never went
  through (the service sets it on every verify it answers), so the receipt goes
  back to **waiting** and is verified then.
- **verified**: the signed data is held in the record, then handed to the store
  callback. If the store raises (or takes over ``store_timeout``), the data stays
  in the record and the job is retried with backoff, ``store_attempts`` times in
  all; after that it stays there, listed by :meth:`ReceiptQueue.needs_attention`,
  until an enqueue tries again. It is deleted from Redis once the store returned.
- **stored**: the job acknowledges (ends) only now.

The store callback is never called by two workers at once, and twice with the
same data only when a worker was killed (or the store timed out) after it
committed and before the record said so. Make it idempotent by receipt id (an
upsert); it is never called with different data.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import enum
import functools
import json
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Protocol, cast

import attrs

from . import _validation
from ._client import Client
from ._errors import KakaocertError, SignTimeout, ValidationError, VerifyOutcomeUnknown
from ._models import SignState

INSTALL_HINT = "pip install 'kakaocert-async[arq]'"

try:
    import arq
    from arq.connections import ArqRedis, RedisSettings
    from arq.constants import job_key_prefix, result_key_prefix
    from arq.cron import CronJob
    from redis.asyncio.retry import Retry as RedisRetry
    from redis.backoff import EqualJitterBackoff
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import RedisError, WatchError
    from redis.exceptions import TimeoutError as RedisTimeoutError
except ModuleNotFoundError as exc:  # pragma: no cover -- tested in a subprocess
    if (exc.name or "").partition(".")[0] not in {"arq", "redis", "click"}:
        raise
    raise ImportError(
        f"kakaocert_async.arq needs arq and redis ({exc}): {INSTALL_HINT}", name=exc.name
    ) from exc

__all__ = [
    "ESIGN",
    "INSTALL_HINT",
    "ReceiptKind",
    "ReceiptQueue",
    "Record",
    "Signed",
    "Stage",
    "StoreFailed",
    "outage_tolerant",
]

log = logging.getLogger("kakaocert_async.arq")

PREFIX = "kakaocert"
"""The start of every Redis key and job id this module makes."""
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


# The stages and the record -------------------------------------------------------------


class Stage(str, enum.Enum):
    """How far a receipt got; the ``stage`` of its :class:`Record`."""

    WAITING = "waiting"
    """Enqueued: a job awaits the signature."""
    VERIFYING = "verifying"
    """A worker owns the receipt and sends (or sent) its one verify."""
    VERIFIED = "verified"
    """The signed data is held in the record until the store callback returns."""
    STORED = "stored"
    """The store callback returned; the signed data left Redis."""
    EXPIRED = "expired"
    """The receipt expired unsigned."""
    OUTCOME_UNKNOWN = "outcome-unknown"
    """A verify went through (``verify_dt`` is set) but its answer was never kept."""
    FAILED = "failed"
    """Given up before a verify went through (``error`` says why); enqueue again to retry."""

    @property
    def is_final(self) -> bool:
        """True when no job works on it any more (stored, expired, outcome-unknown, failed)."""
        return self in _FINAL


_FINAL = frozenset({Stage.STORED, Stage.EXPIRED, Stage.OUTCOME_UNKNOWN, Stage.FAILED})
_ANY_BUT_STORED = [stage for stage in Stage if stage is not Stage.STORED]


def _length_only(value: str | None) -> str:
    return "None" if value is None else f"<{len(value)} chars>"


@attrs.frozen(kw_only=True)
class Record:
    """A receipt's record in Redis: how far it got. Times are UTC, by the Redis server."""

    kind: str
    client_code: str
    receipt_id: str
    stage: Stage
    created_at: dt.datetime
    updated_at: dt.datetime
    verify_dt: dt.datetime | None = None
    """When the service says the verify went through (outcome-unknown records)."""
    error: str | None = None
    """Why it failed, is outcome-unknown, or why the last verify or store failed."""
    signed_data: str | None = attrs.field(default=None, repr=_length_only)
    """Held only while verified: from the verify's answer until the store returned."""
    store_failures: int = 0
    verify_failures: int = 0


@attrs.frozen(kw_only=True)
class Signed:
    """What the store callback receives: a receipt's signed data, verified once."""

    kind: str
    client_code: str
    receipt_id: str
    signed_data: str = attrs.field(repr=_length_only)


class StoreFailed(Exception):
    """The store callback failed ``store_attempts`` times; the signed data stays in the record."""

    receipt_id: str

    def __init__(self, message: str, *, receipt_id: str) -> None:
        super().__init__(message)
        self.receipt_id = receipt_id


# The kinds of receipt ------------------------------------------------------------------


class ReceiptState(Protocol):
    """What the job reads from a state (``ESignStatus`` and its kin)."""

    @property
    def state(self) -> SignState: ...
    @property
    def verify_dt(self) -> dt.datetime | None: ...
    @property
    def expire_dt(self) -> dt.datetime | None: ...


class Verification(Protocol):
    """What the job reads from a verify's answer (``ESignVerification`` and its kin)."""

    @property
    def signed_data(self) -> str: ...


@attrs.frozen(kw_only=True)
class ReceiptKind:
    """The calls of one kind of receipt: the only place the job names the service's operations.

    ``name`` is part of every job id, Redis key and function name of the kind.
    """

    name: str
    read_state: Callable[[Client, str, str], Awaitable[ReceiptState]]
    """Read the state once."""
    await_final: Callable[[Client, str, str, float, float | None], Awaitable[ReceiptState]]
    """``(client, client_code, receipt_id, timeout, interval)``: poll until signed or expired."""
    verify: Callable[[Client, str, str], Awaitable[Verification]]
    """The once-only verify."""


async def _esign_state(client: Client, client_code: str, receipt_id: str) -> ReceiptState:
    return await client.get_esign_state(client_code, receipt_id)


async def _esign_final(
    client: Client, client_code: str, receipt_id: str, timeout: float, interval: float | None
) -> ReceiptState:
    return await client.await_signed(client_code, receipt_id, timeout=timeout, interval=interval)


async def _esign_verify(client: Client, client_code: str, receipt_id: str) -> Verification:
    return await client.verify_esign(client_code, receipt_id)


ESIGN = ReceiptKind(
    name="esign", read_state=_esign_state, await_final=_esign_final, verify=_esign_verify
)
"""KakaoTalk-message e-signatures (``request_esign``). App to App receipts are verified
with the signature your app receives: verify those yourself."""


# Redis ---------------------------------------------------------------------------------


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


# One atomic step of a record: compare the stage (and the owner, and the lease), then set.
# KEYS[1]: the record (a hash); KEYS[2]: the set of records needing attention; KEYS[3]: the
# open records (a sorted set by the time of their last step), for the sweeper.
# ARGV[1]: JSON with
#   from: the stages it may leave ("" is no record); to: the stage it enters
#   owner: the owner the record must have; lease_expired: its lease must have run out
#   claim, lease_ms: become its owner for that long
#   set: fields to set; del: fields to delete; incr: a field to add 1 to
#   ttl: seconds to keep it (0: for ever); attention: true adds it to KEYS[2], false removes
#   final: true when ``to`` is a final stage (it leaves KEYS[3])
# A record already at ``to`` (with ``claim`` as owner, if given) is left alone and the step
# reported done: a command repeated after a broken connection changes nothing twice.
# Returns {1 if done else 0, the stage now, Redis time in ms, ms left on the lease, the stage
# before}.
_STEP = """
local a = cjson.decode(ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local r = redis.call('HMGET', KEYS[1], 'stage', 'owner', 'lease_until')
local stage = r[1] or ''
local owner = r[2] or ''
local left = math.max(tonumber(r[3] or '0') - now, 0)
local allowed = false
for _, s in ipairs(a.from) do
  if s == stage then allowed = true end
end
if not allowed then
  if stage == a.to and (a.claim == nil or owner == a.claim) then
    return {1, stage, now, left, stage}
  end
  return {0, stage, now, left, stage}
end
if a.owner ~= nil and owner ~= a.owner then return {0, stage, now, left, stage} end
if a.lease_expired and left > 0 then return {0, stage, now, left, stage} end
if stage == '' then redis.call('HSET', KEYS[1], 'created_at', now) end
redis.call('HSET', KEYS[1], 'stage', a.to, 'updated_at', now)
if a.set ~= nil then
  for k, v in pairs(a.set) do redis.call('HSET', KEYS[1], k, v) end
end
if a.del ~= nil then
  for _, k in ipairs(a.del) do redis.call('HDEL', KEYS[1], k) end
end
if a.incr ~= nil then redis.call('HINCRBY', KEYS[1], a.incr, 1) end
left = 0
if a.claim ~= nil then
  redis.call('HSET', KEYS[1], 'owner', a.claim, 'lease_until', now + a.lease_ms)
  left = a.lease_ms
end
if a.ttl ~= nil and a.ttl > 0 then
  redis.call('EXPIRE', KEYS[1], a.ttl)
else
  redis.call('PERSIST', KEYS[1])
end
if a.attention == true then redis.call('SADD', KEYS[2], KEYS[1]) end
if a.attention == false then redis.call('SREM', KEYS[2], KEYS[1]) end
if a.final then
  redis.call('ZREM', KEYS[3], KEYS[1])
else
  redis.call('ZADD', KEYS[3], now, KEYS[1])
end
return {1, a.to, now, left, stage}
"""

_OWNERSHIP = ["owner", "lease_until"]


@attrs.frozen
class _Step:
    done: bool
    stage: Stage | None
    lease_left: float
    """Seconds left on the record's lease."""
    before: Stage | None
    """The stage before the step (``None``: no record)."""


def _stage(value: bytes | str) -> Stage | None:
    text = value.decode() if isinstance(value, bytes) else str(value)
    return Stage(text) if text else None


def _utc(milliseconds: bytes | None) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(milliseconds or 0) / 1000, tz=dt.timezone.utc)


class _Records:
    """The records of one kind of receipt, in one Redis."""

    def __init__(self, redis: ArqRedis, prefix: str, kind: str) -> None:
        self.redis = redis
        self.kind = kind
        self._prefix = f"{prefix}:{kind}"
        self.attention_key = f"{prefix}:attention"
        self.open_key = f"{prefix}:{kind}:open"
        self._step = redis.register_script(_STEP)

    def key(self, client_code: str, receipt_id: str) -> str:
        return f"{self._prefix}:{client_code}:{receipt_id}"

    async def step(
        self,
        client_code: str,
        receipt_id: str,
        *,
        leaving: Iterable[Stage | str],
        to: Stage,
        **options: Any,
    ) -> _Step:
        options = {k: v for k, v in options.items() if v is not None}
        options["from"] = [getattr(stage, "value", stage) for stage in leaving]
        options["to"] = to.value
        options["final"] = to.is_final
        answer = await self._step(
            keys=[self.key(client_code, receipt_id), self.attention_key, self.open_key],
            args=[json.dumps(options)],
        )
        done, stage, _now, left, before = answer
        return _Step(bool(done), _stage(stage), int(left) / 1000, _stage(before))

    async def create(self, client_code: str, receipt_id: str) -> _Step:
        """A new record, waiting (a failed one starts again); an existing one is left as it is."""
        return await self.step(
            client_code,
            receipt_id,
            leaving=["", Stage.FAILED],
            to=Stage.WAITING,
            set={
                "kind": self.kind,
                "client_code": client_code,
                "receipt_id": receipt_id,
                "verify_failures": "0",
                "store_failures": "0",
            },
            attention=False,
        )

    async def load(self, client_code: str, receipt_id: str) -> Record | None:
        key = self.key(client_code, receipt_id)
        return self.parse(await cast("Awaitable[dict[bytes, bytes]]", self.redis.hgetall(key)))

    @staticmethod
    def parse(fields: dict[bytes, bytes]) -> Record | None:
        if not fields.get(b"stage"):
            return None
        text = {k.decode(): v.decode() for k, v in fields.items()}
        verify_dt = text.get("verify_dt")
        return Record(
            kind=text.get("kind", ""),
            client_code=text.get("client_code", ""),
            receipt_id=text.get("receipt_id", ""),
            stage=Stage(text["stage"]),
            created_at=_utc(fields.get(b"created_at")),
            updated_at=_utc(fields.get(b"updated_at")),
            verify_dt=dt.datetime.fromisoformat(verify_dt) if verify_dt else None,
            error=text.get("error") or None,
            signed_data=text.get("signed_data"),
            store_failures=int(text.get("store_failures", 0)),
            verify_failures=int(text.get("verify_failures", 0)),
        )


# The queue -----------------------------------------------------------------------------

ClientFactory = Callable[[], Client]
"""Makes the worker process's Client, at start-up."""
Store = Callable[[dict[Any, Any], Signed], Awaitable[None]]
"""``await store(ctx, signed)``: keep the signed data (arq's ``ctx``: your own resources too)."""
Hook = Callable[[dict[Any, Any]], Awaitable[Any]]


@attrs.define
class _Process:
    """What one worker process holds: its client, and the verifies in flight."""

    client: Client
    in_flight: set[asyncio.Task[Record]] = attrs.Factory(set)


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
        verify_lease: Seconds a worker owns a receipt it verifies; longer than a
            verify can take (a token and a verify, at the client's timeout each).
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
        verify_lease: float = 30.0,
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
        """The records someone must look at: outcome-unknown, failed, and signed data the
        store never took (every kind under this prefix), oldest change first."""
        records = self._records(redis)
        members = await cast("Awaitable[set[bytes]]", redis.smembers(records.attention_key))
        keys = sorted(member.decode() for member in members)
        async with redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.hgetall(key)
            answers = await pipe.execute()
        found = [_Records.parse(fields) for fields in answers]
        gone = [key for key, record in zip(keys, found, strict=True) if record is None]
        if gone:
            await cast("Awaitable[int]", redis.srem(records.attention_key, *gone))
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
        """
        records = self._records(redis)
        stale = (time.time() - older_than) * 1000
        members = await redis.zrangebyscore(records.open_key, "-inf", stale)
        swept = []
        for member in members:
            key = member.decode()
            client_code, receipt_id = key.rsplit(":", 2)[1:]
            job_id = self.job_id(client_code, receipt_id)
            if await redis.exists(job_key_prefix + job_id):
                continue  # queued, deferred or running
            if await cast("Awaitable[int]", redis.sismember(records.attention_key, key)):
                continue  # someone must look at it first
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
        """arq's ``on_startup``: make this process's Client."""
        make_client, _ = self._worker_parts()
        client = make_client()
        if not isinstance(client, Client):
            raise ValidationError("client", f"must return a Client, got {type(client).__name__}")
        ctx[self._ctx_key] = _Process(client)

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


class _Work:
    """One run of the job on one receipt."""

    def __init__(
        self,
        queue: ReceiptQueue,
        ctx: dict[Any, Any],
        records: _Records,
        client_code: str,
        receipt_id: str,
    ) -> None:
        self.queue = queue
        self.kind = queue.kind
        self.ctx = ctx
        self.process: _Process = ctx[queue._ctx_key]
        self.client = self.process.client
        self.records = records
        self.client_code = client_code
        self.receipt_id = receipt_id

    async def load(self) -> Record:
        record = await self.records.load(self.client_code, self.receipt_id)
        if record is None:
            raise RedisConnectionError("the record vanished (was Redis emptied?)")
        return record

    async def step(self, *, leaving: Iterable[Stage | str], to: Stage, **options: Any) -> _Step:
        return await self.records.step(
            self.client_code, self.receipt_id, leaving=leaving, to=to, **options
        )

    async def finish(
        self, leaving: Iterable[Stage], to: Stage, *, owner: str | None = None, **fields: str
    ) -> Record:
        """Into a final stage: the kept ones expire, the ones to look at join the list."""
        attention = to in (Stage.OUTCOME_UNKNOWN, Stage.FAILED)
        await self.step(
            leaving=leaving,
            to=to,
            owner=owner,
            set=fields or None,
            ttl=None if attention else self.queue.record_ttl,
            attention=attention,
            **{"del": _OWNERSHIP},
        )
        return await self.load()

    # waiting -----------------------------------------------------------------------

    async def wait(self) -> Record:
        queue = self.queue
        waiting = self.kind.await_final(
            self.client, self.client_code, self.receipt_id, queue.wait_slice, queue.interval
        )
        try:
            status = await asyncio.wait_for(waiting, SLICE_OVERRUN * queue.wait_slice)
        except SignTimeout as exc:
            return await self._still_pending(exc)
        except asyncio.TimeoutError:
            # The slice overran its deadline (an overloaded process): back to the queue now,
            # rather than be failed by arq's job timeout. Nothing was sent but state reads.
            raise arq.Retry(defer=0) from None
        except KakaocertError as exc:  # refused: an unknown receipt, bad credentials, ...
            log.warning("receipt %s failed: %s", self.receipt_id, exc)
            return await self.finish([Stage.WAITING], Stage.FAILED, error=str(exc))
        if status.state is SignState.EXPIRED:
            log.info("receipt %s expired", self.receipt_id)
            return await self.finish([Stage.WAITING], Stage.EXPIRED)
        if status.verify_dt is not None:
            # Verified, but not by this fleet's record: a verify elsewhere, or a record
            # lost with a Redis that kept no data. Never a second verify.
            why = (
                "the service says this receipt was verified (verify_dt is set) before this"
                " job verified it; its signed data is not in this record"
            )
            return await self._outcome_unknown(Stage.WAITING, None, status.verify_dt, why)
        return await self.verify()

    async def _still_pending(self, timeout: SignTimeout) -> Record:
        last = timeout.last_status
        if last is None:
            record = await self.load()
            if time.time() - record.created_at.timestamp() > UNREADABLE_FOR:
                why = f"its state could not be read for {UNREADABLE_FOR:.0f} s: {timeout}"
                return await self.finish([Stage.WAITING], Stage.FAILED, error=why)
            raise arq.Retry(defer=self.queue.interval or 2.0) from timeout
        expire_dt = last.expire_dt
        if expire_dt is not None and time.time() > expire_dt.timestamp() + PENDING_AFTER_EXPIRY:
            why = f"still pending {PENDING_AFTER_EXPIRY:.0f} s after it expired"
            return await self.finish([Stage.WAITING], Stage.FAILED, error=why)
        raise arq.Retry(defer=0)  # another slice, on whichever worker takes it

    # verifying ---------------------------------------------------------------------

    async def verify(self) -> Record:
        """Own the receipt (waiting -> verifying), then verify and store it, shielded."""
        owner = uuid.uuid4().hex
        claimed = await self.step(
            leaving=[Stage.WAITING],
            to=Stage.VERIFYING,
            claim=owner,
            lease_ms=int(self.queue.verify_lease * 1000),
            attention=False,
        )
        if not claimed.done:
            return await self.load()  # another run moved it on: look again
        # Shielded: neither arq's cancellation at shutdown nor a timeout may cut the
        # verify from the writing of its answer; on_shutdown waits for it.
        task = asyncio.create_task(self._verify_and_store(owner))
        in_flight = self.process.in_flight
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
        return await asyncio.shield(task)

    async def _verify_and_store(self, owner: str) -> Record:
        try:
            verification = await self.kind.verify(self.client, self.client_code, self.receipt_id)
        except VerifyOutcomeUnknown as exc:
            # Sent, answer lost. Decided when the lease has run out, by verify_dt: by then
            # the request went through or never will.
            log.error("receipt %s: %s", self.receipt_id, exc.message)
            noted = await self.step(
                leaving=[Stage.VERIFYING], to=Stage.VERIFYING, owner=owner, set={"error": str(exc)}
            )
            raise arq.Retry(defer=noted.lease_left + 0.05) from exc
        except KakaocertError as exc:
            # Refused, or never sent (no token, no connection): this verify consumed nothing.
            return await self._verify_failed(owner, exc)
        signed = Signed(
            kind=self.kind.name,
            client_code=self.client_code,
            receipt_id=self.receipt_id,
            signed_data=verification.signed_data,
        )
        held = await self._patiently(lambda: self._hold(signed, owner))
        return await self._store(signed, owner, held=held is not None and held.done)

    async def _verify_failed(self, owner: str, error: KakaocertError) -> Record:
        record = await self.load()
        if record.verify_failures + 1 >= VERIFY_FAILURES:
            log.warning("receipt %s failed: verify refused: %s", self.receipt_id, error)
            return await self.finish(
                [Stage.VERIFYING], Stage.FAILED, owner=owner, error=f"verify: {error}"
            )
        log.warning("receipt %s: verify failed (%s); it is tried again", self.receipt_id, error)
        await self.step(
            leaving=[Stage.VERIFYING],
            to=Stage.WAITING,
            owner=owner,
            set={"error": f"verify: {error}"},
            incr="verify_failures",
            **{"del": _OWNERSHIP},
        )
        raise arq.Retry(defer=self.queue.interval or 2.0) from error

    async def settle_verifying(self) -> Record:
        """A receipt found verifying: wait out a live lease, then let ``verify_dt`` decide."""
        queue = self.queue
        owner = uuid.uuid4().hex
        taken = await self.step(
            leaving=[Stage.VERIFYING],
            to=Stage.VERIFYING,
            lease_expired=True,
            claim=owner,
            lease_ms=int(queue.verify_lease * 1000),
        )
        if not taken.done:
            if taken.stage is Stage.VERIFYING:  # its owner may still be at work
                raise arq.Retry(defer=taken.lease_left + 0.05)
            return await self.load()
        try:
            status = await self.kind.read_state(self.client, self.client_code, self.receipt_id)
        except KakaocertError as exc:
            # Cannot tell yet: it stays verifying, under this run's lease, for a later look.
            raise arq.Retry(defer=queue.interval or 2.0) from exc
        if status.verify_dt is None:
            # The service sets verify_dt on every verify it answers: none went through,
            # so nothing was consumed and verifying is safe.
            log.warning(
                "receipt %s: its verify never went through (verify_dt unset); verifying again",
                self.receipt_id,
            )
            await self.step(
                leaving=[Stage.VERIFYING], to=Stage.WAITING, owner=owner, **{"del": _OWNERSHIP}
            )
            return await self.load()
        record = await self.load()
        why = record.error or (
            "a verify went through (verify_dt is set) but its answer never reached the"
            " record: the worker stopped in between"
        )
        return await self._outcome_unknown(Stage.VERIFYING, owner, status.verify_dt, why)

    async def _outcome_unknown(
        self, leaving: Stage, owner: str | None, verify_dt: dt.datetime, why: str
    ) -> Record:
        """Verified, the answer not kept: say so, with the service's verify_dt, and list it."""
        log.error("receipt %s needs attention: outcome unknown: %s", self.receipt_id, why)
        return await self.finish(
            [leaving],
            Stage.OUTCOME_UNKNOWN,
            owner=owner,
            verify_dt=verify_dt.isoformat(),
            error=why,
        )

    # verified and stored ----------------------------------------------------------

    @property
    def _store_lease_ms(self) -> int:
        """How long a worker owns a verified receipt while its store runs."""
        return int((self.queue.store_timeout + self.queue.redis_patience) * 1000)

    async def _hold(self, signed: Signed, owner: str) -> _Step:
        # The data wins: whatever the record says (but stored), it now holds the data,
        # still owned by this worker while the store runs.
        return await self.step(
            leaving=_ANY_BUT_STORED,
            to=Stage.VERIFIED,
            set={"signed_data": signed.signed_data, "error": ""},
            claim=owner,
            lease_ms=self._store_lease_ms,
            attention=False,
        )

    async def store_held(self, record: Record) -> Record:
        """A record found verified: hand its held data to the store, once no other
        worker owns it (its store may be running: a worker stopped at that moment)."""
        if record.signed_data is None:  # pragma: no cover -- only by hand
            why = "verified, but the record holds no signed data"
            return await self.finish([Stage.VERIFIED], Stage.OUTCOME_UNKNOWN, error=why)
        owner = uuid.uuid4().hex
        taken = await self.step(
            leaving=[Stage.VERIFIED],
            to=Stage.VERIFIED,
            lease_expired=True,
            claim=owner,
            lease_ms=self._store_lease_ms,
        )
        if not taken.done:
            if taken.stage is Stage.VERIFIED:
                raise arq.Retry(defer=taken.lease_left + 0.05)
            return await self.load()
        signed = Signed(
            kind=self.kind.name,
            client_code=self.client_code,
            receipt_id=self.receipt_id,
            signed_data=record.signed_data,
        )
        return await self._store(signed, owner, held=True)

    async def _store(self, signed: Signed, owner: str, *, held: bool) -> Record:
        """Call the store callback; the record says stored only after it returned."""
        queue = self.queue
        _, store = queue._worker_parts()
        backoff = 0.1
        while True:
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
                step = await self._patiently(lambda: self._hold(signed, owner))
                held = step is not None and step.done
                continue
            error = f"store failed: {name} (see the worker's log)"
            counted = await self._patiently(functools.partial(self._store_failed, error))
            record = await self.load() if counted is not None else None
            failures = record.store_failures if record is not None else 0
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
            lambda: self.step(
                leaving=_ANY_BUT_STORED,
                to=Stage.STORED,
                ttl=queue.record_ttl,
                attention=False,
                **{"del": ["signed_data", "error", *_OWNERSHIP]},
            )
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

    async def _store_failed(self, error: str) -> _Step:
        # Counted, and let go: the next run may take the receipt at once.
        return await self.step(
            leaving=[Stage.VERIFIED],
            to=Stage.VERIFIED,
            set={"error": error},
            incr="store_failures",
            **{"del": _OWNERSHIP},
        )

    async def _patiently(self, step: Callable[[], Awaitable[_Step]]) -> _Step | None:
        """Take a step after a verify, through a Redis outage of ``redis_patience``;
        ``None`` if Redis stayed away (the caller keeps the data)."""
        deadline = time.monotonic() + self.queue.redis_patience
        wait, longest = REDIS_BACKOFF
        while True:
            try:
                return await step()
            except RedisError as exc:
                if time.monotonic() + wait > deadline:
                    log.error(
                        "receipt %s: Redis unreachable after a verify: %s", self.receipt_id, exc
                    )
                    return None
                await asyncio.sleep(wait + random.uniform(0, wait))  # noqa: S311
                wait = min(wait * 2, longest)
