"""A loopback TCP proxy that cuts one HTTP/1.1 exchange at a chosen phase, in a chosen way.

It sits between a client and a served sandbox, one upstream connection per client
connection, and forwards every exchange untouched but one: the first whose
request line matches the :class:`Cut`'s method and path prefix. That one is cut
at the cut's :class:`Phase`, by its :class:`Mode`. It understands HTTP/1.1 just
enough to find where a request and an answer end (a head up to the blank line,
then a ``Content-Length`` or chunked body), so keep-alive connections carry
several exchanges. Every exchange is recorded (:class:`Exchange`): whether it
rode a reused client connection, whether it was cut, whether the whole request
reached the service.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import itertools
import socket
import struct
import urllib.parse
from collections.abc import AsyncIterator

import attrs


class Phase(enum.Enum):
    """Where in the exchange the cut falls."""

    BEFORE_REQUEST = "before_request"
    """The request was read from the client; not a byte of it reached the service."""
    PART_OF_REQUEST = "part_of_request"
    """Half the request's bytes reached the service (which waits for the rest)."""
    WHOLE_REQUEST = "whole_request"
    """The service got the whole request and answered; no byte of its answer goes on."""
    AFTER_HEAD = "after_head"
    """The answer's head (status line and headers) reached the client, no body."""
    MID_BODY = "mid_body"
    """The head and half the answer's body reached the client."""


class Mode(enum.Enum):
    """How the client connection is cut."""

    FIN = "fin"
    """A graceful close: the client reads the end of the stream."""
    RST = "rst"
    """An abortive close (``SO_LINGER`` 0): the client sees a reset."""
    STALL = "stall"
    """Nothing more is forwarded, and both connections are held open until the client
    gives up (its own timeout) and hangs up."""


@attrs.frozen
class Cut:
    """Cut the first exchange whose request is ``method`` on a path starting ``path_prefix``."""

    method: str
    path_prefix: str
    phase: Phase
    mode: Mode

    def matches(self, method: str, target: str) -> bool:
        return method == self.method and target.startswith(self.path_prefix)


@attrs.define
class Exchange:
    """One request the proxy read from a client, and what became of it."""

    request_line: str
    connection: int
    """Which client connection it came on (numbered from 1, in accept order)."""
    reused: bool
    """Not the first exchange on its client connection (a kept-alive one)."""
    matched: bool
    """Its request line matches the cut (the cut one, and any repeat of it)."""
    cut: bool = False
    delivered: bool = False
    """The whole request was written to the service."""


@attrs.frozen
class _Message:
    """One request or answer as read off the wire: ``head`` ends with the blank line,
    ``body`` is its framing as sent (chunk sizes included)."""

    start_line: str
    headers: dict[str, str]
    """Lower-case names (the last of repeated ones)."""
    head: bytes
    body: bytes
    ends_with_the_connection: bool = False
    """An answer without length or chunks: its body ran until the sender closed."""

    @property
    def raw(self) -> bytes:
        return self.head + self.body

    @property
    def closes(self) -> bool:
        """The sender will close the connection after it."""
        return "close" in self.headers.get("connection", "").lower()


