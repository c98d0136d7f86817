"""The send path's deadline (``_deadline.Deadline``): asyncio's ``timeout_at`` rule, on one
timer per loop, under asyncio's own loop and uvloop (what uvicorn runs)."""

from __future__ import annotations

import asyncio
import gc
import sys
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from kakaocert_async._deadline import _WATCHES, Deadline

uvloop = pytest.importorskip("uvloop")
LOOPS: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
    "asyncio": asyncio.new_event_loop,
    "uvloop": uvloop.new_event_loop,
}


def run(new_loop: Callable[[], asyncio.AbstractEventLoop], main: Awaitable[Any]) -> Any:
    loop = new_loop()
    try:
        return loop.run_until_complete(main)
    finally:
        loop.close()


async def sleeps(seconds: float, *, within: float) -> str:
    """Sleep ``seconds`` under a deadline ``within`` seconds away: how it ended."""
    loop = asyncio.get_running_loop()
    try:
        with Deadline(loop.time() + within):
            await asyncio.sleep(seconds)
    except asyncio.TimeoutError:
        return "timed out"
    return "done"


@pytest.fixture(params=list(LOOPS))
def new_loop(request: pytest.FixtureRequest) -> Callable[[], asyncio.AbstractEventLoop]:
    return LOOPS[request.param]


def test_a_block_past_its_deadline_times_out_and_the_task_is_not_left_cancelled(
    new_loop: Callable[[], asyncio.AbstractEventLoop],
) -> None:
    async def main() -> tuple[str, str, int]:
        late = await sleeps(1, within=0.02)
        in_time = await sleeps(0, within=1)
        task = asyncio.current_task()
        assert task is not None
        left = 0
        if sys.version_info >= (3, 11):
            left = task.cancelling()
        await asyncio.sleep(0)  # no cancellation is pending either
        return late, in_time, left

    assert run(new_loop, main()) == ("timed out", "done", 0)


def test_a_deadline_already_past_times_out_at_the_first_await(
    new_loop: Callable[[], asyncio.AbstractEventLoop],
) -> None:
    assert run(new_loop, sleeps(1, within=-1)) == "timed out"


def test_deadlines_sharing_the_timer_each_end_at_their_own_time(
    new_loop: Callable[[], asyncio.AbstractEventLoop],
) -> None:
    """A later deadline armed first does not delay an earlier one added after it, and an
    earlier one ending does not end a later one."""

    async def main() -> list[tuple[str, float]]:
        loop = asyncio.get_running_loop()
        began = loop.time()

        async def timed(seconds: float, within: float) -> tuple[str, float]:
            outcome = await sleeps(seconds, within=within)
            return outcome, loop.time() - began

        patient = asyncio.ensure_future(timed(0.3, within=5))
        await asyncio.sleep(0)
        hasty = asyncio.ensure_future(timed(5, within=0.05))
        return [await hasty, await patient]

    (hasty, hasty_at), (patient, patient_at) = run(new_loop, main())
    assert (hasty, patient) == ("timed out", "done")
    assert hasty_at < 0.25 < patient_at < 5  # (on a timer armed for 5 s, hasty_at is 5)


@pytest.mark.xfail(
    sys.version_info < (3, 11), reason="3.10 cannot tell whose cancel it is", strict=True
)
def test_a_cancel_from_elsewhere_stays_a_cancel_when_the_deadline_passes_too(
    new_loop: Callable[[], asyncio.AbstractEventLoop],
) -> None:
    async def main() -> str:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        loop.call_at(loop.time() + 0.02, task.cancel)  # at the deadline's moment too
        try:
            with Deadline(loop.time() + 0.02):
                await asyncio.sleep(1)
        except asyncio.TimeoutError:
            return "timed out"
        except asyncio.CancelledError:
            return "cancelled"
        return "done"

    assert run(new_loop, main()) == "cancelled"


def test_a_closed_loop_is_not_kept_by_an_armed_timer(
    new_loop: Callable[[], asyncio.AbstractEventLoop],
) -> None:
    """A deadline that ended early leaves the timer armed for it: the loop's close drops
    it, and nothing of the SDK's keeps the loop alive."""
    loop = new_loop()
    loop.run_until_complete(sleeps(0, within=100))
    assert loop in _WATCHES
    gone = weakref.ref(loop)
    loop.close()
    del loop
    gc.collect()
    assert gone() is None
