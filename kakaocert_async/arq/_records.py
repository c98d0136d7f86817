"""The per-receipt record in Redis, and the one atomic step that moves it on (a Lua script)."""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar, cast

import attrs
from arq.connections import ArqRedis

from kakaocert_async import _kinds, _validation
from kakaocert_async._kinds import AnyKind
from kakaocert_async._models import _length_only
from kakaocert_async._secret import total_repr
from kakaocert_async.barocert import _kinds as _barocert_kinds
from kakaocert_async.barocert import _validation as _barocert_validation

ALL_KINDS = (*_kinds.KINDS, *_barocert_kinds.KINDS)
"""Every kind a queue can serve: KakaoCert 2.x's and Barocert's (login has no receipt)."""


def check_ids(kind: AnyKind, client_code: str, receipt_id: str) -> None:
    """A client code, and a receipt id of the kind's generation (Barocert's are 32 digits)."""
    _validation.check_client_code(client_code)
    if kind.generation == "barocert":
        _barocert_validation.check_receipt_id(receipt_id)
    else:
        _validation.check_receipt_id(receipt_id)


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
    REFUSED = "refused"
    """The receiver declined (Barocert's ``State.REFUSED``): never verified."""
    OUTCOME_UNKNOWN = "outcome-unknown"
    """A verify went through (``verify_dt`` is set) but its answer was never kept."""
    FAILED = "failed"
    """Given up before a verify went through (``error`` says why); enqueue again to retry."""
    UNREADABLE = "unreadable"
    """Never in Redis: a record this release cannot read (``error`` says why), set aside by
    the sweeper, left as it is and listed by ``needs_attention``; its names are its key's,
    its times 0 (the epoch)."""

    @property
    def is_final(self) -> bool:
        """True when no job works on it any more (stored, expired, refused, outcome-unknown,
        failed)."""
        return self not in (Stage.WAITING, Stage.VERIFYING, Stage.VERIFIED, Stage.UNREADABLE)


_ANY_BUT_STORED = [stage for stage in Stage if stage is not Stage.STORED]


@attrs.frozen(kw_only=True)
class Record:
    """A receipt's record in Redis: how far it got. Times are UTC, by the Redis server.

    Attributes:
        kind: The kind's name: ``esign``, ``identity``, ``cms``, ``barocert.sign``, ...
        client_code: The client code (이용기관코드) the receipt was enqueued with.
        receipt_id: The receipt's id.
        stage: How far it got (:class:`Stage`).
        created_at: When the record was created (its first enqueue).
        updated_at: When it last changed (its stage, or any of its fields).
        verify_dt: When the service says the verify went through (outcome-unknown records).
        error: Why it failed, is outcome-unknown or unreadable, or why the last verify or
            store failed.
        signed_data: Held only while verified: from the verify's answer until the store
            returned (a multi-sign's: a JSON array, one per document). Shown in reprs by
            its length only.
        verification: The verify's whole answer (JSON, the service's names), held with
            ``signed_data``: Barocert's carries more than the signed data (``ci``, the
            receiver's fields). Shown in reprs by its length only.
        raw_answer: A verify's answer that came but could not be read (an outcome-unknown
            record's; ``VerifyOutcomeUnknown.raw_answer``): the signed data may be in it,
            so it is kept for you. Shown in reprs by its length only.
        store_failures: Failed calls of the store callback, counted against
            ``store_attempts`` (an enqueue sets it back to 0).
        verify_failures: Verifies refused or never sent; the third fails the receipt.
    """

    kind: str
    client_code: str
    receipt_id: str
    stage: Stage
    created_at: dt.datetime
    updated_at: dt.datetime
    verify_dt: dt.datetime | None = None
    error: str | None = None
    signed_data: str | None = attrs.field(default=None, repr=_length_only)
    verification: str | None = attrs.field(default=None, repr=_length_only)
    raw_answer: str | None = attrs.field(default=None, repr=_length_only)
    store_failures: int = 0
    verify_failures: int = 0


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
# Returns {1 if done else 0, the stage now, ms left on the lease, the stage before}.
_STEP = """
local a = cjson.decode(ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local r = redis.call('HMGET', KEYS[1], 'stage', 'owner', 'lease_until')
local stage = r[1] or ''
local owner = r[2] or ''
local left = math.max(tonumber(r[3] or '0') - now, 0)
local allowed = false
for _, s in ipairs(a.from) do allowed = allowed or s == stage end
if not allowed then
  local already = stage == a.to and (a.claim == nil or owner == a.claim)
  return {already and 1 or 0, stage, left, stage}
end
if (a.owner ~= nil and owner ~= a.owner) or (a.lease_expired and left > 0) then
  return {0, stage, left, stage}
end
if stage == '' then redis.call('HSET', KEYS[1], 'created_at', now) end
redis.call('HSET', KEYS[1], 'stage', a.to, 'updated_at', now)
for k, v in pairs(a.set or {}) do redis.call('HSET', KEYS[1], k, v) end
for _, k in ipairs(a.del or {}) do redis.call('HDEL', KEYS[1], k) end
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
return {1, a.to, left, stage}
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


def _stage(value: bytes) -> Stage | None:
    return Stage(value.decode()) if value else None


def _known(text: str) -> Stage:
    stage = Stage(text)
    if stage is Stage.UNREADABLE:  # never in Redis
        raise ValueError(text)
    return stage


def _utc(milliseconds: str) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(milliseconds) / 1000, tz=dt.timezone.utc)


def _when(iso: str) -> dt.datetime | None:
    return dt.datetime.fromisoformat(iso) if iso else None


_T = TypeVar("_T")


def _field(
    text: dict[str, str], name: str, read: Callable[[str], _T], default: str | None = None
) -> _T:
    """``read(text[name])``, or of ``default``; a ValueError naming the field if it is
    missing (with no default) or ``read`` cannot read it."""
    value = text.get(name, default)
    if value is None:
        raise ValueError(f"no {name}")
    try:
        return read(value)
    except (ValueError, OverflowError, OSError):  # what int(), Stage() and datetime raise
        raise ValueError(f"unreadable {name} {value[:40]!r}") from None


def _names(key: bytes) -> list[str]:
    """The kind, client code and receipt id a record's key names (``""`` for any missing)."""
    return ["", "", "", *key.decode(errors="backslashreplace").split(":")][-3:]


