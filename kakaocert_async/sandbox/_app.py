"""The Starlette app: the protocol's routes and the ``/_sandbox`` control routes.

Every route counts its arrival first; protocol routes then consult the fault
plan, run the :class:`Service` call and answer its JSON, or the error JSON of a
refusal. Nothing here decides a rule of the service.
"""

from __future__ import annotations

import math
import urllib.parse
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from kakaocert_async import _wire

from ._faults import Action, Body, ConnectionDropped, Fault, FaultPlan, FaultSpecError
from ._rejections import Rejected, Rejection
from ._service import Service

CONTROL_PREFIX = "/_sandbox"
VERIFY_PREFIX = "/SignToken/Verify/"
GZIP_MIN_SIZE = 1024
"""Answers this large are gzip-encoded when the client accepts it (only signed data is)."""

_HTML_PAGE = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)

Handler = Callable[[Request], Awaitable[Response]]


def build_app(service: Service, faults: FaultPlan) -> Starlette:
    """The ASGI app serving ``service``, misbehaving as ``faults`` say."""
    routes = _Routes(service, faults)
    app = Starlette(
        routes=routes.table(),
        middleware=[Middleware(GZipMiddleware, minimum_size=GZIP_MIN_SIZE)],
        exception_handlers={HTTPException: routes.unrouted},
    )
    app.router.redirect_slashes = False
    return app


