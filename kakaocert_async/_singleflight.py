"""Share one in-flight coroutine among every caller that asks for the same key.

A thousand concurrent first calls for a client code make one token request.
The shared work runs in its own task, so a cancelled caller (or one whose
deadline passed) does not cancel it for the others; when the last caller gives
up, the work is cancelled too, and that caller returns only once it has
stopped, so nothing is left running.
"""

from __future__ import annotations

import asyncio
import functools
import sys
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

from ._deadline import Deadline
from ._errors import ClientClosed, TransportError

T = TypeVar("T")


class _Flight(Generic[T]):
    __slots__ = ("task", "waiters")

    def __init__(self, task: asyncio.Task[T]) -> None:
        self.task = task
        self.waiters = 0


class SingleFlight(Generic[T]):
    """``await flights.run(key, work)``: one ``work()`` at a time per key, result shared."""

    __slots__ = ("_flights",)

    def __init__(self) -> None:
        self._flights: dict[Hashable, _Flight[T]] = {}

    async def run(
        self,
        key: Hashable,
        work: Callable[[], Awaitable[T]],
        *,
        deadline: float | None = None,
        waiting_for: str = "a shared call",
    ) -> T:
        """The result of the flight for ``key`` (started if there is none).

        A caller waits no longer than its ``deadline`` (``time.monotonic()``):
        then it gets a :class:`TransportError` naming ``waiting_for``, and the
        flight goes on for the others. If the flight is cancelled by
        :meth:`cancel_all` (the owner closed), its callers get :class:`ClientClosed`.
        """
        flight = self._flights.get(key)
        if flight is None:
            flight = self._flights[key] = _Flight(asyncio.ensure_future(work()))
            flight.task.add_done_callback(functools.partial(self._land, key, flight))
        flight.waiters += 1
        try:
            if deadline is None:
                return await asyncio.shield(flight.task)
            try:
                with Deadline(deadline):
                    return await asyncio.shield(flight.task)
            except asyncio.TimeoutError:
                raise TransportError(f"{waiting_for}: no answer before the deadline") from None
        except asyncio.CancelledError:
            # Unless the caller itself was asked to stop too (Python 3.10 cannot tell).
            me = asyncio.current_task()
            if flight.task.cancelled() and (
                sys.version_info < (3, 11) or me is None or not me.cancelling()
            ):
                raise ClientClosed(
                    f"the Client was closed while waiting for {waiting_for}"
                ) from None
            raise
        finally:
            flight.waiters -= 1
            if flight.waiters == 0 and not flight.task.done():
                # A caller arriving from now on starts afresh, not on cancelled work.
                if self._flights.get(key) is flight:
                    del self._flights[key]
                flight.task.cancel()
                await asyncio.wait([flight.task])

    def _land(self, key: Hashable, flight: _Flight[T], _: object) -> None:
        if self._flights.get(key) is flight:
            del self._flights[key]
        # Retrieve the outcome so an error nobody awaited is not reported as lost.
        if not flight.task.cancelled():
            flight.task.exception()

    def cancel_all(self) -> None:
        """Cancel every flight (when the owner closes)."""
        for flight in list(self._flights.values()):
            flight.task.cancel()
