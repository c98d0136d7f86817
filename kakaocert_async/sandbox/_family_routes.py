"""The routes of a family's three calls (request, state, verify), for any family.

``family_routes`` builds them from the table in ``_families``, as protocol
routes; ``_app`` wraps each handler with its arrival counting and fault plan.
The verify route reads the receipt id and the signature from the raw path, as sent.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.requests import Request

from ._calls import Answer, ProtocolRoute, client_ip, json_answer, raw_path
from ._families import ServedFamily
from ._rejections import Rejected, Rejection
from ._service import Service


def family_routes(service: Service, families: Iterable[ServedFamily]) -> list[ProtocolRoute]:
    """``POST {path}/Request``, ``GET {path}/Status/{id}`` and ``GET {path}/Verify/...``
    for each family, under its endpoint names."""
    routes = []
    for served in families:
        family = served.family
        calls = _Calls(service, served)
        routes += [
            ProtocolRoute("POST", family.paths[0], served.request_endpoint, calls.request),
            ProtocolRoute("GET", family.paths[1], served.status_endpoint, calls.status),
            ProtocolRoute(
                "GET",
                family.paths[2].replace("{receipt_id}", "{rest:path}"),
                served.verify_endpoint,
                calls.verify,
            ),
        ]
    return routes


def verify_segments(request: Request, prefix: str) -> tuple[str, str | None]:
    """The receipt id and the signature of a verify path, from the raw path as sent.

    The signature is everything after the receipt id's ``/``, not decoded: the
    official SDKs append it as given, so base64's ``/`` is part of it and ``+`` is
    a plus; a percent-encoded signature is not the signature.
    """
    path = raw_path(request)
    if not path.startswith(prefix):  # an escaped character in the prefix itself
        raise Rejected(Rejection.NOT_FOUND)
    receipt_id, _, signature = path[len(prefix) :].partition("/")
    return receipt_id, signature or None


class _Calls:
    """The three handlers of one family."""

    def __init__(self, service: Service, served: ServedFamily) -> None:
        self.service = service
        self.served = served

    async def request(self, request: Request) -> Answer:
        body = await request.body()
        answer = self.service.handle_request(
            self.served, request.headers, body, client_ip=client_ip(request)
        )
        return json_answer(answer)

    async def status(self, request: Request) -> Answer:
        answer = self.service.handle_status(
            self.served,
            request.headers,
            request.path_params["receipt_id"],
            client_ip=client_ip(request),
        )
        return json_answer(answer)

    async def verify(self, request: Request) -> Answer:
        prefix = self.served.family.paths[2].removesuffix("{receipt_id}")
        receipt_id, signature = verify_segments(request, prefix)
        answer = self.service.handle_verify(
            self.served, request.headers, receipt_id, signature, client_ip=client_ip(request)
        )
        return json_answer(answer)
