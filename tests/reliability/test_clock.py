"""The clock: a host minutes off the service's still works, and /Time is read rarely.

With ``use_server_time=True`` (the default) the offset from ``GET /Time`` is read
once and kept, and read again when the service rejects a date. With ``False``, a
rejected date says so and names the option.
"""

from __future__ import annotations

import pytest

from kakaocert_async import APIError, SignState
from kakaocert_async.sandbox import Rejection, Sandbox
from tests._support import make_request
from tests.sandbox._raw import FakeClock

MINUTES_OFF = [-600.0, -301.0, 301.0, 600.0]
"""The sandbox's clock against this host's: all beyond its 300 s tolerance."""


@pytest.mark.parametrize("offset", MINUTES_OFF)
async def test_a_host_minutes_off_works_and_reads_the_time_once(offset: float) -> None:
    sandbox = Sandbox(clock_offset=offset, sign_after=0.2)
    async with sandbox, sandbox.client() as client:
        code = sandbox.client_code
        for app_to_app in (False, True):
            receipt = await client.request_esign(code, make_request(), app_to_app)
            status = await client.await_signed(code, receipt.receipt_id, interval=0.05)
            assert status.state is SignState.SIGNED
            signature = sandbox.signature(receipt.receipt_id) if app_to_app else None
            await client.verify_esign(code, receipt.receipt_id, signature)
        for _ in range(20):
            await client.get_esign_state(code, receipt.receipt_id)
        for _ in range(5):
            await client.request_esign(code, make_request())
    assert sandbox.stats["time"] == 1
    assert sandbox.stats["token"] == 1
    assert sandbox.stats["request"] == 7


@pytest.mark.parametrize("offset", [-600.0, 600.0])
async def test_without_server_time_a_rejected_date_names_the_option(offset: float) -> None:
    sandbox = Sandbox(sign_after=None, clock_offset=offset)
    async with sandbox, sandbox.client(use_server_time=False) as client:
        # The first thing a call needs is a token, and its date is the first refused.
        with pytest.raises(APIError) as refused:
            await client.get_esign_state(sandbox.client_code, "1")
    error = refused.value
    assert error.code == Rejection.DATE_SKEWED.code
    assert error.http_status == 401
    direction = "behind" if offset > 0 else "ahead of"
    assert f"the local clock is {abs(offset):.0f} s {direction} the auth server's" in str(error)
    assert "use_server_time=True" in str(error)
    assert sandbox.stats["token"] == 1  # not repeated: the date would be refused again
    assert sandbox.stats["time"] == 1  # read once, to explain


async def test_without_server_time_a_signed_call_with_a_rejected_date_names_the_option() -> None:
    clock = FakeClock()
    sandbox = Sandbox(sign_after=None, clock=clock)
    async with sandbox, sandbox.client(use_server_time=False) as client:
        receipt = await client.request_esign(sandbox.client_code, make_request())
        clock.advance(400)  # the service's clock jumps; the token stays good
        with pytest.raises(APIError) as refused:
            await client.request_esign(sandbox.client_code, make_request())
    assert refused.value.code == Rejection.DATE_SKEWED.code
    assert "use_server_time=True" in str(refused.value)
    assert receipt.receipt_id
    assert len(sandbox.service) == 1


async def test_without_server_time_a_good_clock_needs_no_time_read() -> None:
    sandbox = Sandbox(sign_after=0)
    async with sandbox, sandbox.client(use_server_time=False) as client:
        receipt = await client.request_esign(sandbox.client_code, make_request())
        await client.await_signed(sandbox.client_code, receipt.receipt_id, interval=0.05)
        await client.verify_esign(sandbox.client_code, receipt.receipt_id)
    assert sandbox.stats["time"] == 0


async def test_a_rejected_date_on_a_signed_call_reads_the_clock_again() -> None:
    clock = FakeClock()
    sandbox = Sandbox(sign_after=None, clock=clock)
    async with sandbox, sandbox.client() as client:
        await client.request_esign(sandbox.client_code, make_request())
        clock.advance(400)  # the service's clock jumps past the tolerance
        receipt = await client.request_esign(sandbox.client_code, make_request())
    assert receipt.receipt_id
    assert sandbox.stats["time"] == 2  # once at the start, once after the refusal
    assert sandbox.stats["request"] == 3  # the second was refused, then repeated
    assert len(sandbox.service) == 2


async def test_a_rejected_date_on_a_token_request_reads_the_clock_again() -> None:
    clock = FakeClock()
    sandbox = Sandbox(sign_after=None, clock=clock)
    async with sandbox, sandbox.client() as client:
        receipt = await client.request_esign(sandbox.client_code, make_request())
        sandbox.revoke_tokens()
        clock.advance(400)
        # A state read carries no date, but the new token it needs does.
        status = await client.get_esign_state(sandbox.client_code, receipt.receipt_id)
    assert status.receipt_id == receipt.receipt_id
    assert sandbox.stats["time"] == 2
    assert sandbox.stats["token"] == 3  # the first; the renewal refused for its date; again
    assert sandbox.stats["status"] == 2  # refused for the revoked token, then repeated


async def test_the_offset_is_not_read_per_call() -> None:
    sandbox = Sandbox(sign_after=None, clock_offset=120)
    async with sandbox, sandbox.client() as client:
        for _ in range(50):
            await client.request_esign(sandbox.client_code, make_request())
    assert sandbox.stats["time"] == 1
    assert sandbox.stats["request"] == 50
