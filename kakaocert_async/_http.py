"""One attempt on the wire: a fair queue, one deadline, and what came back, or an error.

Nothing here knows about tokens, signatures or the service's error bodies, nor
repeats anything: the session's loop (``_session``) prepares each attempt,
reads what came back (``_answers``) and decides, by a :class:`RetryPolicy`,
whether another may follow. What comes back is a :class:`Reply`: the status, the
body with its content encodings undone, and ``Retry-After`` as seconds, whatever
the status; an exchange that did not end in a whole answer is a
:class:`TransportError` whose ``progress`` says how far it got (a
:class:`RequestNotSent` when the request never left whole). No library exception
escapes.

- **Fair**: at most ``max_connections`` exchanges at once; callers beyond that
  wait in a first-come, first-served queue (:class:`Gate`), so under load the
  slowest call stays close to the median.
- **Bounded**: one attempt (queueing, connecting, sending, the answer's headers
  and body) ends within ``timeout`` seconds, and never after the caller's
  deadline. Bodies are capped at :data:`MAX_BODY_BYTES`, inflated or not.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import email.utils
import random
import time
import zlib
from collections.abc import Callable, Iterator

import attrs

from ._deadline import Deadline
from ._errors import (
    APIError,
    KakaocertError,
    Progress,
    RequestNotSent,
    TransportError,
    raise_alone,
)
from ._secret import Headers, Secret, reveal_body, total_repr
from ._telemetry import Exchange, exchanged
from ._transports import MAX_BODY_BYTES, Answer, Attempt, Backend, ExchangeFailed, TooLarge

__all__ = ["MAX_BODY_BYTES", "Gate", "Reply", "RetryPolicy", "Sender", "set_testing"]

MAX_RETRY_AFTER = 30.0
"""A longer ``Retry-After`` is not waited out: the error is raised at once (with a
deadline, the deadline is the bound instead)."""
ABSURD_RETRY_AFTER = 86400.0
"""A ``Retry-After`` beyond a day is taken for garbage and ignored."""
MAX_ENCODINGS = 4
"""``Content-Encoding`` layers inflated at most (gzip inside gzip, ...)."""


# Backoff, and its testing switch ------------------------------------------------

_testing = False


def set_testing(enabled: bool) -> contextlib.AbstractContextManager[None]:
    """Skip the SDK's backoff waits between retries (attempt counts stay the same).

    For your own tests of failure handling, so that they do not wait out the
    exponential backoff (``Retry-After`` included). It changes nothing else: the
    polling interval of ``await_signed`` still applies. Takes effect at once and
    returns a context manager that restores the previous setting::

        with kakaocert_async.set_testing(True):
            ...

    Args:
        enabled: ``True`` skips the waits; ``False`` waits them again.

    Returns:
        A context manager that restores the previous setting on exit.
    """
    global _testing
    previous, _testing = _testing, enabled

    @contextlib.contextmanager
    def restore() -> Iterator[None]:
        try:
            yield
        finally:
            set_testing(previous)

    return restore()


def backoff(failures: int, *, initial: float = 0.1, cap: float = 2.0, jitter: bool = True) -> float:
    """Seconds to wait after the ``failures``-th failure in a row: ``initial``
    doubling up to ``cap``, plus up to ``initial`` of jitter (all of it if not ``jitter``:
    the longest wait)."""
    base = min(initial * 2.0 ** min(failures - 1, 32), cap)
    return base + (random.uniform(0.0, initial) if jitter else initial)  # noqa: S311 -- jitter


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """When a failed attempt may be repeated, and how often.

    Only an error that may pass (:attr:`~KakaocertError.is_transient`) is ever
    repeated, within ``attempts`` in all, and only if its attempt got no further
    than ``repeat_up_to`` (:class:`~kakaocert_async.Progress`): anything, for a
    read; for a call the service acts on once, only what provably never left
    whole (so it cannot have acted on it).

    The clients hold two, and a client's ``max_retries`` sets their ``attempts``
    (``max_retries + 1``): state reads repeat up to :attr:`Progress.ANSWERED`
    (anything that may pass), requests and verifies up to
    :attr:`Progress.PARTLY_SENT` (only what never left whole). Each poll of a wait is
    one attempt, whatever ``max_retries``: the wait itself polls again.

    Attributes:
        attempts: Attempts in all, the first included.
        repeat_up_to: The furthest a failed attempt may have got and still be repeated.
        wait_initial: Seconds before the first retry (doubling for each next, plus jitter).
        wait_max: Seconds at most between two attempts (unless ``Retry-After`` asks for
            more).
    """

    attempts: int
    repeat_up_to: Progress
    wait_initial: float = 0.1
    wait_max: float = 2.0

    def wait_before(
        self, attempt: int, error: KakaocertError, *, deadline: float | None
    ) -> float | None:
        """Seconds to wait before attempt number ``attempt``, or ``None``: give up.

        With a ``deadline`` (``time.monotonic()``), nothing is tried that could
        not start before it, and a ``Retry-After`` is waited out only if it ends
        before it; without one, a ``Retry-After`` over :data:`MAX_RETRY_AFTER` is not.

        Args:
            attempt: The number of the attempt to make next (2 for the first retry).
            error: The failure of the attempt before it.
            deadline: When the call must end (``time.monotonic()``), or ``None``.

        Returns:
            Seconds to wait before it, or ``None`` not to make it.
        """
        if attempt > self.attempts or not error.is_transient:
            return None
        if error.progress > self.repeat_up_to:
            return None
        wait = backoff(attempt - 1, initial=self.wait_initial, cap=self.wait_max)
        retry_after = error.retry_after if isinstance(error, APIError) else None
        if retry_after is not None:
            if deadline is None and retry_after > MAX_RETRY_AFTER:
                return None  # the caller hears it now, with retry_after on the error
            wait = max(wait, retry_after)
        if _testing:
            wait = 0.0
        if deadline is not None and time.monotonic() + wait >= deadline:
            return None
        return wait

    def longest_waits(self) -> float:
        """The most seconds :meth:`wait_before` can have one call wait in all, without a
        deadline: before each attempt after the first, the backoff with all its jitter,
        or :data:`MAX_RETRY_AFTER` where an answered error may be repeated (0 while
        :func:`set_testing` is on).

        Returns:
            Seconds.
        """
        if _testing:
            return 0.0
        total = 0.0
        for attempt in range(2, self.attempts + 1):
            wait = backoff(attempt - 1, initial=self.wait_initial, cap=self.wait_max, jitter=False)
            if self.repeat_up_to >= Progress.ANSWERED:
                wait = max(wait, MAX_RETRY_AFTER)
            total += wait
        return total


total_repr(RetryPolicy)  # public: a half-built one's repr does not raise


SAFE_TO_REPEAT = RetryPolicy(attempts=5, repeat_up_to=Progress.ANSWERED)
"""State reads: reading twice does no harm."""
ONE_SHOT = RetryPolicy(attempts=5, repeat_up_to=Progress.PARTLY_SENT)
"""Request and verify: the service acts on them once (a second request sends the
receiver a second KakaoTalk message; a second verify is refused and the signed data
is gone), so only an attempt that never left whole is repeated."""
SINGLE = RetryPolicy(attempts=1, repeat_up_to=Progress.NOT_SENT)
"""Each poll of a wait (the polling loop is where a wait's patience lives), and
token and clock reads (the call that needed them repeats them)."""


# The queue ----------------------------------------------------------------------


class Gate:
    """At most ``size`` holders at once; the others wait in arrival order.

    A released place is handed straight to the longest waiter, so a newcomer
    can never overtake the queue. A waiter that gives up (cancelled, timed out)
    leaves it; one cancelled just as a place was handed to it passes it on.
    """

    __slots__ = ("_free", "_waiters")

    def __init__(self, size: int) -> None:
        self._free = size
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    async def acquire(self) -> None:
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed a place while giving up: pass it on
            raise

    def release(self) -> None:
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._free += 1

    @property
    def waiting(self) -> int:
        return sum(1 for waiter in self._waiters if not waiter.done())


# Sending ------------------------------------------------------------------------


@attrs.define
class Reply:
    """What came back: ``body`` with its content encodings undone, and ``retry_after``
    the ``Retry-After`` of an answer other than a 200, as seconds (``None`` if absent or
    absurd); ``unreadable`` says why the body could not be read (too large, an
    encoding broken or unknown), and ``body`` is empty then. Shown without its body: it
    may be a token's, or signed data."""

    status: int
    body: bytes = attrs.field(repr=lambda body: f"<{len(body)} bytes>")
    retry_after: float | None = None
    unreadable: str | None = None


class Sender:
    """Sends one attempt through one :class:`Backend`, fairly and within deadlines."""

    __slots__ = ("_backend", "_gate", "server_now", "timeout")

    def __init__(self, backend: Backend, *, timeout: float, max_connections: int) -> None:
        self._backend = backend
        self.timeout = timeout
        """Seconds one attempt may take at most (the client's ``timeout``)."""
        self._gate = Gate(max_connections)
        self.server_now: Callable[[], float] = time.time
        """The time by the server's clock, for a ``Retry-After`` date of an answer
        without a ``Date`` of its own (the session sets its clock's estimate)."""

    @property
    def waiting(self) -> int:
        """Callers queued for a connection right now."""
        return self._gate.waiting

    async def send(
        self,
        method: str,
        url: str,
        headers: Headers,
        body: bytes | Secret[bytes] | None,
        about: Exchange,
        *,
        deadline: float | None = None,
        attempt: Attempt | None = None,
        timeout: float | None = None,
    ) -> Reply:
        """Send the request once and return what came back, whatever its status.

        ``about`` names the call (its label, never a secret) and the attempt, in logs
        and errors; ``attempt`` records how far the exchange got, for a caller that is
        cancelled meanwhile; ``timeout`` replaces the sender's for this attempt (a
        sibling client's).
        """
        label = about.label
        attempt = attempt or Attempt()
        now = time.monotonic()
        limit = now + (self.timeout if timeout is None else timeout)
        if deadline is not None and deadline < limit:
            limit = deadline
            if limit <= now:
                raise RequestNotSent(f"{label}: the deadline passed; the request was not sent")
        queued = True
        started = time.perf_counter()
        sent = len(reveal_body(body) or b"")
        # Library exceptions are described, never chained, and the error is raised
        # outside the handler and alone: their frames hold the request's header values.
        failure: TransportError | None = None
        try:
            with Deadline(limit):
                await self._gate.acquire()
                queued = False
                try:
                    answer = await self._backend.exchange(method, url, headers, body, attempt)
                finally:
                    self._gate.release()
        except asyncio.CancelledError:
            exchanged(about, started, sent, failure="cancelled", progress=attempt.progress)
            raise
        except asyncio.TimeoutError:
            text = _TIMED_OUT.get(attempt.progress, "timed out: no complete answer within {} s")
            if queued:
                text = "no connection came free in {} s; the request was not sent"
            failure = _not_answered(f"{label}: {text.format(f'{limit - now:.3g}')}", attempt)
            kind = "timeout"
        except TooLarge as exc:
            reply = Reply(exc.status, b"", unreadable=str(exc))
            exchanged(about, started, sent, status=reply.status)  # (received: unknown)
            return reply
        except ExchangeFailed as exc:
            failure = _not_answered(f"{label}: {exc}{_NOT_SENT.get(exc.progress, '')}", exc)
            failure.__cause__ = exc.__cause__  # a safe copy: see _transports._failed
            # For the record: the library's error class (ServerDisconnectedError, ...), else ours.
            kind = type(failure if failure.__cause__ is None else failure.__cause__).__name__
        if failure is not None:
            exchanged(about, started, sent, failure=kind, progress=failure.progress)
            raise_alone(failure)
        reply = self.reply(answer)
        exchanged(about, started, sent, status=reply.status, received=len(answer.body))
        return reply

    def reply(self, answer: Answer) -> Reply:
        """``answer`` read: its body decoded, its ``Retry-After`` as seconds."""
        try:
            body, unreadable = decode(answer.body, answer.encoding), None
        except Unreadable as problem:
            # An error answer's status still says what happened (and whether to retry).
            body, unreadable = b"", str(problem)
        retry_after = None
        if answer.status != 200:
            # A Retry-After date counts from when the answer was sent, by its server's clock:
            # its own Date if it has a good one, else the server's clock as last measured.
            sent = _http_date(answer.date) or self.server_now()
            retry_after = parse_retry_after(answer.retry_after, now=sent)
        return Reply(answer.status, body, retry_after, unreadable)


def _not_answered(message: str, attempt: Attempt | ExchangeFailed) -> TransportError:
    """The error of an exchange that got as far as ``attempt.progress``: a
    :class:`RequestNotSent` if the request never left whole."""
    progress = attempt.progress
    kind = RequestNotSent if progress <= Progress.PARTLY_SENT else TransportError
    return kind(message, progress=progress)


_TIMED_OUT = {
    Progress.NOT_SENT: "could not connect in {} s; nothing was sent",
    Progress.PARTLY_SENT: "timed out writing the request ({} s); it never left whole",
    Progress.SENT: "timed out: no answer within {} s",
}
"""What a timeout means, by how far the exchange got (further: the answer was cut short)."""
_NOT_SENT = {
    Progress.NOT_SENT: "; the request was not sent",
    Progress.PARTLY_SENT: "; the request was not sent whole",
}


# Bodies ---------------------------------------------------------------------------


class Unreadable(Exception):
    """A body too large, or whose encoding is broken or unknown; the message says which."""


_INFLATED = frozenset({"gzip", "x-gzip", "deflate"})
_PLAIN = frozenset({"", "identity"})


def decode(body: bytes, encoding: str) -> bytes:
    """``body`` with every ``Content-Encoding`` layer undone, at most
    :data:`MAX_BODY_BYTES` at every step: a few KiB of gzip can hold gigabytes,
    so each layer is inflated only as far as the cap, never whole."""
    if encoding in _PLAIN:
        return body
    codings = [coding.strip() for coding in encoding.split(",")]
    codings = [coding for coding in codings if coding not in _PLAIN]
    if len(codings) > MAX_ENCODINGS:
        raise Unreadable(f"the answer has {len(codings)} content encodings")
    unknown = [coding for coding in codings if coding not in _INFLATED]
    if unknown:
        raise Unreadable(f"the answer has an unknown content encoding ({unknown[0][:20]!r})")
    for coding in reversed(codings):  # the last applied comes off first
        body = _inflate(body, coding)
    return body


def _inflate(body: bytes, coding: str) -> bytes:
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 32)  # a gzip or a zlib header
    try:
        data = inflater.decompress(body, MAX_BODY_BYTES + 1)
    except zlib.error as exc:
        raise Unreadable(f"the {coding} encoding of the answer is broken ({exc})") from None
    if len(data) > MAX_BODY_BYTES or inflater.unconsumed_tail:
        raise Unreadable(f"the answer inflates to over the {MAX_BODY_BYTES} byte limit")
    if not inflater.eof:
        raise Unreadable(f"the {coding}-encoded answer is cut short")
    return data


# Retry-After ------------------------------------------------------------------------


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds to wait (delta-seconds, or an HTTP date measured from
    ``now``: the server's time, by default the local clock), or ``None`` when absent,
    unparseable or absurd (over a day)."""
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        seconds = float(value) if len(value) <= 9 else ABSURD_RETRY_AFTER + 1
    else:
        when = _http_date(value)
        if when is None:
            return None
        seconds = max(when - (time.time() if now is None else now), 0.0)
    return None if seconds > ABSURD_RETRY_AFTER else seconds


def _http_date(value: str | None) -> float | None:
    """An HTTP date (with its zone) as seconds since the epoch, or ``None``."""
    if value is None:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    # An aware datetime's timestamp is plain arithmetic: it cannot fail.
    return None if when.tzinfo is None else when.timestamp()
