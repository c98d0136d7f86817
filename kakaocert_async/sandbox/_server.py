"""Serve the sandbox app with uvicorn on a real socket: in a task, in a thread, or forever.

The socket is bound here, before uvicorn starts, so ``port=0`` yields the port
actually picked and a port in use fails with ``OSError`` instead of uvicorn
exiting the process. Embedded servers leave signal handling to the host.

uvicorn is used as released: it picks the httptools parser when it is installed,
and the server's own loops (in a thread, or forever) are uvloop's when it is
(the ``sandbox`` extra brings both). :func:`serve` runs in the caller's loop,
whatever it is.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import importlib.util
import logging
import socket
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Generator, Iterator
from typing import Any

import uvicorn

from ._faults import ConnectionDropped

STARTUP_TIMEOUT = 10.0


def _not_dropped(record: logging.LogRecord) -> bool:
    """A connection the sandbox dropped on purpose (a drop fault) is not logged.

    (A client that hangs up before its request was read is not logged either: the
    guard, which reads every body first, leaves without an answer.)
    """
    exc_info = record.exc_info
    return not (exc_info and isinstance(exc_info[1], ConnectionDropped))


class _EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signals to its host program."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    """uvloop's event loop where it is installed, else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop
    return uvloop.new_event_loop


def describe() -> str:
    """What a served sandbox runs on, e.g. ``uvicorn (httptools, uvloop)``."""
    parser = "httptools" if importlib.util.find_spec("httptools") else "h11"  # uvicorn's choice
    loop = "asyncio" if loop_factory() is asyncio.new_event_loop else "uvloop"
    return f"uvicorn ({parser}, {loop})"


def _run(main: Coroutine[Any, Any, None]) -> None:
    """``asyncio.run(main)`` on a loop from :func:`loop_factory` (``asyncio.run`` takes
    none before Python 3.12)."""
    loop = loop_factory()()
    try:
        loop.run_until_complete(main)
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        loop.close()


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (``port=0``: a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP spelled out: asyncio sets TCP_NODELAY only on sockets that say
    # so, and without it every keep-alive answer waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _config(app: Any, log_level: str | None, **options: Any) -> uvicorn.Config:
    logging.getLogger("uvicorn.error").addFilter(_not_dropped)  # once: the same function
    return uvicorn.Config(app, lifespan="off", log_level=log_level, **options)


def _embedded(app: Any, log_level: str | None, options: dict[str, Any]) -> _EmbeddedServer:
    """A server inside a host program: no access log, and uvicorn's loggers left as the
    host set them (a sandbox served inside your own uvicorn app) unless ``log_level``
    is given."""
    return _EmbeddedServer(_config(app, log_level, access_log=False, log_config=None, **options))


async def _until_started(server: uvicorn.Server, task: asyncio.Future[None]) -> None:
    """Wait until ``server``, run by ``task``, listens; raise why it stopped if it does not."""
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("the sandbox server stopped while starting")
        await asyncio.sleep(0.005)


def _serve_until_stopped(
    server: uvicorn.Server, sock: socket.socket, on_started: Callable[[str], None]
) -> None:
    """Run ``server`` on ``sock`` in a loop of its own until it stops; ``on_started(url)``
    once it listens."""

    async def main() -> None:
        task = asyncio.ensure_future(server.serve(sockets=[sock]))
        await _until_started(server, task)
        on_started(url_of(sock))
        await task

    _run(main())


@contextlib.asynccontextmanager
async def serve(
    app: Any, *, host: str, port: int, log_level: str | None = None, **options: Any
) -> AsyncIterator[str]:
    """Serve ``app`` in a task of the running loop; yields the base URL."""
    with bind(host, port) as sock:
        server = _embedded(app, log_level, options)
        task = asyncio.ensure_future(server.serve(sockets=[sock]))
        try:
            await _until_started(server, task)
            yield url_of(sock)
        finally:
            server.should_exit = True
            await task


@contextlib.contextmanager
def serve_in_thread(
    app: Any, *, host: str, port: int, log_level: str | None = None, **options: Any
) -> Iterator[str]:
    """Serve ``app`` from a daemon thread with its own loop; yields the base URL."""
    with bind(host, port) as sock:
        server = _embedded(app, log_level, options)
        started: concurrent.futures.Future[str] = concurrent.futures.Future()

        def run() -> None:
            try:
                _serve_until_stopped(server, sock, started.set_result)
            except BaseException as exc:  # before it listens: raised in the starting thread
                if not started.done():
                    started.set_exception(exc)

        thread = threading.Thread(target=run, name="kakaocert-sandbox", daemon=True)
        thread.start()
        try:
            yield started.result(timeout=STARTUP_TIMEOUT)
        finally:
            server.should_exit = True
            thread.join()


def run_forever(
    app: Any,
    *,
    host: str,
    port: int,
    on_started: Callable[[str], None],
    log_level: str = "info",
) -> None:
    """Serve ``app`` until interrupted (Ctrl-C); ``on_started(url)`` once listening."""
    with bind(host, port) as sock:
        config = _config(app, log_level, access_log=log_level == "debug")
        _serve_until_stopped(uvicorn.Server(config), sock, on_started)
