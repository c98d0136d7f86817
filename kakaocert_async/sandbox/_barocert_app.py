"""Barocert's routes on the sandbox app: the protocol's, and ``/_sandbox/barocert/`` control.

The app (``_app.py``) mounts :func:`routes` with its own wrappers, so Barocert
endpoints are counted, faulted and refused exactly as the 2.x ones are. Path
values are read from the raw path, as sent: the HMAC signs that form, and a
login's free-form transaction id may hold percent-encoded characters.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kakaocert_async import _wire
from kakaocert_async.barocert._models import Kind

from ._barocert_service import BarocertService, endpoint
from ._rejections import Rejected, Rejection

Handler = Callable[[Request], Awaitable[Response]]
Wrap = Callable[[str, Handler], Handler]
"""The app's protocol wrapper: counts the endpoint, applies faults, answers refusals."""
WrapControl = Callable[[Handler], Handler]

CONTROL_PREFIX = "/_sandbox/barocert"
COMMANDS = ("sign", "expire", "open", "refuse", "fail")


def _json(payload: object) -> Response:
    return Response(_wire.dumps(payload), 200, media_type="application/json")


def _client_ip(request: Request) -> str:
    return request.client.host if request.client is not None else ""


def raw_path(request: Request) -> str:
    """The path as the client sent it (percent-encoding kept, no query)."""
    raw: Any = request.scope.get("raw_path") or request.scope["path"].encode("utf-8")
    return bytes(raw).split(b"?", 1)[0].decode("latin-1")


def _segments(request: Request, template: str, count: int) -> list[str]:
    """The last ``count`` segments of the raw path, decoded; the raw path must have as
    many segments as the route's ``template`` (an encoded ``/`` stays in its segment)."""
    parts = raw_path(request).split("/")
    if len(parts) != template.count("/") + 1:
        raise Rejected(Rejection.NOT_FOUND)
    return [urllib.parse.unquote(part) for part in parts[-count:]]


def routes(wrap: Wrap, control: WrapControl, service: BarocertService) -> list[Route]:
    """The Barocert routes, wrapped by the app's ``wrap`` (protocol) and ``control``."""
    table = [
        Route("/BAROCERT/Token", wrap(endpoint(None, "token"), _token(service)), methods=["POST"])
    ]
    for kind in Kind:
        base = f"/KAKAO/{kind.value}"
        request, status = f"{base}/{{client_code}}", f"{base}/{{client_code}}/{{receipt_id}}"
        verify = f"{base}/Verify/{{client_code}}/{{receipt_id}}"
        table += [
            Route(
                request,
                wrap(endpoint(kind, "request"), _request(service, kind, request)),
                methods=["POST"],
            ),
            Route(
                verify,
                wrap(endpoint(kind, "verify"), _verify(service, kind, verify)),
                methods=["POST"],
            ),
            Route(
                status,
                wrap(endpoint(kind, "status"), _status(service, kind, status)),
                methods=["GET"],
            ),
            # The .NET Core SDK posts verify to the status path.
            Route(
                status,
                wrap(endpoint(kind, "verify"), _verify(service, kind, status)),
                methods=["POST"],
            ),
        ]
    # The .NET Core SDK's form (no /Verify/) too.
    for login in (
        "/KAKAO/Login/Verify/{client_code}/{tx_id:path}",
        "/KAKAO/Login/{client_code}/{tx_id:path}",
    ):
        handler = wrap(endpoint(None, "login.verify"), _verify_login(service, login))
        table.append(Route(login, handler, methods=["POST"]))
    return table + _control_routes(control, service)


# The protocol ------------------------------------------------------------------


def _token(service: BarocertService) -> Handler:
    async def token(request: Request) -> Response:
        body = await request.body()
        return _json(service.grant_token(request.headers, body, client_ip=_client_ip(request)))

    return token


