"""The one place that sends a request: retries by policy, reads the body, maps errors.

Nothing here knows about tokens or signatures: a caller hands over a coroutine
that builds a fresh, signed request for each attempt. What comes back is the
body of a 200 answer; everything else becomes an exception of ``_errors``:
an error answer is an :class:`APIError` (even with an unreadable body), a lost
one a :class:`TransportError`, an unreadable 200 a :class:`MalformedResponse`.
Bodies are capped at :data:`MAX_BODY_BYTES`, inflated or not. No httpx exception
escapes.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import random
import time
import zlib
from collections.abc import Awaitable, Callable

import attrs
import httpx
import stamina

from . import _wire
from ._errors import (
    CLIENT_ERROR_CODE,
    APIError,
    KakaocertError,
    MalformedResponse,
    RequestNotSent,
    TransportError,
)

log = logging.getLogger("kakaocert_async")

MAX_BODY_BYTES = 1 << 20
"""Larger answers are refused: the biggest real one (signed data) is a few KiB."""
_EXCERPT_CHARS = 160
MAX_RETRY_AFTER = 30.0
"""A longer ``Retry-After`` is not waited out: the error is raised at once (with a
deadline, the deadline is the bound instead)."""


def is_transient(error: BaseException) -> bool:
    """A failure that may pass if the request is made again: no answer came (connect
    error, timeout, reset), or a 429 or 5xx answer. An unreadable answer is not one:
    asking again gets the same."""
    if isinstance(error, APIError):
        return error.http_status == 429 or error.http_status >= 500
    return isinstance(error, TransportError) and not isinstance(error, MalformedResponse)


def answer_lost(error: BaseException) -> bool:
    """The request may have been processed, but the service's own answer never came:
    no answer or an unreadable one after sending, or a 5xx without the service's error
    body (a gateway's page: it says nothing of what the service did)."""
    if isinstance(error, APIError):
        return error.http_status >= 500 and error.code == CLIENT_ERROR_CODE
    return isinstance(error, TransportError) and not isinstance(error, RequestNotSent)


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """When a failed attempt may be repeated, and how often.

    ``repeat_answered`` allows repeating after the server may have seen the
    request (timeouts, resets, 429 and 5xx answers); without it only a request
    that never left (connection refused, DNS failure) is repeated.
    """

    attempts: int | None
    """Attempts in all, the first included; ``None``: until the deadline."""
    repeat_answered: bool
    wait_initial: float = 0.1
    wait_max: float = 2.0

    def should_retry(self, error: Exception, deadline: float | None) -> bool | float:
        """stamina's backoff hook: False, True (default backoff) or seconds to wait.

        With a ``deadline`` (``time.monotonic()``), nothing is repeated once it has
        passed, and a ``Retry-After`` is waited out only if it ends before it;
        without one, a ``Retry-After`` over :data:`MAX_RETRY_AFTER` is not.
        """
        if not isinstance(error, RequestNotSent) and not (
            self.repeat_answered and is_transient(error)
        ):
            return False
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            return False
        wait = error.retry_after if isinstance(error, APIError) else None
        if wait is None:
            return True
        if wait > (MAX_RETRY_AFTER if remaining is None else remaining):
            return False  # the caller hears it now, with retry_after on the error
        return wait


SAFE_TO_REPEAT = RetryPolicy(attempts=5, repeat_answered=True)
"""State, token and time: reading twice does no harm."""
UNSENT_ONLY = RetryPolicy(attempts=3, repeat_answered=False)
"""Request: a repeat would send the receiver a second KakaoTalk message."""
NEVER = RetryPolicy(attempts=1, repeat_answered=False)
"""Verify: the service answers it once; a repeat can only fail."""

Prepare = Callable[[], Awaitable[httpx.Request]]


class Sender:
    """Sends prepared requests on one ``httpx.AsyncClient``."""

    __slots__ = ("_http",)

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def send(
        self,
        prepare: Prepare,
        *,
        label: str,
        policy: RetryPolicy,
        deadline: float | None = None,
    ) -> bytes:
        """Send ``await prepare()`` and return the 200 body, repeating by ``policy``.

        ``label`` names the call in logs and errors (never a secret). ``deadline``
        (``time.monotonic()``) bounds the retries.
        """
        # The first attempt skips the retry machinery: most calls succeed, and
        # they should not pay for it.
        try:
            return await self._attempt(prepare, label)
        except KakaocertError as error:
            if policy.attempts == 1 or policy.should_retry(error, deadline) is False:
                raise
            first_failure = error

        timeout = None if deadline is None else max(deadline - time.monotonic(), 0.001)
        next_wait = 0.0

        def backoff(error: Exception) -> bool | float:
            decision = policy.should_retry(error, deadline)
            if decision is True and deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining < policy.wait_max:
                    # stamina's backoff could sleep past the deadline (its timeout
                    # is only checked between attempts): wait until it at most.
                    jitter = random.uniform(0, policy.wait_initial)  # noqa: S311
                    return min(remaining, next_wait + jitter)
            return decision

        attempts = stamina.retry_context(
            on=backoff,
            attempts=policy.attempts,
            timeout=timeout,
            wait_initial=policy.wait_initial,
            wait_max=policy.wait_max,
            wait_jitter=policy.wait_initial,
        )
        async for attempt in attempts:
            with attempt:
                next_wait = attempt.next_wait
                if attempt.num == 1:
                    # Replay the first failure so stamina counts it and backs off.
                    raise first_failure
                log.debug("%s: attempt %d", label, attempt.num)
                return await self._attempt(prepare, label)
        raise AssertionError("unreachable: stamina re-raises the last error")  # pragma: no cover

    async def _attempt(self, prepare: Prepare, label: str) -> bytes:
        request = await prepare()
        started = time.perf_counter()
        try:
            response = await self._http.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise _lost(label, exc) from exc
        status = response.status_code
        unreadable = None
        try:
            body = await _read_capped(response)
        except _Unreadable as problem:
            if status == 200:
                raise MalformedResponse(f"{label}: {problem}", http_status=status) from None
            # An error answer's status still says what happened (and whether to retry).
            body, unreadable = b"", str(problem)
        except httpx.HTTPError as exc:
            raise _lost(label, exc) from exc
        finally:
            await response.aclose()

        if log.isEnabledFor(logging.DEBUG):
            elapsed = (time.perf_counter() - started) * 1000
            log.debug("%s: HTTP %d, %d bytes in %.1f ms", label, status, len(body), elapsed)
        if status != 200:
            retry_after = _parse_retry_after(response.headers.get("retry-after"))
            raise _api_error(label, status, body, retry_after, unreadable)
        return body


def _lost(label: str, exc: httpx.HTTPError) -> TransportError:
    """The error for an attempt that got no answer."""
    log.debug("%s: no answer (%s)", label, type(exc).__name__)
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return RequestNotSent(
            f"{label}: could not connect ({_describe(exc)}); the request was not sent"
        )
    if isinstance(exc, httpx.TimeoutException):
        return TransportError(f"{label}: timed out waiting for the answer ({_describe(exc)})")
    return TransportError(f"{label}: the answer was lost ({_describe(exc)})")


class _Unreadable(Exception):
    """A body too large, or whose encoding is broken; the message says which."""


async def _read_capped(response: httpx.Response) -> bytes:
    """The decoded body, if it is at most :data:`MAX_BODY_BYTES`.

    gzip is inflated here, at most the room left at a time, rather than by httpx,
    which inflates each chunk whole: a few KiB of gzip can hold gigabytes.
    """
    length, encoding = _framing(response)
    if length is not None and length.isdigit():
        if int(length) > MAX_BODY_BYTES:
            raise _Unreadable(f"the answer is {length} bytes, over the {MAX_BODY_BYTES} byte limit")
        if not encoding or encoding == "identity":
            # The common case, read in one go: the framing (h11) reads no more
            # than the announced length, which is within the cap.
            try:
                return await response.aread()
            except httpx.DecodingError as exc:
                raise _Unreadable(f"the answer could not be decoded ({_describe(exc)})") from None
    inflater = None
    # Other encodings (never asked for), and answers already read and decoded
    # (``httpx.MockTransport``'s), are left to httpx.
    if encoding in _INFLATED and not response.is_stream_consumed:
        inflater = _Inflater(encoding)
    body = bytearray()
    try:
        chunks = response.aiter_bytes() if inflater is None else response.aiter_raw()
        async for chunk in chunks:
            room = MAX_BODY_BYTES - len(body)
            body += chunk if inflater is None else inflater.inflate(chunk, room)
            if len(body) > MAX_BODY_BYTES:
                raise _Unreadable(f"the answer is over the {MAX_BODY_BYTES} byte limit")
    except httpx.DecodingError as exc:
        raise _Unreadable(f"the answer could not be decoded ({_describe(exc)})") from None
    if inflater is not None:
        inflater.finish()
    return bytes(body)


_INFLATED = frozenset({"gzip", "x-gzip", "deflate"})


def _framing(response: httpx.Response) -> tuple[str | None, str]:
    """``Content-Length`` (or None) and ``Content-Encoding`` (lower case, or "").

    One pass over the raw headers: this runs on every answer, and two
    ``Headers.get`` calls cost more than the scan.
    """
    length, encoding = None, ""
    for name, value in response.headers.raw:
        lowered = name.lower()
        if lowered == b"content-length":
            length = value.decode("latin-1")
        elif lowered == b"content-encoding":
            encoding = value.decode("latin-1").strip().lower()
    return length, encoding


class _Inflater:
    """Inflates a gzip (or zlib, for ``deflate``) stream, a bounded amount at a time."""

    __slots__ = ("_encoding", "_fed", "_zlib")

    def __init__(self, encoding: str) -> None:
        self._encoding = encoding
        self._zlib = zlib.decompressobj(zlib.MAX_WBITS | 32)  # a gzip or a zlib header
        self._fed = False

    def inflate(self, chunk: bytes, room: int) -> bytes:
        """Up to ``room + 1`` bytes of output: one more than fits says it does not."""
        if not chunk or self._zlib.eof:
            return b""
        self._fed = True
        try:
            return self._zlib.decompress(chunk, room + 1)
        except zlib.error as exc:
            raise _Unreadable(
                f"the {self._encoding} encoding of the answer is broken ({exc})"
            ) from None

    def finish(self) -> None:
        if self._fed and not self._zlib.eof:
            raise _Unreadable(f"the {self._encoding}-encoded answer is cut short")


def _api_error(
    label: str, status: int, body: bytes, retry_after: float | None, unreadable: str | None = None
) -> APIError:
    try:
        answer = _wire.structure(_wire.loads(body), _wire.ErrorBody)
    except _wire.WireError:
        reason = httpx.codes.get_reason_phrase(status)
        if unreadable is None:
            detail = f"without an error body: {_excerpt(body)}"
        else:
            detail = f"with an unreadable body ({unreadable})"
        return APIError(
            f"{label}: HTTP {status} {reason} {detail}",
            code=CLIENT_ERROR_CODE,
            http_status=status,
            retry_after=retry_after,
        )
    return APIError(answer.message, code=answer.code, http_status=status, retry_after=retry_after)


def _excerpt(body: bytes) -> str:
    if not body:
        return "(empty)"
    text = " ".join(body[: _EXCERPT_CHARS * 4].decode("utf-8", "replace").split())
    return repr(text[:_EXCERPT_CHARS] + ("…" if len(text) > _EXCERPT_CHARS else ""))


def _parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds to wait: delta-seconds or an HTTP date."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max((when - dt.datetime.now(dt.timezone.utc)).total_seconds(), 0.0)


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
