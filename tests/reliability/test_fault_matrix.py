"""Every operation of both generations, with one exchange cut at every phase in every way,
on new and kept-alive connections of both backends, judged by what the service counted.

Each case runs a client of its own through a :class:`FaultProxy` in front of the
test's served sandbox; the proxy cuts the case's exchange (a request, a state read
or a verify) once and forwards everything else, retries included. Auth (the token
and ``/Time``) goes straight to the sandbox, so that the cut hits only the
operation; receipts are made (in-process) and signed before the cases run.

What the service did is read from the service: receipts created (found by a
marker each request carries), a verify's arrivals (2.x's ``verify_count``) and
``verify_dt``, a login verified (a second verify is refused). Where the service
keeps no count per receipt, a case's arrivals are the whole requests its proxy
delivered, and those must add up to the service's own ``stats``. The rules, for
every case:

- a request or verify was sent by the client at most once (each was written whole
  on an accepted connection, so a second sending could never know it safe), arrived
  at most once and acted at most once, exactly once when the call returned;
- a call that raised after the service acted (or may have: the whole request
  reached it) says ``answer_lost``; one that says not left the service untouched;
- a failed verify is ``VerifyOutcomeUnknown`` naming its receipt, never the
  service's refusal of a second attempt;
- a state read recovers; nothing but a ``KakaocertError`` is raised.

Every failing case is reported at once, named, with what was seen.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import ssl
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import Any, Literal, TypeVar

import attrs
import httpx
import pytest

from kakaocert_async import (
    APIError,
    Client,
    KakaocertError,
    SignState,
    VerifyOutcomeUnknown,
    barocert,
)
from kakaocert_async.barocert import Kind, State
from kakaocert_async.sandbox import DEFAULT_CLIENT_CODE, Rejection, Sandbox
from tests._support import make_cms_request, make_request, make_verify_auth_request
from tests.barocert._requests import make_request as make_barocert_request
from tests.reliability._fault_proxy import Cut, FaultProxy, Mode, Phase

CODE = DEFAULT_CLIENT_CODE
BACKENDS = ("aiohttp", "httpx")
CONNECTIONS = ("fresh", "reused")
TIMEOUT = 5.0
"""The clients' timeout in every case but the stalls: generous, it never ends a case."""
STALL_TIMEOUT = 0.5
"""The clients' timeout in the stall cases: what ends the stalled exchange."""
CONCURRENCY = 24
CASE_GUARD = 60.0
"""An outer guard per case: one that hangs is reported, not waited on forever."""
RUNS = 3
"""Runs of a case whose exchange never reached the proxy: on a busy machine a stall
case's short timeout may end it before its request is out, which proves nothing."""
NO_TLS = ssl.create_default_context()
"""One TLS context for every httpx client: each would load the CA bundle (some 40 ms of
blocked loop), and no case speaks TLS."""
NOT_THROUGH_THE_PROXY = frozenset({"time", "token", "barocert.token", "control"})
"""Endpoints the cases reach straight (auth), or not at all."""
REACHES_THE_SERVICE = frozenset({Phase.WHOLE_REQUEST, Phase.AFTER_HEAD, Phase.MID_BODY})
"""The phases whose cut exchange reached the service whole."""
FINAL = (SignState.SIGNED, State.COMPLETED)
"""What a state read of a signed receipt says, in each generation."""

T = TypeVar("T")
Role = Literal["request", "state", "verify"]


@attrs.frozen
class Target:
    """What one case's call works on."""

    path: str
    """The path of the exchange to cut (the proxy matches it as a prefix)."""
    key: str
    """What the service keeps it under: the receipt id (a login's tx id), or, for a
    request, the marker it carries (2.x ``payload``, Barocert ``extra_message``)."""
    signature: str | None = None
    """App to App: the signature the verify carries."""


@attrs.define
class World:
    """One test's served sandbox, and a client into it in-process, to set cases up and ask
    what became of them (no socket: no keep-alive race of its own to lose a call to)."""

    sandbox: Sandbox
    url: str
    direct: Any
    """A ``Client`` or ``barocert.Client`` into the sandbox in-process."""


@attrs.frozen(kw_only=True)
class Operation:
    """One call of a client: how to set a case up, make the call, count what the service did."""

    name: str
    role: Role
    method: str
    endpoint: str
    """The sandbox's name for the endpoint (its ``stats`` key)."""
    prepare: Callable[[World, str], Awaitable[Target]]
    """The case's target, given its marker (receipts made and signed straight)."""
    call: Callable[[Any, Target], Awaitable[Any]]
    acted: Callable[[World, Target], Awaitable[int]]
    """How often the service acted: receipts created, or verifies that went through."""
    arrivals: Callable[[World, Target], int] | None = None
    """The service's own count of arrivals, where it keeps one per receipt."""


