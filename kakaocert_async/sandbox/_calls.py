"""What the app's routes share: the JSON answer, and a request's client IP and raw path."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from kakaocert_async import _wire


def json_answer(
    payload: object, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(_wire.dumps(payload), status, headers, "application/json")


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def raw_path(request: Request) -> str:
    """The path as the client sent it (percent-encoding kept, no query)."""
    raw: Any = request.scope.get("raw_path") or request.scope["path"].encode("utf-8")
    return bytes(raw).split(b"?", 1)[0].decode("latin-1")
