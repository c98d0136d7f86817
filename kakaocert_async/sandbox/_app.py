"""The ASGI app: the protocol's routes and the ``/_sandbox`` control routes, on Starlette,
behind the :mod:`_guard` (a body limit, same-origin control routes).

The protocol routes are built from the kinds of receipt each service serves (their
paths in the SDK's table). Every route counts its
arrival first; protocol routes then consult the fault plan, run the :class:`Service`
(or :class:`BarocertService`) call and answer its JSON, or the error JSON of a
refusal. Path values are read from the raw path, as sent: Barocert's HMAC signs that
form, and an App to App signature or a login's transaction id is appended as given.
The control routes of both generations are one set, under ``/_sandbox`` and
``/_sandbox/barocert``. Nothing here decides a rule of the service. Answers of 1 KiB
or more are gzip-encoded for clients that accept it.
"""

from __future__ import annotations

import functools
import gzip
import http.client
import math
import urllib.parse
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.convertors import PathConvertor
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route, compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from kakaocert_async import _wire
from kakaocert_async._kinds import AnyKind

from . import _phone
from ._faults import Action, Body, ConnectionDropped, Fault, FaultPlan, FaultSpecError
from ._guard import CONTROL_PREFIX, Guard, json_answer
from ._rejections import Rejected, Rejection
from ._service import BarocertService, Call, Service, endpoints

GZIP_MIN_SIZE = 1024
"""Answers this large are gzip-encoded when the client accepts it (only signed data is)."""
GZIP_LEVEL = 9

Endpoint = Callable[[Request], Awaitable[Response]]

_HTML_PAGE = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


def build_app(service: Service, faults: FaultPlan, barocert: BarocertService) -> ASGIApp:
    """The ASGI app serving ``service`` and ``barocert`` on one origin, misbehaving as
    ``faults`` say."""
    routes = _Routes(service, faults, barocert)
    app = Starlette(
        routes=[*routes.protocol_table(), *routes.control_table()],
        exception_handlers={HTTPException: routes.unrouted},
    )
    app.router.redirect_slashes = False
    return Guard(app, allowed_hosts=service.settings.allowed_hosts)


def _by_method(handlers: dict[str, Endpoint]) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        return await handlers["GET" if request.method == "HEAD" else request.method](request)

    return endpoint


def _refusal(rejected: Rejected) -> Response:
    return json_answer(rejected.body(), rejected.http_status)


def _fault_answer(fault: Fault) -> Response:
    headers = {}
    if fault.retry_after is not None:
        headers["Retry-After"] = str(math.ceil(fault.retry_after))
    status = fault.status
    if fault.body is Body.JSON:
        return json_answer(Rejected(Rejection.INJECTED_FAULT).body(), status, headers)
    if fault.body is Body.EMPTY:
        return Response(b"", status, headers)
    reason = http.client.responses.get(status, "Error")
    return HTMLResponse(_HTML_PAGE.format(status=status, reason=reason), status, headers)


class _Dropped(Response):
    """Starts the answer, sends half of it, then breaks the connection."""

    def __init__(self, answer: Response) -> None:
        vars(self).update(vars(answer))  # its status, headers and body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        half = self.body[: len(self.body) // 2]
        await send({"type": "http.response.body", "body": half, "more_body": True})
        raise ConnectionDropped(f"the sandbox dropped the connection of {scope.get('path')}")


def _encoded(answer: Response, scope: Scope) -> Response:
    """``answer`` gzip-encoded if it is large and the client accepts gzip (as GZipMiddleware)."""
    if len(answer.body) < GZIP_MIN_SIZE:
        return answer
    headers = answer.headers
    del headers["content-length"]  # last, after what is added
    headers["vary"] = "Accept-Encoding"
    if "gzip" in Headers(scope=scope).get("accept-encoding", ""):
        answer.body = gzip.compress(bytes(answer.body), GZIP_LEVEL)
        headers["content-encoding"] = "gzip"
    headers["content-length"] = str(len(answer.body))
    return answer


# The routes ----------------------------------------------------------------------------


