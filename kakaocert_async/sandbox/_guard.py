"""The sandbox's front door: what every request passes before routing, faults or authentication.

Outermost in the app, so it holds for every route, served or in-process:

- **A body limit.** A body over :data:`BODY_LIMIT` (1 MiB) is refused with 413 and
  the error JSON (``BODY_TOO_LARGE``, ``Connection: close``): at once when its
  ``Content-Length`` says so, else as soon as the bytes read pass the limit (a
  chunked body). A body within it is read here, whole, and handed on; so no more
  than the limit is ever held for a request.

A refused request is not counted in ``stats``: it never reached the service.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._calls import json_answer
from ._rejections import Rejected, Rejection

BODY_LIMIT = 1024 * 1024
"""Bytes a request body may hold. The largest real one, a Barocert multi-sign of 20
documents of 2,800 Korean characters each (encrypted), is about 225 KiB."""


class Guard:
    """ASGI: the body limit (see the module docstring), then ``app``."""

    def __init__(self, app: ASGIApp, *, limit: int = BODY_LIMIT) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = ""
        for name, value in scope["headers"]:
            if name == b"content-length":
                length = value.decode("latin-1").strip()
                break
        if length.isascii() and length.isdigit() and int(length) > self.limit:
            await self._refuse(scope, receive, send, self._too_large())
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client hung up: nobody to answer
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._refuse(scope, receive, send, self._too_large())
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)

    def _too_large(self) -> Rejected:
        return Rejected(Rejection.BODY_TOO_LARGE, f"at most {self.limit:,} bytes")

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, rejected: Rejected) -> None:
        # Connection: close, so the server stops reading what is left of the body.
        answer = json_answer(rejected.body(), rejected.http_status, {"Connection": "close"})
        await answer(scope, receive, send)
