"""Session tokens, the server clock and the token request itself."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import time

import httpx
import pytest

from kakaocert_async import APIError, Client, _signing
from kakaocert_async._auth import SWEEP_FLOOR, ServerClock, TokenCache, format_date
from kakaocert_async._models import TokenGrant
from kakaocert_async._secret import Secret
from tests._support import (
    CLIENT_CODE,
    KEY,
    LINK_ID,
    RECEIPT_ID,
    SECRET_KEY,
    Service,
    make_request,
    status_json,
)

OTHER_CODE = "020040000002"


def utc_seconds(text: str) -> float:
    """A date header, in the form of the auth server's ``/Time`` answer (milliseconds
    included), as the official SDKs send it."""
    assert re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z", text)
    parsed = dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    return parsed.replace(tzinfo=dt.timezone.utc).timestamp()


# The token request on the wire ---------------------------------------------------


async def test_token_request_is_signed_as_the_protocol_says(
    client: Client, service: Service
) -> None:
    await client.get_esign_state(CLIENT_CODE, RECEIPT_ID)

    sent = service.token.calls.last.request
    assert sent.url == "https://auth.linkhub.co.kr/KAKAOCERT/Token"
    assert json.loads(sent.content) == {
        "access_id": CLIENT_CODE,
        "scope": ["member", "310", "320", "330"],
    }
    assert sent.headers["x-lh-version"] == "2.0"
    assert sent.headers["Content-Type"] == "application/json"
    assert "x-lh-forwarded" not in sent.headers
    scheme, link_id, signature = sent.headers["Authorization"].split(" ")
    assert (scheme, link_id) == ("LINKHUB", LINK_ID)
    target = _signing.token_target(sent.content, sent.headers["x-lh-date"])
    assert signature == _signing.hmac_b64(KEY, target)


async def test_without_ip_restriction_the_forwarded_header_is_sent_and_signed(
    service: Service,
) -> None:
    async with Client(LINK_ID, SECRET_KEY, ip_restrict=False) as client:
        await client.get_esign_state(CLIENT_CODE, RECEIPT_ID)
    sent = service.token.calls.last.request
    assert sent.headers["x-lh-forwarded"] == "*"
    target = _signing.token_target(sent.content, sent.headers["x-lh-date"], forwarded="*")
    assert sent.headers["Authorization"].split(" ")[2] == _signing.hmac_b64(KEY, target)


async def test_a_refused_token_request_is_an_api_error(client: Client, service: Service) -> None:
    service.token.side_effect = None
    service.token.respond(
        401, json={"code": -99999990, "message": "인증 정보가 올바르지 않습니다."}
    )
    with pytest.raises(APIError) as caught:
        await client.get_esign_state(CLIENT_CODE, RECEIPT_ID)
    assert (caught.value.code, caught.value.http_status) == (-99999990, 401)
    assert service.status.call_count == 0


async def test_a_token_refused_for_its_date_reads_the_clock_again(
    client: Client, service: Service
) -> None:
    await client.get_esign_state(CLIENT_CODE, RECEIPT_ID)
    token = service.token.side_effect
    refused = httpx.Response(
        401, json={"code": -11000004, "message": "요청 시간이 올바르지 않습니다."}
    )
    service.token.side_effect = [refused, token]

    await client.get_esign_state(OTHER_CODE, RECEIPT_ID)

    assert service.time.call_count == 2
    assert service.token.call_count == 3


# Caching and single flight ------------------------------------------------------------


async def test_the_token_is_cached_per_client_code(client: Client, service: Service) -> None:
    for _ in range(5):
        await client.get_esign_state(CLIENT_CODE, RECEIPT_ID)
    await client.get_esign_state(OTHER_CODE, RECEIPT_ID)
    await client.get_esign_state(OTHER_CODE, RECEIPT_ID)

    assert service.token.call_count == 2
    codes = [json.loads(call.request.content)["access_id"] for call in service.token.calls]
    assert codes == [CLIENT_CODE, OTHER_CODE]
    bearers = [call.request.headers["Authorization"] for call in service.status.calls]
    assert bearers == ["Bearer session-token-1"] * 5 + ["Bearer session-token-2"] * 2


async def test_a_thousand_concurrent_first_calls_share_one_token_and_one_clock_read(
    client: Client, service: Service
) -> None:
    await asyncio.gather(*(client.get_esign_state(CLIENT_CODE, RECEIPT_ID) for _ in range(1000)))
    assert service.status.call_count == 1000
    assert service.token.call_count == 1
    assert service.time.call_count == 1


async def test_the_token_is_renewed_shortly_before_it_expires() -> None:
    now = [1000.0]
    grants = []

    async def grant(client_code: str) -> TokenGrant:
        grants.append(client_code)
        expires = dt.datetime.fromtimestamp(now[0] + 600, dt.timezone.utc)
        return TokenGrant(session_token=Secret(f"t{len(grants)}"), expiration=expires)

    clock = ServerClock(None, wall=lambda: now[0], monotonic=lambda: now[0])
    tokens = TokenCache(grant, clock, monotonic=lambda: now[0])

    assert (await tokens.token(CLIENT_CODE)).reveal() == "t1"
    now[0] += 539  # 61 s left: still good
    assert (await tokens.token(CLIENT_CODE)).reveal() == "t1"
    now[0] += 2  # 59 s left: inside the renewal margin
    assert (await tokens.token(CLIENT_CODE)).reveal() == "t2"
    assert grants == [CLIENT_CODE, CLIENT_CODE]


async def test_a_short_lived_token_is_renewed_at_half_its_life() -> None:
    now = [0.0]
    count = 0

    async def grant(client_code: str) -> TokenGrant:
        nonlocal count
        count += 1
        return TokenGrant(
            session_token=Secret(f"t{count}"),
            expiration=dt.datetime.fromtimestamp(now[0] + 2, dt.timezone.utc),
        )

    tokens = TokenCache(grant, ServerClock(None, wall=lambda: now[0]), monotonic=lambda: now[0])
    assert (await tokens.token(CLIENT_CODE)).reveal() == "t1"
    now[0] = 0.9
    assert (await tokens.token(CLIENT_CODE)).reveal() == "t1"
    now[0] = 1.1
    assert (await tokens.token(CLIENT_CODE)).reveal() == "t2"


async def test_expired_tokens_are_dropped_over_ten_thousand_client_codes() -> None:
    # A long-lived service with many sub-clients: each client code used once, a second
    # apart, its token good for 60 s. Only the live tokens are held, never all of them.
    now = [0.0]

    async def grant(client_code: str) -> TokenGrant:
        expires = dt.datetime.fromtimestamp(now[0] + 60, dt.timezone.utc)
        return TokenGrant(session_token=Secret(f"t-{client_code}"), expiration=expires)

    clock = ServerClock(None, wall=lambda: now[0], monotonic=lambda: now[0])
    tokens = TokenCache(grant, clock, monotonic=lambda: now[0])
    held = []
    for number in range(10_000):
        code = f"{number:012d}"
        assert (await tokens.token(code)).reveal() == f"t-{code}"
        held.append(len(tokens))
        now[0] += 1.0
    # At most about two sweeps' worth of tokens (60 live, the rest expired since).
    assert max(held) <= 2 * max(SWEEP_FLOOR, 2 * 60)
    # And a client code used again gets a fresh token.
    assert (await tokens.token(f"{0:012d}")).reveal() == f"t-{0:012d}"


async def test_expiration_is_read_by_the_server_clock() -> None:
    # The server's clock is an hour ahead; its token lives 600 s by its own clock.
    now = [5000.0]

    async def server_time() -> float:
        return now[0] + 3600

    async def grant(client_code: str) -> TokenGrant:
        expires = dt.datetime.fromtimestamp(now[0] + 3600 + 600, dt.timezone.utc)
        return TokenGrant(session_token=Secret("t"), expiration=expires)

    clock = ServerClock(server_time, wall=lambda: now[0], monotonic=lambda: now[0])
    tokens = TokenCache(grant, clock, monotonic=lambda: now[0])
    await tokens.token(CLIENT_CODE)
    assert clock.offset == pytest.approx(3600)
    assert 530 < tokens._tokens[CLIENT_CODE].renew_at - now[0] <= 540


async def test_a_401_drops_the_token_fetches_one_and_repeats_once(
    client: Client, service: Service
) -> None:
    await client.get_esign_state(CLIENT_CODE, RECEIPT_ID)
    refused = httpx.Response(401, json={"code": -99999970, "message": "토큰이 만료되었습니다."})
    service.status.side_effect = [
        refused,
        httpx.Response(200, json=status_json(0)),
    ]

    status = await client.get_esign_state(CLIENT_CODE, RECEIPT_ID)

    assert status.receipt_id == RECEIPT_ID
    assert service.token.call_count == 2
    bearers = [call.request.headers["Authorization"] for call in service.status.calls]
    assert bearers == ["Bearer session-token-1", "Bearer session-token-1", "Bearer session-token-2"]


async def test_a_second_401_is_raised(client: Client, service: Service) -> None:
    service.status.respond(401, json={"code": -99999970, "message": "토큰이 만료되었습니다."})
    with pytest.raises(APIError) as caught:
        await client.get_esign_state(CLIENT_CODE, RECEIPT_ID)
    assert caught.value.http_status == 401
    assert service.status.call_count == 2
    assert service.token.call_count == 2


async def test_a_refused_token_request_on_a_retry_is_not_taken_for_the_earlier_token(
    client: Client, service: Service
) -> None:
    """The first attempt's token meets a 503; by the retry it has lapsed, and the new
    token request is refused for its date. The remedy is the clock, read again once:
    not throwing away (and asking again for) a token this attempt never had."""
    tokens = client._session.tokens

    def gateway_down(request: httpx.Request) -> httpx.Response:
        tokens.discard(CLIENT_CODE, tokens._tokens[CLIENT_CODE].token)  # lapsed meanwhile
        return httpx.Response(503)

    service.status.side_effect = [gateway_down, httpx.Response(200, json=status_json(0))]
    refused = httpx.Response(
        401, json={"code": -99999980, "message": "요청 시간이 올바르지 않습니다."}
    )
    service.token.side_effect = [service._token, refused, service._token]

    status = await client.get_esign_state(CLIENT_CODE, RECEIPT_ID)

    assert status.receipt_id == RECEIPT_ID
    names = [call.request.url.path for call in service.router.calls]
    assert names == [
        "/Time",
        "/KAKAOCERT/Token",
        f"/SignToken/Status/{RECEIPT_ID}",
        "/KAKAOCERT/Token",
        "/Time",
        "/KAKAOCERT/Token",
        f"/SignToken/Status/{RECEIPT_ID}",
    ]


async def test_a_thousand_calls_refused_together_cause_one_renewal(service: Service) -> None:
    # A thousand calls in flight at once: as many connections as callers.
    client = Client(LINK_ID, SECRET_KEY, max_connections=1000)
    await client.get_esign_state(CLIENT_CODE, RECEIPT_ID)
    good = httpx.Response(200, json=status_json(0))
    all_sent = asyncio.Event()
    arrived = 0

    async def answer(request: httpx.Request) -> httpx.Response:
        nonlocal arrived
        if request.headers["Authorization"] != "Bearer session-token-1":
            return good
        # Hold every answer until all thousand calls used the old token.
        arrived += 1
        if arrived == 1000:
            all_sent.set()
        await all_sent.wait()
        return httpx.Response(401, json={"code": -99999970, "message": "토큰이 만료되었습니다."})

    service.status.side_effect = answer
    async with client:
        await asyncio.gather(
            *(client.get_esign_state(CLIENT_CODE, RECEIPT_ID) for _ in range(1000))
        )
    assert arrived == 1000
    assert service.token.call_count == 2
    assert service.status.call_count == 1 + 2000


# The clock ----------------------------------------------------------------------------


async def test_dates_follow_the_server_clock_read_once(client: Client, service: Service) -> None:
    service.server_offset = 7 * 60  # the server is seven minutes ahead of this host
    for _ in range(3):
        await client.request_esign(CLIENT_CODE, make_request())

    assert service.time.call_count == 1
    for call in [*service.token.calls, *service.request.calls]:
        stamped = utc_seconds(call.request.headers["x-lh-date"])
        assert abs(stamped - (time.time() + 7 * 60)) < 5


async def test_without_server_time_the_local_clock_is_used(service: Service) -> None:
    service.server_offset = 7 * 60
    async with Client(LINK_ID, SECRET_KEY, use_server_time=False) as client:
        await client.request_esign(CLIENT_CODE, make_request())
    assert service.time.call_count == 0
    stamped = utc_seconds(service.request.calls.last.request.headers["x-lh-date"])
    assert abs(stamped - time.time()) < 5


async def test_a_refused_signed_call_reads_the_clock_again(
    client: Client, service: Service
) -> None:
    await client.request_esign(CLIENT_CODE, make_request())
    service.server_offset = 7 * 60  # the server's clock jumped
    refused = httpx.Response(
        401, json={"code": -99999980, "message": "요청 시간이 올바르지 않습니다."}
    )
    service.request.side_effect = [
        refused,
        httpx.Response(200, json={"receiptId": "1", "tx_id": None}),
    ]

    await client.request_esign(CLIENT_CODE, make_request())

    assert service.time.call_count == 2
    stamped = utc_seconds(service.request.calls.last.request.headers["x-lh-date"])
    assert abs(stamped - (time.time() + 7 * 60)) < 5


async def test_without_server_time_a_refused_date_names_the_option(service: Service) -> None:
    service.server_offset = -10 * 60
    service.request.respond(
        401, json={"code": -99999980, "message": "요청 시간이 올바르지 않습니다."}
    )
    async with Client(LINK_ID, SECRET_KEY, use_server_time=False) as client:
        with pytest.raises(APIError) as caught:
            await client.request_esign(CLIENT_CODE, make_request())
    assert caught.value.message == "요청 시간이 올바르지 않습니다."  # the service's, as sent
    hint = caught.value.hint
    assert hint is not None
    assert "use_server_time=True" in hint
    assert re.search(r"60\d s ahead of the auth server's", hint)
    assert str(caught.value).endswith(f"Hint: {hint}.")


async def test_without_server_time_a_refusal_with_a_good_clock_adds_nothing(
    service: Service,
) -> None:
    service.request.respond(401, json={"code": -99999990, "message": "서명이 올바르지 않습니다."})
    async with Client(LINK_ID, SECRET_KEY, use_server_time=False) as client:
        with pytest.raises(APIError) as caught:
            await client.request_esign(CLIENT_CODE, make_request())
    assert caught.value.message == "서명이 올바르지 않습니다."


async def test_the_clock_is_read_again_after_hours() -> None:
    now = [0.0]
    reads = 0

    async def server_time() -> float:
        nonlocal reads
        reads += 1
        return now[0] + 30

    clock = ServerClock(server_time, wall=lambda: now[0], monotonic=lambda: now[0])
    assert await clock.now() == 30
    now[0] = 3600
    assert await clock.now() == 3630
    assert reads == 1
    now[0] = 7 * 3600
    await clock.now()
    assert reads == 2
    assert await clock.date() == "1970-01-01T07:00:30.000Z"


@pytest.mark.parametrize(
    ("when", "date"),
    [
        (0.0, "1970-01-01T00:00:00.000Z"),
        (1_796_570_954.0399, "2026-12-06T15:29:14.039Z"),  # cut, not rounded
        (1_796_570_954.9999, "2026-12-06T15:29:14.999Z"),
    ],
)
def test_a_date_has_milliseconds_as_the_time_answer_has(when: float, date: str) -> None:
    assert format_date(when) == date
