"""The clock: a host minutes off the service's still works, and /Time is read rarely.

With ``use_server_time=True`` (the default) the offset from ``GET /Time`` is read
once and kept, and read again when the service rejects a date. With ``False``, a
rejected date says so and names the option.
"""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest

import kakaocert_async
from kakaocert_async import APIError, Client, SignState, _http
from kakaocert_async.sandbox import Rejection, Sandbox
from tests._support import CLIENT_CODE, LINK_ID, RECEIPT_ID, SECRET_KEY, Service, make_request
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
            status = await client.await_signed(code, receipt, interval=0.05)
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
        await client.await_signed(sandbox.client_code, receipt, interval=0.05)
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


# Retry-After dates, by the server's clock -----------------------------------------------


def _http_date(seconds: float) -> str:
    return email.utils.formatdate(seconds, usegmt=True)


@pytest.mark.parametrize("dated", [True, False], ids=["with its Date", "by the clock offset"])
async def test_a_retry_after_date_is_read_by_the_servers_clock(
    service: Service, dated: bool
) -> None:
    # This host is five minutes behind the service; the service asks for a retry in 2 s,
    # as an HTTP date by its own clock. That is 2 s, not 302 s (which, past the 30 s a
    # call waits out, would have ended the call at once).
    service.server_offset = 300.0

    def busy(request: httpx.Request) -> httpx.Response:
        server_now = time.time() + service.server_offset
        headers = {"Retry-After": _http_date(server_now + 2)}
        if dated:
            headers["Date"] = _http_date(server_now)
        return httpx.Response(503, headers=headers, text="busy")

    service.status.side_effect = busy
    async with Client(LINK_ID, SECRET_KEY) as client:
        with kakaocert_async.set_testing(True), pytest.raises(APIError) as busy_error:
            await client.get_esign_state(CLIENT_CODE, RECEIPT_ID)
    # HTTP dates have whole seconds: 2 s, give or take the one second each of the two
    # readings of the server's clock may have lost. Never 302 s.
    assert busy_error.value.retry_after is not None
    assert 0.5 <= busy_error.value.retry_after <= 4.0
    assert service.status.call_count == 5  # waited out and tried again, all five times


@pytest.mark.parametrize(
    ("value", "now", "seconds"),
    [
        ("Sun, 06 Dec 2026 15:00:02 GMT", 1796569200.0, 2.0),  # 15:00:00 by the server
        ("Sun, 06 Dec 2026 14:59:00 GMT", 1796569200.0, 0.0),  # in the past: at once
        ("7", 0.0, 7.0),
    ],
)
def test_retry_after_dates_are_measured_from_the_time_given(
    value: str, now: float, seconds: float
) -> None:
    assert _http.parse_retry_after(value, now=now) == seconds
