"""What every protocol handler takes and gives: a Starlette request, an :class:`Answer`.

The sandbox's protocol routes (every kind of receipt's, both generations) are declared as
:class:`ProtocolRoute` entries; ``_app`` wraps them (counting, faults, refusals)
and serves them as Starlette routes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, NamedTuple

from starlette.requests import Request
from starlette.responses import Response

from kakaocert_async import _wire


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


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def raw_path(request: Request) -> str:
    """The path as the client sent it (percent-encoding kept, no query)."""
    raw: Any = request.scope.get("raw_path") or request.scope["path"].encode("utf-8")
    return bytes(raw).split(b"?", 1)[0].decode("latin-1")


Handler = Callable[[Request], Awaitable[Answer]]


class ProtocolRoute(NamedTuple):
    """One protocol route: adding an endpoint to the sandbox is adding one of these."""

    method: str
    """``GET`` (which also answers ``HEAD``) or ``POST``."""
    path: str
    """In Starlette's syntax: ``/SignToken/Status/{receipt_id}``, ``{rest:path}``."""
    endpoint: str
    """Its name in stats and fault targets (one of ``ENDPOINTS``)."""
    handler: Handler