def _json(payload: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(_wire.dumps(payload), status, headers, media_type="application/json")


def _refusal(rejected: Rejected) -> Response:
    return _json(rejected.body(), rejected.http_status)


def _client_ip(request: Request) -> str:
    return request.client.host if request.client is not None else ""


def _fault_answer(fault: Fault) -> Response:
    headers = {}
    if fault.retry_after is not None:
        headers["Retry-After"] = str(math.ceil(fault.retry_after))
    status = fault.status
    if fault.body is Body.JSON:
        rejected = Rejected(Rejection.INJECTED_FAULT)
        return _json(rejected.body(), status, headers)
    if fault.body is Body.EMPTY:
        return Response(b"", status, headers)
    reason = _reason(status)
    page = _HTML_PAGE.format(status=status, reason=reason)
    return Response(page, status, headers, media_type="text/html")


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _dropped(answer: Response) -> Response:
    return _Dropped(answer.body, answer.status_code, media_type=answer.media_type)


class _Dropped(Response):
    """Starts the answer, sends half of it, then breaks the connection."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        half = self.body[: len(self.body) // 2]
        await send({"type": "http.response.body", "body": half, "more_body": True})
        raise ConnectionDropped(f"the sandbox dropped the connection of {scope.get('path')}")


class _Routes:
    def __init__(self, service: Service, faults: FaultPlan) -> None:
        self.service = service
        self.faults = faults

    def table(self) -> list[Route]:
        protocol, control = self._protocol, self._control
        p = CONTROL_PREFIX
        return [
            Route("/Time", protocol("time", self.time), methods=["GET"]),
            Route("/KAKAOCERT/Token", protocol("token", self.token), methods=["POST"]),
            Route("/SignToken/Request", protocol("request", self.request), methods=["POST"]),
            Route(
                "/SignToken/Status/{receipt_id}",
                protocol("status", self.status),
                methods=["GET"],
            ),
            Route(
                f"{VERIFY_PREFIX}{{rest:path}}", protocol("verify", self.verify), methods=["GET"]
            ),
            Route(f"{p}/stats", control(self.stats), methods=["GET", "DELETE"]),
            Route(f"{p}/settings", control(self.settings), methods=["GET"]),
            Route(f"{p}/tokens", control(self.tokens), methods=["DELETE"]),
            Route(f"{p}/faults", control(self.fault_list), methods=["GET", "POST", "DELETE"]),
            Route(f"{p}/faults/{{fault_id:int}}", control(self.fault), methods=["DELETE"]),
            Route(f"{p}/receipts/{{receipt_id}}", control(self.receipt), methods=["GET"]),
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
        ]

    # Wrappers ------------------------------------------------------------------

    def _protocol(self, name: str, handler: Handler) -> Handler:
        service, faults = self.service, self.faults

        async def endpoint(request: Request) -> Response:
            service.count(name)
            decision = faults.decide(name)
            if decision.delay:
                await anyio.sleep(decision.delay)
            fault = decision.fault
            if fault is not None and not fault.processed:
                if fault.action is Action.DROP:
                    return _dropped(_json(Rejected(Rejection.INJECTED_FAULT).body(), fault.status))
                return _fault_answer(fault)
            try:
                answer = await handler(request)
            except Rejected as rejected:
                answer = _refusal(rejected)
            if fault is None:
                return answer
            if fault.action is Action.DROP:
                return _dropped(answer)
            return _fault_answer(fault)

        return endpoint

    def _control(self, handler: Handler) -> Handler:
        service = self.service

        async def endpoint(request: Request) -> Response:
            service.count("control")
            try:
                return await handler(request)
            except Rejected as rejected:
                return _refusal(rejected)
            except FaultSpecError as exc:
                return _refusal(Rejected(Rejection.CONTROL_INVALID, str(exc)))

        return endpoint

    async def unrouted(self, request: Request, exc: Exception) -> Response:
        """Unknown paths (404) and wrong methods (405), as error JSON."""
        self.service.count("other")
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        rejection = Rejection.METHOD_NOT_ALLOWED if status == 405 else Rejection.NOT_FOUND
        headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else {}
        return _json(Rejected(rejection).body(), rejection.http_status, headers)

    # The protocol --------------------------------------------------------------

    async def time(self, request: Request) -> Response:
        return PlainTextResponse(self.service.server_time())

    async def token(self, request: Request) -> Response:
        body = await request.body()
        answer = self.service.grant_token(request.headers, body, client_ip=_client_ip(request))
        return _json(answer)

    async def request(self, request: Request) -> Response:
        body = await request.body()
        answer = self.service.request_esign(request.headers, body, client_ip=_client_ip(request))
        return _json(answer)

    async def status(self, request: Request) -> Response:
        receipt_id = request.path_params["receipt_id"]
        answer = self.service.esign_status(
            request.headers, receipt_id, client_ip=_client_ip(request)
        )
        return _json(answer)

    async def verify(self, request: Request) -> Response:
        receipt_id, signature = _verify_segments(request)
        answer = self.service.verify_esign(
            request.headers, receipt_id, signature, client_ip=_client_ip(request)
        )
        return _json(answer)

    # Control -------------------------------------------------------------------

    async def stats(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.service.reset_stats()
        return _json(self.service.stats)

    async def tokens(self, request: Request) -> Response:
        return _json({"revoked": self.service.revoke_tokens()})

    async def settings(self, request: Request) -> Response:
        settings = self.service.settings
        return _json(
            {
                "linkID": settings.link_id,
                "clientCode": settings.client_code,
                "clientName": settings.client_name,
                "tokenTTL": settings.token_ttl,
                "signAfter": settings.sign_after,
                "clockOffset": settings.clock_offset,
                "dateTolerance": settings.date_tolerance,
                "requiredScope": settings.required_scope,
                "time": self.service.server_time(),
            }
        )

    async def fault_list(self, request: Request) -> Response:
        if request.method == "POST":
            data = await _control_json(request)
            options = dict(data)
            action = options.pop("action", None)
            fault_id = self.faults.add(Fault.from_options(action, options))
            return _json({"id": fault_id, "faults": self.faults.listing()})
        if request.method == "DELETE":
            self.faults.clear()
        return _json({"faults": self.faults.listing()})

    async def fault(self, request: Request) -> Response:
        if not self.faults.remove(request.path_params["fault_id"]):
            raise Rejected(Rejection.NOT_FOUND, "no such fault")
        return _json({"faults": self.faults.listing()})

    async def receipt(self, request: Request) -> Response:
        return _json(
            _wire.converter.unstructure(self.service.status(request.path_params["receipt_id"]))
        )

    async def signature(self, request: Request) -> Response:
        receipt_id = request.path_params["receipt_id"]
        return _json({"receiptId": receipt_id, "signature": self.service.signature(receipt_id)})

    async def verifies(self, request: Request) -> Response:
        receipt_id = request.path_params["receipt_id"]
        count = self.service.verify_arrivals(receipt_id)
        return _json({"receiptId": receipt_id, "verifies": count})

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
        return _json(_wire.converter.unstructure(command(receipt_id)))


def _verify_segments(request: Request) -> tuple[str, str | None]:
    """Receipt id and signature from the raw path: a signature may hold an encoded ``/``."""
    raw: Any = request.scope.get("raw_path") or request.scope["path"].encode("utf-8")
    path = bytes(raw).split(b"?", 1)[0].decode("latin-1")
    parts = path[len(VERIFY_PREFIX) :].split("/")
    if len(parts) > 2:
        raise Rejected(Rejection.NOT_FOUND)
    receipt_id = urllib.parse.unquote(parts[0])
    signature = urllib.parse.unquote(parts[1]) if len(parts) == 2 else ""
    return receipt_id, signature or None


async def _control_json(request: Request) -> dict[str, Any]:
    body = await request.body()
    try:
        data = _wire.loads(body)
    except _wire.WireError as exc:
        raise Rejected(Rejection.CONTROL_INVALID, str(exc)) from None
    if not isinstance(data, dict):
        raise Rejected(Rejection.CONTROL_INVALID, "expected a JSON object")
    return data
