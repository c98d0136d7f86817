"""The one place that sends a request: retries by policy, reads the body, maps errors.

Nothing here knows about tokens or signatures: a caller hands over a coroutine
that builds a fresh, signed request for each attempt. What comes back is the
body of a 200 answer; everything else becomes an exception of ``_errors``:
an error answer is an :class:`APIError`, a lost one a :class:`TransportError`,
an unreadable one a :class:`MalformedResponse`. No httpx exception escapes.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import time
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
"""A longer ``Retry-After`` is not waited out: the error is raised at once."""


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
        """stamina's backoff hook: False, True (default backoff) or seconds to wait."""
        if isinstance(error, RequestNotSent):
            return True
        if not self.repeat_answered:
            return False
        if isinstance(error, APIError):
            if error.http_status != 429 and error.http_status < 500:
                return False
            if error.retry_after is not None:
                wait = error.retry_after
                if wait > MAX_RETRY_AFTER or (
                    deadline is not None and time.monotonic() + wait > deadline
                ):
                    return False  # the caller hears it now, with retry_after on the error
                return wait
            return True
        # An unreadable answer is not a passing fault: asking again gets the same.
        return isinstance(error, TransportError) and not isinstance(error, MalformedResponse)


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
        attempts = stamina.retry_context(
            on=lambda error: policy.should_retry(error, deadline),
            attempts=policy.attempts,
            timeout=timeout,
            wait_initial=policy.wait_initial,
            wait_max=policy.wait_max,
            wait_jitter=policy.wait_initial,
        )
        async for attempt in attempts:
            with attempt:
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
        try:
            body = await _read_capped(response, label)
        except httpx.DecodingError as exc:
            raise MalformedResponse(
                f"{label}: the answer could not be decoded ({_describe(exc)})",
                http_status=response.status_code,
            ) from exc
        except httpx.HTTPError as exc:
            raise _lost(label, exc) from exc
        finally:
            await response.aclose()

        status = response.status_code
        if log.isEnabledFor(logging.DEBUG):
            elapsed = (time.perf_counter() - started) * 1000
            log.debug("%s: HTTP %d, %d bytes in %.1f ms", label, status, len(body), elapsed)
        if status != 200:
            raise _api_error(label, status, body, response.headers.get("retry-after"))
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


async def _read_capped(response: httpx.Response, label: str) -> bytes:
    length = response.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise MalformedResponse(
            f"{label}: the answer is {length} bytes, over the {MAX_BODY_BYTES} byte limit",
            http_status=response.status_code,
        )
    chunks = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise MalformedResponse(
                f"{label}: the answer is over the {MAX_BODY_BYTES} byte limit",
                http_status=response.status_code,
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _api_error(label: str, status: int, body: bytes, retry_after: str | None) -> APIError:
    wait = _parse_retry_after(retry_after)
    try:
        answer = _wire.structure(_wire.loads(body), _wire.ErrorBody)
    except _wire.WireError:
        reason = httpx.codes.get_reason_phrase(status)
        return APIError(
            f"{label}: HTTP {status} {reason} without an error body: {_excerpt(body)}",
            code=CLIENT_ERROR_CODE,
            http_status=status,
            retry_after=wait,
        )
    return APIError(answer.message, code=answer.code, http_status=status, retry_after=wait)


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