@attrs.frozen
class Generation:
    name: str
    client: type[Client] | type[barocert.Client]
    in_process: Callable[[Sandbox], Any]
    operations: tuple[Operation, ...]
    warm_up: Operation
    """A state read (of another receipt): what a reused connection carried first."""


async def _read_only(world: World, target: Target) -> int:
    return 0  # a state read changes nothing


# KakaoCert 2.x -------------------------------------------------------------------------


@attrs.frozen
class _Family:
    path: str
    prefix: str
    """Before the sandbox's endpoint names: ``identity.``."""
    request: str
    state: str
    verify: str
    make: Callable[..., Any]
    app_to_app: bool


_FAMILIES = (
    _Family(
        "/SignToken", "", "request_esign", "get_esign_state", "verify_esign", make_request, True
    ),
    _Family(
        "/SignIdentity",
        "identity.",
        "request_verify_auth",
        "get_verify_auth_state",
        "verify_auth",
        make_verify_auth_request,
        False,
    ),
    _Family(
        "/SignDirectDebit",
        "cms.",
        "request_cms",
        "get_cms_state",
        "verify_cms",
        make_cms_request,
        True,
    ),
)


def _family_operations(f: _Family) -> Iterator[Operation]:
    async def marked(world: World, marker: str) -> Target:
        return Target(f"{f.path}/Request", marker)

    async def request(client: Client, target: Target) -> Any:
        return await getattr(client, f.request)(CODE, f.make(payload=target.key))

    async def created(world: World, target: Target) -> int:
        receipts = world.sandbox.service.receipts()
        return sum(1 for _, status in receipts if status.payload == target.key)

    async def signed(world: World, app_to_app: bool) -> str:
        extra = [True] if app_to_app else []
        receipt = await getattr(world.direct, f.request)(CODE, f.make(), *extra)
        await world.sandbox.sign(receipt.receipt_id)
        return str(receipt.receipt_id)

    async def to_read(world: World, marker: str) -> Target:
        receipt_id = await signed(world, False)
        return Target(f"{f.path}/Status/{receipt_id}", receipt_id)

    async def read(client: Client, target: Target) -> Any:
        return await getattr(client, f.state)(CODE, target.key)

    async def to_verify(world: World, marker: str) -> Target:
        receipt_id = await signed(world, False)
        return Target(f"{f.path}/Verify/{receipt_id}", receipt_id)

    async def to_verify_app_to_app(world: World, marker: str) -> Target:
        receipt_id = await signed(world, True)
        signature = world.sandbox.signature(receipt_id)
        return Target(f"{f.path}/Verify/{receipt_id}", receipt_id, signature)

    async def verify(client: Client, target: Target) -> Any:
        extra = [] if target.signature is None else [target.signature]
        return await getattr(client, f.verify)(CODE, target.key, *extra)

    async def verified(world: World, target: Target) -> int:
        return int(world.sandbox.state(target.key).verify_dt is not None)

    def verify_arrivals(world: World, target: Target) -> int:
        return world.sandbox.verify_count(target.key)

    yield Operation(
        name=f.request,
        role="request",
        method="POST",
        endpoint=f"{f.prefix}request",
        prepare=marked,
        call=request,
        acted=created,
    )
    yield Operation(
        name=f.state,
        role="state",
        method="GET",
        endpoint=f"{f.prefix}status",
        prepare=to_read,
        call=read,
        acted=_read_only,
    )
    verifies = {f.verify: to_verify}
    if f.app_to_app:
        verifies[f"{f.verify} (App to App)"] = to_verify_app_to_app
    for name, prepare in verifies.items():
        yield Operation(
            name=name,
            role="verify",
            method="GET",
            endpoint=f"{f.prefix}verify",
            prepare=prepare,
            call=verify,
            acted=verified,
            arrivals=verify_arrivals,
        )


_KAKAOCERT2_OPERATIONS = tuple(op for f in _FAMILIES for op in _family_operations(f))
KAKAOCERT2 = Generation(
    "2.x",
    Client,
    Sandbox.client,
    _KAKAOCERT2_OPERATIONS,
    warm_up=next(op for op in _KAKAOCERT2_OPERATIONS if op.name == "get_esign_state"),
)


# Barocert --------------------------------------------------------------------------------


