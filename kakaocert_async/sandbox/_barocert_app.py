"""Barocert's routes on the sandbox app: the protocol's, and ``/_sandbox/barocert/`` control.

The app (``_app.py``) serves :func:`routes` and :func:`control_routes`, each with
its own wrapper, so Barocert
endpoints are counted, faulted and refused exactly as the 2.x ones are. Path
values are read from the raw path, as sent: the HMAC signs that form, and a
login's free-form transaction id may hold percent-encoded characters.
"""

from __future__ import annotations

import functools
import urllib.parse
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kakaocert_async import _wire
from kakaocert_async.barocert._models import Kind

from . import _checks, _phone
from ._barocert_service import BarocertService, endpoint
from ._calls import Answer, ProtocolRoute, client_ip, json_answer, raw_path
from ._calls import Handler as ProtocolHandler
from ._rejections import Rejected, Rejection

Handler = Callable[[Request], Awaitable[Response]]
WrapControl = Callable[[Handler], Handler]
"""The app's control wrapper: counts the call, answers refusals."""

CONTROL_PREFIX = "/_sandbox/barocert"
COMMANDS = ("sign", "expire", "open", "refuse", "fail")


def _json(payload: object) -> Response:
    return Response(_wire.dumps(payload), 200, media_type="application/json")


def _segments(request: Request, template: str) -> dict[str, str]:
    """The values of the ``template``'s parameters, from the raw path, decoded. The raw
    path must have as many segments as the template (an encoded ``/`` stays in its
    segment), else it is not found; but a last ``{name:path}`` takes the rest of the
    path, ``/`` included (a login's tx id, appended as given)."""
    parts = raw_path(request).split("/")
    names = template.split("/")
    if names[-1].endswith(":path}") and len(parts) > len(names):
        parts[len(names) - 1 :] = ["/".join(parts[len(names) - 1 :])]
    if len(parts) != len(names):
        raise Rejected(Rejection.NOT_FOUND)
    return {
        name.strip("{}").partition(":")[0]: urllib.parse.unquote(part)
        for name, part in zip(names, parts, strict=True)
        if name.startswith("{")
    }


def routes(service: BarocertService) -> list[ProtocolRoute]:
    """The Barocert protocol routes."""
    table: list[ProtocolRoute] = []

    def add(template: str, method: str, name: str, call: Callable[..., dict[str, Any]]) -> None:
        table.append(ProtocolRoute(method, template, name, _handler(call, template)))

    add("/BAROCERT/Token", "POST", endpoint(None, "token"), service.grant_token)
    for kind in Kind:
        base = f"/KAKAO/{kind.value}"
        request = f"{base}/{{client_code}}"
        status = f"{base}/{{client_code}}/{{receipt_id}}"
        verify = f"{base}/Verify/{{client_code}}/{{receipt_id}}"
        verify_call = functools.partial(service.verify, kind)
        add(request, "POST", endpoint(kind, "request"), functools.partial(service.request, kind))
        add(status, "GET", endpoint(kind, "status"), functools.partial(service.status, kind))
        add(verify, "POST", endpoint(kind, "verify"), verify_call)
        add(status, "POST", endpoint(kind, "verify"), verify_call)  # the .NET Core SDK's path
    login = endpoint(None, "login.verify")
    add("/KAKAO/Login/Verify/{client_code}/{tx_id:path}", "POST", login, service.verify_login)
    add("/KAKAO/Login/{client_code}/{tx_id:path}", "POST", login, service.verify_login)
    return table


def _handler(call: Callable[..., dict[str, Any]], template: str) -> ProtocolHandler:
    """An endpoint that hands ``call`` the request as data: headers, body bytes, the raw
    path, the caller's IP and the path's parameters."""

    async def handle(request: Request) -> Answer:
        body = await request.body()
        answer = call(
            request.headers,
            body,
            path=raw_path(request),
            client_ip=client_ip(request),
            **_segments(request, template),
        )
        return json_answer(answer)

    return handle


# Control -------------------------------------------------------------------------


def control_routes(control: WrapControl, service: BarocertService) -> list[Route]:
    """The ``/_sandbox/barocert/`` control routes, wrapped by the app's ``control``."""
    p = CONTROL_PREFIX

    async def receipt_list(request: Request) -> Response:
        receipts = service.receipts(_phone.limit_of(request))
        return _json(
            {
                "time": _checks.time_text(service.now()),
                "total": len(service),
                "receipts": [
                    {"kind": kind.value, **_wire.converter.unstructure(status)}
                    for kind, status in receipts
                ],
            }
        )

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
        Route(f"{p}/receipts", control(receipt_list), methods=["GET"]),
        Route(f"{p}/receipts/{{receipt_id}}", control(receipt), methods=["GET"]),
        Route(f"{p}/receipts/{{receipt_id}}/request", control(decrypted), methods=["GET"]),
        Route(f"{p}/receipts/{{receipt_id}}/{{command}}", control(command), methods=["POST"]),
        Route(f"{p}/logins", control(logins), methods=["POST"]),
        Route(f"{p}/tokens", control(tokens), methods=["DELETE"]),
    ]


_LOGIN_OPTIONS = {
    "tx_id": "txID",
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
