"""A minimal canned KakaoCert on loopback: an asyncio protocol answering captured JSON.

So that a throughput benchmark measures its client, not the server: no framework,
no checks, answers prepared once (tens of µs of server CPU per call). It speaks
just enough HTTP/1.1 for the SDK's ``Client``, the official SDK, httpx and
aiohttp unmodified: keep-alive, pipelining, ``Content-Length`` bodies.

python -m benchmarks.canned [--port 0]   # prints "canned KakaoCert on http://127.0.0.1:PORT"
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from collections.abc import Callable
from typing import cast

LINK_ID = "BENCH"
SECRET_KEY = "YmVuY2htYXJrIGtleSwgbm90IGEgcmVhbCBvbmU="
CLIENT_CODE = "020040000001"
RECEIPT_ID = "022112815423700001"
TOKEN = "bench-token"
STATUS_PATH = f"/SignToken/Status/{RECEIPT_ID}"

STATUS = json.dumps(
    {
        "receiptID": RECEIPT_ID,
        "clientCode": CLIENT_CODE,
        "clientName": "벤치마크",
        "subClientName": None,
        "subClientCode": None,
        "state": 0,
        "expires_in": 300,
        "callCenterNum": "1600-9854",
        "tmstitle": "계약 서명",
        "tmsmessage": None,
        "allowSimpleRegistYN": True,
        "verifyNameYN": True,
        "requestDT": "20261128134500",
        "expireDT": "20261128135000",
        "regDT": "20261128134500",
        "viewDT": None,
        "completeDT": None,
        "verifyDT": None,
        "payload": "memo",
        "appUseYN": False,
        "tx_id": None,
    },
    ensure_ascii=False,
).encode()
"""A pending receipt's state, as the service answers it."""
RECEIPT = json.dumps({"receiptId": RECEIPT_ID, "tx_id": None}).encode()
NOT_FOUND = json.dumps({"code": -11090001, "message": "not canned"}).encode()


def token_grant(now: float) -> bytes:
    """A session token valid for an hour from ``now``, in Linkhub's form."""
    expires = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(now + 3600))
    grant = {
        "session_token": TOKEN,
        "serviceID": "KAKAOCERT",
        "linkID": LINK_ID,
        "usercode": CLIENT_CODE,
        "ipaddress": "127.0.0.1",
        "expiration": expires,
        "scope": ["member", "310"],
    }
    return json.dumps(grant).encode()


def _answer(body: bytes, *, status: str = "200 OK", media_type: str = "application/json") -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: {media_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode("latin-1") + body


class _Answers:
    """The prepared answers; ``GET /Time`` is made per call (it is called once per client)."""

    def __init__(self) -> None:
        self.status = _answer(STATUS)
        self.receipt = _answer(RECEIPT)
        self.token = _answer(token_grant(time.time()))
        self.not_found = _answer(NOT_FOUND, status="404 Not Found")

    def time(self) -> bytes:
        now = time.time()
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"
        return _answer(text.encode(), media_type="text/plain; charset=utf-8")

    def to(self, method: bytes, path: bytes) -> bytes:
        if path.startswith(b"/SignToken/Status/"):
            return self.status
        if path == b"/KAKAOCERT/Token":
            return self.token
        if path == b"/Time":
            return self.time()
        if path == b"/SignToken/Request" and method == b"POST":
            return self.receipt
        return self.not_found


class CannedProtocol(asyncio.Protocol):
    """One connection: answers each complete request in order as it arrives."""

    def __init__(self, answers: _Answers) -> None:
        self._answers = answers
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer + data if self._buffer else data
        out = []
        close = False
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            head = buffer[:end]
            length = 0
            lower = head.lower()
            at = lower.find(b"\r\ncontent-length:")
            if at >= 0:
                stop = lower.find(b"\r\n", at + 2)
                length = int(lower[at + 17 : stop if stop >= 0 else None])
            total = end + 4 + length
            if len(buffer) < total:
                break
            method, path, _ = head[: head.find(b"\r\n")].split(b" ", 2)
            out.append(self._answers.to(method, path))
            close = close or b"\r\nconnection: close" in lower
            buffer = buffer[total:]
        self._buffer = buffer
        assert self._transport is not None
        if out:
            self._transport.write(b"".join(out) if len(out) > 1 else out[0])
        if close:
            self._transport.close()


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop
    return uvloop.new_event_loop


async def _serve(host: str, port: int) -> None:
    answers = _Answers()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: CannedProtocol(answers), host, port, backlog=4096)
    bound = server.sockets[0].getsockname()
    print(f"canned KakaoCert on http://{bound[0]}:{bound[1]}", flush=True)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.canned", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    loop = _loop_factory()()
    with contextlib.suppress(KeyboardInterrupt):
        loop.run_until_complete(_serve(args.host, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
