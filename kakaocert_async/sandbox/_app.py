"""The ASGI app: the protocol's routes and the ``/_sandbox`` control routes, on Starlette,
behind the :mod:`_guard` (a body limit, same-origin control routes).

Every route counts its arrival first; protocol routes (declared as
:class:`ProtocolRoute` entries) then consult the fault plan, run the
:class:`Service` call and answer its JSON, or the error JSON of a refusal.
Nothing here decides a rule of the service. Answers of 1 KiB or more are
gzip-encoded for clients that accept it.
"""

from __future__ import annotations

import gzip
import math
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from kakaocert_async import _wire

from . import _phone
from ._barocert_app import control_routes as barocert_control_routes
from ._barocert_app import routes as barocert_routes
from ._barocert_service import BarocertService
from ._calls import Answer, Handler, ProtocolRoute, client_ip, json_answer, text_answer
from ._families import SERVED
from ._family_routes import family_routes
from ._faults import Action, Body, ConnectionDropped, Fault, FaultPlan, FaultSpecError
from ._guard import CONTROL_PREFIX, Guard
from ._rejections import Rejected, Rejection
from ._service import Service

GZIP_MIN_SIZE = 1024
"""Answers this large are gzip-encoded when the client accepts it (only signed data is)."""
GZIP_LEVEL = 9

Endpoint = Callable[[Request], Awaitable[Response]]

_HTML_PAGE = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


def build_app(
    service: Service, faults: FaultPlan, barocert: BarocertService | None = None
) -> ASGIApp:
    """The ASGI app serving ``service`` (and ``barocert``, on the same origin),
    misbehaving as ``faults`` say."""
    if barocert is None:
        barocert = BarocertService(service.settings)
    routes = _Routes(service, faults, barocert)
    # One route per path, whatever its methods, so a wrong method's 405 names them all.
    by_path: dict[str, dict[str, Endpoint]] = {}
    for route in routes.protocol_table():
        handler = routes.protocol(route.endpoint, route.handler)
        by_path.setdefault(route.path, {})[route.method] = handler
    app = Starlette(
        routes=[
            *(
                Route(path, _by_method(handlers), methods=list(handlers))
                for path, handlers in by_path.items()
            ),
            *routes.control_table(),
        ],
        exception_handlers={HTTPException: routes.unrouted},
    )
    app.router.redirect_slashes = False
    return Guard(app, allowed_hosts=service.settings.allowed_hosts)


def _by_method(handlers: dict[str, Endpoint]) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        return await handlers["GET" if request.method == "HEAD" else request.method](request)

    return endpoint


def _refusal(rejected: Rejected) -> Answer:
    return json_answer(rejected.body(), rejected.http_status)


