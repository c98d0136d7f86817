"""The sandbox's front door: what every request passes before routing, faults or authentication.

Two rules, outermost in the app, so they hold for every route, served or in-process:

- **A body limit.** A body over :data:`BODY_LIMIT` (1 MiB) is refused with 413 and
  the error JSON (``BODY_TOO_LARGE``, ``Connection: close``): at once when its
  ``Content-Length`` says so, else as soon as the bytes read pass the limit (a
  chunked body). A body within it is read here, whole, and handed on; so no more
  than the limit is ever held for a request.
- **Same-origin control.** The control routes (``/_sandbox/...``) and the virtual
  phone's page (``/``) answer only a request whose ``Host`` is an address the
  sandbox serves (``FOREIGN_HOST`` otherwise: a DNS-rebinding page names its own
  host) and whose ``Origin``, when sent, is that same host (``FOREIGN_ORIGIN``: a
  page elsewhere). An address it serves is the one the connection came in on
  (``scope["server"]``: the bound address, or the in-process base URL's host),
  ``localhost``, ``127.0.0.1`` and ``[::1]`` on that port when it is a loopback
  address, and the names of the ``allowed_hosts`` setting (``name``: any port;
  ``name:port``: that one). The protocol routes answer any ``Host``: the SDKs are
  not browsers.

A refused request is not counted in ``stats``: it never reached the service.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator, Mapping

from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kakaocert_async import _wire

from ._rejections import Rejected, Rejection
from ._settings import split_host

BODY_LIMIT = 1024 * 1024
"""Bytes a request body may hold. The largest real one, a Barocert multi-sign of 20
documents of 2,800 Korean characters each (encrypted), is about 225 KiB."""
CONTROL_PREFIX = "/_sandbox"
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "[::1]"})
_TOO_LARGE = Rejected(Rejection.BODY_TOO_LARGE, f"at most {BODY_LIMIT:,} bytes")


def json_answer(
    payload: object, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """An answer of JSON, as every route's (and every refusal's) is."""
    return Response(_wire.dumps(payload), status, headers, "application/json")


def is_control(scope: Scope) -> bool:
    """A control route or the phone's page: the paths a browser is meant to see."""
    path: str = scope["path"].removeprefix(scope.get("root_path", ""))
    return path in ("", "/") or path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/")


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


class Guard:
    """ASGI: the body limit and same-origin control routes (see the module docstring),
    then ``app``."""

    def __init__(self, app: ASGIApp, *, allowed_hosts: Iterable[str] = ()) -> None:
        self.app = app
        self.allowed = [host for host in map(split_host, allowed_hosts) if host is not None]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if is_control(scope):
            refusal = self.foreign(scope, headers.get("host"), headers.get("origin"))
            if refusal is not None:
                await self._refuse(scope, receive, send, refusal)
                return
        length = headers.get("content-length", "").strip()
        if length.isascii() and length.isdigit() and int(length) > BODY_LIMIT:
            await self._refuse(scope, receive, send, _TOO_LARGE)
            return
        body = bytearray()
        try:
            async for chunk in Request(scope, receive).stream():
                body += chunk
                if len(body) > BODY_LIMIT:
                    await self._refuse(scope, receive, send, _TOO_LARGE)
                    return
        except ClientDisconnect:
            return  # the client hung up: nobody to answer
        whole: Iterator[Message] = iter(
            [{"type": "http.request", "body": bytes(body), "more_body": False}]
        )

        async def replay() -> Message:  # the body once, then what the server says
            return next(whole, None) or await receive()

        await self.app(scope, replay, send)

    def foreign(self, scope: Scope, host: str | None, origin: str | None) -> Rejected | None:
        """Why a control request is not the sandbox's own, or ``None`` if it is."""
        if host is None or not self.serves(scope, host):
            shown = host if host is not None and split_host(host) else "?"
            return Rejected(
                Rejection.FOREIGN_HOST,
                f"Host {shown} is not an address this sandbox serves;"
                " add a name with allowed_hosts / --allow-host",
            )
        if origin is not None:
            scheme, sep, authority = origin.partition("://")
            own = authority.lower() == host.strip().lower()
            if not (sep and own and scheme.lower() in ("http", "https")):
                return Rejected(Rejection.FOREIGN_ORIGIN, f"only pages on {host} may call it")
        return None

    def serves(self, scope: Scope, host: str) -> bool:
        """Whether ``host`` (a ``Host`` header) names an address this sandbox serves."""
        parsed = split_host(host)
        if parsed is None:
            return False
        name, port = parsed
        default = 443 if scope.get("scheme") == "https" else 80
        port = default if port is None else port
        if any(name == known and known_port in (None, port) for known, known_port in self.allowed):
            return True
        server = scope.get("server")
        if not server or (server[1] or default) != port:
            return False
        address = str(server[0]).lower()
        literal = f"[{address}]" if ":" in address else address
        return name == literal or (name in LOOPBACK_NAMES and _is_loopback(address))

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, rejected: Rejected) -> None:
        # Connection: close, so the server stops reading what is left of the body.
        answer = json_answer(rejected.body(), rejected.http_status, {"Connection": "close"})
        await answer(scope, receive, send)
