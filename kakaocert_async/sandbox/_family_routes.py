"""The routes of a family's three calls (request, state, verify), for any family.

``family_routes`` builds them from the table in ``_families``; ``_app`` wraps each
handler with its own arrival counting and fault plan (``protocol``). The verify
route reads the receipt id and the signature from the raw path, as sent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kakaocert_async import _wire

from ._families import ServedFamily
from ._rejections import Rejected, Rejection
from ._service import Service

Handler = Callable[[Request], Awaitable[Response]]
Wrap = Callable[[str, Handler], Handler]
"""Wraps a handler as the protocol endpoint named by its first argument."""


def family_routes(service: Service, wrap: Wrap, families: Iterable[ServedFamily]) -> list[Route]:
    """``POST {path}/Request``, ``GET {path}/Status/{id}`` and ``GET {path}/Verify/...``
    for each family, each wrapped by ``wrap`` under its endpoint name."""
    routes = []
    for served in families:
        family = served.family
        calls = _Calls(service, served)
        routes += [
            Route(
                family.request_path,
                wrap(served.request_endpoint, calls.request),
                methods=["POST"],
            ),
            Route(
                f"{family.status_prefix}{{receipt_id}}",
                wrap(served.status_endpoint, calls.status),
                methods=["GET"],
            ),
            Route(
                f"{family.verify_prefix}{{rest:path}}",
                wrap(served.verify_endpoint, calls.verify),
                methods=["GET"],
            ),
        ]
    return routes


def verify_segments(request: Request, prefix: str) -> tuple[str, str | None]:
    """The receipt id and the signature of a verify path, from the raw path as sent.

    The signature is everything after the receipt id's ``/``, not decoded: the
    official SDKs append it as given, so base64's ``/`` is part of it and ``+`` is
    a plus; a percent-encoded signature is not the signature.
    """
    raw: Any = request.scope.get("raw_path") or request.scope["path"].encode("utf-8")
    path = bytes(raw).split(b"?", 1)[0].decode("latin-1")
    if not path.startswith(prefix):  # an escaped character in the prefix itself
        raise Rejected(Rejection.NOT_FOUND)
    receipt_id, _, signature = path[len(prefix) :].partition("/")
    return receipt_id, signature or None


def _client_ip(request: Request) -> str:
    return request.client.host if request.client is not None else ""


def _json(payload: object) -> Response:
    return Response(_wire.dumps(payload), media_type="application/json")


class _Calls:
    """The three handlers of one family."""

    def __init__(self, service: Service, served: ServedFamily) -> None:
        self.service = service
        self.served = served

    async def request(self, request: Request) -> Response:
        body = await request.body()
        answer = self.service.handle_request(
            self.served, request.headers, body, client_ip=_client_ip(request)
        )
        return _json(answer)

    async def status(self, request: Request) -> Response:
        answer = self.service.handle_status(
            self.served,
            request.headers,
            request.path_params["receipt_id"],
            client_ip=_client_ip(request),
        )
        return _json(answer)

    async def verify(self, request: Request) -> Response:
        receipt_id, signature = verify_segments(request, self.served.family.verify_prefix)
        answer = self.service.handle_verify(
            self.served, request.headers, receipt_id, signature, client_ip=_client_ip(request)
        )
        return _json(answer)