def _fault_answer(fault: Fault) -> Answer:
    headers = {}
    if fault.retry_after is not None:
        headers["Retry-After"] = str(math.ceil(fault.retry_after))
    status = fault.status
    if fault.body is Body.JSON:
        rejected = Rejected(Rejection.INJECTED_FAULT)
        return json_answer(rejected.body(), status, headers)
    if fault.body is Body.EMPTY:
        return Answer(b"", status, None, headers)
    reason = _reason(status)
    page = _HTML_PAGE.format(status=status, reason=reason)
    return Answer(page.encode("utf-8"), status, "text/html; charset=utf-8", headers)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class _Dropped(Answer):
    """Starts the answer, sends half of it, then breaks the connection."""

    def __init__(self, answer: Answer) -> None:
        self.status_code = answer.status_code
        self.body = answer.body
        self.background = None
        self.raw_headers = answer.raw_headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        half = self.body[: len(self.body) // 2]
        await send({"type": "http.response.body", "body": half, "more_body": True})
        raise ConnectionDropped(f"the sandbox dropped the connection of {scope.get('path')}")


def _encoded(answer: Response, scope: Scope) -> Response:
    """``answer`` gzip-encoded if it is large and the client accepts gzip (as GZipMiddleware)."""
    if len(answer.body) < GZIP_MIN_SIZE or isinstance(answer, _Dropped):
        return answer
    accepts = ""
    for name, value in scope["headers"]:
        if name == b"accept-encoding":
            accepts = value.decode("latin-1")
            break
    headers = [h for h in answer.raw_headers if h[0] not in {b"content-length", b"vary"}]
    headers.append((b"vary", b"Accept-Encoding"))
    body = bytes(answer.body)
    if "gzip" in accepts:
        body = gzip.compress(body, GZIP_LEVEL)
        headers.append((b"content-encoding", b"gzip"))
    headers.append((b"content-length", str(len(body)).encode("latin-1")))
    encoded = Answer(body, answer.status_code)
    encoded.raw_headers = headers
    return encoded


# The routes ----------------------------------------------------------------------------


class _Routes:
    def __init__(self, service: Service, faults: FaultPlan, barocert: BarocertService) -> None:
        self.service = service
        self.faults = faults
        self.barocert = barocert

    def protocol_table(self) -> list[ProtocolRoute]:
        return [
            ProtocolRoute("GET", "/Time", "time", self.time),
            ProtocolRoute("POST", "/KAKAOCERT/Token", "token", self.token),
            *family_routes(self.service, SERVED),
            *barocert_routes(self.barocert),
        ]

    def control_table(self) -> list[Route]:
        control, p = self._control, CONTROL_PREFIX
        return [
            Route(f"{p}/stats", control(self.stats), methods=["GET", "DELETE"]),
            Route(f"{p}/settings", control(self.settings), methods=["GET"]),
            Route(f"{p}/tokens", control(self.tokens), methods=["DELETE"]),
            Route(f"{p}/faults", control(self.fault_list), methods=["GET", "POST", "DELETE"]),
            Route(f"{p}/faults/{{fault_id:int}}", control(self.fault), methods=["DELETE"]),
            Route(f"{p}/receipts", control(self.receipt_list), methods=["GET"]),
            Route(f"{p}/receipts/{{receipt_id}}", control(self.receipt), methods=["GET"]),
            Route(f"{p}/receipts/{{receipt_id}}/request", control(self.request), methods=["GET"]),
            Route(
                f"{p}/receipts/{{receipt_id}}/signature",
                control(self.signature),
                methods=["GET"],
            ),
            Route(f"{p}/receipts/{{receipt_id}}/verifies", control(self.verifies), methods=["GET"]),
            Route(
                f"{p}/receipts/{{receipt_id}}/{{command}}",
                control(self.command),
                methods=["POST"],
            ),
            *barocert_control_routes(control, self.barocert),
            *_phone.routes(control),
        ]

    # Wrappers ------------------------------------------------------------------

    def protocol(self, name: str, handler: Handler) -> Endpoint:
        """Count the arrival, consult the faults, run ``handler``, refusals as error JSON."""
        service, faults = self.service, self.faults

        async def endpoint(request: Request) -> Response:
            service.count(name)
            decision = faults.decide(name)
            if decision.delay:
                await anyio.sleep(decision.delay)
            fault = decision.fault
            if fault is not None and not fault.processed:
                if fault.action is Action.DROP:
                    return _Dropped(
                        json_answer(Rejected(Rejection.INJECTED_FAULT).body(), fault.status)
                    )
                return _fault_answer(fault)
            try:
                answer = await handler(request)
            except Rejected as rejected:
                answer = _refusal(rejected)
            if fault is None:
                return _encoded(answer, request.scope)
            if fault.action is Action.DROP:
                return _Dropped(answer)
            return _fault_answer(fault)

        return endpoint

    def _control(self, handler: Endpoint) -> Endpoint:
        service = self.service

        async def endpoint(request: Request) -> Response:
            service.count("control")
            try:
                return _encoded(await handler(request), request.scope)
            except Rejected as rejected:
                return _refusal(rejected)
            except FaultSpecError as exc:
                return _refusal(Rejected(Rejection.CONTROL_INVALID, str(exc)))

        return endpoint

    async def unrouted(self, request: Request, exc: Exception) -> Response:
        """Unknown paths (404) and wrong methods (405, ``Allow`` naming the right ones), as
        error JSON."""
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else {}
        if "Allow" in headers:
            headers["Allow"] = ", ".join(sorted(headers["Allow"].split(", ")))
        self.service.count("other")
        rejection = Rejection.METHOD_NOT_ALLOWED if status == 405 else Rejection.NOT_FOUND
        return json_answer(Rejected(rejection).body(), rejection.http_status, headers)

    # The protocol --------------------------------------------------------------

    async def time(self, request: Request) -> Answer:
        return text_answer(self.service.server_time())

    async def token(self, request: Request) -> Answer:
        body = await request.body()
        answer = self.service.grant_token(request.headers, body, client_ip=client_ip(request))
        return json_answer(answer)

    # Control -------------------------------------------------------------------

    async def stats(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.service.reset_stats()
        return json_answer(self.service.stats)

    async def tokens(self, request: Request) -> Response:
        return json_answer({"revoked": self.service.revoke_tokens()})

    async def settings(self, request: Request) -> Response:
        settings = self.service.settings
        return json_answer(
            {
                "linkID": settings.link_id,
                "clientCode": settings.client_code,
                "clientName": settings.client_name,
                "tokenTTL": settings.token_ttl,
                "signAfter": settings.sign_after,
                "clockOffset": settings.clock_offset,
                "dateTolerance": settings.date_tolerance,
                "requiredScope": settings.required_scope,
                "allowedHosts": list(settings.allowed_hosts),
                "time": self.service.server_time(),
            }
        )

    async def fault_list(self, request: Request) -> Response:
        if request.method == "POST":
            data = await _controljson_answer(request)
            options = dict(data)
            action = options.pop("action", None)
            fault_id = self.faults.add(Fault.from_options(action, options))
            return json_answer({"id": fault_id, "faults": self.faults.listing()})
        if request.method == "DELETE":
            self.faults.clear()
        return json_answer({"faults": self.faults.listing()})

    async def fault(self, request: Request) -> Response:
        if not self.faults.remove(request.path_params["fault_id"]):
            raise Rejected(Rejection.NOT_FOUND, "no such fault")
        return json_answer({"faults": self.faults.listing()})

    async def receipt(self, request: Request) -> Response:
        return json_answer(
            _wire.converter.unstructure(self.service.status(request.path_params["receipt_id"]))
        )

    async def receipt_list(self, request: Request) -> Response:
        receipts = self.service.receipts(_phone.limit_of(request))
        return json_answer(
            {
                "time": self.service.server_time(),
                "total": len(self.service),
                "receipts": [
                    {"family": family, **_wire.converter.unstructure(status)}
                    for family, status in receipts
                ],
            }
        )

    async def request(self, request: Request) -> Response:
        receipt_id = request.path_params["receipt_id"]
        family, sent = self.service.request_of(receipt_id)
        plain = _wire.converter.unstructure(sent)
        return json_answer({"receiptId": receipt_id, "family": family, "request": plain})

    async def signature(self, request: Request) -> Response:
        receipt_id = request.path_params["receipt_id"]
        return json_answer(
            {"receiptId": receipt_id, "signature": self.service.signature(receipt_id)}
        )

    async def verifies(self, request: Request) -> Response:
        receipt_id = request.path_params["receipt_id"]
        count = self.service.verify_arrivals(receipt_id)
        return json_answer({"receiptId": receipt_id, "verifies": count})

    async def command(self, request: Request) -> Response:
        receipt_id = request.path_params["receipt_id"]
        commands = {
            "sign": self.service.sign,
            "expire": self.service.expire,
            "open": self.service.open,
        }
        command = commands.get(request.path_params["command"])
        if command is None:
            raise Rejected(Rejection.NOT_FOUND, "use sign, expire or open")
        return json_answer(_wire.converter.unstructure(command(receipt_id)))


async def _controljson_answer(request: Request) -> dict[str, Any]:
    body = await request.body()
    try:
        data = _wire.loads(body)
    except _wire.WireError as exc:
        raise Rejected(Rejection.CONTROL_INVALID, str(exc)) from None
    if not isinstance(data, dict):
        raise Rejected(Rejection.CONTROL_INVALID, "expected a JSON object")
    return data
