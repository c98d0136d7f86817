"""The sandbox's own HTTP/1.1 protocol under uvicorn, byte by byte on a real socket."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from kakaocert_async.sandbox import Sandbox
from kakaocert_async.sandbox._server import serve

Scope = dict[str, Any]


async def _echo(scope: Scope, receive: Any, send: Any) -> None:
    """Answers what it got: method, path, query, body, and the client's address."""
    if scope["type"] != "http":
        return
    message = await receive()
    if scope["path"] == "/boom":
        raise RuntimeError("a bug in the app")
    if scope["path"] == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"one,", "more_body": True})
        await send({"type": "http.response.body", "body": b"two"})
        return
    body = json.dumps(
        {
            "method": scope["method"],
            "path": scope["path"],
            "raw_path": scope["raw_path"].decode(),
            "query": scope["query_string"].decode(),
            "body": message["body"].decode(),
            "client": scope["client"][0],
        }
    ).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture
async def echo() -> AsyncIterator[tuple[str, int]]:
    async with serve(_echo, host="127.0.0.1", port=0, timeout_keep_alive=0.3) as url:
        host, port = url.removeprefix("http://").rsplit(":", 1)
        yield host, int(port)


async def _exchange(address: tuple[str, int], data: bytes, *, until_closed: bool = False) -> bytes:
    """Send ``data``; what came back within a moment (or until the server closed)."""
    reader, writer = await asyncio.open_connection(*address)
    try:
        writer.write(data)
        await writer.drain()
        if until_closed:
            return await asyncio.wait_for(reader.read(), 5)
        received = b""
        while True:
            try:
                chunk = await asyncio.wait_for(reader.read(65536), 0.15)
            except asyncio.TimeoutError:
                return received
            if not chunk:
                return received
            received += chunk
    finally:
        writer.close()


def _answers(raw: bytes) -> list[tuple[bytes, dict[bytes, bytes], bytes]]:
    """Split Content-Length answers: (status line, headers, body) each."""
    answers = []
    while raw:
        head, _, rest = raw.partition(b"\r\n\r\n")
        status, *lines = head.split(b"\r\n")
        headers = dict(line.lower().split(b": ", 1) for line in lines)
        length = int(headers.get(b"content-length", b"0"))
        answers.append((status, headers, rest[:length]))
        raw = rest[length:]
    return answers


async def test_pipelined_requests_are_answered_in_order_on_one_connection(
    echo: tuple[str, int],
) -> None:
    raw = await _exchange(
        echo,
        b"GET /first?x=1 HTTP/1.1\r\nHost: a\r\n\r\n"
        b"POST /second HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
        b"GET /th%2Fird HTTP/1.1\r\nHost: a\r\n\r\n",
    )
    answers = _answers(raw)
    assert [status for status, _, _ in answers] == [b"HTTP/1.1 200 OK"] * 3
    bodies = [json.loads(body) for _, _, body in answers]
    assert [(b["method"], b["path"], b["body"]) for b in bodies] == [
        ("GET", "/first", ""),
        ("POST", "/second", "hello"),
        ("GET", "/th/ird", ""),
    ]
    assert bodies[0]["query"] == "x=1"
    assert bodies[2]["raw_path"] == "/th%2Fird"
    assert bodies[0]["client"] == "127.0.0.1"
    assert all(b"date" in headers and b"server" in headers for _, headers, _ in answers)


async def test_a_chunked_request_body_arrives_whole(echo: tuple[str, int]) -> None:
    raw = await _exchange(
        echo,
        b"POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
    )
    assert json.loads(_answers(raw)[0][2])["body"] == "abcde"


async def test_expect_100_continue_is_answered_before_the_body(echo: tuple[str, int]) -> None:
    reader, writer = await asyncio.open_connection(*echo)
    try:
        writer.write(
            b"POST /e HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n"
        )
        assert await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5) == (
            b"HTTP/1.1 100 Continue\r\n\r\n"
        )
        writer.write(b"ok")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert head.startswith(b"HTTP/1.1 200 OK")
    finally:
        writer.close()


async def test_head_answers_headers_only(echo: tuple[str, int]) -> None:
    raw = await _exchange(
        echo, b"HEAD /h HTTP/1.1\r\nHost: a\r\n\r\nGET /g HTTP/1.1\r\nHost: a\r\n\r\n"
    )
    head, _, rest = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert b"content-length: " in head  # what a GET would have sent
    assert rest.startswith(b"HTTP/1.1 200 OK")  # no body in between


async def test_connection_close_and_http_1_0_end_the_connection(echo: tuple[str, int]) -> None:
    for request in (
        b"GET /c HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        b"GET /c HTTP/1.0\r\n\r\n",
    ):
        raw = await _exchange(echo, request, until_closed=True)
        ((status, headers, _),) = _answers(raw)
        assert status.endswith(b"200 OK")
        assert headers[b"connection"] == b"close"


async def test_an_idle_connection_is_closed_after_the_keep_alive_timeout(
    echo: tuple[str, int],
) -> None:
    reader, writer = await asyncio.open_connection(*echo)
    try:
        writer.write(b"GET /k HTTP/1.1\r\nHost: a\r\n\r\n")
        await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        # 0.3 s of keep-alive: the server closes; read() ends instead of waiting.
        rest = await asyncio.wait_for(reader.read(), 5)
        assert rest.endswith(b"}")
    finally:
        writer.close()


async def test_garbage_is_a_400_and_the_end_of_the_connection(echo: tuple[str, int]) -> None:
    raw = await _exchange(echo, b"NOT HTTP AT ALL\r\n\r\n", until_closed=True)
    assert raw.startswith(b"HTTP/1.1 400 Bad Request")


async def test_an_error_in_the_app_is_a_500_and_is_logged(
    echo: tuple[str, int], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="uvicorn.error"):
        raw = await _exchange(echo, b"GET /boom HTTP/1.1\r\nHost: a\r\n\r\n", until_closed=True)
    assert raw.startswith(b"HTTP/1.1 500 Internal Server Error")
    assert any(r.exc_info and "a bug in the app" in str(r.exc_info[1]) for r in caplog.records)


async def test_an_answer_without_a_length_is_chunked(echo: tuple[str, int]) -> None:
    raw = await _exchange(echo, b"GET /stream HTTP/1.1\r\nHost: a\r\n\r\n")
    head, _, body = raw.partition(b"\r\n\r\n")
    assert b"transfer-encoding: chunked" in head
    assert body == b"4\r\none,\r\n3\r\ntwo\r\n0\r\n\r\n"


async def test_the_served_sandbox_answers_state_calls_on_one_kept_connection() -> None:
    """The sandbox's own routes through this protocol: every answer complete, one connection."""
    sandbox = Sandbox(sign_after=None)
    async with sandbox.serve() as url:
        host, port = url.removeprefix("http://").rsplit(":", 1)
        requests = b"GET /Time HTTP/1.1\r\nHost: s\r\n\r\n" * 50
        raw = await _exchange((host, int(port)), requests)
    answers = _answers(raw)
    assert len(answers) == 50
    assert all(body.endswith(b"Z") for _, _, body in answers)
    assert sandbox.stats["time"] == 50