def _kind_operations(kind: Kind) -> Iterator[Operation]:
    name = kind.name.lower()
    base = f"/KAKAO/{kind.value}"

    async def marked(world: World, marker: str) -> Target:
        return Target(f"{base}/{CODE}", marker)

    async def request(client: barocert.Client, target: Target) -> Any:
        request = make_barocert_request(kind, extra_message=target.key)
        return await getattr(client, f"request_{name}")(CODE, request)

    async def created(world: World, target: Target) -> int:
        service = world.sandbox.barocert
        return sum(
            1
            for _, status in service.receipts()
            if service.request_of(status.receipt_id).extra_message == target.key
        )

    async def signed(world: World) -> str:
        receipt = await getattr(world.direct, f"request_{name}")(CODE, make_barocert_request(kind))
        world.sandbox.barocert.sign(receipt.receipt_id)
        return str(receipt.receipt_id)

    async def to_read(world: World, marker: str) -> Target:
        receipt_id = await signed(world)
        return Target(f"{base}/{CODE}/{receipt_id}", receipt_id)

    async def read(client: barocert.Client, target: Target) -> Any:
        return await getattr(client, f"get_{name}_status")(CODE, target.key)

    async def to_verify(world: World, marker: str) -> Target:
        receipt_id = await signed(world)
        return Target(f"{base}/Verify/{CODE}/{receipt_id}", receipt_id)

    async def verify(client: barocert.Client, target: Target) -> Any:
        return await getattr(client, f"verify_{name}")(CODE, target.key)

    async def verified(world: World, target: Target) -> int:
        return int(world.sandbox.barocert.state(target.key).verify_dt is not None)

    endpoint = f"barocert.{name}"
    yield Operation(
        name=f"barocert.request_{name}",
        role="request",
        method="POST",
        endpoint=f"{endpoint}.request",
        prepare=marked,
        call=request,
        acted=created,
    )
    yield Operation(
        name=f"barocert.get_{name}_status",
        role="state",
        method="GET",
        endpoint=f"{endpoint}.status",
        prepare=to_read,
        call=read,
        acted=_read_only,
    )
    yield Operation(
        name=f"barocert.verify_{name}",
        role="verify",
        method="POST",
        endpoint=f"{endpoint}.verify",
        prepare=to_verify,
        call=verify,
        acted=verified,
    )


async def _logged_in(world: World, marker: str) -> Target:
    tx_id = world.sandbox.barocert.login()
    return Target(f"/KAKAO/Login/Verify/{CODE}/{urllib.parse.quote(tx_id, safe='')}", tx_id)


async def _verify_login(client: barocert.Client, target: Target) -> Any:
    return await client.verify_login(CODE, target.key)


async def _login_verified(world: World, target: Target) -> int:
    """A login has no status to read: a second verify, refused as one, says it went through."""
    try:
        await world.direct.verify_login(CODE, target.key)
    except APIError as refused:
        if refused.code == Rejection.ALREADY_VERIFIED.code:
            return 1
        raise
    return 0


_BAROCERT_OPERATIONS = (
    *(op for kind in Kind for op in _kind_operations(kind)),
    Operation(
        name="barocert.verify_login",
        role="verify",
        method="POST",
        endpoint="barocert.login.verify",
        prepare=_logged_in,
        call=_verify_login,
        acted=_login_verified,
    ),
)
BAROCERT = Generation(
    "barocert",
    barocert.Client,
    Sandbox.barocert_client,
    _BAROCERT_OPERATIONS,
    warm_up=next(op for op in _BAROCERT_OPERATIONS if op.name == "barocert.get_sign_status"),
)


# One case --------------------------------------------------------------------------------


@attrs.frozen
class Case:
    operation: Operation
    phase: Phase
    mode: Mode
    backend: str
    connection: str
    """``fresh``: the cut exchange opens the client's connection; ``reused``: a state
    read went first on it."""

    def __str__(self) -> str:
        return (
            f"{self.operation.name} cut {self.phase.value}/{self.mode.value}"
            f" on {self.backend}, {self.connection} connection"
        )


@attrs.define
class Outcome:
    case: Case
    target: Target
    proxy: FaultProxy
    backend: str = ""
    """What the client said it sends with."""
    result: Any = None
    error: BaseException | None = None
    setup: list[str] = attrs.Factory(list)
    """What went wrong around the call (a failed warm-up, a hung case)."""


