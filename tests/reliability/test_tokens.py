"""Session tokens: renewed before they expire, and once (for everybody) when refused.

A 401 for an unknown or expired token drops that token, fetches one new token,
shared by every caller that saw the refusal, and repeats the call once.
"""

from __future__ import annotations

import asyncio

import pytest

from kakaocert_async import APIError, SignState
from kakaocert_async.sandbox import Fault, Sandbox
from tests._support import make_request
from tests.reliability._helpers import tapped_client
from tests.sandbox._raw import FakeClock


async def test_a_revoked_token_is_replaced_and_the_call_repeated_once() -> None:
    sandbox = Sandbox(sign_after=None)
    client, tap = tapped_client(sandbox)
    async with sandbox, client:
        receipt = await client.request_esign(sandbox.client_code, make_request())
        assert sandbox.revoke_tokens() == 1
        sandbox.reset_stats()
        status = await client.get_esign_state(sandbox.client_code, receipt.receipt_id)
    assert status.state is SignState.PENDING
    assert sandbox.stats["status"] == 2  # refused, then repeated
    assert sandbox.stats["token"] == 1
    assert tap.count("status", 401) == 1


async def test_a_refused_request_is_repeated_once_with_a_new_token() -> None:
    sandbox = Sandbox(sign_after=None)
    async with sandbox, sandbox.client() as client:
        await client.request_esign(sandbox.client_code, make_request())
        sandbox.revoke_tokens()
        sandbox.reset_stats()
        await client.request_esign(sandbox.client_code, make_request())
    # The refused one changed nothing (a 401 comes before anything is done): one
    # message went out for each call.
    assert len(sandbox.service) == 2
    assert sandbox.stats["request"] == 2
    assert sandbox.stats["token"] == 1


async def test_a_token_refused_twice_is_an_error_not_a_loop() -> None:
    sandbox = Sandbox(sign_after=None)
    async with sandbox, sandbox.client() as client:
        receipt = await client.request_esign(sandbox.client_code, make_request())
        sandbox.reset_stats()
        sandbox.faults.add(Fault(action="error", endpoints=["status"], status=401, body="json"))
        with pytest.raises(APIError) as refused:
            await client.get_esign_state(sandbox.client_code, receipt.receipt_id)
    assert refused.value.http_status == 401
    assert sandbox.stats["status"] == 2
    assert sandbox.stats["token"] == 1


async def test_1000_concurrent_calls_refused_for_their_token_cause_one_token_request() -> None:
    sandbox = Sandbox(sign_after=None)
    client, tap = tapped_client(sandbox)
    async with sandbox, client:
        code = sandbox.client_code
        receipt = await client.request_esign(code, make_request())
        # The service drops every token; the client does not know yet. A short
        # delay keeps all thousand calls in flight together with the old token.
        sandbox.revoke_tokens()
        sandbox.faults.add(Fault(action="delay", seconds=0.05, endpoints=["status"]))
        sandbox.reset_stats()
        states = await asyncio.gather(
            *(client.get_esign_state(code, receipt.receipt_id) for _ in range(1000))
        )
    assert {s.state for s in states} == {SignState.PENDING}
    assert tap.count("status", 401) == 1000  # every one of them was refused ...
    assert sandbox.stats["token"] == 1  # ... and one token request served them all
    assert sandbox.stats["status"] == 2000


async def test_1000_concurrent_signed_calls_refused_cause_one_token_and_one_clock_read() -> None:
    sandbox = Sandbox(sign_after=None)
    client, tap = tapped_client(sandbox)
    async with sandbox, client:
        code = sandbox.client_code
        await client.request_esign(code, make_request())
        sandbox.revoke_tokens()
        sandbox.faults.add(Fault(action="delay", seconds=0.05, endpoints=["request"]))
        sandbox.reset_stats()
        receipts = await asyncio.gather(
            *(client.request_esign(code, make_request()) for _ in range(1000))
        )
    assert len({r.receipt_id for r in receipts}) == 1000
    assert tap.count("request", 401) == 1000
    assert sandbox.stats["token"] == 1
    # A refused signed call may have had its date refused: the clock is read
    # again, once for all of them.
    assert sandbox.stats["time"] == 1
    assert len(sandbox.service) == 1 + 1000


async def test_a_two_second_token_over_a_five_second_wait() -> None:
    sandbox = Sandbox(token_ttl=2, sign_after=5.0)
    client, tap = tapped_client(sandbox)
    async with sandbox, client:
        receipt = await client.request_esign(sandbox.client_code, make_request())
        status = await client.await_signed(sandbox.client_code, receipt, interval=0.25)
    assert status.state is SignState.SIGNED
    polls = sandbox.stats["status"]
    tokens = sandbox.stats["token"]
    assert polls >= 5 / 0.25 - 2
    # Renewed ahead of expiry (tokens last 1 to 2 s: their expiry is cut to the
    # whole second, and renewed halfway), not once per poll ...
    assert 3 <= tokens <= 5 / 0.5 + 2
    assert tokens < polls / 2
    # ... and never used past it.
    assert tap.count("status", 401) == 0


async def test_an_expired_token_is_refused_and_replaced() -> None:
    clock = FakeClock()
    sandbox = Sandbox(sign_after=None, clock=clock, token_ttl=60)
    client, tap = tapped_client(sandbox)
    async with sandbox, client:
        receipt = await client.request_esign(sandbox.client_code, make_request())
        clock.advance(90)  # the service's clock says the token expired; the client's does not
        status = await client.get_esign_state(sandbox.client_code, receipt.receipt_id)
    assert status.state is SignState.PENDING
    assert tap.count("status", 401) == 1
    assert sandbox.stats["token"] == 2


async def test_tokens_can_be_revoked_over_the_control_api() -> None:
    sandbox = Sandbox(sign_after=None)
    async with sandbox, sandbox.client() as client, sandbox.http_client() as control:
        receipt = await client.request_esign(sandbox.client_code, make_request())
        revoked = await control.delete("/_sandbox/tokens")
        await client.get_esign_state(sandbox.client_code, receipt.receipt_id)
        again = await control.delete("/_sandbox/tokens")
    assert revoked.json() == {"revoked": 1}
    assert again.json() == {"revoked": 1}  # the one the client renewed
    assert sandbox.stats["token"] == 2
    assert sandbox.stats["status"] == 2
