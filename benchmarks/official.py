"""The official synchronous SDK (``kakaocert`` + ``linkhub``), pointed at a local server.

It talks HTTPS to fixed hosts; here its auth URL is set with ``linkhub.authURL``
and every connection it opens goes to the local server over plain HTTP. Its code
is not changed.
"""

from __future__ import annotations

import contextlib
import http.client
import urllib.parse
from collections.abc import Iterator
from typing import Any


def available() -> bool:
    try:
        import kakaocert  # noqa: F401
        import linkhub  # noqa: F401
    except ImportError:
        return False
    return True


@contextlib.contextmanager
def service(url: str, link_id: str, secret_key: str) -> Iterator[Any]:
    """A fresh ``KakaocertService`` whose connections all go to ``url``."""
    import linkhub
    from kakaocert import kakaocertService

    port = urllib.parse.urlsplit(url).port
    plain = http.client.HTTPConnection

    def to_local(*args: Any, **kwargs: Any) -> http.client.HTTPConnection:
        return plain("127.0.0.1", port, timeout=10)

    saved = (kakaocertService.httpclient.HTTPSConnection, http.client.HTTPConnection)
    kakaocertService.httpclient.HTTPSConnection = to_local
    http.client.HTTPConnection = to_local  # type: ignore[misc,assignment]
    kakaocertService.Singleton._instances = {}
    linkhub.authURL(url)
    try:
        yield kakaocertService.KakaocertService(link_id, secret_key)
    finally:
        kakaocertService.httpclient.HTTPSConnection, http.client.HTTPConnection = saved  # type: ignore[misc]
        kakaocertService.Singleton._instances = {}
        linkhub.authURL("")