async def run_case(world: World, generation: Generation, outcome: Outcome, warm: Target) -> None:
    case, op = outcome.case, outcome.case.operation
    timeout = STALL_TIMEOUT if case.mode is Mode.STALL else TIMEOUT
    http_client = None
    if case.backend == "httpx":
        # httpx's own timeout as short: a stalled exchange, which goes on in the
        # background once the client gave up, frees the pool's one connection as soon.
        limits = httpx.Limits(max_connections=1)
        http_client = httpx.AsyncClient(timeout=timeout, limits=limits, verify=NO_TLS)
    try:
        async with (
            outcome.proxy.serve() as api_url,
            generation.client(
                world.sandbox.link_id,
                world.sandbox.secret_key,
                base_url=api_url,
                auth_url=world.url,
                timeout=timeout,
                max_connections=1,
                http_client=http_client,
            ) as client,
        ):
            outcome.backend = client.http_backend
            if case.connection == "reused":
                try:
                    await generation.warm_up.call(client, warm)
                except Exception as exc:
                    outcome.setup.append(f"the warm-up failed: {describe(exc)}")
                    return
            try:
                outcome.result = await op.call(client, outcome.target)
            except Exception as exc:
                outcome.error = exc
    finally:
        if http_client is not None:
            await http_client.aclose()


async def run_until_cut(
    world: World, generation: Generation, case: Case, target: Target, warm: Target
) -> Outcome:
    """The case's outcome, run again while its exchange never reached the proxy (which
    leaves the target untouched); a case that hangs is an outcome too. The runs share
    one proxy, which keeps the record of every exchange the service got."""
    proxy = FaultProxy(world.url, Cut(case.operation.method, target.path, case.phase, case.mode))
    for _ in range(RUNS):
        outcome = Outcome(case, target, proxy)
        try:
            await asyncio.wait_for(run_case(world, generation, outcome, warm), CASE_GUARD)
        except asyncio.TimeoutError:
            outcome.setup.append(f"the case hung past {CASE_GUARD} s")
            break
        if outcome.proxy.cut_exchange is not None:
            break
    return outcome


# Judging ---------------------------------------------------------------------------------


def describe(error: BaseException) -> str:
    if isinstance(error, KakaocertError):
        text = f"{type(error).__name__}(answer_lost={error.answer_lost}): {error.message}"
    else:
        text = f"{type(error).__name__}: {error}"
    return text if len(text) <= 240 else text[:240] + "…"


async def judge(world: World, outcome: Outcome) -> str | None:
    """What is wrong with a case, and what was seen; ``None`` if nothing."""
    op, target, error = outcome.case.operation, outcome.target, outcome.error
    cut = outcome.proxy.cut_exchange
    sent = sum(1 for e in outcome.proxy.exchanges if e.matched)
    delivered = len(outcome.proxy.delivered(matched=True))
    arrived = delivered if op.arrivals is None else op.arrivals(world, target)
    acted = await op.acted(world, target)
    wrong = not_the_case_asked_for(outcome)
    if cut is not None and not outcome.setup:  # else the case did not run as asked
        wrong += broken_promises(outcome, sent, arrived, acted)
    if not wrong:
        return None
    connection = "none" if cut is None else "reused" if cut.reused else "new"
    seen = (
        f"sent {sent}, delivered {delivered}, arrived {arrived}, acted {acted};"
        f" cut on a {connection} connection; {'returned' if error is None else describe(error)}"
    )
    return f"{outcome.case}: {'; '.join(wrong)}. Seen: {seen}"


def not_the_case_asked_for(outcome: Outcome) -> list[str]:
    """What went wrong with the harness: the case run is not the one asked for."""
    case, cut = outcome.case, outcome.proxy.cut_exchange
    wrong = [*outcome.setup, *outcome.proxy.failures]
    if outcome.backend and outcome.backend != case.backend:
        wrong.append(f"the client sent with {outcome.backend}")
    if cut is None:
        wrong.append("no exchange was cut")
        return wrong
    if cut.reused != (case.connection == "reused"):
        wrong.append(f"the cut exchange rode a {'reused' if cut.reused else 'new'} connection")
    if cut.delivered != (case.phase in REACHES_THE_SERVICE):
        wrong.append(f"the cut exchange was {'' if cut.delivered else 'not '}delivered")
    return wrong


