"""A graceful close: calls in flight finish within the grace; those cut short say how far
they got; a request or a verify already sent is never abandoned.

Over real sockets (the sandbox served in a thread), on both backends and both
generations. A delay fault holds the call up at the service, after it arrived.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from kakaocert_async import (
    Client,
    ClientClosed,
    ESignReceipt,
    ESignVerification,
    Progress,
    UnclaimedAnswer,
    VerifyOutcomeUnknown,
    _wire,
    barocert,
)
from kakaocert_async.barocert import Kind
from kakaocert_async.sandbox import Fault, Sandbox
from tests._served import expected_signed_data
from tests._support import make_request
from tests.barocert._requests import make_request as barocert_request

BACKENDS = ["aiohttp", "httpx"]


@contextlib.asynccontextmanager
async def _served(
    backend: str, *, cls: Callable[..., Any] = Client, **options: Any
) -> AsyncIterator[tuple[Sandbox, Any, list[UnclaimedAnswer]]]:
    """A sandbox served on a loopback port, a client of it on ``backend`` (closed by the
    test), and what its ``on_unclaimed`` received."""
    sandbox = Sandbox(sign_after=None)
    unclaimed: list[UnclaimedAnswer] = []
    with sandbox.serve_in_thread() as url:
        async with contextlib.AsyncExitStack() as stack:
            if backend == "httpx":
                options["http_client"] = await stack.enter_async_context(httpx.AsyncClient())
            client = cls(
                sandbox.link_id,
                sandbox.secret_key,
                base_url=url,
                auth_url=url,
                on_unclaimed=unclaimed.append,
                **options,
            )
            stack.push_async_callback(client.aclose)
            assert client.http_backend == backend
            yield sandbox, client, unclaimed
        sandbox.faults.clear()


async def _in_flight(sandbox: Sandbox, endpoint: str, call: Awaitable[Any]) -> asyncio.Future[Any]:
    """``call`` started, once the service has counted its arrival at ``endpoint``."""
    task = asyncio.ensure_future(call)
    for _ in range(500):
        if sandbox.stats[endpoint]:
            return task
        await asyncio.sleep(0.01)
    raise AssertionError(f"the call never reached {endpoint}")


@pytest.mark.parametrize("backend", BACKENDS)
async def test_calls_in_flight_finish_within_the_grace(backend: str) -> None:
    async with _served(backend) as (sandbox, client, unclaimed):
        code = sandbox.client_code
        signed = await client.request_esign(code, make_request())
        await sandbox.sign(signed.receipt_id)
        sandbox.faults.add(Fault(action="delay", seconds=0.3, endpoints=["request", "verify"]))
        sandbox.reset_stats()
        request = await _in_flight(sandbox, "request", client.request_esign(code, make_request()))
        verify = await _in_flight(sandbox, "verify", client.verify_esign(code, signed.receipt_id))
        await client.aclose(grace=10)
        receipt, verification = await request, await verify
    assert isinstance(receipt, ESignReceipt)
    assert verification.receipt_id == signed.receipt_id
    assert unclaimed == []
    assert sandbox.stats["request"] == 1
    assert sandbox.verify_count(signed.receipt_id) == 1


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_request_cut_short_says_it_was_sent_and_its_receipt_is_handed_over(
    backend: str,
) -> None:
    async with _served(backend) as (sandbox, client, unclaimed):
        await client.request_esign(sandbox.client_code, make_request())  # token and clock
        sandbox.reset_stats()
        sandbox.faults.add(Fault(action="delay", seconds=0.5, endpoints=["request"]))
        request = await _in_flight(
            sandbox, "request", client.request_esign(sandbox.client_code, make_request())
        )
        started = time.monotonic()
        await client.aclose(grace=0.05)
        closed_in = time.monotonic() - started
        with pytest.raises(ClientClosed) as cut:
            await request
    assert cut.value.progress is Progress.SENT
    assert cut.value.answer_lost
    assert "may have acted" in cut.value.message
    # The close waited for the answer, and handed the receipt over rather than drop it.
    [answer] = unclaimed
    assert answer.error is None
    assert isinstance(answer.result, ESignReceipt)
    assert answer.receipt_id == answer.result.receipt_id
    assert sandbox.state(answer.receipt_id).receipt_id == answer.receipt_id
    assert sandbox.stats["request"] == 1
    assert closed_in >= 0.3  # it waited for the answer


@pytest.mark.parametrize("generation", ["2.x", "barocert"])
@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_verify_cut_short_is_an_unknown_outcome_and_its_signed_data_is_kept(
    backend: str, generation: str
) -> None:
    cls = Client if generation == "2.x" else barocert.Client
    async with _served(backend, cls=cls) as (sandbox, client, unclaimed):
        code = sandbox.client_code
        if generation == "2.x":
            receipt_id = (await client.request_esign(code, make_request())).receipt_id
            endpoint = "verify"
            verify = client.verify_esign(code, receipt_id)
            await sandbox.sign(receipt_id)
        else:
            receipt_id = (await client.request_sign(code, barocert_request(Kind.SIGN))).receipt_id
            endpoint = "barocert.sign.verify"
            verify = client.verify_sign(code, receipt_id)
            sandbox.barocert.sign(receipt_id)
        sandbox.faults.add(Fault(action="delay", seconds=0.5, endpoints=[endpoint]))
        sandbox.reset_stats()
        task = await _in_flight(sandbox, endpoint, verify)
        await client.aclose(grace=0.05)
        with pytest.raises(VerifyOutcomeUnknown) as cut:
            await task
    assert cut.value.receipt_id == receipt_id
    assert cut.value.answer_lost
    assert isinstance(cut.value.__cause__, ClientClosed)
    [answer] = unclaimed
    assert answer.error is None
    assert answer.receipt_id == receipt_id
    assert answer.result is not None
    assert answer.result.signed_data  # type: ignore[attr-defined]
    assert sandbox.stats[endpoint] == 1


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_call_cut_short_before_it_was_sent_says_so(backend: str) -> None:
    async with _served(backend) as (sandbox, client, unclaimed):
        sandbox.faults.add(Fault(action="delay", seconds=0.5, endpoints=["token"]))
        request = await _in_flight(
            sandbox, "token", client.request_esign(sandbox.client_code, make_request())
        )
        await client.aclose(grace=0.05)
        with pytest.raises(ClientClosed) as cut:
            await request
    assert cut.value.progress is Progress.NOT_SENT
    assert not cut.value.answer_lost
    assert unclaimed == []
    assert sandbox.stats["request"] == 0


async def test_a_verify_whose_caller_is_cancelled_is_read_to_the_end_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sandbox = Sandbox(sign_after=None)
    with sandbox.serve_in_thread() as url:
        async with Client(sandbox.link_id, sandbox.secret_key, base_url=url, auth_url=url) as c:
            receipt_id = (await c.request_esign(sandbox.client_code, make_request())).receipt_id
            await sandbox.sign(receipt_id)
            sandbox.faults.add(Fault(action="delay", seconds=0.2, endpoints=["verify"]))
            task = await _in_flight(
                sandbox, "verify", c.verify_esign(sandbox.client_code, receipt_id)
            )
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        # Leaving the block closed the client, which waited for the verify's answer.
    [warning] = [
        r for r in caplog.records if r.name == "kakaocert_async" and r.levelname == "WARNING"
    ]
    text = warning.getMessage()
    assert receipt_id in text
    assert "on_unclaimed" in text
    assert expected_signed_data(sandbox, receipt_id, make_request().token) not in text
    assert sandbox.verify_count(receipt_id) == 1


async def test_a_failing_hook_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    def broken(answer: UnclaimedAnswer) -> None:
        raise RuntimeError("the hook broke")

    sandbox = Sandbox(sign_after=None)
    async with sandbox, sandbox.client(on_unclaimed=broken) as client:
        sandbox.faults.add(Fault(action="delay", seconds=0.2, endpoints=["request"]))
        task = await _in_flight(
            sandbox, "request", client.request_esign(sandbox.client_code, make_request())
        )
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert "the on_unclaimed hook failed" in caplog.text
    assert "the hook broke" in caplog.text


async def test_a_bug_in_reading_an_unclaimed_answer_is_logged_with_its_traceback(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Its exception is read to tell an error from a result, so asyncio never reports it.
    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("a bug in reading the receipt")

    unclaimed: list[UnclaimedAnswer] = []
    sandbox = Sandbox(sign_after=None)
    async with sandbox, sandbox.client(on_unclaimed=unclaimed.append) as client:
        sandbox.faults.add(Fault(action="delay", seconds=0.2, endpoints=["request"]))
        task = await _in_flight(
            sandbox, "request", client.request_esign(sandbox.client_code, make_request())
        )
        monkeypatch.setattr(_wire, "decode", broken)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert unclaimed == []
    [record] = [r for r in caplog.records if r.levelname == "ERROR"]
    assert record.getMessage() == "POST /SignToken/Request: its answer could not be handed over"
    assert record.exc_info is not None
    assert str(record.exc_info[1]) == "a bug in reading the receipt"


async def test_a_verify_result_type_is_kept_for_the_hook() -> None:
    sandbox = Sandbox(sign_after=None)
    unclaimed: list[UnclaimedAnswer] = []
    async with sandbox, sandbox.client(on_unclaimed=unclaimed.append) as client:
        receipt_id = (await client.request_esign(sandbox.client_code, make_request())).receipt_id
        await sandbox.sign(receipt_id)
        sandbox.faults.add(Fault(action="delay", seconds=0.2, endpoints=["verify"]))
        task = await _in_flight(
            sandbox, "verify", client.verify_esign(sandbox.client_code, receipt_id)
        )
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    [answer] = unclaimed
    assert isinstance(answer.result, ESignVerification)
    assert answer.result.signed_data
    assert answer.result.signed_data not in repr(answer)


@pytest.mark.parametrize("grace", [-1, float("nan"), "5", True])
async def test_a_bad_grace_is_refused_before_anything_closes(grace: object) -> None:
    sandbox = Sandbox()
    async with sandbox, sandbox.client() as client:
        with pytest.raises(ValueError, match="grace"):
            await client.aclose(grace=grace)  # type: ignore[arg-type]
        await client.request_esign(sandbox.client_code, make_request())  # still open
