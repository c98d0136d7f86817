"""A Client's calls in flight, the close that ends them, and the one event loop it serves.

Every public coroutine of a Client runs inside :meth:`Calls.track`, which also
keeps how far its exchange got. Closing the Client refuses new calls, gives
those in flight a grace period to finish, then cancels the rest: their
cancellation comes out of the call as :class:`ClientClosed` (a
:class:`KakaocertError` whose ``progress`` says whether the request had been
sent), never as a bare ``CancelledError`` the caller did not ask for; a
cancellation of the caller's own still comes out as ``CancelledError``. A
polling iterator is tracked step by step (:meth:`Calls.guard`), never while the
caller holds a state it yielded.

The exchange of a call the service acts on once (a request, a verify) that was
sent when its caller went away is kept (:meth:`Calls.keep`): the close waits for
it, so that its answer is read to the end and handed over rather than dropped.

A Client belongs to the event loop of its first call: its connections live
there. Using it from another loop (a second ``asyncio.run``) or from another
async library is a clear :class:`KakaocertError`, not a hang or a socket error.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncGenerator, Callable
from types import TracebackType
from typing import Any, TypeVar

from ._errors import ClientClosed, KakaocertError, Progress
from ._transports import Answer, Attempt

T = TypeVar("T")

DEFAULT_GRACE = 5.0
"""Seconds ``aclose()`` lets the calls in flight finish before it cancels them."""
UNWIND_GRACE = 1.0
"""Seconds ``aclose`` waits for cancelled calls to unwind before closing connections."""


class Calls:
    """The tasks inside a Client's calls right now."""

    __slots__ = ("_active", "_cancelled", "_idle", "_kept", "_loop", "closed")

    def __init__(self) -> None:
        self._active: dict[asyncio.Task[object], int] = {}
        self._cancelled: set[asyncio.Task[object]] = set()
        self._idle: asyncio.Future[None] | None = None
        self._kept: set[asyncio.Future[object]] = set()
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

    def track(self) -> Tracked:
        """``with calls.track() as call:`` around one step of a call."""
        task = asyncio.current_task(self.check())  # (given its loop: no second look-up)
        assert task is not None
        self._active[task] = self._active.get(task, 0) + 1
        return Tracked(self, task)

    def keep(self, exchange: asyncio.Future[Any]) -> None:
        """Keep ``exchange`` (of a caller gone) until it is done: the close waits for it."""
        self._kept.add(exchange)
        exchange.add_done_callback(self._kept.discard)

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

    async def close(self, grace: float) -> None:
        """Refuse new calls, let those in flight finish within ``grace`` seconds, end
        the rest, and wait (briefly) until they have; then for the kept exchanges."""
        self.closed = True
        current = asyncio.current_task()
        if grace > 0:
            await self._until_idle(grace, current)
        for task in self._active:
            if task is not current and not task.done():
                self._cancelled.add(task)
                task.cancel()
        await self._until_idle(UNWIND_GRACE, current)
        if self._kept:
            # Each is bounded by the client's timeout: its answer is on its way.
            await asyncio.wait(list(self._kept))

    async def _until_idle(self, seconds: float, current: asyncio.Task[Any] | None) -> None:
        """Wait at most ``seconds`` for the calls of tasks other than ``current`` to end."""
        if not any(task is not current for task in self._active):
            return
        if self._idle is None or self._idle.done():
            self._idle = asyncio.get_running_loop().create_future()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._idle), seconds)


class Tracked:
    """One step of a call in flight, and how far its exchange got (:attr:`progress`)."""

    __slots__ = ("_attempt", "_calls", "_furthest", "_task", "late")

    def __init__(self, calls: Calls, task: asyncio.Task[object]) -> None:
        self._calls = calls
        self._task = task
        self._attempt: Attempt | None = None
        self._furthest = Progress.NOT_SENT
        self.late: Callable[[asyncio.Future[Answer]], object] | None = None
        """For a call the service acts on once: each attempt's ``Attempt.late``."""

    def attempt(self) -> Attempt:
        """A new attempt of this call's exchange, followed from now on."""
        self._furthest = self.progress
        self._attempt = Attempt(self.late)
        return self._attempt

    def abandon(self) -> bool:
        """Give this call's exchange up if nothing of it was sent: whether so. Decided
        and marked in one step, since a task of the backend's own (httpx's) may write
        the request before the exchange's cancellation reaches it."""
        attempt = self._attempt
        return self._furthest is Progress.NOT_SENT and (attempt is None or attempt.abandon())

    @property
    def progress(self) -> Progress:
        """The furthest any attempt of this call got, the one under way included."""
        attempt = self._attempt
        return self._furthest if attempt is None else max(self._furthest, attempt.progress)

    def __enter__(self) -> Tracked:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        ours = self._calls._leave(self._task)
        # Only a cancellation the close made, or one while it closes, is its to say.
        if not isinstance(exc, asyncio.CancelledError) or not (ours or self._calls.closed):
            return
        if sys.version_info >= (3, 11):
            if ours:
                self._task.uncancel()
            if self._task.cancelling():
                return  # the caller's own cancellation as well: let it through
        progress = self.progress
        said = "nothing had been sent"
        if progress >= Progress.SENT:
            said = "its request had been sent, so the service may have acted on it"
        elif progress is Progress.PARTLY_SENT:
            said = "its request had not been sent whole"
        # It came through the backend's frames, which hold the request's headers as
        # sent: as this error's context, it keeps none of them.
        exc.__traceback__ = exc.__context__ = None
        raise ClientClosed(
            f"the Client was closed while this call was in flight: {said}", progress=progress
        ) from None
