"""Poll a receipt's state until it is signed or expired: ``watch`` and its deadline.

The first poll is immediate, then one every ``interval`` plus a little jitter
(at most 25 ms, so that many waiters do not poll in step). Polls are never
closer than ``interval``, so a wait of T seconds costs at most ceil(T /
interval) + 1 polls, and a signature is seen within one interval (and the
jitter) of happening. The wait ends at
``timeout`` if given, else when the receipt expires plus a short grace.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import TypeVar

from ._errors import APIError, KakaocertError, SignTimeout
from ._http import is_transient
from ._models import StatusBase

S = TypeVar("S", bound=StatusBase)
"""The status class of the receipt's kind: ESignStatus, VerifyAuthStatus or CMSStatus."""

DEFAULT_INTERVAL = 2.0
"""Seconds between polls."""
MIN_INTERVAL = 0.01
"""A shorter interval would hammer the service."""
EXPIRY_GRACE = 5.0
"""Seconds to keep polling past ``expire_dt``: the service flips the state a moment late."""
MAX_EXPIRES_IN = 1000
"""The longest a request can live; the fallback when a state has no expiry on it."""
MAX_JITTER = 0.025
"""Seconds at most added to an interval, at random (and at most 5 % of it)."""

FetchState = Callable[[float | None], Awaitable[S]]
"""Reads the state once; the argument is the deadline (monotonic) for its retries."""


def seconds_left(status: StatusBase, server_now: float) -> float:
    """Seconds from ``server_now`` until the receipt expires, plus :data:`EXPIRY_GRACE`."""
    if status.expire_dt is not None:
        expires_at = status.expire_dt.timestamp()
    elif status.request_dt is not None and status.expires_in is not None:
        expires_at = status.request_dt.timestamp() + status.expires_in
    else:
        expires_at = server_now + MAX_EXPIRES_IN
    return max(expires_at - server_now, 0.0) + EXPIRY_GRACE


async def watch(
    fetch: FetchState[S],
    server_now: Callable[[], Awaitable[float]],
    *,
    receipt_id: str,
    timeout: float | None,
    interval: float,
    monotonic: Callable[[], float] = time.monotonic,
) -> AsyncGenerator[S, None]:
    """Yield each state read, ending after a signed or expired one.

    Once the deadline is known, a poll that fails for a passing reason (its own
    retries gave up, or the token or clock could not be read) is a missed poll:
    the next one comes an interval later (or after the ``Retry-After`` asked
    for), until the deadline. Raises :class:`SignTimeout` when the deadline
    passes while still pending, with the last failure, if any, as its cause.
    """
    started = monotonic()
    deadline = None if timeout is None else started + timeout
    status: S | None = None
    while True:
        failure: KakaocertError | None = None
        try:
            status = await fetch(deadline)
        except KakaocertError as error:
            if deadline is None or not is_transient(error):
                raise
            failure = error
        else:
            yield status
            if status.is_final:
                return
            if deadline is None:
                deadline = monotonic() + seconds_left(status, await server_now())
        assert deadline is not None
        now = monotonic()
        if now >= deadline:
            raise SignTimeout(
                _timeout_message(receipt_id, now - started, status, failure), last_status=status
            ) from failure
        wait = interval + random.uniform(0.0, min(interval * 0.05, MAX_JITTER))  # noqa: S311
        if isinstance(failure, APIError) and failure.retry_after is not None:
            wait = max(wait, failure.retry_after)
        await asyncio.sleep(min(wait, deadline - now))


def _timeout_message(
    receipt_id: str, elapsed: float, status: StatusBase | None, failure: KakaocertError | None
) -> str:
    if failure is None:
        return f"receipt {receipt_id} is still pending after {elapsed:.1f} s"
    if status is None:
        return f"receipt {receipt_id}: no state could be read in {elapsed:.1f} s ({failure})"
    return (
        f"receipt {receipt_id} is still pending after {elapsed:.1f} s as last read;"
        f" the last poll failed ({failure})"
    )
