"""The lean protocol path's request and answer: what every protocol handler takes and gives.

The sandbox's protocol routes (2.x families, Barocert) are what clients poll
under load, so they skip Starlette's request and response objects: a handler
gets a :class:`Call` and returns an :class:`Answer`, and is declared as a
:class:`ProtocolRoute`. ``_app`` matches, wraps (counting, faults, refusals)
and serves them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, NamedTuple

from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import Receive, Scope

from kakaocert_async import _wire


class Call:
    """One protocol request as a handler sees it: headers, path parameters, caller, body.

    ``headers`` holds the lower-case names the ASGI server gives (the first of
    repeated ones, as Starlette's ``Request.headers.get`` would).
    """

    __slots__ = ("_body", "_receive", "client_ip", "headers", "path_params", "scope")

    def __init__(self, scope: Scope, receive: Receive, path_params: dict[str, Any]) -> None:
        self.scope = scope
        self.path_params = path_params
        self.headers: dict[str, str] = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in reversed(scope["headers"])
        }
        client = scope.get("client")
        self.client_ip: str = client[0] if client else ""
        self._receive = receive
        self._body: bytes | None = None

    async def body(self) -> bytes:
        """The whole request body (read once)."""
        if self._body is None:
            chunks = []
            while True:
                message = await self._receive()
                if message["type"] == "http.disconnect":
                    raise ClientDisconnect
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    break
            self._body = b"".join(chunks)
        return self._body


class Answer(Response):
    """A complete answer, built without Starlette's header handling (a ``Response``
    all the same, so control routes and exception handlers may return it)."""

    body: bytes

    def __init__(
        self,
        body: bytes,
        status: int = 200,
        media_type: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status_code = status
        self.body = body
        self.background = None
        raw = [
            (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()
        ]
        raw.append((b"content-length", str(len(body)).encode("latin-1")))
        if media_type is not None:
            self.media_type = media_type
            raw.append((b"content-type", media_type.encode("latin-1")))
        self.raw_headers = raw


def json_answer(
    payload: object, status: int = 200, headers: Mapping[str, str] | None = None
) -> Answer:
    return Answer(_wire.dumps(payload), status, "application/json", headers)


def text_answer(text: str) -> Answer:
    return Answer(text.encode("utf-8"), 200, "text/plain; charset=utf-8")


def client_ip(call: Call) -> str:
    return call.client_ip


def raw_path(call: Call) -> str:
    """The path as the client sent it (percent-encoding kept, no query)."""
    raw: Any = call.scope.get("raw_path") or call.scope["path"].encode("utf-8")
    return bytes(raw).split(b"?", 1)[0].decode("latin-1")


Handler = Callable[[Call], Awaitable[Answer]]


class ProtocolRoute(NamedTuple):
    """One protocol route: adding an endpoint to the sandbox is adding one of these."""

    method: str
    """``GET`` (which also answers ``HEAD``) or ``POST``."""
    path: str
    """In Starlette's syntax: ``/SignToken/Status/{receipt_id}``, ``{rest:path}``; the
    first segment must be literal."""
    endpoint: str
    """Its name in stats and fault targets (one of ``ENDPOINTS``)."""
    handler: Handler
