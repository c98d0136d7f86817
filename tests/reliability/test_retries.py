"""Retries by policy, end to end against the sandbox, proven by counts.

State and token reads repeat connect errors, timeouts, 429 and 5xx (HTML and empty
bodies included) with backoff; await_signed rides out outages until its deadline;
request_esign is repeated only when it provably never left.
"""

from __future__ import annotations

import socket
import time

import pytest

from kakaocert_async import (
    APIError,
    Client,
    ESignReceipt,
    KakaocertError,
    RequestNotSent,
    ServiceUnreachable,
    SignState,
    TransportError,
)
from kakaocert_async.sandbox import Fault, Sandbox
from tests._support import make_request
from tests.reliability._helpers import retries_seen, served_client, struck, tapped_client

# What a flaky gateway or network does to a call, as sandbox faults.
PASSING_FAILURES = {
    "503-html": Fault(action="error", status=503, body="html"),
    "502-empty": Fault(action="error", status=502, body="empty"),
    "500-json": Fault(action="error", status=500, body="json"),
    "429-retry-after-0": Fault(action="error", status=429, body="json", retry_after=0),
    "reset": Fault(action="drop"),
}


def _on(fault: Fault, endpoint: str, **changes: object) -> Fault:
    data = fault.to_dict()
    data.pop("action")
    data.update(endpoints=[endpoint], **changes)
    return Fault.from_options(fault.action, data)


# get_esign_state ---------------------------------------------------------------------


@pytest.mark.parametrize("failure", PASSING_FAILURES.values(), ids=PASSING_FAILURES.keys())
async def test_a_state_read_repeats_passing_failures(failure: Fault) -> None:
    sandbox = Sandbox(sign_after=None)
    async with sandbox, sandbox.client() as client:
        receipt = await client.request_esign(sandbox.client_code, make_request())
        sandbox.faults.add(_on(failure, "status", times=3))
        status = await client.get_esign_state(sandbox.client_code, receipt.receipt_id)
    assert status.state is SignState.PENDING
    assert sandbox.stats["status"] == 4  # three failures, then the answer


async def test_a_state_read_gives_up_after_five_attempts() -> None:
    sandbox = Sandbox(sign_after=None)
    async with sandbox, sandbox.client() as client:
        receipt = await client.request_esign(sandbox.client_code, make_request())
        sandbox.faults.add(Fault(action="error", endpoints=["status"]))
        with pytest.raises(APIError) as failed:
            await client.get_esign_state(sandbox.client_code, receipt.receipt_id)
    assert failed.value.http_status == 503
    assert "<html>" in failed.value.message  # the gateway's page is quoted, not parsed
    assert sandbox.stats["status"] == 5


async def test_a_state_read_times_out_and_repeats(real_backoff: None) -> None:
    sandbox = Sandbox(sign_after=None)
    with sandbox.serve_in_thread() as url:
        async with served_client(sandbox, url, timeout=0.2) as client:
            receipt = await client.request_esign(sandbox.client_code, make_request())
            sandbox.faults.add(Fault(action="delay", seconds=0.5, endpoints=["status"], times=2))
            status = await client.get_esign_state(sandbox.client_code, receipt.receipt_id)
    assert status.state is SignState.PENDING
    assert sandbox.stats["status"] == 3


async def test_retry_after_is_honoured(real_backoff: None) -> None:
    sandbox = Sandbox(sign_after=None)
    async with sandbox, sandbox.client() as client:
        receipt = await client.request_esign(sandbox.client_code, make_request())
        sandbox.faults.add(Fault(action="error", endpoints=["status"], retry_after=1, times=1))
        with retries_seen() as retries:
            await client.get_esign_state(sandbox.client_code, receipt.receipt_id)
    assert [r.wait for r in retries] == [1.0]
    assert sandbox.stats["status"] == 2


