"""The app's protocol routes: HEAD and 405, gzip, errors, cached answers, and the server
under it (uvicorn as released, on httptools and uvloop)."""

from __future__ import annotations

import asyncio
import gzip
import json
import sys
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Mount

from kakaocert_async import Client, _wire
from kakaocert_async.sandbox import Rejection, Sandbox
from kakaocert_async.sandbox._server import describe, serve_in_thread
from tests._support import make_request
from tests.sandbox._raw import FakeClock, Raw, assert_refused

Scope = dict[str, Any]


async def test_head_on_a_protocol_get_answers_its_headers_and_counts(
    raw: Raw, sandbox: Sandbox
) -> None:
    response = await raw.http.head("/Time")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert int(response.headers["content-length"]) == len("2026-11-28T04:45:00.000Z")
    assert sandbox.stats["time"] == 1


async def test_a_protocol_path_with_the_wrong_method_is_a_405_naming_get_and_head(
    raw: Raw, sandbox: Sandbox
) -> None:
    response = await raw.http.post("/SignToken/Status/022112815423700001")
    assert_refused(response, Rejection.METHOD_NOT_ALLOWED)
    assert response.headers["allow"] == "GET, HEAD"
    assert sandbox.stats["other"] == 1
    assert sandbox.stats["status"] == 0


async def test_paths_outside_the_table_still_reach_the_control_routes_and_404(
    raw: Raw, sandbox: Sandbox
) -> None:
    assert (await raw.http.get("/_sandbox/stats")).status_code == 200
    assert_refused(await raw.http.get("/SignToken/Status/1/extra"), Rejection.NOT_FOUND)
    assert_refused(await raw.http.get("/Elsewhere"), Rejection.NOT_FOUND)
    assert sandbox.stats["control"] == 1
    assert sandbox.stats["other"] == 2


async def test_large_answers_vary_by_encoding_and_are_gzipped_only_when_accepted(
    raw: Raw, sandbox: Sandbox
) -> None:
    token = await raw.session()
    plain_id = (await raw.receipt(token))["receiptId"]
    zipped_id = (await raw.receipt(token))["receiptId"]
    await sandbox.sign(plain_id)
    await sandbox.sign(zipped_id)

    plain = await raw.verify(token, plain_id, headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200
    assert "content-encoding" not in plain.headers
    assert plain.headers["vary"] == "Accept-Encoding"
    assert int(plain.headers["content-length"]) == len(plain.content) >= 1024

    # Read the bytes as sent: httpx would inflate them.
    async with raw.http.stream(
        "GET",
        f"/SignToken/Verify/{zipped_id}",
        headers={"Authorization": f"Bearer {token}", "x-pb-version": "2.0"},
    ) as zipped:
        sent = b"".join([chunk async for chunk in zipped.aiter_raw()])
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.headers["vary"] == "Accept-Encoding"
    assert int(zipped.headers["content-length"]) == len(sent)
    assert json.loads(gzip.decompress(sent))["receiptId"] == zipped_id

    small = await raw.status(token, plain_id, headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in small.headers
    assert "vary" not in small.headers


async def test_the_state_answer_follows_every_change_of_the_receipt(
    raw: Raw, sandbox: Sandbox, clock: FakeClock
) -> None:
    """State answers are kept between polls; each change shows in the next one."""
    token = await raw.session()
    receipt_id = (await raw.receipt(token))["receiptId"]
    expiring_id = (await raw.receipt(token))["receiptId"]

    async def answer(rid: str = receipt_id) -> dict[str, Any]:
        response = await raw.status(token, rid)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert body == _wire.converter.unstructure(sandbox.state(rid))
        return body

    pending = await answer()
    assert pending == await answer()
    assert pending["state"] == 0
    assert pending["viewDT"] is None

    clock.advance(1)
    await sandbox.open(receipt_id)
    assert (await answer())["viewDT"] is not None
    clock.advance(1)
    await sandbox.sign(receipt_id)
    signed = await answer()
    assert (signed["state"], signed["completeDT"] is None) == (1, False)
    assert (await raw.verify(token, receipt_id)).status_code == 200
    assert (await answer())["verifyDT"] is not None

    clock.advance(301)  # past Expires_in: the clock alone changes the state
    assert (await answer(expiring_id))["state"] == 2


async def test_the_service_hands_out_a_fresh_answer_each_time(raw: Raw, sandbox: Sandbox) -> None:
    token = await raw.session()
    receipt_id = (await raw.receipt(token))["receiptId"]
    headers = {"authorization": f"Bearer {token}", "x-pb-version": "2.0"}
    first = sandbox.service.esign_status(headers, receipt_id, client_ip="127.0.0.1")
    first["state"] = 99
    second = sandbox.service.esign_status(headers, receipt_id, client_ip="127.0.0.1")
    assert second["state"] == 0


async def test_mounted_under_a_prefix_every_call_reads_its_path_after_it() -> None:
    sandbox = Sandbox(sign_after=0)
    outer = Starlette(routes=[Mount("/sandbox", app=sandbox.app)])
    transport = httpx.ASGITransport(app=outer, client=("127.0.0.1", 50000))  # type: ignore[arg-type]
    url = f"{sandbox.url}/sandbox"
    code = sandbox.client_code
    async with Client(
        sandbox.link_id, sandbox.secret_key, base_url=url, auth_url=url, transport=transport
    ) as client:
        receipt = await client.request_esign(code, make_request(), app_to_app=True)
        await client.await_signed(code, receipt, interval=0.01)
        signature = sandbox.signature(receipt.receipt_id)
        assert (await client.verify_esign(code, receipt.receipt_id, signature)).signed_data
    assert (sandbox.stats["status"], sandbox.stats["verify"], sandbox.stats["other"]) == (1, 1, 0)


# Errors and the server ---------------------------------------------------------------


async def test_an_unexpected_error_is_a_500_page_and_reaches_the_server(sandbox: Sandbox) -> None:
    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("a bug")

    sandbox.service.server_time = broken  # type: ignore[method-assign]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/Time", "headers": [], "client": None}
    with pytest.raises(RuntimeError, match="a bug"):
        await sandbox.app(scope, receive, send)
    assert sent[0]["status"] == 500
    assert sent[1]["body"] == b"Internal Server Error"


@pytest.mark.skipif(sys.platform == "win32", reason="uvloop is not on Windows")
def test_the_served_sandbox_runs_on_httptools_and_uvloop() -> None:
    async def report(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        loop = type(asyncio.get_running_loop()).__module__
        protocol = type(send.__self__).__module__  # the request cycle of uvicorn's protocol
        body = json.dumps({"loop": loop, "protocol": protocol}).encode()
        await Response(body, media_type="application/json")(scope, receive, send)

    with serve_in_thread(report, host="127.0.0.1", port=0) as url:
        seen = httpx.get(url, timeout=10).json()
    assert seen["loop"].startswith("uvloop")
    assert seen["protocol"] == "uvicorn.protocols.http.httptools_impl"
    assert describe() == "uvicorn (httptools, uvloop)"
