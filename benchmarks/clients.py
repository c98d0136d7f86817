"""One client of the side-by-side, in its own process: state calls one after another and
from many concurrent callers, with this process's CPU time and each call's latency.

python -m benchmarks.clients NAME URL [--sequential N] [--concurrent C:N ...] [--warmup N]

NAME is one of :data:`CLIENTS`. Every client makes the same call: ``GET
/SignToken/Status/{id}`` and the JSON parse of the answer (the SDK's clients also
check, sign and convert, which is what is measured). Prints one JSON line: per
run, the calls made, the errors by kind, wall and CPU seconds, and latencies.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import sys
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast

if __package__ in (None, ""):  # run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import canned

AsyncCall = Callable[[], Awaitable[object]]

POOL = 100
"""Connections of the raw clients' pools: httpx's and aiohttp's default limit."""


@dataclass(frozen=True)
class Target:
    """Where the calls go, and what they carry."""

    url: str
    link_id: str = canned.LINK_ID
    secret_key: str = canned.SECRET_KEY
    client_code: str = canned.CLIENT_CODE
    receipt_id: str = canned.RECEIPT_ID
    token: str = canned.TOKEN
    """The session token the raw clients send (the SDKs get their own)."""

    @property
    def status_url(self) -> str:
        return f"{self.url}/SignToken/Status/{self.receipt_id}"

    @property
    def headers(self) -> dict[str, str]:
        """What a raw client sends: the SDK's authentication and version headers."""
        return {"Authorization": f"Bearer {self.token}", "x-pb-version": "2.0"}


@dataclass
class Run:
    """One run: ``calls`` attempted by ``concurrency`` callers."""

    concurrency: int
    calls: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    wall: float = 0.0
    cpu: float = 0.0
    """CPU seconds of this whole process (every thread) during the run."""
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0

    @property
    def succeeded(self) -> int:
        return self.calls - sum(self.errors.values())


