"""The sandbox on a real loopback port: serve() in this loop, serve_in_thread() for sync code."""

from __future__ import annotations

import asyncio
import logging
import socket

import httpx
import pytest

from kakaocert_async import Client, SignState, VerifyOutcomeUnknown
from kakaocert_async.sandbox import Fault, Rejection, Sandbox
from kakaocert_async.sandbox._server import bind
from tests._support import make_request
from tests.sandbox._raw import Raw

IN_USE = "in use|usage"  # "Address already in use"; Windows: "Only one usage of each ..."


async def test_a_whole_flow_over_a_real_port() -> None:
    sandbox = Sandbox(sign_after=None)
    async with sandbox.serve(host="127.0.0.1", port=0) as url:
        assert url.startswith("http://127.0.0.1:")
        assert not url.endswith(":0")
        async with Client(
            sandbox.link_id, sandbox.secret_key, base_url=url, auth_url=url
        ) as client:
            code = sandbox.client_code
            receipt = await client.request_esign(code, make_request(), app_to_app=True)
            await sandbox.sign(receipt.receipt_id)
            status = await client.get_esign_state(code, receipt.receipt_id)
            assert status.state is SignState.SIGNED
            verification = await client.verify_esign(
                code, receipt.receipt_id, sandbox.signature(receipt.receipt_id)
            )
            assert verification.signed_data
    assert sandbox.stats["verify"] == 1


async def test_the_signed_data_is_gzipped_for_clients_that_accept_it() -> None:
    sandbox = Sandbox(sign_after=0.0)
    async with sandbox.serve() as url:
        raw = Raw(sandbox, url=url)
        try:
            token = await raw.session()
            receipt_id = (await raw.receipt(token))["receiptId"]
            status = await raw.status(token, receipt_id, headers={"Accept-Encoding": "gzip"})
            verify = await raw.verify(token, receipt_id, headers={"Accept-Encoding": "gzip"})
        finally:
            await raw.aclose()
    assert "content-encoding" not in status.headers  # small answers are sent as they are
    assert verify.status_code == 200, verify.text
    assert verify.headers["content-encoding"] == "gzip"
    assert verify.json()["receiptId"] == receipt_id


async def test_a_drop_on_a_real_server_breaks_the_connection_mid_answer() -> None:
    sandbox = Sandbox(sign_after=None, faults=[Fault(action="drop", endpoints=["verify"], times=1)])
    async with (
        sandbox.serve() as url,
        Client(sandbox.link_id, sandbox.secret_key, base_url=url, auth_url=url) as client,
    ):
        code = sandbox.client_code
        receipt = await client.request_esign(code, make_request())
        await sandbox.sign(receipt.receipt_id)
        with pytest.raises(VerifyOutcomeUnknown):
            await client.verify_esign(code, receipt.receipt_id)
        status = await client.get_esign_state(code, receipt.receipt_id)
        assert status.verify_dt is not None


def test_serve_in_thread_for_sync_code() -> None:
    sandbox = Sandbox(sign_after=None)
    with sandbox.serve_in_thread() as url, httpx.Client(base_url=url) as http:
        assert http.get("/Time").text.endswith("Z")
        refused = http.get("/SignToken/Status/1", headers={"x-pb-version": "2.0"})
        assert refused.status_code == 401
        assert refused.json()["code"] == Rejection.BEARER_MISSING.code
    assert sandbox.stats["time"] == 1
    with pytest.raises(httpx.ConnectError), httpx.Client(base_url=url) as http:
        http.get("/Time")


def test_a_port_in_use_is_an_oserror() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError, match=IN_USE), Sandbox().serve_in_thread(port=port):
            pass  # pragma: no cover


async def test_serve_async_port_in_use_is_an_oserror() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError, match=IN_USE):
            async with Sandbox(sign_after=None).serve(port=port):
                pass  # pragma: no cover


async def test_served_connections_send_without_delay() -> None:
    """Accepted sockets get TCP_NODELAY (else each keep-alive answer waits ~40 ms)."""
    nodelay: list[int] = []

    def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        nodelay.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    listener = bind("127.0.0.1", 0)
    server = await asyncio.start_server(accepted, sock=listener)
    async with server:
        _, writer = await asyncio.open_connection(*listener.getsockname()[:2])
        for _ in range(1000):
            if nodelay:
                break
            await asyncio.sleep(0.001)
        writer.close()
        await writer.wait_closed()
    assert nodelay == [1]


async def test_pipelined_state_calls_are_answered_in_order_on_one_connection() -> None:
    sandbox = Sandbox(sign_after=None)
    async with sandbox.serve() as url:
        host, port = url.removeprefix("http://").rsplit(":", 1)
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            writer.write(b"GET /Time HTTP/1.1\r\nHost: s\r\n\r\n" * 50)
            answers = []
            for _ in range(50):
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
                length = int(head.lower().split(b"content-length: ", 1)[1].split(b"\r\n")[0])
                answers.append((head, await reader.readexactly(length)))
        finally:
            writer.close()
    assert all(head.startswith(b"HTTP/1.1 200 OK") for head, _ in answers)
    assert all(body.endswith(b"Z") for _, body in answers)
    assert sandbox.stats["time"] == 50


@pytest.mark.parametrize("level", [logging.DEBUG, logging.INFO])
async def test_serving_leaves_the_host_programs_uvicorn_loggers_alone(level: int) -> None:
    # A sandbox served inside your own uvicorn app: its access and start-up logs stay.
    names = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")
    before = {name: logging.getLogger(name).level for name in names}
    try:
        for name in names:
            logging.getLogger(name).setLevel(level)
        sandbox = Sandbox(sign_after=None)
        async with sandbox.serve(port=0):
            assert {name: logging.getLogger(name).level for name in names} == dict.fromkeys(
                names, level
            )
        with sandbox.serve_in_thread():
            pass
        assert {name: logging.getLogger(name).level for name in names} == dict.fromkeys(
            names, level
        )
    finally:
        for name, was in before.items():
            logging.getLogger(name).setLevel(was)
