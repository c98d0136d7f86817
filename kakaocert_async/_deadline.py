"""A deadline for a block of a task: ``with Deadline(when):``, asyncio's ``timeout_at`` made lean.

Every exchange passes through one (and a token or clock wait through another), so it
is a plain context manager, and a loop's deadlines share one timer (:class:`_Watch`),
armed for the earliest: most exchanges end long before theirs, and then no timer is
made, cancelled or swept for them. Its rule is ``asyncio.timeout_at``'s: at ``when``
(the loop's clock) the task is cancelled, and that cancellation leaves the block as
``asyncio.TimeoutError``, unless the task was also asked to stop from elsewhere
meanwhile (Python 3.11 and up: 3.10 cannot tell, and, as async-timeout did there,
takes it as the deadline's).

>>> import asyncio
>>> async def late() -> str:
...     loop = asyncio.get_running_loop()
...     try:
...         with Deadline(loop.time() + 0.01):
...             await asyncio.sleep(1)
...     except asyncio.TimeoutError:
...         return "timed out"
...     return "in time"
>>> asyncio.run(late())
'timed out'
"""

from __future__ import annotations

import asyncio
import sys
import weakref


class Deadline:
    """Cancel the current task at ``when`` (``loop.time()``); see the module."""

    __slots__ = ("_cancelling", "_task", "_watch", "expired", "when")

    def __init__(self, when: float) -> None:
        loop = asyncio.get_running_loop()  # (each look-up asks the system for the pid)
        task = asyncio.current_task(loop)
        assert task is not None, "a Deadline is for a block of a task"
        self._task = task
        self._cancelling = 0
        if sys.version_info >= (3, 11):
            self._cancelling = task.cancelling()
        self.when = when
        self.expired = False
        """Whether the deadline passed (and cancelled the task)."""
        self._watch = _WATCHES.get(loop) or _WATCHES.setdefault(loop, _Watch())

    def __enter__(self) -> Deadline:
        self._watch.add(self)  # (from here on, not when made)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, _: object
    ) -> None:
        self._watch.deadlines.pop(self, None)
        if not self.expired:
            return
        # Its own cancellation is taken back whatever the block raised; another's stays.
        others = False  # (Python 3.10 cannot tell)
        if sys.version_info >= (3, 11):
            others = self._task.uncancel() > self._cancelling
        if kind is asyncio.CancelledError and not others:
            raise asyncio.TimeoutError from exc


class _Watch:
    """One loop's deadlines under way, and the one timer armed for the earliest of them
    (held weakly: the loop holds it, and a closed loop is not kept by this)."""

    __slots__ = ("_timer", "deadlines")

    def __init__(self) -> None:
        self.deadlines: dict[Deadline, None] = {}
        self._timer: weakref.ref[asyncio.TimerHandle] | None = None

    def add(self, deadline: Deadline) -> None:
        self.deadlines[deadline] = None
        timer = self._timer() if self._timer else None
        if timer is None or deadline.when < timer.when():
            if timer:
                timer.cancel()
            self._arm(deadline.when)

    def _arm(self, when: float) -> None:
        self._timer = weakref.ref(asyncio.get_running_loop().call_at(when, self._fire, when))

    def _fire(self, when: float) -> None:
        # The loop runs a timer up to its clock's resolution early: what is due at
        # ``when`` is due now, as it would have been on a timer of its own.
        self._timer = None
        now = max(when, asyncio.get_running_loop().time())
        for deadline in [d for d in self.deadlines if d.when <= now]:
            del self.deadlines[deadline]
            deadline.expired = True
            deadline._task.cancel()
        if self.deadlines:
            self._arm(min(deadline.when for deadline in self.deadlines))


_WATCHES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Watch] = weakref.WeakKeyDictionary()