def _unreadable(key: bytes, why: str) -> Record:
    kind, client_code, receipt_id = _names(key)
    name = key.decode(errors="backslashreplace")
    epoch = dt.datetime.fromtimestamp(0, tz=dt.timezone.utc)
    return Record(
        kind=kind,
        client_code=client_code,
        receipt_id=receipt_id,
        stage=Stage.UNREADABLE,
        created_at=epoch,
        updated_at=epoch,
        error=f"record {name}: {why}",
    )


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
        done, stage, left, before = await self._step(
            keys=[self.key(client_code, receipt_id), self.attention_key, self.open_key],
            args=[json.dumps(options)],
        )
        return _Step(bool(done), _stage(stage), int(left) / 1000, _stage(before))

    async def create(self, client_code: str, receipt_id: str) -> _Step:
        """A new record, waiting (a failed one starts again); an existing one is left as it is."""
        return await self.step(
            client_code,
            receipt_id,
            leaving=["", Stage.FAILED],
            to=Stage.WAITING,
            set={"kind": self.kind, "client_code": client_code, "receipt_id": receipt_id},
            attention=False,
            # No failures yet (a missing count reads as 0).
            **{"del": ["verify_failures", "store_failures"]},
        )

    async def load(self, client_code: str, receipt_id: str) -> Record | None:
        key = self.key(client_code, receipt_id)
        return self.parse(await cast("Awaitable[dict[bytes, bytes]]", self.redis.hgetall(key)))

    async def fetch(self, keys: list[bytes]) -> list[dict[bytes, bytes] | Exception]:
        """``HGETALL`` of each key: its fields, or the error Redis answered (a key of
        another type: ``WRONGTYPE``), for :meth:`record_at`."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.execute_command("HGETALL", key)  # hgetall() is typed for str keys
            answers = await pipe.execute(raise_on_error=False)
        return cast("list[dict[bytes, bytes] | Exception]", answers)

    async def set_aside(self, key: bytes) -> None:
        """Out of the sweeper's way, onto the list of records to look at; left as it is."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zrem(self.open_key, key)
            pipe.sadd(self.attention_key, key)
            await pipe.execute()

    @staticmethod
    def record_at(key: bytes, answer: dict[bytes, bytes] | Exception) -> Record | None:
        """The record at ``key`` from :meth:`fetch`'s answer (``None``: no record). Never
        raises for what Redis holds: a record it cannot read comes back unreadable."""
        if isinstance(answer, Exception) and not str(answer).startswith("WRONGTYPE"):
            raise answer
        kind_name, client_code, receipt_id = _names(key)
        kind = _kinds.named(kind_name, ALL_KINDS)
        try:
            key.decode()
            check_ids(kind or _kinds.ESIGN, client_code, receipt_id)
        except ValueError:
            return _unreadable(key, "its key names no receipt")
        if isinstance(answer, Exception):
            return _unreadable(key, "not a hash")
        try:
            return _Records.parse(answer)
        except ValueError as exc:
            return _unreadable(key, str(exc))

    @staticmethod
    def parse(fields: dict[bytes, bytes]) -> Record | None:
        """The record in a hash's fields (``None``: none); a ValueError says what is wrong."""
        if not fields:
            return None
        text: dict[str, str] = {}
        for name, value in fields.items():
            try:
                text[name.decode()] = value.decode()
            except UnicodeDecodeError:
                raise ValueError(f"{name.decode(errors='replace')} is not UTF-8") from None
        return Record(
            kind=text.get("kind", ""),
            client_code=text.get("client_code", ""),
            receipt_id=text.get("receipt_id", ""),
            stage=_field(text, "stage", _known),
            created_at=_field(text, "created_at", _utc),
            updated_at=_field(text, "updated_at", _utc),
            verify_dt=_field(text, "verify_dt", _when, ""),
            error=text.get("error") or None,
            signed_data=text.get("signed_data"),
            verification=text.get("verification"),
            raw_answer=text.get("raw_answer"),
            store_failures=_field(text, "store_failures", int, "0"),
            verify_failures=_field(text, "verify_failures", int, "0"),
        )


total_repr(Record)  # a half-built one's repr does not raise
