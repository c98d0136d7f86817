"""An in-process httpx transport into the sandbox app; a dropped connection is a transport error."""

from __future__ import annotations

import httpx

from ._faults import ConnectionDropped

DEFAULT_CLIENT_IP = "127.0.0.1"


class SandboxTransport(httpx.ASGITransport):
    """``httpx.ASGITransport`` to an ASGI app, calling from ``client_ip``.

    A drop fault in the app (:class:`ConnectionDropped`) reaches the client as
    ``httpx.RemoteProtocolError``, as a connection broken mid-answer would.
    """

    def __init__(self, app: object, *, client_ip: str = DEFAULT_CLIENT_IP) -> None:
        super().__init__(app=app, client=(client_ip, 50000))  # type: ignore[arg-type]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await super().handle_async_request(request)
        except ConnectionDropped as exc:
            raise httpx.RemoteProtocolError(
                "peer closed connection without sending complete message body", request=request
            ) from exc
