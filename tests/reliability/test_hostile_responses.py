"""Hostile answers: whatever comes back, the caller gets a KakaocertError that says what.

Each answer here comes from the sandbox (which did what the call does: a verify
consumes the receipt) and is then replaced on its way back by something the
protocol does not allow: not JSON, the wrong JSON, a broken or truncated gzip
stream, a huge body. The result is a :class:`MalformedResponse` naming the call
and the problem (for verify, :class:`VerifyOutcomeUnknown`: the receipt may be
consumed), never a raw exception, and an unreadable answer is not asked for again.
"""

from __future__ import annotations

import functools
import gzip
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from kakaocert_async import (
    APIError,
    Client,
    KakaocertError,
    MalformedResponse,
    SignState,
    VerifyOutcomeUnknown,
)
from kakaocert_async._http import MAX_BODY_BYTES
from kakaocert_async.sandbox import Sandbox
from tests._support import make_request
from tests.reliability._helpers import Rewrite, Tap, tapped_client


def _raw(status: int, content: bytes, **headers: str) -> httpx.Response:
    """An answer as it comes off the wire: not yet read (nor inflated)."""
    return httpx.Response(status, headers=headers, stream=httpx.ByteStream(content))


def _answer(content: bytes, **headers: str) -> Rewrite:
    async def rewrite(request: httpx.Request, real: httpx.Response) -> httpx.Response:
        return _raw(200, content, **headers)

    return rewrite


def _wrong_types() -> Rewrite:
    """The real answer with every value of the wrong JSON type."""

    async def rewrite(request: httpx.Request, real: httpx.Response) -> httpx.Response:
        try:
            data = real.json()
        except ValueError:  # /Time answers text
            return httpx.Response(200, json=12345)
        flipped = {key: "1" if isinstance(value, int) else 1 for key, value in data.items()}
        return httpx.Response(200, json=flipped)

    return rewrite


def _gzipped_real(cut: Callable[[bytes], bytes]) -> Rewrite:
    async def rewrite(request: httpx.Request, real: httpx.Response) -> httpx.Response:
        return _raw(200, cut(gzip.compress(real.content)), **{"Content-Encoding": "gzip"})

    return rewrite


def _streamed(chunk: bytes, chunks: int) -> Rewrite:
    async def rewrite(request: httpx.Request, real: httpx.Response) -> httpx.Response:
        async def body() -> AsyncIterator[bytes]:
            for _ in range(chunks):
                yield chunk

        return httpx.Response(200, content=body())  # chunked: no Content-Length

    return rewrite


@functools.cache
def _bomb() -> bytes:
    """64 MiB of zeros in about 64 KiB of gzip."""
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = bytes(1 << 20)
    return b"".join([*(packer.compress(block) for _ in range(64)), packer.flush()])


def _gzip_bomb() -> Rewrite:
    async def rewrite(request: httpx.Request, real: httpx.Response) -> httpx.Response:
        return _raw(200, _bomb(), **{"Content-Encoding": "gzip"})

    return rewrite