def _request(service: BarocertService, kind: Kind, template: str) -> Handler:
    async def handle(request: Request) -> Response:
        body = await request.body()
        (client_code,) = _segments(request, template, 1)
        answer = service.request(
            kind,
            request.headers,
            body,
            path=raw_path(request),
            client_code=client_code,
            client_ip=_client_ip(request),
        )
        return _json(answer)

    return handle


def _status(service: BarocertService, kind: Kind, template: str) -> Handler:
    async def handle(request: Request) -> Response:
        client_code, receipt_id = _segments(request, template, 2)
        answer = service.status(
            kind,
            request.headers,
            client_code=client_code,
            receipt_id=receipt_id,
            client_ip=_client_ip(request),
        )
        return _json(answer)

    return handle


def _verify(service: BarocertService, kind: Kind, template: str) -> Handler:
    async def handle(request: Request) -> Response:
        body = await request.body()
        client_code, receipt_id = _segments(request, template, 2)
        answer = service.verify(
            kind,
            request.headers,
            body,
            path=raw_path(request),
            client_code=client_code,
            receipt_id=receipt_id,
            client_ip=_client_ip(request),
        )
        return _json(answer)

    return handle


def _verify_login(service: BarocertService, template: str) -> Handler:
    async def handle(request: Request) -> Response:
        body = await request.body()
        client_code, tx_id = _segments(request, template, 2)
        answer = service.verify_login(
            request.headers,
            body,
            path=raw_path(request),
            client_code=client_code,
            tx_id=tx_id,
            client_ip=_client_ip(request),
        )
        return _json(answer)

    return handle


# Control -------------------------------------------------------------------------


def _control_routes(control: WrapControl, service: BarocertService) -> list[Route]:
    p = CONTROL_PREFIX

    async def receipt(request: Request) -> Response:
        status = service.state(request.path_params["receipt_id"])
        return _json(_wire.converter.unstructure(status))

    async def decrypted(request: Request) -> Response:
        receipt_id = request.path_params["receipt_id"]
        kind = service.kind(receipt_id)
        plain = _wire.converter.unstructure(service.request_of(receipt_id))
        return _json({"receiptID": receipt_id, "kind": kind.value, "request": plain})

    async def command(request: Request) -> Response:
        name = request.path_params["command"]
        if name not in COMMANDS:
            raise Rejected(Rejection.NOT_FOUND, f"use {', '.join(COMMANDS)}")
        status = getattr(service, name)(request.path_params["receipt_id"])
        return _json(_wire.converter.unstructure(status))

    async def logins(request: Request) -> Response:
        options = await _options(request)
        tx_id = service.login(
            options.get("clientCode"),
            **{field: options[wire] for field, wire in _LOGIN_OPTIONS.items() if wire in options},
        )
        return _json({"txID": tx_id})

    async def tokens(request: Request) -> Response:
        return _json({"revoked": service.revoke_tokens()})

    return [
        Route(f"{p}/receipts/{{receipt_id}}", control(receipt), methods=["GET"]),
        Route(f"{p}/receipts/{{receipt_id}}/request", control(decrypted), methods=["GET"]),
        Route(f"{p}/receipts/{{receipt_id}}/{{command}}", control(command), methods=["POST"]),
        Route(f"{p}/logins", control(logins), methods=["POST"]),
        Route(f"{p}/tokens", control(tokens), methods=["DELETE"]),
    ]


_LOGIN_OPTIONS = {
    "receiver_name": "receiverName",
    "receiver_hp": "receiverHP",
    "receiver_birthday": "receiverBirthday",
}


async def _options(request: Request) -> dict[str, Any]:
    body = await request.body()
    if not body:
        return {}
    try:
        data = _wire.loads(body)
    except _wire.WireError as exc:
        raise Rejected(Rejection.CONTROL_INVALID, str(exc)) from None
    allowed = {"clientCode", *_LOGIN_OPTIONS.values()}
    if not isinstance(data, dict) or not all(
        key in allowed and isinstance(value, str) for key, value in data.items()
    ):
        raise Rejected(Rejection.CONTROL_INVALID, f"expected an object of strings: {allowed}")
    return data
