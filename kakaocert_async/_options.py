"""What a caller controls of each call: one attempt's timeout, the retries, the call's deadline.

A client's :class:`CallOptions` come from its constructor (``timeout``,
``max_retries``) and, for a sibling made by ``with_options()``, from that call
(``deadline`` too). The session's loop (``_session.Session.call``) applies them
to every call; they change how long and how often, never what may be repeated:
a :class:`~kakaocert_async.RetryPolicy` still says which failures a call may
repeat (a request only when it provably never left, a verify never once it may
have reached the service).
"""

from __future__ import annotations

import functools
import time

import attrs

from . import _validation
from ._http import RetryPolicy

DEFAULT_MAX_RETRIES = 4
"""Extra attempts of a call that may be repeated: five attempts in all."""
MAX_RETRIES_LIMIT = 10
"""More would only hide an outage from the caller."""


@attrs.frozen(kw_only=True)
class CallOptions:
    """How long one attempt may take, how often a call is repeated, how long it may last."""

    timeout: float
    """Seconds one attempt of the call's own exchange may take in all."""
    max_retries: int = DEFAULT_MAX_RETRIES
    """Extra attempts of a call that may be repeated (0: one attempt only)."""
    deadline: float | None = None
    """Seconds one call may take in all, its attempts and the waits between them
    included (``None``: no bound but the attempts'). A wait (``await_signed``) ends by
    it too."""

    def policy(self, policy: RetryPolicy) -> RetryPolicy:
        """``policy`` with :attr:`max_retries` retries. A policy of one attempt (each
        poll of a wait, whose patience is the polling loop's) stays one attempt."""
        if policy.attempts in (1, self.max_retries + 1):
            return policy
        return _with_attempts(policy, self.max_retries + 1)

    def call_deadline(self, deadline: float | None) -> float | None:
        """The deadline (``time.monotonic()``) of a call starting now: ``deadline`` if
        given, and never past :attr:`deadline` seconds from now."""
        if self.deadline is None:
            return deadline
        own = time.monotonic() + self.deadline
        return own if deadline is None else min(deadline, own)


@functools.lru_cache(maxsize=64)
def _with_attempts(policy: RetryPolicy, attempts: int) -> RetryPolicy:
    # Made once per policy and count, not once per call (the send path is measured).
    return attrs.evolve(policy, attempts=attempts)


def checked(*, timeout: object, max_retries: object, deadline: object = None) -> CallOptions:
    """Options from a caller's arguments, each checked (a :class:`ValidationError`
    naming it)."""
    _validation.check_seconds(timeout, "timeout")
    _validation.check_count(max_retries, "max_retries", at_most=MAX_RETRIES_LIMIT, at_least=0)
    if deadline is not None:
        _validation.check_seconds(deadline, "deadline")
    return CallOptions(timeout=timeout, max_retries=max_retries, deadline=deadline)  # type: ignore[arg-type]