async def test_backoff_is_exponential_with_jitter(real_backoff: None) -> None:
    sandbox = Sandbox(sign_after=None)
    async with sandbox, sandbox.client() as client:
        receipt = await client.request_esign(sandbox.client_code, make_request())
        sandbox.faults.add(Fault(action="error", endpoints=["status"], times=3, body="empty"))
        with retries_seen() as retries:
            await client.get_esign_state(sandbox.client_code, receipt.receipt_id)
    waits = [r.wait for r in retries]
    assert len(waits) == 3
    for number, wait in enumerate(waits):
        assert 0.1 * 2**number <= wait <= 0.1 * 2**number + 0.1  # wait_initial 0.1, jitter 0.1


# Token and clock reads -------------------------------------------------------------------


@pytest.mark.parametrize("failure", PASSING_FAILURES.values(), ids=PASSING_FAILURES.keys())
@pytest.mark.parametrize("endpoint", ["token", "time"])
async def test_token_and_clock_reads_repeat_passing_failures(endpoint: str, failure: Fault) -> None:
    sandbox = Sandbox(sign_after=None)
    sandbox.faults.add(_on(failure, endpoint, times=2))
    async with sandbox, sandbox.client() as client:
        receipt = await client.request_esign(sandbox.client_code, make_request())
    assert receipt.receipt_id
    assert sandbox.stats[endpoint] == 3
    assert sandbox.stats["request"] == 1


# await_signed ------------------------------------------------------------------------


async def test_await_signed_with_one_state_read_in_three_failing(real_backoff: None) -> None:
    sandbox = Sandbox(sign_after=1.0)
    fault = sandbox.faults.add(Fault(action="error", endpoints=["status"], every=3))
    async with sandbox, sandbox.client() as client:
        receipt = await client.request_esign(sandbox.client_code, make_request())
        status = await client.await_signed(sandbox.client_code, receipt, interval=0.1)
    assert status.state is SignState.SIGNED
    failed = struck(sandbox, fault)
    assert failed >= 3
    assert sandbox.stats["status"] >= 3 * failed  # every third read failed, and was repeated


async def test_await_signed_rides_out_two_seconds_of_failing_state_reads(
    real_backoff: None,
) -> None:
    sandbox = Sandbox(sign_after=3.0)
    fault = sandbox.faults.add(Fault(action="error", endpoints=["status"], window=(0.5, 2.5)))
    async with sandbox, sandbox.client() as client:
        receipt = await client.request_esign(sandbox.client_code, make_request())
        status = await client.await_signed(sandbox.client_code, receipt, interval=0.2)
    assert status.state is SignState.SIGNED
    failed = struck(sandbox, fault)
    # Two seconds of failures, retried with backoff (0.1 s, doubling, at most the
    # interval): a dozen or so attempts, neither none nor a flood.
    assert 5 <= failed <= 25
    assert sandbox.stats["status"] - failed <= 3.0 / 0.2 + 2


async def test_await_signed_rides_out_an_auth_outage_with_a_token_renewal_due(
    real_backoff: None,
) -> None:
    # The token lives a second or two, so it is renewed during the wait, while the
    # next six token requests fail: more than one renewal's five attempts, so one
    # renewal gives up. That is a missed poll, and the wait goes on.
    sandbox = Sandbox(sign_after=1.0, token_ttl=2)
    async with sandbox, sandbox.client() as client:
        receipt = await client.request_esign(sandbox.client_code, make_request())
        sandbox.faults.add(Fault(action="error", endpoints=["token"], times=6, status=502))
        status = await client.await_signed(sandbox.client_code, receipt, interval=0.2)
    assert status.state is SignState.SIGNED
    assert len(sandbox.faults) == 0  # all six failures happened
    # The first token, six failed renewals, the one that worked (and perhaps the next).
    assert 8 <= sandbox.stats["token"] <= 9


async def test_await_signed_never_sleeps_past_its_deadline(real_backoff: None) -> None:
    sandbox = Sandbox(sign_after=None)
    async with sandbox, sandbox.client() as client:
        receipt = await client.request_esign(sandbox.client_code, make_request())
        sandbox.faults.add(Fault(action="error", endpoints=["status"]))
        deadline = time.monotonic() + 0.6
        with retries_seen() as retries, pytest.raises(ServiceUnreachable) as unreachable:
            await client.await_signed(sandbox.client_code, receipt, timeout=0.6, interval=1.0)
    assert len(retries) >= 3  # the poll was retried ...
    assert max(r.ends for r in retries) <= deadline + 0.05  # ... but never waited past the deadline
    error = unreachable.value  # no state was ever read
    assert isinstance(error.__cause__, APIError)
    assert error.last_error is error.__cause__
    assert error.__cause__.http_status == 503
    assert error.receipt_id == receipt.receipt_id
    assert "the service was unreachable: no state could be read" in error.message


