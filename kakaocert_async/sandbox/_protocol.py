"""A lean HTTP/1.1 protocol for uvicorn to serve the sandbox: httptools, one write per answer.

uvicorn's own httptools protocol costs about 100 µs of server CPU per request on
a 2-core machine before the app runs (a timer per request, header checks, two
writes per answer, per-request bookkeeping), which is most of what a load test
against the sandbox would measure. This one keeps uvicorn for everything around
the connections (sockets, startup, signals, graceful shutdown, logging) and
answers each request with less:

- the request's body is read whole before the app runs (the sandbox's bodies are
  small JSON), so ``receive`` never waits for the network;
- an answer's head and its body go out in one write when the app sends them in
  one go (every answer of the sandbox); a streamed answer is chunked;
- one idle timer per connection, not one per request.

It is HTTP/1.1 with keep-alive and pipelining (answered in order), ``Expect:
100-continue``, HEAD, and ``Connection: close``; no upgrades (a sandbox has no
websockets). Errors in the app are logged on ``uvicorn.error`` as uvicorn logs
them; one before the answer started is a 500.
"""

from __future__ import annotations

import asyncio
import collections
import http
import logging
import urllib.parse
from typing import Any

import httptools

_STATUS = {
    status.value: f"HTTP/1.1 {status.value} {status.phrase}\r\n".encode("latin-1")
    for status in http.HTTPStatus
}
_SERVER_ERROR = (
    b"HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: 21\r\nconnection: close\r\n\r\nInternal Server Error"
)
_BAD_REQUEST = (
    b"HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: 11\r\nconnection: close\r\n\r\nBad Request"
)
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_PAUSE_AT = 16
"""Pipelined requests waiting for their turn before the connection stops reading."""

_logger = logging.getLogger("uvicorn.error")
_access_logger = logging.getLogger("uvicorn.access")


class _Exchange:
    """One request and its answer."""

    __slots__ = (
        "body",
        "chunked",
        "closed",
        "finished",
        "head",
        "keep_alive",
        "protocol",
        "received",
        "scope",
        "started",
        "waiter",
    )

    def __init__(self, protocol: SandboxProtocol, scope: dict[str, Any], keep_alive: bool) -> None:
        self.protocol = protocol
        self.scope = scope
        self.keep_alive = keep_alive
        self.body: list[bytes] = []
        self.received = False
        self.started = False
        self.finished = False
        self.closed = False
        """The connection is gone: ``receive`` says so, ``send`` drops the answer."""
        self.head = b""
        self.chunked = False
        self.waiter: asyncio.Future[None] | None = None

    async def receive(self) -> dict[str, Any]:
        if not self.received and not self.closed:
            self.received = True
            return {"type": "http.request", "body": b"".join(self.body), "more_body": False}
        if not self.closed and not self.finished:
            # The whole body is read: what is left to hear of is the client leaving.
            self.waiter = self.protocol.loop.create_future()
            await self.waiter
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            if self.started:
                raise RuntimeError("the answer has already started")
            self.started = True
            self.head = self._head(message["status"], message.get("headers", ()))
            return
        if kind != "http.response.body":
            raise RuntimeError(f"unexpected ASGI message {kind!r}")
        if not self.started:
            raise RuntimeError("an answer's body before its start")
        if self.finished:
            raise RuntimeError("the answer is already complete")
        body: bytes = message.get("body", b"")
        more: bool = message.get("more_body", False)
        if self.scope["method"] == "HEAD":
            body = b""
        elif self.chunked:
            body = (b"%x\r\n%b\r\n" % (len(body), body) if body else b"") + (
                b"" if more else b"0\r\n\r\n"
            )
        if not self.closed:
            self.protocol.write(self.head + body if self.head else body)
        self.head = b""
        if not more:
            self.finished = True
            self.protocol.answered(self)

    def _head(self, status: int, headers: Any) -> bytes:
        protocol = self.protocol
        if protocol.access_log:
            scope = self.scope
            client = "%s:%d" % scope["client"] if scope["client"] else "-"  # noqa: UP031
            query = "?" + scope["query_string"].decode("latin-1") if scope["query_string"] else ""
            _access_logger.info(
                '%s - "%s %s%s HTTP/%s" %d',
                client,
                scope["method"],
                scope["path"],
                query,
                scope["http_version"],
                status,
            )
        parts = [_STATUS.get(status) or f"HTTP/1.1 {status} \r\n".encode("latin-1")]
        for name, value in protocol.server_state.default_headers:
            parts += [name, b": ", value, b"\r\n"]
        length = False
        for name, value in headers:
            lower = name.lower()
            if lower == b"content-length":
                length = True
            elif lower == b"connection" and b"close" in value.lower():
                self.keep_alive = False
            parts += [name, b": ", value, b"\r\n"]
        if not length and self.scope["method"] != "HEAD" and status not in (204, 304):
            self.chunked = True
            parts.append(b"transfer-encoding: chunked\r\n")
        if not self.keep_alive:
            parts.append(b"connection: close\r\n")
        parts.append(b"\r\n")
        return b"".join(parts)

    def close(self) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)


