"""Shared by the reliability tests: a tap on the wire, clients wired through it, counters."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import attrs
import httpx

from kakaocert_async import Client
from kakaocert_async.sandbox import Sandbox

Rewrite = Callable[[httpx.Request, httpx.Response], Awaitable[httpx.Response]]

_ENDPOINTS = (
    (re.compile(r"^/Time$"), "time"),
    (re.compile(r"^/KAKAOCERT/Token$"), "token"),
    (re.compile(r"^/SignToken/Request$"), "request"),
    (re.compile(r"^/SignToken/Status/"), "status"),
    (re.compile(r"^/SignToken/Verify/"), "verify"),
)


def endpoint_of(request: httpx.Request) -> str:
    """The sandbox's name for the endpoint a request is for (``time``, ``token``, ...)."""
    for pattern, name in _ENDPOINTS:
        if pattern.match(request.url.path):
            return name
    return "other"


class Tap(httpx.AsyncBaseTransport):
    """Wraps a transport: records every request and answer, and can misbehave on cue.

    - ``refuse[endpoint] = n``: the next ``n`` connections for that endpoint are
      refused (``httpx.ConnectError``): the request never leaves.
    - ``rewrite[endpoint] = coroutine``: the sandbox answers (and does what the
      call does), then the answer is replaced by what the coroutine returns.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.sent: list[httpx.Request] = []
        self.answers: list[tuple[str, int]] = []
        self.refused: list[str] = []
        self.refuse: dict[str, int] = {}
        self.rewrite: dict[str, Rewrite] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        name = endpoint_of(request)
        if self.refuse.get(name, 0) > 0:
            self.refuse[name] -= 1
            self.refused.append(name)
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        self.sent.append(request)
        response = await self.inner.handle_async_request(request)
        rewrite = self.rewrite.get(name)
        if rewrite is not None:
            await response.aread()
            await response.aclose()
            response = await rewrite(request, response)
        self.answers.append((name, response.status_code))
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()

    def count(self, endpoint: str, status: int | None = None) -> int:
        """Answers seen for ``endpoint`` (with ``status``, if given)."""
        return sum(1 for n, s in self.answers if n == endpoint and status in (None, s))


def tapped_client(sandbox: Sandbox, **options: Any) -> tuple[Client, Tap]:
    """A Client into ``sandbox`` in-process, through a :class:`Tap`."""
    tap = Tap(sandbox.transport())
    client = Client(
        sandbox.link_id,
        sandbox.secret_key,
        base_url=sandbox.url,
        auth_url=sandbox.url,
        transport=tap,
        **options,
    )
    return client, tap


def served_client(sandbox: Sandbox, url: str, **options: Any) -> Client:
    """A Client into a sandbox served on ``url`` (real sockets)."""
    return Client(sandbox.link_id, sandbox.secret_key, base_url=url, auth_url=url, **options)


@attrs.frozen
class Retry:
    """A retry the SDK scheduled (as logged): when (``time.monotonic()``), which call,
    which attempt comes next and how long it waits."""

    at: float
    label: str
    attempt: int
    wait: float

    @property
    def ends(self) -> float:
        """When the wait before the next attempt ends."""
        return self.at + self.wait


class _RetryHandler(logging.Handler):
    def __init__(self, seen: list[Retry]) -> None:
        super().__init__(logging.INFO)
        self.seen = seen

    def emit(self, record: logging.LogRecord) -> None:
        retry = getattr(record, "kakaocert_retry", None)
        if retry is not None:
            label, attempt, wait = retry
            self.seen.append(Retry(time.monotonic(), label, attempt, wait))


@contextmanager
def retries_seen() -> Iterator[list[Retry]]:
    """Every retry the SDK schedules (from its INFO log records), while inside."""
    seen: list[Retry] = []
    logger = logging.getLogger("kakaocert_async")
    handler = _RetryHandler(seen)
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield seen
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def struck(sandbox: Sandbox, fault_id: int) -> int:
    """How often an active fault has struck."""
    (fault,) = (f for f in sandbox.faults.listing() if f["id"] == fault_id)
    count: int = fault["struck"]
    return count
