"""A raw HTTP/1.1 server on loopback that answers each request with a script of bytes.

The auth calls (``GET /Time``, ``POST /KAKAOCERT/Token``) get good answers unless
told otherwise; every other request is answered by ``script(request)``: a list of
steps, each bytes to write, a number of seconds to sleep, :data:`CLOSE` (hang
up) or :data:`HANG` (never answer, hold the connection until the server stops).
Nothing is parsed beyond what is needed to find the end of a request, so an
answer can be anything at all: broken framing, trickled bytes, bombs, lies.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable, Sequence

import attrs

CLOSE = "close"
HANG = "hang"
Step = bytes | float | str
Script = Callable[["RawRequest"], Sequence[Step]]

TOKEN = "raw-server-session-token"


@attrs.frozen
class RawRequest:
    method: str
    path: str
    headers: dict[str, str]
    """Lower-case names."""
    body: bytes


def answer(
    status: int = 200,
    body: bytes | str | object = b"",
    *,
    headers: Sequence[tuple[str, str]] = (),
    length: bool = True,
) -> bytes:
    """The bytes of an answer: ``body`` as is if bytes, JSON if not a str."""
    if isinstance(body, str):
        data = body.encode()
    elif isinstance(body, bytes):
        data = body
    else:
        data = json.dumps(body).encode()
    lines = [f"HTTP/1.1 {status} X"]
    lines += [f"{name}: {value}" for name, value in headers]
    if length:
        lines.append(f"Content-Length: {len(data)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + data


def time_answer() -> bytes:
    return answer(200, time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()))


def token_answer(ttl: float = 3600.0, token: str = TOKEN) -> bytes:
    expiration = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() + ttl))
    return answer(200, {"session_token": token, "expiration": expiration})


@attrs.define
class RawServer:
    """Serve on a free loopback port from the running loop; ``requests`` records
    every request that arrived, in order."""

    script: Script
    auth: Script | None = None
    """Scripts the auth calls too, when given."""
    requests: list[RawRequest] = attrs.field(factory=list)
    _writers: set[asyncio.StreamWriter] = attrs.field(factory=set)
    _handlers: set[asyncio.Task[None]] = attrs.field(factory=set)

    def count(self, path_prefix: str) -> int:
        return sum(1 for r in self.requests if r.path.startswith(path_prefix))

    @contextlib.asynccontextmanager
    async def serve(self) -> AsyncIterator[str]:
        server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.close()
            for writer in list(self._writers):
                writer.transport.abort()
            for handler in list(self._handlers):
                handler.cancel()
            await asyncio.gather(*self._handlers, return_exceptions=True)
            await server.wait_closed()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)  # type: ignore[arg-type]
        self._writers.add(writer)
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    return
                self.requests.append(request)
                if not await self._play(self._steps(request), writer):
                    return
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            return  # the client hung up, or the server is stopping: the handler's end
        finally:
            self._handlers.discard(task)  # type: ignore[arg-type]
            self._writers.discard(writer)
            writer.transport.abort()

    def _steps(self, request: RawRequest) -> Sequence[Step]:
        if request.path in ("/Time", "/KAKAOCERT/Token"):
            if self.auth is not None:
                return self.auth(request)
            return [time_answer() if request.path == "/Time" else token_answer()]
        return self.script(request)

    async def _play(self, steps: Sequence[Step], writer: asyncio.StreamWriter) -> bool:
        """Play the steps; False once the connection is over."""
        for step in steps:
            if isinstance(step, bytes):
                writer.write(step)
                await writer.drain()
            elif isinstance(step, float | int):
                await asyncio.sleep(step)
            elif step == CLOSE:
                return False
            elif step == HANG:
                await asyncio.Event().wait()
        return True


async def _read_request(reader: asyncio.StreamReader) -> RawRequest | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return RawRequest(method, path, headers, body)
