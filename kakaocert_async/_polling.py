"""Poll a receipt's state until it is signed or expired: ``watch`` and its deadline.

The first poll is immediate, then one every ``interval`` (shortened by up to a
tenth, at random, so that many waiters do not poll in step). The wait ends at
``timeout`` if given, else when the receipt expires plus a short grace.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncGenerator, Awaitable, Callable

from ._errors import SignTimeout
from ._models import ESignStatus

DEFAULT_INTERVAL = 2.0
"""Seconds between polls."""
MIN_INTERVAL = 0.01
"""A shorter interval would hammer the service."""
EXPIRY_GRACE = 5.0
"""Seconds to keep polling past ``expire_dt``: the service flips the state a moment late."""
MAX_EXPIRES_IN = 1000
"""The longest a request can live; the fallback when a state has no expiry on it."""
_JITTER = 0.1

FetchState = Callable[[float | None], Awaitable[ESignStatus]]
"""Reads the state once; the argument is the deadline (monotonic) for its retries."""


def seconds_left(status: ESignStatus, server_now: float) -> float:
    """Seconds from ``server_now`` until the receipt expires, plus :data:`EXPIRY_GRACE`."""
    if status.expire_dt is not None:
        expires_at = status.expire_dt.timestamp()
    elif status.request_dt is not None and status.expires_in is not None:
        expires_at = status.request_dt.timestamp() + status.expires_in
    else:
        expires_at = server_now + MAX_EXPIRES_IN
    return max(expires_at - server_now, 0.0) + EXPIRY_GRACE


async def watch(
    fetch: FetchState,
    server_now: Callable[[], Awaitable[float]],
    *,
    timeout: float | None,
    interval: float,
    monotonic: Callable[[], float] = time.monotonic,
) -> AsyncGenerator[ESignStatus, None]:
    """Yield each state read, ending after a signed or expired one.

    Raises :class:`SignTimeout` when the deadline passes while still pending.
    """
    started = monotonic()
    deadline = None if timeout is None else started + timeout
    status = await fetch(deadline)
    yield status
    if deadline is None:
        deadline = monotonic() + seconds_left(status, await server_now())
    while not status.is_final:
        now = monotonic()
        if now >= deadline:
            raise SignTimeout(
                f"receipt {status.receipt_id} is still pending after {now - started:.1f} s",
                last_status=status,
            )
        await asyncio.sleep(min(interval * (1 - _JITTER * random.random()), deadline - now))  # noqa: S311
        status = await fetch(deadline)
        yield status