class _Routes:
    def __init__(self, service: Service, faults: FaultPlan, barocert: BarocertService) -> None:
        self.service = service
        self.faults = faults
        self.barocert = barocert

    def protocol_table(self) -> list[Route]:
        """``/Time``, the token calls, each kind's three calls, and Barocert's login verify:
        one route per path, whatever its methods, so a wrong method's 405 names them all."""
        service, barocert = self.service, self.barocert
        by_path: dict[str, dict[str, Endpoint]] = {
            "/Time": {"GET": self.protocol("time", self.time)}
        }

        def add(method: str, path: str, name: str, call: Callable[[Call], Any]) -> None:
            by_path.setdefault(path, {})[method] = self.protocol(name, _handler(path, call))

        add("POST", "/KAKAOCERT/Token", "token", functools.partial(_token, service))
        add("POST", "/BAROCERT/Token", "barocert.token", functools.partial(_token, barocert))
        for served in (service, barocert):
            for kind in served.kinds:
                request, status, verify = kind.paths
                names = endpoints(kind)
                add("POST", request, names[0], functools.partial(served.handle_request, kind))
                add("GET", status, names[1], functools.partial(served.handle_status, kind))
                verify_call = functools.partial(served.handle_verify, kind)
                if kind.generation == "2.x":  # a GET; the App to App signature follows the id
                    add("GET", verify.replace("{receipt_id}", "{rest:path}"), names[2], verify_call)
                else:  # a POST, also on the state's path (the .NET Core SDK's)
                    add("POST", verify, names[2], verify_call)
                    add("POST", status, names[2], verify_call)
        for login in ("/KAKAO/Login/Verify", "/KAKAO/Login"):
            path = f"{login}/{{client_code}}/{{receipt_id:path}}"
            add("POST", path, "barocert.login.verify", barocert.verify_login)
        return [
            Route(path, _by_method(handlers), methods=list(handlers))
            for path, handlers in by_path.items()
        ]

    def control_table(self) -> list[Route]:
        control, p = self._control, CONTROL_PREFIX
        one = f"{p}/receipts/{{receipt_id}}"
        return [
            Route(f"{p}/stats", control(self.stats), methods=["GET", "DELETE"]),
            Route(f"{p}/settings", control(self.settings), methods=["GET"]),
            Route(f"{p}/faults", control(self.fault_list), methods=["GET", "POST", "DELETE"]),
            Route(f"{p}/faults/{{fault_id:int}}", control(self.fault), methods=["DELETE"]),
            Route(f"{one}/signature", control(self.signature), methods=["GET"]),
            Route(f"{one}/verifies", control(self.verifies), methods=["GET"]),
            *_receipt_routes(control, p, self.service),
            *_receipt_routes(control, f"{p}/barocert", self.barocert),
            Route(f"{p}/barocert/logins", control(self.logins), methods=["POST"]),
            *_phone.routes(control),
        ]

    # Wrappers ------------------------------------------------------------------

    def protocol(self, name: str, handler: Endpoint) -> Endpoint:
        """Count the arrival, consult the faults, run ``handler``, refusals as error JSON."""
        service, faults = self.service, self.faults

        async def endpoint(request: Request) -> Response:
            service.count(name)
            decision = faults.decide(name)
            if decision.delay:
                await anyio.sleep(decision.delay)
            fault = decision.fault
            if fault is None or fault.processed:
                try:
                    answer = await handler(request)
                except Rejected as rejected:
                    answer = _refusal(rejected)
            else:  # the call does not run: a drop cuts the error JSON short
                answer = json_answer(Rejected(Rejection.INJECTED_FAULT).body(), fault.status)
            if fault is None:
                return _encoded(answer, request.scope)
            return _Dropped(answer) if fault.action is Action.DROP else _fault_answer(fault)

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
        assert isinstance(exc, HTTPException)  # the only exception it is the handler of
        headers = dict(exc.headers or {})
        if "Allow" in headers:
            headers["Allow"] = ", ".join(sorted(headers["Allow"].split(", ")))
        self.service.count("other")
        rejection = Rejection.METHOD_NOT_ALLOWED if exc.status_code == 405 else Rejection.NOT_FOUND
        return json_answer(Rejected(rejection).body(), rejection.http_status, headers)

    # The protocol --------------------------------------------------------------

    async def time(self, request: Request) -> Response:
        return PlainTextResponse(self.service.server_time())

    # Control -------------------------------------------------------------------

    async def stats(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.service.reset_stats()
        return json_answer(self.service.stats)

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
            options = dict(await _control_json(request))
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

    async def signature(self, request: Request) -> Response:
        receipt_id = request.path_params["receipt_id"]
        return json_answer(
            {"receiptID": receipt_id, "signature": self.service.signature(receipt_id)}
        )

    async def verifies(self, request: Request) -> Response:
        receipt_id = request.path_params["receipt_id"]
        count = self.service.verify_arrivals(receipt_id)
        return json_answer({"receiptID": receipt_id, "verifies": count})

    async def logins(self, request: Request) -> Response:
        options = await _control_json(request, optional=True)
        allowed = set(_LOGIN_OPTIONS.values())
        if not all(key in allowed and isinstance(value, str) for key, value in options.items()):
            raise Rejected(Rejection.CONTROL_INVALID, f"expected an object of strings: {allowed}")
        given = {field: options[wire] for field, wire in _LOGIN_OPTIONS.items() if wire in options}
        return json_answer({"txID": self.barocert.login(**given)})


_LOGIN_OPTIONS = {
    "client_code": "clientCode",
    "tx_id": "txID",
    "receiver_name": "receiverName",
    "receiver_hp": "receiverHP",
    "receiver_birthday": "receiverBirthday",
}


def _receipt_routes(
    control: Callable[[Endpoint], Endpoint], prefix: str, served: Service | BarocertService
) -> list[Route]:
    """A service's control routes under ``prefix``: its receipts, listed, read, their
    requests, the receiver's commands, and its tokens revoked. A receipt's kind is named
    as its generation names it: 2.x's ``family`` (``esign``), Barocert's ``kind``
    (``Identity``)."""
    kind_key = "kind" if isinstance(served, BarocertService) else "family"

    def label(kind: AnyKind) -> str:
        return kind.name if kind.generation == "2.x" else kind.segment

    async def listing(request: Request) -> Response:
        receipts = served._newest(_phone.limit_of(request))
        return json_answer(
            {
                "time": served.server_time(),
                "total": len(served),
                "receipts": [
                    {kind_key: label(kind), **_wire.converter.unstructure(status)}
                    for kind, status in receipts
                ],
            }
        )

    async def receipt(request: Request) -> Response:
        status = served.state(request.path_params["receipt_id"])
        return json_answer(_wire.converter.unstructure(status))

    async def sent(request: Request) -> Response:
        receipt_id = request.path_params["receipt_id"]
        receipt = served._peek(receipt_id)
        plain = _wire.converter.unstructure(receipt.request)
        return json_answer(
            {"receiptID": receipt_id, kind_key: label(receipt.kind), "request": plain}
        )

    async def command(request: Request) -> Response:
        name = request.path_params["command"]
        if name not in served.COMMANDS:
            raise Rejected(Rejection.NOT_FOUND, f"use {', '.join(served.COMMANDS)}")
        status = getattr(served, name)(request.path_params["receipt_id"])
        return json_answer(_wire.converter.unstructure(status))

    async def tokens(request: Request) -> Response:
        return json_answer({"revoked": served.revoke_tokens()})

    one = f"{prefix}/receipts/{{receipt_id}}"
    return [
        Route(f"{prefix}/receipts", control(listing), methods=["GET"]),
        Route(one, control(receipt), methods=["GET"]),
        Route(f"{one}/request", control(sent), methods=["GET"]),
        Route(f"{one}/{{command}}", control(command), methods=["POST"]),
        Route(f"{prefix}/tokens", control(tokens), methods=["DELETE"]),
    ]


def _handler(template: str, call: Callable[[Call], dict[str, Any]]) -> Endpoint:
    """The handler of the protocol route ``template``: it hands ``call`` the request as data.

    Path values are matched against the raw path: each decoded, but a ``{name:path}``
    (the rest of the path) as sent. The raw path must match the template (an encoded
    ``/`` stays in its segment; an escaped character in a fixed one is not the route's),
    else it is not found. (Mounted in another app, the path is read after the mount's.)
    """
    pattern, _, convertors = compile_path(template)
    as_sent = {name for name, kind in convertors.items() if isinstance(kind, PathConvertor)}

    async def handle(request: Request) -> Response:
        path, root = raw_path(request), request.scope.get("root_path", "")
        match = pattern.match(path.removeprefix(root))
        if match is None:
            raise Rejected(Rejection.NOT_FOUND)
        values: dict[str, Any] = {  # Call's fields by name (what a path lacks: their defaults)
            name: value if name in as_sent else urllib.parse.unquote(value)
            for name, value in match.groupdict().items()
        }
        if "rest" in values:  # a 2.x verify: <receipt id>[/<signature>], as sent
            values["receipt_id"], _, signature = values.pop("rest").partition("/")
            values["signature"] = signature or None
        client_ip = request.client.host if request.client else ""
        made = Call(request.headers, await request.body(), path, client_ip, **values)
        return json_answer(call(made))

    return handle


def raw_path(request: Request) -> str:
    """The path as the client sent it (percent-encoding kept, no query)."""
    raw: Any = request.scope.get("raw_path") or request.scope["path"].encode("utf-8")
    return bytes(raw).split(b"?", 1)[0].decode("latin-1")


def _token(served: Service | BarocertService, call: Call) -> dict[str, Any]:
    # Looked up at each call, as a test may wrap it.
    return served.grant_token(call.headers, call.body, client_ip=call.client_ip)


async def _control_json(request: Request, *, optional: bool = False) -> dict[str, Any]:
    """A control call's JSON object (``optional``: an empty body is ``{}``)."""
    body = await request.body()
    if optional and not body:
        return {}
    try:
        data = _wire.loads(body)
    except _wire.WireError as exc:
        raise Rejected(Rejection.CONTROL_INVALID, str(exc)) from None
    if not isinstance(data, dict):
        raise Rejected(Rejection.CONTROL_INVALID, "expected a JSON object")
    return data
