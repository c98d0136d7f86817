"""The body limit: a request body over 1 MiB is refused before routing, faults or
authentication, on every route, whatever its framing, and never held whole.

Over real sockets (uvicorn, on httptools and on h11) a 64 MiB body is answered 413
long before it is all sent, the server's memory does not grow with it, and the
service counts nothing; in-process, a body is read no further than the limit."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import tracemalloc
from collections.abc import AsyncIterator

import httpx
import pytest

from kakaocert_async import barocert as bc
from kakaocert_async.barocert import Kind, SignDocument
from kakaocert_async.sandbox import Fault, Rejection, Sandbox
from kakaocert_async.sandbox._guard import BODY_LIMIT
from tests.barocert._requests import make_request as make_barocert_request
from tests.sandbox._raw import assert_refused

HUGE = 64 * 1024 * 1024
PIECE = 256 * 1024
PATHS = {
    "unknown path": "/nowhere",
    "token": "/KAKAOCERT/Token",
    "API": "/SignToken/Request",
    "Barocert": "/KAKAO/MultiSign/020040000001",
    "control": "/_sandbox/faults",
}


def _counted(sandbox: Sandbox) -> int:
    return sum(sandbox.stats.values()) + sum(sandbox.verify_counts.values())


class _Body:
    """A request body of ``size`` bytes made as it is read, counting what was read."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.read = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.read < self.size:
            piece = min(PIECE, self.size - self.read)
            self.read += piece
            yield b" " * piece


# In-process ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", PATHS.values(), ids=PATHS.keys())
@pytest.mark.parametrize("framing", ["declared", "chunked"])
async def test_an_oversized_body_is_refused_in_process_before_anything_else(
    path: str, framing: str
) -> None:
    # Every fault the sandbox has, on every endpoint: none may run, nor count.
    sandbox = Sandbox(sign_after=None, faults=[Fault(action="error", status=500)])
    body = _Body(HUGE)
    headers = {"Content-Type": "application/json"}
    if framing == "declared":
        headers["Content-Length"] = str(HUGE)
    async with sandbox.http_client() as http:
        response = await http.post(path, content=body, headers=headers)
    assert_refused(response, Rejection.BODY_TOO_LARGE)
    assert response.headers["connection"] == "close"
    # Declared: refused unread. Chunked: read up to the limit, and no further.
    assert body.read == (0 if framing == "declared" else BODY_LIMIT + PIECE)
    assert _counted(sandbox) == 0
    assert sandbox.faults.listing()[0]["arrivals"] == 0


@pytest.mark.parametrize("framing", ["declared", "chunked"])
async def test_a_body_of_the_limit_is_served_and_one_byte_more_is_not(framing: str) -> None:
    sandbox = Sandbox(sign_after=None)
    async with sandbox.http_client() as http:
        for size, answer in ((BODY_LIMIT, Rejection.NOT_FOUND), (BODY_LIMIT + 1, None)):
            body = _Body(size)
            headers = {"Content-Length": str(size)} if framing == "declared" else {}
            response = await http.post("/nowhere", content=body, headers=headers)
            assert_refused(response, answer or Rejection.BODY_TOO_LARGE)
    assert sandbox.stats["other"] == 1  # the first reached the router; the second did not


async def test_the_largest_real_request_is_well_within_the_limit() -> None:
    """A Barocert multi-sign of 20 documents, every limit at its maximum, in Korean."""
    sandbox = Sandbox(sign_after=None)
    sizes: list[int] = []

    async def measure(request: httpx.Request) -> None:
        sizes.append(len(request.content))

    request = make_barocert_request(
        Kind.MULTI_SIGN,
        documents=[SignDocument(title="가" * 40, token="나" * 2800) for _ in range(20)],
        req_title="다" * 40,
        receiver_name="라" * 80,
        extra_message="마" * 500,
    )
    async with (
        sandbox.serve() as url,
        httpx.AsyncClient(event_hooks={"request": [measure]}) as http,
        bc.Client(
            sandbox.link_id, sandbox.secret_key, base_url=url, auth_url=url, http_client=http
        ) as client,
    ):
        receipt = await client.request_multi_sign(sandbox.client_code, request)
    assert len(receipt.receipt_id) == 32
    assert 200_000 < max(sizes) < BODY_LIMIT / 4  # about 225 KiB


# Over real sockets -------------------------------------------------------------------


def _send_huge(url: str, path: str, *, chunked: bool) -> tuple[bytes, int]:
    """POST a 64 MiB body to ``url`` while reading the answer (blocking: run it in a
    thread); the answer, and how much of the body was sent when it had come."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {HUGE}"
    head = f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{framing}\r\n\r\n"
    piece = b"%x\r\n%b\r\n" % (PIECE, b" " * PIECE) if chunked else b" " * PIECE
    sent = 0
    with socket.create_connection((host, int(port)), timeout=10) as sock:

        def pump() -> None:
            nonlocal sent
            try:
                sock.sendall(head.encode())
                while sent < HUGE:
                    sock.sendall(piece)
                    sent += PIECE
            except OSError:  # the server closed the connection: it has answered
                pass

        pumping = threading.Thread(target=pump)
        pumping.start()
        received = b""
        try:
            while not _complete(received):
                data = sock.recv(65536)
                if not data:
                    break
                received += data
        except ConnectionResetError:  # after its answer, which was read first
            pass
        sent_then = sent
        with contextlib.suppress(OSError):  # already reset
            sock.shutdown(socket.SHUT_RDWR)
        pumping.join()
    return received, sent_then


def _complete(received: bytes) -> bool:
    head, found, body = received.partition(b"\r\n\r\n")
    if not found:
        return False
    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    return len(body) >= length


@pytest.mark.parametrize("path", PATHS.values(), ids=PATHS.keys())
@pytest.mark.parametrize("http", ["httptools", "h11"])
async def test_a_served_sandbox_refuses_64_mib_without_reading_or_holding_it(
    path: str, http: str
) -> None:
    sandbox = Sandbox(sign_after=None)
    async with sandbox.serve(http=http) as url:
        for chunked in (False, True):
            tracemalloc.start()
            try:
                answer, sent = await asyncio.to_thread(_send_huge, url, path, chunked=chunked)
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            head, _, body = answer.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 413 "), head
            assert json.loads(body)["code"] == Rejection.BODY_TOO_LARGE.code
            assert sent < HUGE / 4, sent  # answered long before the body was all sent
            # The server (and this client, in the same process) held a few MiB at most.
            assert peak < 4 * BODY_LIMIT, peak
        async with httpx.AsyncClient(base_url=url) as client:  # and it serves on
            assert (await client.get("/Time")).status_code == 200
    assert _counted(sandbox) == 1  # that /Time


async def test_a_served_sandbox_still_takes_bodies_within_the_limit() -> None:
    sandbox = Sandbox(sign_after=None)
    fault = {"action": "delay", "seconds": 0.0, "padding": " " * (BODY_LIMIT - 100)}
    body = json.dumps(fault).encode()
    assert len(body) < BODY_LIMIT
    async with sandbox.serve() as url, httpx.AsyncClient(base_url=url) as http:

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(body), PIECE):
                yield body[start : start + PIECE]

        declared = await http.post("/_sandbox/faults", content=body)
        chunked = await http.post("/_sandbox/faults", content=chunks())
    for response in (declared, chunked):
        # It reached the control route, which read it whole (and refused the padding).
        assert_refused(response, Rejection.CONTROL_INVALID)
        assert "padding" in response.json()["message"]
    assert sandbox.stats["control"] == 2
