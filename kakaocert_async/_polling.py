"""Poll a receipt's state until it is final: ``watch``, its deadline and its patience.

The one polling loop of the SDK, for every kind of receipt. The first poll is
immediate, then one every ``interval`` plus a little jitter (at most 25 ms, so
that many waiters do not poll in step): a wait of T seconds costs at most
ceil(T / interval) + 1 polls, and a signature is seen within one interval (and
the jitter) of happening.

Each poll is a single attempt. Patience lives here, not in the sender: a poll
that fails for a passing reason (no answer, a 5xx, a token or clock read that
failed) is a missed poll, and the next comes after a short backoff (from 0.1 s,
doubling, never longer than ``interval``; or the ``Retry-After`` asked for).
The wait ends at the deadline: ``timeout`` if given, else when the receipt
expires plus a short grace (before the first state is read, the longest a
receipt can live). Everything beneath a poll, token and clock reads included,
is bounded by the same deadline.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import TypeVar

from ._errors import APIError, KakaocertError, ServiceUnreachable, SignTimeout, raise_alone
from ._http import backoff
from ._models import Status

DEFAULT_INTERVAL = 2.0
"""Seconds between polls."""
MIN_INTERVAL = 0.01
"""A shorter interval would hammer the service."""
EXPIRY_GRACE = 5.0
"""Seconds to keep polling past the expiry: the service flips the state a moment late."""
MAX_EXPIRES_IN = 1000
"""The longest a request can live; the fallback when a state has no expiry on it."""
MAX_JITTER = 0.025
"""Seconds at most added to an interval, at random (and at most 5 % of it)."""
MISSED_POLL_BACKOFF = 0.1
"""Seconds before the poll after a first missed one (doubling, up to the interval)."""
LAST_POLL_GRACE = 0.25
"""Seconds a poll made at the deadline may take: a wait ends by its deadline plus this."""

log = logging.getLogger("kakaocert_async")


S = TypeVar("S", bound=Status)

ReadState = Callable[[float], Awaitable[S]]
"""Reads the state once; the argument is the deadline (``time.monotonic()``) of
that read, everything beneath it (token, clock) included."""


def seconds_left(status: Status, server_now: float) -> float:
    """Seconds from ``server_now`` until the receipt expires, plus :data:`EXPIRY_GRACE`."""
    if status.expire_dt is not None:
        expires_at = status.expire_dt.timestamp()
    elif status.request_dt is not None and status.expires_in is not None:
        expires_at = status.request_dt.timestamp() + status.expires_in
    else:
        expires_at = server_now + MAX_EXPIRES_IN
    # Never past the longest life from now: a state with an absurd expiry (or a
    # clock gone wrong) must not keep a waiter polling for years.
    return min(max(expires_at - server_now, 0.0), MAX_EXPIRES_IN) + EXPIRY_GRACE


async def watch(
    read: ReadState[S],
    server_now: Callable[[], float],
    *,
    receipt_id: str,
    timeout: float | None,
    interval: float,
) -> AsyncGenerator[S, None]:
    """Yield each state read, ending after a final one.

    ``server_now()`` is the time by the service's clock (no I/O). Raises
    :class:`SignTimeout` when the deadline passes while still pending, with the
    last failure, if any, as its cause, or :class:`ServiceUnreachable` if no state
    could be read at all; an error that will not pass (a refusal, an unreadable
    answer) ends the wait at once.
    """
    started = time.monotonic()
    deadline = started + (timeout if timeout is not None else MAX_EXPIRES_IN + EXPIRY_GRACE)
    expiry_known = timeout is not None
    status: S | None = None
    missed = 0
    while True:
        failure: KakaocertError | None = None
        try:
            # The last poll comes at the deadline (a signature made just before it
            # is still seen), so each poll may run a little past it.
            status = await read(deadline + LAST_POLL_GRACE)
        except KakaocertError as error:
            if not error.is_transient:
                raise
            failure = error
            missed += 1
        else:
            missed = 0
            yield status
            if status.is_final:
                return
            if not expiry_known:
                deadline = time.monotonic() + seconds_left(status, server_now())
                expiry_known = True
        now = time.monotonic()
        if now >= deadline:
            message = _timeout_message(receipt_id, now - started, status, failure)
            ended: KakaocertError = SignTimeout(message, last_status=status)
            if status is None and failure is not None:
                ended = ServiceUnreachable(message, receipt_id=receipt_id, last_error=failure)
            raise_alone(ended, cause=failure)
        if failure is None:
            wait = interval + random.uniform(0.0, min(interval * 0.05, MAX_JITTER))  # noqa: S311
        else:
            wait = min(backoff(missed, initial=MISSED_POLL_BACKOFF, cap=interval), interval)
            if isinstance(failure, APIError) and failure.retry_after is not None:
                wait = max(wait, failure.retry_after)
            wait = min(wait, deadline - now)
            log.info(
                "receipt %s: poll missed (%s); polling again in %.2f s",
                receipt_id,
                failure,
                wait,
                extra={"kakaocert_retry": (f"poll of {receipt_id}", missed + 1, wait)},
            )
        await asyncio.sleep(min(wait, deadline - now))


def _timeout_message(
    receipt_id: str, elapsed: float, status: Status | None, failure: KakaocertError | None
) -> str:
    if failure is None:
        return f"receipt {receipt_id} is still pending after {elapsed:.1f} s"
    if status is None:
        return (
            f"receipt {receipt_id}: the service was unreachable: no state could be read"
            f" in {elapsed:.1f} s ({failure})"
        )
    return (
        f"receipt {receipt_id} is still pending after {elapsed:.1f} s as last read;"
        f" the last poll failed ({failure})"
    )
