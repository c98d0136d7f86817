"""A Client's calls in flight, the close that ends them, and the one event loop it serves.

Every public coroutine of a Client runs inside :meth:`Calls.track`. Closing the
Client cancels the tasks in there, and their cancellation comes out of the call
as :class:`ClientClosed` (a :class:`KakaocertError`), never as a bare
``CancelledError`` the caller did not ask for; a cancellation of the caller's
own still comes out as ``CancelledError``. A polling iterator is tracked step by
step (:meth:`Calls.guard`), never while the caller holds a state it yielded.

A Client belongs to the event loop of its first call: its connections live
there. Using it from another loop (a second ``asyncio.run``) or from another
async library is a clear :class:`KakaocertError`, not a hang or a socket error.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncGenerator
from types import TracebackType
from typing import TypeVar

from ._errors import ClientClosed, KakaocertError

T = TypeVar("T")

CLOSE_GRACE = 1.0
"""Seconds ``aclose`` waits for cancelled calls to unwind before closing connections."""


class Calls:
    """The tasks inside a Client's calls right now."""

    __slots__ = ("_active", "_cancelled", "_idle", "_loop", "closed")

    def __init__(self) -> None:
        self._active: dict[asyncio.Task[object], int] = {}
        self._cancelled: set[asyncio.Task[object]] = set()
        self._idle: asyncio.Future[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.closed = False

    def check(self) -> asyncio.AbstractEventLoop:
        """Raise if the Client cannot be used here and now; its loop otherwise."""
        if self.closed:
            raise ClientClosed("this Client is closed; create a new one")
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise KakaocertError(
                "kakaocert_async runs on asyncio, and no asyncio event loop is running here"
                " (trio and other async libraries are not supported)"
            ) from None
        if self._loop is None:
            self._loop = loop
        elif loop is not self._loop:
            raise KakaocertError(
                "this Client belongs to another event loop (one Client per event loop: create"
                " it inside the loop that uses it, e.g. in the same asyncio.run() or in a"
                " FastAPI lifespan)"
            )
        return loop

    def track(self) -> _Tracked:
        """``with calls.track():`` around one step of a call."""
        self.check()
        task = asyncio.current_task()
        assert task is not None
        self._active[task] = self._active.get(task, 0) + 1
        return _Tracked(self, task)

    def _leave(self, task: asyncio.Task[object]) -> bool:
        """Forget one step of ``task``; whether a cancellation was the close's doing."""
        count = self._active[task] - 1
        if count:
            self._active[task] = count
            return False
        del self._active[task]
        ours = task in self._cancelled
        self._cancelled.discard(task)
        if not self._active and self._idle is not None and not self._idle.done():
            self._idle.set_result(None)
        return ours

    async def guard(self, inner: AsyncGenerator[T, None]) -> AsyncGenerator[T, None]:
        """``inner``, each step of it tracked (a close ends it with ClientClosed)."""
        # try/finally rather than contextlib.aclosing: one object less per waiter,
        # and ten thousand waiters may sleep in here at once.
        try:
            while True:
                with self.track():
                    try:
                        item = await inner.__anext__()
                    except StopAsyncIteration:
                        return
                yield item
        finally:
            await inner.aclose()

    async def close(self) -> None:
        """Refuse new calls, end those in flight, and wait (briefly) until they have."""
        self.closed = True
        current = asyncio.current_task()
        for task in self._active:
            if task is not current and not task.done():
                self._cancelled.add(task)
                task.cancel()
        if any(task is not current for task in self._active):
            self._idle = asyncio.get_running_loop().create_future()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._idle), CLOSE_GRACE)


class _Tracked:
    __slots__ = ("_calls", "_task")

    def __init__(self, calls: Calls, task: asyncio.Task[object]) -> None:
        self._calls = calls
        self._task = task

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        ours = self._calls._leave(self._task)
        if exc_type is None or not issubclass(exc_type, asyncio.CancelledError):
            return
        if not (ours or self._calls.closed):
            return
        if sys.version_info >= (3, 11):
            if ours:
                self._task.uncancel()
            if self._task.cancelling():
                return  # the caller's own cancellation as well: let it through
        raise ClientClosed("the Client was closed while this call was in flight") from None
