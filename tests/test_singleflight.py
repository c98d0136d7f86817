"""SingleFlight: one piece of work per key, shared; cancelled only when nobody waits."""

from __future__ import annotations

import asyncio

import pytest

from kakaocert_async._singleflight import SingleFlight


async def test_concurrent_callers_share_one_run() -> None:
    flights: SingleFlight[int] = SingleFlight()
    runs = 0

    async def work() -> int:
        nonlocal runs
        runs += 1
        await asyncio.sleep(0.01)
        return runs

    results = await asyncio.gather(*(flights.run("k", work) for _ in range(100)))
    assert results == [1] * 100
    assert runs == 1
    assert await flights.run("k", work) == 2  # a later call runs again


async def test_keys_are_independent() -> None:
    flights: SingleFlight[str] = SingleFlight()

    async def work(key: str) -> str:
        await asyncio.sleep(0)
        return key

    assert await asyncio.gather(
        flights.run("a", lambda: work("a")), flights.run("b", lambda: work("b"))
    ) == ["a", "b"]


async def test_an_error_reaches_every_waiter_and_is_not_kept() -> None:
    flights: SingleFlight[int] = SingleFlight()
    calls = 0

    async def work() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        raise LookupError("boom")

    outcomes = await asyncio.gather(
        *(flights.run("k", work) for _ in range(3)), return_exceptions=True
    )
    assert [type(o) for o in outcomes] == [LookupError] * 3
    assert calls == 1
    with pytest.raises(LookupError):
        await flights.run("k", work)
    assert calls == 2


async def test_one_cancelled_waiter_does_not_cancel_the_others() -> None:
    flights: SingleFlight[str] = SingleFlight()
    release = asyncio.Event()

    async def work() -> str:
        await release.wait()
        return "done"

    first = asyncio.create_task(flights.run("k", work))
    second = asyncio.create_task(flights.run("k", work))
    await asyncio.sleep(0)
    first.cancel()
    await asyncio.sleep(0)
    release.set()
    assert await second == "done"
    assert first.cancelled()


async def test_the_work_is_cancelled_when_the_last_waiter_leaves() -> None:
    flights: SingleFlight[str] = SingleFlight()
    cancelled = asyncio.Event()

    async def work() -> str:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "never"

    waiters = [asyncio.create_task(flights.run("k", work)) for _ in range(2)]
    await asyncio.sleep(0)
    for waiter in waiters:
        waiter.cancel()
    await asyncio.gather(*waiters, return_exceptions=True)
    await asyncio.wait_for(cancelled.wait(), 1)
    await asyncio.sleep(0)
    assert asyncio.all_tasks() == {asyncio.current_task()}
