"""The official synchronous SDK (``kakaocert`` + ``linkhub``), pointed at a local sandbox.

It talks HTTPS to fixed hosts; here its auth URL is set with ``linkhub.authURL``
and every connection it opens goes to the sandbox over plain HTTP. Its code is
not changed.
"""

from __future__ import annotations

import contextlib
import http.client
import threading
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

from kakaocert_async.sandbox import DEFAULT_CLIENT_CODE, DEFAULT_LINK_ID, DEFAULT_SECRET_KEY


def available() -> bool:
    try:
        import kakaocert  # noqa: F401
        import linkhub  # noqa: F401
    except ImportError:
        return False
    return True


@contextlib.contextmanager
def service(url: str) -> Iterator[Any]:
    """A fresh ``KakaocertService`` whose connections all go to ``url``."""
    import linkhub
    from kakaocert import kakaocertService

    port = urllib.parse.urlsplit(url).port
    plain = http.client.HTTPConnection

    def to_sandbox(*args: Any, **kwargs: Any) -> http.client.HTTPConnection:
        return plain("127.0.0.1", port, timeout=10)

    saved = (kakaocertService.httpclient.HTTPSConnection, http.client.HTTPConnection)
    kakaocertService.httpclient.HTTPSConnection = to_sandbox
    http.client.HTTPConnection = to_sandbox  # type: ignore[misc]
    kakaocertService.Singleton._instances = {}
    linkhub.authURL(url)
    try:
        yield kakaocertService.KakaocertService(DEFAULT_LINK_ID, DEFAULT_SECRET_KEY)
    finally:
        kakaocertService.httpclient.HTTPSConnection, http.client.HTTPConnection = saved
        kakaocertService.Singleton._instances = {}
        linkhub.authURL("")


def sequential(sdk: Any, receipt_id: str, calls: int) -> float:
    """State calls per second, one after another."""
    sdk.getESignState(DEFAULT_CLIENT_CODE, receipt_id)
    started = time.perf_counter()
    for _ in range(calls):
        sdk.getESignState(DEFAULT_CLIENT_CODE, receipt_id)
    return calls / (time.perf_counter() - started)


def threaded_failures(sdk: Any, receipt_id: str, threads: int, calls_each: int) -> float:
    """The share of state calls that raise when ``threads`` threads share the SDK."""
    failures = 0
    lock = threading.Lock()

    def work() -> None:
        nonlocal failures
        for _ in range(calls_each):
            try:
                sdk.getESignState(DEFAULT_CLIENT_CODE, receipt_id)
            except Exception:  # counting every kind of failure
                with lock:
                    failures += 1

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return failures / (threads * calls_each)