def _close(run: Run, latencies: list[float], errors: Counter[str], wall: float, cpu: float) -> Run:
    latencies.sort()
    if latencies:
        run.p50_ms = latencies[len(latencies) // 2] * 1000
        run.p99_ms = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
        run.max_ms = latencies[-1] * 1000
    run.errors = dict(errors)
    run.wall, run.cpu = wall, cpu
    return run


async def measure(call: AsyncCall, concurrency: int, *, each: int = 0, seconds: float = 0) -> Run:
    """``concurrency`` tasks making calls one after another: ``each`` calls apiece, or as
    many as they can for ``seconds`` (a call started in time is waited for)."""
    run = Run(concurrency)
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    clock = time.perf_counter
    cpu, began = time.process_time(), clock()
    deadline = began + seconds

    async def caller() -> None:
        made = 0
        while made < each if each else clock() < deadline:
            made += 1
            started = clock()
            try:
                await call()
            except Exception as exc:  # counting every kind of failure
                errors[type(exc).__name__] += 1
            else:
                latencies.append(clock() - started)

    await asyncio.gather(*(caller() for _ in range(concurrency)))
    run.calls = len(latencies) + sum(errors.values())
    return _close(run, latencies, errors, clock() - began, time.process_time() - cpu)


def measure_sync(call: Callable[[], object], seconds: float) -> Run:
    """Calls one after another for ``seconds``, synchronously."""
    run = Run(1)
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    clock = time.perf_counter
    cpu, began = time.process_time(), clock()
    deadline = began + seconds
    while clock() < deadline:
        started = clock()
        try:
            call()
        except Exception as exc:  # counting every kind of failure
            errors[type(exc).__name__] += 1
        else:
            latencies.append(clock() - started)
    run.calls = len(latencies) + sum(errors.values())
    return _close(run, latencies, errors, clock() - began, time.process_time() - cpu)


# The clients ---------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def sdk(target: Target) -> AsyncIterator[AsyncCall]:
    """The SDK's ``Client`` as a user makes it: whatever transport it uses by default."""
    from kakaocert_async import Client

    async with Client(
        target.link_id, target.secret_key, base_url=target.url, auth_url=target.url
    ) as client:
        code, receipt_id = target.client_code, target.receipt_id
        yield lambda: client.get_esign_state(code, receipt_id)


@contextlib.asynccontextmanager
async def sdk_httpx(target: Target) -> AsyncIterator[AsyncCall]:
    """The SDK's ``Client`` sending through the caller's own ``httpx.AsyncClient()``."""
    import httpx

    from kakaocert_async import Client

    async with (
        httpx.AsyncClient() as http,
        Client(
            target.link_id,
            target.secret_key,
            base_url=target.url,
            auth_url=target.url,
            http_client=http,
        ) as client,
    ):
        code, receipt_id = target.client_code, target.receipt_id
        yield lambda: client.get_esign_state(code, receipt_id)


@contextlib.asynccontextmanager
async def raw_httpx(target: Target) -> AsyncIterator[AsyncCall]:
    """A bare ``httpx.AsyncClient`` (its defaults) making the same GET and JSON parse."""
    import httpx

    async with httpx.AsyncClient(headers=target.headers) as http:
        url = target.status_url

        async def call() -> object:
            response = await http.get(url)
            if response.status_code != 200:
                raise RuntimeError(f"HTTP {response.status_code}")
            return json.loads(response.content)

        yield call


@contextlib.asynccontextmanager
async def raw_aiohttp(target: Target) -> AsyncIterator[AsyncCall]:
    """A bare ``aiohttp.ClientSession`` (its defaults) making the same GET and JSON parse."""
    import aiohttp

    async with aiohttp.ClientSession(headers=target.headers) as session:
        url = target.status_url

        async def call() -> object:
            async with session.get(url) as response:
                body = await response.read()
                if response.status != 200:
                    raise RuntimeError(f"HTTP {response.status}")
            return json.loads(body)

        yield call


class _Connection(asyncio.Protocol):
    """A keep-alive connection that sends a request and resolves with the answer's body."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._buffer = b""
        self._waiter: asyncio.Future[tuple[bytes, bytes]] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer + data if self._buffer else data
        end = buffer.find(b"\r\n\r\n")
        if end >= 0:
            head = buffer[:end].lower()
            at = head.find(b"\r\ncontent-length:")
            stop = head.find(b"\r\n", at + 2)
            total = end + 4 + int(head[at + 17 : stop if stop >= 0 else None])
            if len(buffer) >= total:
                self._buffer = buffer[total:]
                if self._waiter is not None and not self._waiter.done():
                    self._waiter.set_result((buffer[9:12], buffer[end + 4 : total]))
                return
        self._buffer = buffer

    def connection_lost(self, exc: Exception | None) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(ConnectionError("the server closed the connection"))

    async def exchange(self, request: bytes) -> tuple[bytes, bytes]:
        assert self.transport is not None
        self._waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return await self._waiter


class _Pool:
    """Up to :data:`POOL` connections, opened as needed; callers beyond wait in order and
    each released connection goes straight to the longest waiting."""

    def __init__(self, host: str, port: int) -> None:
        self._host, self._port = host, port
        self._idle: list[_Connection] = []
        self._waiters: collections.deque[asyncio.Future[_Connection]] = collections.deque()
        self.opened: list[_Connection] = []

    async def acquire(self) -> _Connection:
        if self._idle:
            return self._idle.pop()
        loop = asyncio.get_running_loop()
        if len(self.opened) < POOL:
            connection = _Connection()
            self.opened.append(connection)  # the slot is taken before the await
            await loop.create_connection(lambda: connection, self._host, self._port)
            return connection
        waiter: asyncio.Future[_Connection] = loop.create_future()
        self._waiters.append(waiter)
        return await waiter

    def release(self, connection: _Connection) -> None:
        if self._waiters:
            self._waiters.popleft().set_result(connection)
        else:
            self._idle.append(connection)


@contextlib.asynccontextmanager
async def raw_protocol(target: Target) -> AsyncIterator[AsyncCall]:
    """The ceiling: an asyncio protocol writing prepared request bytes over a fair pool of
    keep-alive connections, and the JSON parse."""
    parts = urllib.parse.urlsplit(target.url)
    lines = [f"GET /SignToken/Status/{target.receipt_id} HTTP/1.1", f"Host: {parts.netloc}"]
    lines += [f"{name}: {value}" for name, value in target.headers.items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    pool = _Pool(parts.hostname or "127.0.0.1", parts.port or 80)

    async def call() -> object:
        connection = await pool.acquire()
        try:
            status, body = await connection.exchange(request)
        finally:
            pool.release(connection)
        if status != b"200":
            raise RuntimeError(f"HTTP {status.decode()}")
        return json.loads(body)

    try:
        yield call
    finally:
        for connection in pool.opened:
            if connection.transport is not None:
                connection.transport.close()


@contextlib.contextmanager
def official_sdk(target: Target) -> Iterator[Callable[[], object]]:
    """The official synchronous SDK (``kakaocert`` 2.52 on ``http.client``)."""
    from benchmarks import official

    with official.service(target.url, target.link_id, target.secret_key) as service:
        code, receipt_id = target.client_code, target.receipt_id
        yield lambda: service.getESignState(code, receipt_id)


CLIENTS: dict[str, str] = {
    "sdk": "kakaocert_async `Client(...)` as shipped",
    "sdk-httpx": "kakaocert_async `Client(..., http_client=httpx.AsyncClient())`",
    "official": "official `kakaocert` 2.52 (sync, `http.client`)",
    "httpx": "raw `httpx.AsyncClient`",
    "aiohttp": "raw `aiohttp.ClientSession`",
    "protocol": "raw asyncio protocol (the ceiling)",
}
"""Every client, by name, with how the report shows it."""

_ASYNC = {
    "sdk": sdk,
    "sdk-httpx": sdk_httpx,
    "httpx": raw_httpx,
    "aiohttp": raw_aiohttp,
    "protocol": raw_protocol,
}


# One process's work --------------------------------------------------------------------


def _name(concurrency: int) -> str:
    return "sequential" if concurrency == 1 else f"c{concurrency}"


async def _run_async(name: str, target: Target, *, warmup: int, runs: list[Spec]) -> dict[str, Any]:
    results: dict[str, Any] = {}
    async with _ASYNC[name](target) as call:
        made = (await measure(call, 1, each=warmup)).calls
        for concurrency, each, seconds in runs:
            if concurrency > 1:
                # Open the connections first, as a server that has been up for a while has.
                opening = min(concurrency, POOL)
                made += (await measure(call, opening, each=1)).calls
            run = await measure(call, concurrency, each=each, seconds=seconds)
            made += run.calls
            results[_name(concurrency)] = asdict(run)
    results["made"] = made
    return results


def _run_official(
    target: Target, *, warmup: int, runs: list[Spec], threads: tuple[int, int] | None
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with official_sdk(target) as call:
        for _ in range(warmup):
            call()
        made = warmup
        for concurrency, _, seconds in runs:
            if concurrency == 1:  # a synchronous SDK has no concurrent callers
                run = measure_sync(call, seconds or 1.0)
                made += run.calls
                results["sequential"] = asdict(run)
        if threads:
            run = _threaded(call, *threads)
            made += run.calls
            results["threads"] = asdict(run)
    results["made"] = made
    return results


def _threaded(call: Callable[[], object], threads: int, calls_each: int) -> Run:
    """``threads`` threads sharing the one SDK object, as a sync web app's workers would."""
    run = Run(threads, calls=threads * calls_each)
    errors: Counter[str] = Counter()
    lock = threading.Lock()

    def work() -> None:
        for _ in range(calls_each):
            try:
                call()
            except Exception as exc:  # counting every kind of failure
                with lock:
                    errors[type(exc).__name__] += 1

    workers = [threading.Thread(target=work) for _ in range(threads)]
    cpu, started = time.process_time(), time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return _close(run, [], errors, time.perf_counter() - started, time.process_time() - cpu)


Spec = tuple[int, int, float]
"""(concurrent callers, calls each, seconds): ``each`` or ``seconds`` is 0."""


def _spec(text: str) -> Spec:
    """``CALLERS:EACH`` or ``CALLERS:SECONDSs``: ``1000:2``, ``100:1.5s``."""
    callers, _, amount = text.partition(":")
    if amount.endswith("s"):
        return int(callers), 0, float(amount[:-1])
    return int(callers), int(amount), 0.0


def _pair(text: str) -> tuple[int, int]:
    first, _, second = text.partition(":")
    return int(first), int(second)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.clients", description=__doc__)
    parser.add_argument("name", choices=list(CLIENTS))
    parser.add_argument("url")
    parser.add_argument("--warmup", type=int, default=100, metavar="CALLS")
    parser.add_argument(
        "--run",
        type=_spec,
        action="append",
        default=[],
        metavar="SPEC",
        help="CALLERS:EACH or CALLERS:SECONDSs, e.g. 1:1s 100:1.5s 1000:2 (repeat)",
    )
    parser.add_argument(
        "--threads", type=_pair, metavar="THREADS:EACH", help="official SDK: threads sharing it"
    )
    for option in ("link-id", "secret-key", "client-code", "receipt-id", "token"):
        parser.add_argument(f"--{option}")
    args = parser.parse_args(argv)
    given = {
        key: getattr(args, key)
        for key in ("link_id", "secret_key", "client_code", "receipt_id", "token")
        if getattr(args, key) is not None
    }
    target = Target(args.url, **given)
    if args.name == "official":
        runs = _run_official(target, warmup=args.warmup, runs=args.run, threads=args.threads)
    else:
        runs = asyncio.run(_run_async(args.name, target, warmup=args.warmup, runs=args.run))
    made = runs.pop("made")
    print(json.dumps({"client": args.name, "made": made, "runs": runs}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