def broken_promises(outcome: Outcome, sent: int, arrived: int, acted: int) -> list[str]:
    """Which of the client's promises the case broke."""
    op, target, error, result = (
        outcome.case.operation,
        outcome.target,
        outcome.error,
        outcome.result,
    )
    wrong = []
    if error is not None and not isinstance(error, KakaocertError):
        wrong.append("an error that is not a KakaocertError escaped")
    if op.role == "state":
        if error is not None:
            wrong.append("the state read did not recover")
        elif result.receipt_id != target.key or result.state not in FINAL:
            wrong.append(f"the state read gave {result.state!r} of {result.receipt_id}")
        return wrong
    if sent > 1:
        # Every case's request was written whole on an accepted connection: the
        # client cannot know that the service did not act on it, so it may not go again
        # (even when, cut before the service, a second sending would happen to be safe).
        wrong.append(f"the client sent it {sent} times")
    if arrived > 1:
        wrong.append(f"it arrived {arrived} times")
    if acted > 1:
        wrong.append(f"the service acted {acted} times")
    if error is None and (arrived, acted) != (1, 1):
        wrong.append("it returned, but did not arrive and act exactly once")
    if isinstance(error, KakaocertError):
        cut = outcome.proxy.cut_exchange
        may_have_acted = acted > 0 or (cut is not None and cut.delivered)
        if may_have_acted and not error.answer_lost:
            wrong.append("the service acted (or may have), but answer_lost is False")
        if op.role == "verify" and not (
            isinstance(error, VerifyOutcomeUnknown) and error.receipt_id == target.key
        ):
            wrong.append("a failed verify is not a VerifyOutcomeUnknown naming its receipt")
    return wrong


def unaccounted(
    generation: Generation, warm: Target, counted: dict[str, int], outcomes: Iterable[Outcome]
) -> list[str]:
    """Where the service's own arrival counts differ from what the proxies delivered
    (which stand for a case's arrivals where the service keeps no count per receipt)."""
    delivered: collections.Counter[str] = collections.Counter()
    wrong = []
    for outcome in outcomes:
        delivered[outcome.case.operation.endpoint] += len(outcome.proxy.delivered(matched=True))
        for other in outcome.proxy.delivered(matched=False):
            if other.request_line.split(" ")[1] == warm.path:
                delivered[generation.warm_up.endpoint] += 1
            else:
                wrong.append(f"{outcome.case}: an unexpected exchange: {other.request_line}")
    for endpoint in sorted(set(counted) - NOT_THROUGH_THE_PROXY):
        if counted[endpoint] != delivered[endpoint]:
            wrong.append(
                f"{endpoint}: the service counted {counted[endpoint]} arrivals, the proxies"
                f" delivered {delivered[endpoint]}"
            )
    return wrong


# The matrix ------------------------------------------------------------------------------


def cases(generation: Generation, backend: str) -> list[Case]:
    return [
        Case(op, phase, mode, backend, connection)
        for op, phase, mode, connection in itertools.product(
            generation.operations, Phase, Mode, CONNECTIONS
        )
    ]


async def bounded(awaitables: Iterable[Awaitable[T]], limit: int) -> list[T]:
    """Await all, ``limit`` at a time; results in order."""
    semaphore = asyncio.Semaphore(limit)

    async def one(awaitable: Awaitable[T]) -> T:
        async with semaphore:
            return await awaitable

    return await asyncio.gather(*(one(a) for a in awaitables))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("generation", [KAKAOCERT2, BAROCERT], ids=lambda g: g.name)
async def test_every_operation_survives_a_cut_exchange(
    generation: Generation, backend: str, record_property: Callable[[str, object], None]
) -> None:
    matrix = cases(generation, backend)
    started = time.monotonic()
    sandbox = Sandbox(sign_after=None)
    with sandbox.serve_in_thread() as url:
        async with generation.in_process(sandbox) as direct:
            world = World(sandbox, url, direct)
            warm = await generation.warm_up.prepare(world, "warm-up")
            targets = await bounded(
                (c.operation.prepare(world, f"fault-matrix {n}") for n, c in enumerate(matrix)),
                CONCURRENCY,
            )
            before = sandbox.stats
            outcomes = await bounded(
                (
                    run_until_cut(world, generation, case, target, warm)
                    for case, target in zip(matrix, targets, strict=True)
                ),
                CONCURRENCY,
            )
            after = sandbox.stats
            # Judged after the counts are read: a login's judge verifies it again.
            failures = [f for f in [await judge(world, o) for o in outcomes] if f is not None]
            counted = {endpoint: after[endpoint] - before[endpoint] for endpoint in after}
            failures += unaccounted(generation, warm, counted, outcomes)
    elapsed = time.monotonic() - started
    record_property("cases", len(matrix))
    record_property("seconds", round(elapsed, 1))
    print(f"fault matrix, {generation.name} on {backend}: {len(matrix)} cases in {elapsed:.1f} s")
    if failures:
        pytest.fail(
            f"{len(failures)} failures in {len(matrix)} cases ({generation.name} on {backend}):\n"
            + "\n".join(failures),
            pytrace=False,
        )
