"""The official synchronous SDK (kakaocert 2.52.0 + linkhub 1.6.0), unmodified, wired to a
local server: the sandbox, or a server that captures what it sends.

The SDK talks HTTPS to fixed hosts; this points its auth URL at ``url`` with
``linkhub.authURL`` and hands it a plain-HTTP connection to ``url`` wherever it
would open an HTTPS one. Its singletons are reset around each use.
"""

from __future__ import annotations

import contextlib
import http.client
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest

kakaocert = pytest.importorskip(
    "kakaocert", reason="the official SDK (kakaocert==2.52.0) is not installed"
)
linkhub = pytest.importorskip(
    "linkhub", reason="the official SDK (linkhub==1.6.0) is not installed"
)
service_module = pytest.importorskip("kakaocert.kakaocertService")

# The SDK calls datetime.utcnow(), deprecated since Python 3.12.
IGNORE_UTCNOW = pytest.mark.filterwarnings("ignore:datetime.datetime.utcnow:DeprecationWarning")


@contextlib.contextmanager
def official_service(
    monkeypatch: pytest.MonkeyPatch, url: str, link_id: str, secret_key: str
) -> Iterator[Any]:
    """A fresh official ``KakaocertService`` whose every connection goes to ``url``."""
    port = urllib.parse.urlsplit(url).port
    opened: list[http.client.HTTPConnection] = []
    plain = http.client.HTTPConnection

    def to_local(*args: Any, **kwargs: Any) -> http.client.HTTPConnection:
        # Wherever the SDK opens a connection (HTTPS to the API, HTTP to the auth
        # URL), open plain HTTP to the local server, and keep it to close at the
        # end: the SDK replaces connections without closing them.
        connection = plain("127.0.0.1", port, timeout=10)
        opened.append(connection)
        return connection

    with monkeypatch.context() as patch:
        patch.setattr(service_module.httpclient, "HTTPSConnection", to_local)
        patch.setattr(http.client, "HTTPConnection", to_local)
        patch.setattr(service_module.Singleton, "_instances", {})
        patch.setattr(linkhub.TokenInstance, "_ServiceURL", "")
        linkhub.authURL(url)
        try:
            yield service_module.KakaocertService(link_id, secret_key)
        finally:
            for connection in opened:
                connection.close()