class FaultProxy:
    """Serve from the running loop on a free loopback port, in front of ``upstream``
    (``http://host:port``), cutting one exchange as ``cut`` says."""

    def __init__(self, upstream: str, cut: Cut) -> None:
        parsed = urllib.parse.urlsplit(upstream)
        assert parsed.hostname is not None
        assert parsed.port is not None
        self._upstream = (parsed.hostname, parsed.port)
        self.cut = cut
        self.exchanges: list[Exchange] = []
        self.failures: list[str] = []
        """The proxy's own failures (a bug of the harness, not of the client)."""
        self._fired = False
        self._numbers = itertools.count(1)
        self._writers: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task[None]] = set()

    @property
    def cut_exchange(self) -> Exchange | None:
        return next((e for e in self.exchanges if e.cut), None)

    def delivered(self, *, matched: bool) -> list[Exchange]:
        """The exchanges whose whole request reached the service, matching the cut or not."""
        return [e for e in self.exchanges if e.delivered and e.matched == matched]

    @contextlib.asynccontextmanager
    async def serve(self) -> AsyncIterator[str]:
        """Listen while inside; yields the proxy's URL. Every connection is closed on exit."""
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
        self._handlers.add(task)
        self._writers.add(writer)
        number = next(self._numbers)
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        try:
            for index in itertools.count():
                request = await _read_message(reader, answer_to=None)
                if request is None:
                    return  # the client hung up between exchanges
                method, target, _ = request.start_line.split(" ", 2)
                exchange = Exchange(
                    request.start_line,
                    number,
                    reused=index > 0,
                    matched=self.cut.matches(method, target),
                )
                self.exchanges.append(exchange)
                cut_now = exchange.matched and not self._fired
                if upstream is None and not (cut_now and self.cut.phase is Phase.BEFORE_REQUEST):
                    upstream = await asyncio.open_connection(*self._upstream)
                    self._writers.add(upstream[1])
                if cut_now:
                    self._fired = exchange.cut = True
                    await self._cut(exchange, request, method, reader, writer, upstream)
                    return
                assert upstream is not None
                answer = await self._forward(exchange, request, method, upstream)
                writer.write(answer.raw)
                await writer.drain()
                if request.closes or answer.closes or answer.ends_with_the_connection:
                    return
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            return  # a side hung up, or the proxy is stopping: this connection's end
        except Exception as exc:  # a bug of the harness: told to the test, not logged
            self.failures.append(f"proxy connection {number}: {type(exc).__name__}: {exc}")
        finally:
            self._handlers.discard(task)
            for end in (writer, None if upstream is None else upstream[1]):
                if end is not None:
                    self._writers.discard(end)
                    end.close()  # after what was written (nothing, once cut)

    async def _forward(
        self,
        exchange: Exchange,
        request: _Message,
        method: str,
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    ) -> _Message:
        """Write the whole request to the service and read its whole answer."""
        up_reader, up_writer = upstream
        up_writer.write(request.raw)
        await up_writer.drain()
        exchange.delivered = True
        answer = await _read_message(up_reader, answer_to=method)
        if answer is None:
            raise ConnectionError("the service hung up without answering")
        return answer

    async def _cut(
        self,
        exchange: Exchange,
        request: _Message,
        method: str,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None,
    ) -> None:
        phase = self.cut.phase
        if phase is Phase.PART_OF_REQUEST:
            assert upstream is not None
            raw = request.raw
            upstream[1].write(raw[: len(raw) // 2])
            await upstream[1].drain()
        elif phase is not Phase.BEFORE_REQUEST:
            assert upstream is not None
            # The whole answer is read before anything is dropped: the service has
            # acted by then, whatever the client is shown.
            answer = await self._forward(exchange, request, method, upstream)
            if phase is Phase.AFTER_HEAD:
                writer.write(answer.head)
            elif phase is Phase.MID_BODY:
                writer.write(answer.head + answer.body[: len(answer.body) // 2])
            await writer.drain()
        if self.cut.mode is Mode.STALL:
            # Both connections held, nothing forwarded, until the client hangs up (its
            # timeout fired) or the proxy stops.
            with contextlib.suppress(ConnectionError):
                while await reader.read(65536):
                    pass
        elif self.cut.mode is Mode.RST:
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
        else:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
        if upstream is not None:
            # Gracefully: the bytes written (half a request) reach the service first.
            upstream[1].close()
            with contextlib.suppress(ConnectionError):
                await upstream[1].wait_closed()


def _chunked(headers: dict[str, str]) -> bool:
    return "chunked" in headers.get("transfer-encoding", "").lower()


async def _read_message(reader: asyncio.StreamReader, *, answer_to: str | None) -> _Message | None:
    """The next request (``answer_to=None``) or the answer to a ``answer_to`` request;
    ``None`` if the connection ended cleanly before its first byte."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if exc.partial:
            raise
        return None
    lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    message = _Message(lines[0], headers, head, b"")
    if answer_to is not None:
        status = int(lines[0].split(" ", 2)[1])
        if 100 <= status < 200:
            # An interim answer (100 Continue): the real one follows it.
            final = await _read_message(reader, answer_to=answer_to)
            if final is None:
                raise asyncio.IncompleteReadError(b"", None)
            return attrs.evolve(final, head=head + final.head)
        if answer_to == "HEAD" or status in (204, 304):
            return message
    if _chunked(headers):
        return attrs.evolve(message, body=await _read_chunked(reader))
    length = headers.get("content-length")
    if length is not None:
        return attrs.evolve(message, body=await reader.readexactly(int(length)))
    if answer_to is None:
        return message  # a request without a body
    return attrs.evolve(message, body=await reader.read(), ends_with_the_connection=True)


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    """A chunked body as sent: each chunk with its size line, the last one and trailers."""
    raw = bytearray()
    while True:
        line = await reader.readuntil(b"\r\n")
        raw += line
        size = int(line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            while True:  # trailers, up to the blank line
                line = await reader.readuntil(b"\r\n")
                raw += line
                if line == b"\r\n":
                    return bytes(raw)
        raw += await reader.readexactly(size + 2)
