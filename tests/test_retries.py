"""Which failures each operation repeats, and how often."""

from __future__ import annotations

import attrs
import httpx
import pytest

from kakaocert_async import APIError, Client, RequestNotSent, TransportError, set_testing
from kakaocert_async._http import MAX_RETRY_AFTER, ONE_SHOT, SAFE_TO_REPEAT
from tests._support import (
    CLIENT_CODE,
    LINK_ID,
    RECEIPT_ID,
    SECRET_KEY,
    Service,
    make_request,
    status_json,
)

OK_STATUS = httpx.Response(200, json=status_json(0))
OK_RECEIPT = httpx.Response(200, json={"receiptId": RECEIPT_ID, "tx_id": None})
HTML_503 = httpx.Response(503, text="<html><h1>503 Service Unavailable</h1></html>")


@pytest.mark.parametrize(
    "failure",
    [
        HTML_503,
        httpx.Response(500, json={"code": -99999999, "message": "내부 오류"}),
        httpx.Response(429, headers={"Retry-After": "0"}),
        httpx.Response(502),
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("peer closed connection"),
    ],
)
async def test_state_repeats_passing_failures(
    client: Client, service: Service, failure: httpx.Response | Exception
) -> None:
    service.status.side_effect = [failure, failure, OK_STATUS]
    status = await client.get_esign_state(CLIENT_CODE, RECEIPT_ID)
    assert status.receipt_id == RECEIPT_ID
    assert service.status.call_count == 3


async def test_state_gives_up_after_five_attempts(client: Client, service: Service) -> None:
    service.status.side_effect = [HTML_503] * 10
    with pytest.raises(APIError) as caught:
        await client.get_esign_state(CLIENT_CODE, RECEIPT_ID)
    assert caught.value.http_status == 503
    assert service.status.call_count == 5


async def test_state_does_not_repeat_a_client_error(client: Client, service: Service) -> None:
    service.status.respond(400, json={"code": -11000001, "message": "잘못된 요청"})
    with pytest.raises(APIError):
        await client.get_esign_state(CLIENT_CODE, RECEIPT_ID)
    assert service.status.call_count == 1


async def test_a_long_retry_after_is_not_waited_out(client: Client, service: Service) -> None:
    service.status.respond(503, headers={"Retry-After": "3600"})
    with pytest.raises(APIError) as caught:
        await client.get_esign_state(CLIENT_CODE, RECEIPT_ID)
    assert caught.value.retry_after == 3600
    assert service.status.call_count == 1


@pytest.mark.parametrize(
    "failure",
    [
        HTML_503,
        httpx.Response(500),
        httpx.Response(429, headers={"Retry-After": "0"}),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
    ],
)
async def test_request_is_never_repeated_once_it_may_have_arrived(
    client: Client, service: Service, failure: httpx.Response | Exception
) -> None:
    service.request.side_effect = [failure, OK_RECEIPT]
    with pytest.raises((APIError, TransportError)):
        await client.request_esign(CLIENT_CODE, make_request())
    assert service.request.call_count == 1


@pytest.mark.parametrize("failure", [httpx.ConnectError("refused"), httpx.ConnectTimeout("dns")])
async def test_request_is_repeated_when_it_never_left(
    client: Client, service: Service, failure: Exception
) -> None:
    service.request.side_effect = [failure, OK_RECEIPT]
    receipt = await client.request_esign(CLIENT_CODE, make_request())
    assert receipt.receipt_id == RECEIPT_ID
    assert service.request.call_count == 2


async def test_request_that_never_connects_says_so(client: Client, service: Service) -> None:
    service.request.side_effect = httpx.ConnectError("refused")
    with pytest.raises(RequestNotSent, match="not sent"):
        await client.request_esign(CLIENT_CODE, make_request())
    assert service.request.call_count == 5  # UNSENT_ONLY: five attempts, all refused


@pytest.mark.parametrize("failure", [HTML_503, httpx.ReadTimeout("slow")])
async def test_a_verify_that_may_have_been_sent_is_never_repeated(
    client: Client, service: Service, failure: httpx.Response | Exception
) -> None:
    service.verify.side_effect = [
        failure,
        httpx.Response(200, json={"receiptId": "1", "signedData": "x"}),
    ]
    with pytest.raises((APIError, TransportError)):
        await client.verify_esign(CLIENT_CODE, RECEIPT_ID)
    assert service.verify.call_count == 1


async def test_token_and_clock_requests_repeat_passing_failures(
    client: Client, service: Service
) -> None:
    service.time.side_effect = [HTML_503, httpx.ReadTimeout("slow"), service.time.side_effect]
    token = service.token.side_effect
    service.token.side_effect = [httpx.ConnectError("refused"), httpx.Response(502), token]
    await client.request_esign(CLIENT_CODE, make_request())
    assert service.time.call_count == 3
    assert service.token.call_count == 3
    assert service.request.call_count == 1


async def test_the_longest_verify_counts_every_exchange_and_wait() -> None:
    # Up to 5 attempts and a pass for each 401 remedy (a new token, a fresh clock), each
    # pass up to 3 exchanges of `timeout` (the clock read dating the token request, the
    # token request, the verify), 4 for a POST (its own date); the backoff between attempts.
    async with Client(LINK_ID, SECRET_KEY, timeout=10) as client:
        session = client._session
        with set_testing(False):
            assert ONE_SHOT.longest_waits() == pytest.approx(0.2 + 0.3 + 0.5 + 0.9)
            assert SAFE_TO_REPEAT.longest_waits() == 4 * MAX_RETRY_AFTER  # a Retry-After
            assert client._longest_verify() == pytest.approx(7 * 3 * 10 + 1.9)
            assert session.longest_call(ONE_SHOT, signed=True) == pytest.approx(7 * 4 * 10 + 1.9)
            once = attrs.evolve(ONE_SHOT, attempts=1)
            assert session.longest_call(once, signed=False) == 3 * 3 * 10
        assert client._longest_verify() == 7 * 3 * 10  # set_testing: no waits
