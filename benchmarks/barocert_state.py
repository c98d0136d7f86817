"""Barocert's state call: our barocert.Client and the official barocert SDK side by side.

The sandbox is served by a process of its own (``python -m kakaocert_async sandbox``)
on a loopback port, so this process's CPU time (``time.process_time``) is the
client's alone. Both clients read the state of the same waiting sign receipt
(``getSignStatus``), one call after another, then many at once:

- ours with its default backend (aiohttp), sequential and ``concurrency`` in flight;
- the official SDK (barocert 1.8, synchronous), unmodified, as in production (its
  API connection kept up to 15 s, its auth connections new each time: only
  ``http.client.HTTPSConnection`` is pointed at the sandbox, in plain HTTP), by
  default (``UseLocalTimeYN = False``: it reads the auth server's ``/Time`` before
  every call) and at its fastest (``UseLocalTimeYN = True``: one request per
  call); and, as a synchronous singleton is used in threaded servers, ``threads``
  threads sharing it, counting the calls that fail.

Targets: our sequential calls/s at least the official SDK's best, and our CPU per
call at most its lowest.

python -m benchmarks.barocert_state            # 2,000 calls each
python -m benchmarks.barocert_state --smoke    # 50: seconds, to check it runs
python -m benchmarks --only barocert           # the same, in the whole report

(Not ``benchmarks/barocert.py``: run as a script, that name would shadow the
official ``barocert`` package it imports.)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import sys
import threading
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any

from kakaocert_async import barocert
from kakaocert_async.sandbox import DEFAULT_CLIENT_CODE, DEFAULT_LINK_ID, DEFAULT_SECRET_KEY

from ._figures import Figure, at_most, table
from ._workers import served_sandbox

NAME = "barocert state (sandbox on loopback, own process)"
SIZES = {
    "full": {"calls": 2000, "concurrency": 50, "threads": 16},
    "smoke": {"calls": 50, "concurrency": 5, "threads": 4},
}
REQUEST = barocert.SignRequest(
    receiver_hp="01012341234",
    receiver_name="홍길동",
    receiver_birthday="19900108",
    sign_title="벤치마크 계약서",
    expire_in=1000,
    token="본인은 위 계약 내용에 동의합니다.",
    token_type=barocert.TokenType.TEXT,
)


def _measured(calls: int, run: Callable[[], None]) -> tuple[float, float]:
    """Calls per second and CPU microseconds per call of ``run()`` making ``calls`` calls."""
    cpu, wall = time.process_time(), time.perf_counter()
    run()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return calls / wall, cpu / calls * 1e6


# Ours ---------------------------------------------------------------------------------


async def _ours(url: str, calls: int, concurrency: int) -> tuple[str, float, float, float]:
    """The receipt, sequential calls/s, CPU µs per call, and calls/s with ``concurrency``."""
    async with barocert.Client(
        DEFAULT_LINK_ID, DEFAULT_SECRET_KEY, base_url=url, auth_url=url
    ) as client:
        receipt = await client.request_sign(DEFAULT_CLIENT_CODE, REQUEST)

        async def state() -> None:
            await client.get_sign_status(DEFAULT_CLIENT_CODE, receipt.receipt_id)

        async def sequential(n: int) -> None:
            for _ in range(n):
                await state()

        async def parallel(n: int) -> None:
            async def worker() -> None:
                await sequential(n // concurrency)

            await asyncio.gather(*(worker() for _ in range(concurrency)))

        await sequential(max(calls // 10, 5))  # warm up: token, clock, connections
        rate, cpu = await _timed(calls, sequential(calls))
        per_worker = max(calls // concurrency, 1) * concurrency
        together, _ = await _timed(per_worker, parallel(per_worker))
    return receipt.receipt_id, rate, cpu, together


async def _timed(calls: int, work: Awaitable[None]) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    await work
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return calls / wall, cpu / calls * 1e6


# The official SDK ---------------------------------------------------------------------


def available() -> bool:
    try:
        import barocert as official  # noqa: F401
        import linkhub  # noqa: F401
    except ImportError:
        return False
    return True


@contextlib.contextmanager
def official_service(url: str, *, local_time: bool) -> Iterator[Any]:
    """A fresh official ``KakaocertService`` whose HTTPS connections go to ``url`` in plain
    HTTP, its code and connection handling unchanged."""
    import barocert as official
    import linkhub
    from barocert import base

    port = urllib.parse.urlsplit(url).port
    plain = http.client.HTTPConnection

    def to_sandbox(*args: Any, **kwargs: Any) -> http.client.HTTPConnection:
        return plain("127.0.0.1", port, timeout=10)

    saved = (
        http.client.HTTPSConnection,
        base.Singleton._instances,
        linkhub.TokenInstance._ServiceURL,
    )
    http.client.HTTPSConnection = to_sandbox  # type: ignore[misc,assignment]
    base.Singleton._instances = {}
    linkhub.TokenInstance._ServiceURL = ""
    service = official.KakaocertService(DEFAULT_LINK_ID, DEFAULT_SECRET_KEY)
    service.UseLocalTimeYN = local_time
    try:
        yield service
    finally:
        http.client.HTTPSConnection = saved[0]  # type: ignore[misc]
        base.Singleton._instances = saved[1]
        linkhub.TokenInstance._ServiceURL = saved[2]


def _official(url: str, receipt_id: str, calls: int, *, local_time: bool) -> tuple[float, float]:
    with official_service(url, local_time=local_time) as service:

        def sequential(n: int) -> None:
            for _ in range(n):
                service.getSignStatus(DEFAULT_CLIENT_CODE, receipt_id)

        sequential(max(calls // 10, 5))
        return _measured(calls, lambda: sequential(calls))


def _official_threads(url: str, receipt_id: str, threads: int, calls_each: int) -> float:
    """The share of calls that raise when ``threads`` threads share the SDK (as a
    synchronous web app's workers would share its singleton)."""
    failed = 0
    lock = threading.Lock()
    with official_service(url, local_time=True) as service:

        def work() -> None:
            nonlocal failed
            for _ in range(calls_each):
                try:
                    service.getSignStatus(DEFAULT_CLIENT_CODE, receipt_id)
                except Exception:  # counting every kind of failure
                    with lock:
                        failed += 1

        workers = [threading.Thread(target=work) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    return failed / (threads * calls_each)


# The figures ------------------------------------------------------------------------------


async def run(*, calls: int, concurrency: int, threads: int) -> list[Figure]:
    with served_sandbox() as (url, _):
        receipt_id, rate, cpu, together = await _ours(url, calls, concurrency)
        figures = [
            Figure(NAME, "kakaocert_async, sequential", rate, "calls/s"),
            Figure(NAME, "kakaocert_async, client CPU per call", cpu, "µs"),
            Figure(NAME, f"kakaocert_async, {concurrency} concurrent", together, "calls/s"),
        ]
        if not available():
            print("  (the official barocert SDK is not installed: its figures are left out)")
            return figures
        official = {
            local: await asyncio.to_thread(_official, url, receipt_id, calls, local_time=local)
            for local in (False, True)
        }
        failed = await asyncio.to_thread(
            _official_threads, url, receipt_id, threads, max(calls // threads, 4)
        )
    best_rate = max(rate for rate, _ in official.values())
    least_cpu = min(cpu for _, cpu in official.values())
    figures[0] = Figure(
        NAME,
        figures[0].name,
        rate,
        "calls/s",
        f"≥ {best_rate:,.0f} (official's best)",
        rate >= best_rate,
    )
    figures[1] = at_most(NAME, figures[1].name, cpu, "µs", round(least_cpu, 1))
    for local, (official_rate, official_cpu) in official.items():
        setting = "UseLocalTimeYN=True, its fastest" if local else "default: /Time before each call"
        figures += [
            Figure(NAME, f"official SDK ({setting}), sequential", official_rate, "calls/s"),
            Figure(NAME, f"official SDK ({setting}), CPU per call", official_cpu, "µs"),
        ]
    figures.append(
        Figure(NAME, f"official SDK, {threads} threads sharing it: calls failed", failed * 100, "%")
    )
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.barocert_state", description=__doc__
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to check it runs")
    args = parser.parse_args(argv)
    sizes = SIZES["smoke" if args.smoke else "full"]
    print(f"running barocert {sizes} ...", flush=True)
    figures = asyncio.run(run(**sizes))
    print(table(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
