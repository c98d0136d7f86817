"""Hygiene: cancelling any operation leaves no task and no connection behind.

Each operation is cancelled while its request is in flight (held up by a delay
fault), in-process and over real sockets. The moment the cancelled caller is
done (for a request or a verify that was sent: the moment its answer, read to
the end, was handed to ``on_unclaimed``), the tasks of the loop are what they
were before (a token or clock read shared through a single flight included),
the connection pool has no connection in use, and the client works on. The
suite itself runs with warnings as errors (``pyproject.toml``), so an unclosed
client, transport or socket fails it.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable

import attrs
import pytest

from kakaocert_async import Client, ESignReceipt, ESignVerification, SignState, UnclaimedAnswer
from kakaocert_async.sandbox import Fault, Sandbox
from tests._support import make_request
from tests.reliability._helpers import served_client


@attrs.frozen
class Operation:
    endpoint: str
    """Where the delay holds it up (``None``: it waits between polls)."""
    call: Callable[[Client, Sandbox, str], Awaitable[object]]
    warm: bool = True
    """Whether the client has its token and clock already."""


OPERATIONS = {
    "first clock read": Operation(
        "time", lambda c, s, r: c.request_esign(s.client_code, make_request()), warm=False
    ),
    "first token": Operation(
        "token", lambda c, s, r: c.get_esign_state(s.client_code, r), warm=False
    ),
    "request": Operation("request", lambda c, s, r: c.request_esign(s.client_code, make_request())),
    "state": Operation("status", lambda c, s, r: c.get_esign_state(s.client_code, r)),
    "verify": Operation("verify", lambda c, s, r: c.verify_esign(s.client_code, r)),
    "await_signed, polling": Operation(
        "status",
        lambda c, s, r: c.await_signed(s.client_code, ESignReceipt(receipt_id=r), interval=0.05),
    ),
    "await_signed, between polls": Operation(
        "", lambda c, s, r: c.await_signed(s.client_code, ESignReceipt(receipt_id=r), interval=60)
    ),
}


@contextlib.asynccontextmanager
async def _setup(
    sandbox: Sandbox, served: bool, on_unclaimed: Callable[[UnclaimedAnswer], object]
) -> AsyncIterator[tuple[Client, str]]:
    """A client (in-process or over a socket) and a signed receipt of the sandbox."""
    async with sandbox.client() as setup:
        receipt = await setup.request_esign(sandbox.client_code, make_request())
    if not served:
        async with sandbox.client(on_unclaimed=on_unclaimed) as client:
            yield client, receipt.receipt_id
        return
    with sandbox.serve_in_thread() as url:
        async with served_client(sandbox, url, on_unclaimed=on_unclaimed) as client:
            yield client, receipt.receipt_id


def _connections_in_use(client: Client) -> int | None:
    return client._backend.connections_in_use()


@pytest.mark.parametrize("served", [False, True], ids=["in-process", "served"])
@pytest.mark.parametrize("name", OPERATIONS)
async def test_cancelling_an_operation_in_flight_leaves_nothing_behind(
    name: str, served: bool
) -> None:
    operation = OPERATIONS[name]
    sandbox = Sandbox(sign_after=None)
    unclaimed: list[UnclaimedAnswer] = []
    async with _setup(sandbox, served, unclaimed.append) as (client, receipt_id):
        if operation.warm:
            await client.get_esign_state(sandbox.client_code, receipt_id)
        if name == "verify":
            await sandbox.sign(receipt_id)
        if operation.endpoint:
            # Long enough never to end during the test; short enough not to hold
            # up the served sandbox's shutdown, which waits for its handlers.
            hold = Fault(action="delay", seconds=0.4, endpoints=[operation.endpoint])
            fault = sandbox.faults.add(hold)
        before = asyncio.all_tasks()
        sandbox.reset_stats()
        task = asyncio.ensure_future(operation.call(client, sandbox, receipt_id))
        for _ in range(500):  # until it is in flight (has reached the sandbox)
            if sum(sandbox.stats.values()):
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        sent = name in ("request", "verify")  # held up after it reached the service
        for _ in range(500 if sent else 0):
            if unclaimed:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0)  # the hook is called as the exchange ends

        assert asyncio.all_tasks() == before
        if served:
            assert client.http_backend == "aiohttp"
            assert _connections_in_use(client) == 0
        if operation.endpoint:
            sandbox.faults.remove(fault)
        if name.startswith("await"):
            await sandbox.sign(receipt_id)
        if not sent:
            # Nothing half-done was kept, and the client works on.
            assert unclaimed == []
            assert sandbox.state(receipt_id).verify_dt is None
            await operation.call(client, sandbox, receipt_id)
            return
        # The service acted, and its answer was not dropped: handed over, whole.
        [answer] = unclaimed
        assert answer.error is None
        assert answer.receipt_id is not None
        if name == "verify":
            assert answer.receipt_id == receipt_id
            assert isinstance(answer.result, ESignVerification)
            assert sandbox.verify_count(receipt_id) == 1
            assert sandbox.state(receipt_id).verify_dt is not None
        else:
            assert isinstance(answer.result, ESignReceipt)
            assert sandbox.state(answer.receipt_id).state is SignState.PENDING
        await client.get_esign_state(sandbox.client_code, receipt_id)  # and works on


async def test_cancelling_one_of_many_waiters_for_a_token_cancels_nothing_else() -> None:
    sandbox = Sandbox(sign_after=None)
    async with sandbox, sandbox.client() as setup, sandbox.client() as client:
        code = sandbox.client_code
        receipt = await setup.request_esign(code, make_request())
        sandbox.faults.add(Fault(action="delay", seconds=0.2, endpoints=["token"], times=1))
        calls = [asyncio.ensure_future(client.get_esign_state(code, receipt.receipt_id))]
        calls += [asyncio.ensure_future(client.get_esign_state(code, receipt.receipt_id))]
        await asyncio.sleep(0.05)
        calls[0].cancel()
        status = await calls[1]
        assert calls[0].cancelled()
    assert status.state is SignState.PENDING
    assert sandbox.stats["token"] == 2  # the setup client's, and the one shared


async def test_closing_the_client_closes_its_connections() -> None:
    sandbox = Sandbox(sign_after=0)
    with sandbox.serve_in_thread() as url:
        client = served_client(sandbox, url)
        async with client:
            receipt = await client.request_esign(sandbox.client_code, make_request())
            await client.await_signed(sandbox.client_code, receipt, interval=0.01)
            await client.verify_esign(sandbox.client_code, receipt.receipt_id)
            connector = client._backend._connector  # type: ignore[attr-defined]
            assert connector._conns  # idle keep-alive connections, ready for reuse
        assert connector.closed
        assert not connector._conns


async def test_flows_leave_no_resource_warning() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sandbox = Sandbox(sign_after=0)
        with sandbox.serve_in_thread() as url:
            for _ in range(3):
                async with served_client(sandbox, url) as client:
                    receipt = await client.request_esign(sandbox.client_code, make_request())
                    await client.await_signed(sandbox.client_code, receipt)
        async with sandbox, sandbox.client() as client:
            await client.request_esign(sandbox.client_code, make_request())
        del client, sandbox
        gc.collect()
    assert [str(w.message) for w in caught] == []