async def test_a_retry_after_past_the_deadline_is_not_waited_out(real_backoff: None) -> None:
    sandbox = Sandbox(sign_after=None)
    async with sandbox, sandbox.client() as client:
        receipt = await client.request_esign(sandbox.client_code, make_request())
        status = await client.get_esign_state(sandbox.client_code, receipt.receipt_id)
        sandbox.reset_stats()
        sandbox.faults.add(Fault(action="error", endpoints=["status"], retry_after=30))
        with pytest.raises(ServiceUnreachable) as unreachable:
            await client.await_signed(sandbox.client_code, receipt, timeout=0.5, interval=0.1)
    # Asked to come back in 30 s, the wait polls once more at its deadline, not before.
    assert sandbox.stats["status"] == 2
    cause = unreachable.value.__cause__
    assert isinstance(cause, APIError)
    assert cause.retry_after == 30
    assert status.state is SignState.PENDING


async def test_await_signed_still_stops_on_an_error_that_will_not_pass() -> None:
    sandbox = Sandbox(sign_after=None)
    async with sandbox, sandbox.client() as client:
        with pytest.raises(APIError) as refused:
            await client.await_signed(
                sandbox.client_code, ESignReceipt(receipt_id="1234"), timeout=5, interval=0.1
            )
    assert refused.value.http_status == 404
    assert sandbox.stats["status"] == 1


# request_esign -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "failure",
    [
        *PASSING_FAILURES.values(),
        Fault(action="error", status=504, processed=True),  # the gateway gave up; it went out
    ],
    ids=[*PASSING_FAILURES.keys(), "504-after-processing"],
)
async def test_a_request_that_may_have_arrived_is_sent_exactly_once(failure: Fault) -> None:
    sandbox = Sandbox(sign_after=None)
    async with sandbox, sandbox.client() as client:
        sandbox.faults.add(_on(failure, "request"))
        with pytest.raises((APIError, TransportError)) as failed:
            await client.request_esign(sandbox.client_code, make_request())
    assert not isinstance(failed.value, RequestNotSent)
    assert sandbox.stats["request"] == 1
    assert len(sandbox.service) == (1 if failure.processed else 0)


async def test_a_request_that_timed_out_is_sent_exactly_once(real_backoff: None) -> None:
    sandbox = Sandbox(sign_after=None)
    with sandbox.serve_in_thread() as url:
        async with served_client(sandbox, url, timeout=0.2) as client:
            sandbox.faults.add(Fault(action="delay", seconds=0.5, endpoints=["request"]))
            with pytest.raises(TransportError, match="timed out") as failed:
                await client.request_esign(sandbox.client_code, make_request())
    assert not isinstance(failed.value, RequestNotSent)
    assert sandbox.stats["request"] == 1


async def test_a_request_whose_connection_is_refused_is_sent_again() -> None:
    sandbox = Sandbox(sign_after=None)
    client, tap = tapped_client(sandbox)
    tap.refuse["request"] = 2
    async with sandbox, client:
        receipt = await client.request_esign(sandbox.client_code, make_request())
    assert receipt.receipt_id
    assert tap.refused == ["request", "request"]
    assert sandbox.stats["request"] == 1
    assert len(sandbox.service) == 1


async def test_a_request_to_a_closed_port_says_it_was_not_sent() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    sandbox = Sandbox(sign_after=None)
    with sandbox.serve_in_thread() as url:
        async with Client(
            sandbox.link_id, sandbox.secret_key, base_url=closed, auth_url=url
        ) as client:
            with pytest.raises(RequestNotSent, match="not sent") as failed:
                await client.request_esign(sandbox.client_code, make_request())
    assert isinstance(failed.value, KakaocertError)
    assert sandbox.stats["token"] == 1  # the auth side was reached; the API never was
    assert sandbox.stats["request"] == 0