HOSTILE: dict[str, tuple[Callable[[], Rewrite], str]] = {
    "html": (lambda: _answer(b"<html><body>OK</body></html>"), "not JSON"),
    "empty": (lambda: _answer(b""), "not JSON"),
    "invalid-utf-8": (lambda: _answer(b'{"receiptId": "\xff\xfe"}'), "not JSON"),
    "deep-nesting": (lambda: _answer(b"[" * 100_000 + b"]" * 100_000), "not JSON"),
    "json-array": (lambda: _answer(b"[]"), "expected a JSON object"),
    "json-null": (lambda: _answer(b"null"), "expected a JSON object"),
    "missing-fields": (lambda: _answer(b'{"unexpected": true}'), "does not fit"),
    "wrong-types": (_wrong_types, "expected"),
    "truncated-gzip": (lambda: _gzipped_real(lambda z: z[: len(z) // 2]), "cut short"),
    "gzip-without-its-end": (lambda: _gzipped_real(lambda z: z[:-8]), "cut short"),
    "broken-gzip": (
        lambda: _answer(b"\x1f\x8b\x08\x00 not really gzip", **{"Content-Encoding": "gzip"}),
        "broken",
    ),
    "huge": (lambda: _answer(b" " * (2 * MAX_BODY_BYTES)), "byte limit"),
    "huge-streamed": (lambda: _streamed(b" " * 65536, 40), "byte limit"),
    "gzip-bomb": (_gzip_bomb, "byte limit"),
}

# /Time answers text; the messages for it are its own.
TIME_MESSAGES = {"not JSON": "", "expected a JSON object": "", "does not fit": "", "expected": ""}
# A verify answer is read leniently (signedData as a string is all it takes), so
# what it says is about signedData, or about the answer naming another receipt.
VERIFY_MESSAGES = {"does not fit": "signedData is missing", "expected": "another receipt"}

Call = Callable[[Client, Sandbox], Awaitable[object]]


async def _request(client: Client, sandbox: Sandbox) -> object:
    return await client.request_esign(sandbox.client_code, make_request())


async def _state(client: Client, sandbox: Sandbox) -> object:
    return await client.get_esign_state(sandbox.client_code, sandbox.receipt_id)  # type: ignore[attr-defined]


async def _verify(client: Client, sandbox: Sandbox) -> object:
    return await client.verify_esign(sandbox.client_code, sandbox.receipt_id)  # type: ignore[attr-defined]


# (endpoint made hostile, the call that meets it, its label)
OPERATIONS: dict[str, tuple[str, Call, str]] = {
    "request": ("request", _request, "POST /SignToken/Request"),
    "state": ("status", _state, "GET /SignToken/Status/"),
    "verify": ("verify", _verify, "GET /SignToken/Verify/"),
    "token": ("token", _state, "POST /KAKAOCERT/Token"),
    "time": ("time", _request, "GET /Time"),
}


async def _prepared(operation: str) -> tuple[Sandbox, Client, Tap]:
    """A sandbox with a signed receipt (``sandbox.receipt_id``), and a fresh client."""
    sandbox = Sandbox(sign_after=None)
    async with sandbox.client() as setup:
        receipt = await setup.request_esign(sandbox.client_code, make_request())
    await sandbox.sign(receipt.receipt_id)
    sandbox.receipt_id = receipt.receipt_id  # type: ignore[attr-defined]
    sandbox.reset_stats()
    client, tap = tapped_client(sandbox)
    return sandbox, client, tap


@pytest.mark.parametrize("hostile", HOSTILE, ids=HOSTILE)
@pytest.mark.parametrize("operation", OPERATIONS, ids=OPERATIONS)
async def test_a_hostile_answer_is_a_clear_error(operation: str, hostile: str) -> None:
    endpoint, call, label = OPERATIONS[operation]
    make_rewrite, says = HOSTILE[hostile]
    if endpoint == "time":
        says = TIME_MESSAGES.get(says, says)
    if endpoint == "verify":
        says = VERIFY_MESSAGES.get(says, says)
    sandbox, client, tap = await _prepared(operation)
    tap.rewrite[endpoint] = make_rewrite()
    async with sandbox, client:
        with pytest.raises(KakaocertError) as failed:
            await call(client, sandbox)
    error = failed.value
    if operation == "verify":
        assert isinstance(error, VerifyOutcomeUnknown)
        assert "may be consumed" in error.message
        error = error.__cause__  # type: ignore[assignment]
    assert isinstance(error, MalformedResponse), repr(error)
    assert error.http_status == 200
    assert error.message.startswith(label)
    assert says in error.message
    assert sandbox.stats[endpoint] == 1  # an unreadable answer is not asked for again


async def test_a_verify_whose_answer_is_unreadable_consumed_the_receipt() -> None:
    sandbox, client, tap = await _prepared("verify")
    tap.rewrite["verify"] = _answer(b"<html>")
    async with sandbox, client:
        with pytest.raises(VerifyOutcomeUnknown):
            await _verify(client, sandbox)
        status = await _state(client, sandbox)
    assert isinstance(status, object)
    assert sandbox.state(sandbox.receipt_id).verify_dt is not None  # type: ignore[attr-defined]


async def test_a_gzip_bomb_is_refused_without_inflating_it() -> None:
    sandbox, client, tap = await _prepared("state")
    tap.rewrite["status"] = _gzip_bomb()
    _bomb()  # made before measuring
    async with sandbox, client:
        tracemalloc.start()
        try:
            with pytest.raises(MalformedResponse, match="byte limit"):
                await _state(client, sandbox)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < 8 * MAX_BODY_BYTES  # not the 64 MiB it inflates to


async def test_a_gzipped_answer_is_read() -> None:
    sandbox, client, tap = await _prepared("state")
    tap.rewrite["status"] = _gzipped_real(lambda z: z)
    async with sandbox, client:
        status = await _state(client, sandbox)
    assert status.state is SignState.SIGNED  # type: ignore[attr-defined]


async def test_an_unreadable_gateway_error_still_counts_as_a_passing_failure() -> None:
    sandbox, client, tap = await _prepared("state")
    broken = 2

    async def rewrite(request: httpx.Request, real: httpx.Response) -> httpx.Response:
        nonlocal broken
        if broken == 0:
            return httpx.Response(real.status_code, content=real.content)
        broken -= 1
        return _raw(503, b"\x1f\x8b\x08 garbage", **{"Content-Encoding": "gzip"})

    tap.rewrite["status"] = rewrite
    async with sandbox, client:
        status = await _state(client, sandbox)
    assert status.state is SignState.SIGNED  # type: ignore[attr-defined]
    assert sandbox.stats["status"] == 3  # two 503s with broken bodies, repeated


async def test_an_unreadable_gateway_error_keeps_its_status() -> None:
    sandbox, client, tap = await _prepared("request")
    tap.rewrite["request"] = _answer_status(502, b" " * (2 * MAX_BODY_BYTES))
    async with sandbox, client:
        with pytest.raises(APIError) as failed:
            await _request(client, sandbox)
    assert failed.value.http_status == 502
    assert "unreadable body" in failed.value.message
    assert "byte limit" in failed.value.message


def _answer_status(status: int, content: bytes) -> Rewrite:
    async def rewrite(request: httpx.Request, real: httpx.Response) -> httpx.Response:
        return _raw(status, content)

    return rewrite


def test_the_hostile_bodies_are_what_they_claim() -> None:
    assert len(_bomb()) < 128 * 1024
    assert len(gzip.decompress(_bomb())) == 64 << 20