class SandboxProtocol(asyncio.Protocol):
    """uvicorn's ``http=`` protocol class for the sandbox (see the module docstring)."""

    def __init__(
        self,
        config: Any,
        server_state: Any,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        if not config.loaded:
            config.load()
        self.app = config.loaded_app
        self.loop = _loop or asyncio.get_event_loop()
        self.root_path: str = config.root_path
        self.idle_timeout: float = config.timeout_keep_alive
        self.server_state = server_state
        self.access_log = _access_logger.hasHandlers()
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.server: tuple[str, int] | None = None
        self.client: tuple[str, int] | None = None
        self.scheme = "http"
        self.waiting: collections.deque[_Exchange] = collections.deque()
        self.current: _Exchange | None = None
        self.paused = False
        self.idle_since = 0.0
        self.idle_timer: asyncio.TimerHandle | None = None
        # The request being parsed.
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.parsing: _Exchange | None = None

    # Connection --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.server_state.connections.add(self)
        server = transport.get_extra_info("sockname")
        client = transport.get_extra_info("peername")
        self.server = (server[0], server[1]) if isinstance(server, tuple) else None
        self.client = (client[0], client[1]) if isinstance(client, tuple) else None
        if transport.get_extra_info("sslcontext"):
            self.scheme = "https"
        self.idle_since = self.loop.time()
        self.idle_timer = self.loop.call_later(self.idle_timeout, self._idle_check)

    def connection_lost(self, exc: Exception | None) -> None:
        self.server_state.connections.discard(self)
        if self.idle_timer is not None:
            self.idle_timer.cancel()
        for exchange in (self.current, *self.waiting):
            if exchange is not None:
                exchange.close()
        self.waiting.clear()
        self.transport = None

    def eof_received(self) -> None:
        pass

    def shutdown(self) -> None:
        """uvicorn's graceful shutdown: close now if idle, else after the current answer."""
        if self.current is None:
            self._close()
        else:
            self.current.keep_alive = False
            self.waiting.clear()

    def _idle_check(self) -> None:
        self.idle_timer = None
        if self.transport is None:
            return
        if self.current is None and not self.waiting:
            left = self.idle_since + self.idle_timeout - self.loop.time()
            if left <= 0:
                self._close()
                return
        else:
            left = self.idle_timeout
        self.idle_timer = self.loop.call_later(left, self._idle_check)

    def _close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    # Parsing -----------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            # No upgrades here: answer it as a plain request, as uvicorn does.
            _logger.warning("Unsupported upgrade request.")
            self.on_message_complete()
        except httptools.HttpParserError:
            _logger.warning("Invalid HTTP request received.")
            self.write(_BAD_REQUEST)
            self._close()

    def on_message_begin(self) -> None:
        self.url = b""
        self.headers = []

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        parsed = httptools.parse_url(self.url)
        raw_path: bytes = parsed.path
        path = raw_path.decode("ascii")
        if "%" in path:
            path = urllib.parse.unquote(path)
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": self.parser.get_http_version(),
            "server": self.server,
            "client": self.client,
            "scheme": self.scheme,
            "method": self.parser.get_method().decode("ascii"),
            "root_path": self.root_path,
            "path": self.root_path + path,
            "raw_path": self.root_path.encode("ascii") + raw_path,
            "query_string": parsed.query or b"",
            "headers": self.headers,
            "state": {},
        }
        self.parsing = _Exchange(self, scope, self.parser.should_keep_alive())
        for name, value in self.headers:
            if name == b"expect" and value.lower() == b"100-continue":
                self.write(_CONTINUE)

    def on_body(self, body: bytes) -> None:
        if self.parsing is not None:
            self.parsing.body.append(body)

    def on_message_complete(self) -> None:
        exchange, self.parsing = self.parsing, None
        if exchange is None:
            return
        if self.current is None:
            self._start(exchange)
        else:
            self.waiting.append(exchange)
            if len(self.waiting) >= _PAUSE_AT and self.transport is not None and not self.paused:
                self.paused = True
                self.transport.pause_reading()

    # Answering -------------------------------------------------------------------

    def _start(self, exchange: _Exchange) -> None:
        self.current = exchange
        self.server_state.total_requests += 1
        task = self.loop.create_task(self._run(exchange))
        self.server_state.tasks.add(task)
        task.add_done_callback(self.server_state.tasks.discard)

    async def _run(self, exchange: _Exchange) -> None:
        try:
            await self.app(exchange.scope, exchange.receive, exchange.send)
        except BaseException as exc:
            _logger.error("Exception in ASGI application\n", exc_info=exc)
            if not exchange.started:
                self.write(_SERVER_ERROR)
            if not exchange.finished:
                self._close()
                exchange.close()
            if not isinstance(exc, Exception):
                raise
            return
        if not exchange.finished:
            if not exchange.started:
                _logger.error("ASGI callable returned without starting response.")
                self.write(_SERVER_ERROR)
            else:
                _logger.error("ASGI callable returned without completing response.")
            self._close()
            exchange.close()

    def answered(self, exchange: _Exchange) -> None:
        """``exchange``'s answer is complete: close, or take the next request."""
        exchange.close()
        self.current = None
        if not exchange.keep_alive:
            self._close()
            return
        self.idle_since = self.loop.time()
        if self.waiting:
            self._start(self.waiting.popleft())
        if self.paused and len(self.waiting) < _PAUSE_AT // 2 and self.transport is not None:
            self.paused = False
            self.transport.resume_reading()
