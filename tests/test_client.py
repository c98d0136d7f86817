"""The four operations on the wire: URLs, headers, signatures, bodies and answers."""

from __future__ import annotations

import gzip
import json
import logging
import time

import httpx
import pytest

from kakaocert_async import (
    APIError,
    Client,
    ESignReceipt,
    ESignVerification,
    KakaocertError,
    MalformedResponse,
    Progress,
    RequestNotSent,
    SignState,
    TransportError,
    ValidationError,
    VerifyOutcomeUnknown,
    _signing,
)
from tests._support import (
    API,
    CLIENT_CODE,
    KEY,
    LINK_ID,
    RECEIPT_ID,
    SECRET_KEY,
    Service,
    make_request,
    status_json,
)


def parse_date(value: str) -> float:
    # Milliseconds included, as the auth server's /Time answer (and the official SDKs).
    return time.mktime(time.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ")) - time.timezone


# request_esign ---------------------------------------------------------------


async def test_request_sends_the_signed_body(client: Client, service: Service) -> None:
    receipt = await client.request_esign(CLIENT_CODE, make_request(payload="memo"))

    assert receipt == ESignReceipt(receipt_id=RECEIPT_ID, tx_id=None)
    assert service.request.call_count == 1
    sent = service.request.calls.last.request
    assert sent.url == f"{API}/SignToken/Request"
    assert sent.headers["Authorization"] == "Bearer session-token-1"
    assert sent.headers["x-lh-version"] == "2.0"
    assert sent.headers["Content-Type"] == "application/json; charset=utf8"
    assert sent.headers["Accept-Encoding"] == "gzip"
    assert abs(parse_date(sent.headers["x-lh-date"]) - time.time()) < 5
    link_id, signature = sent.headers["x-kc-auth"].split(" ")
    assert link_id == LINK_ID
    expected = _signing.hmac_b64(
        KEY, _signing.request_target(sent.content, sent.headers["x-lh-date"])
    )
    assert signature == expected
    body = json.loads(sent.content)
    assert body["ReceiverName"] == "홍길동"
    assert body["PayLoad"] == "memo"
    assert body["isAppUseYN"] is False


async def test_app_to_app_request_returns_the_tx_id(client: Client, service: Service) -> None:
    service.request.respond(200, json={"receiptId": RECEIPT_ID, "tx_id": "kakao-tx-1"})
    receipt = await client.request_esign(CLIENT_CODE, make_request(), app_to_app=True)
    assert receipt.tx_id == "kakao-tx-1"
    assert json.loads(service.request.calls.last.request.content)["isAppUseYN"] is True


# get_esign_state --------------------------------------------------------------


async def test_state_is_read_with_bearer_and_version(client: Client, service: Service) -> None:
    service.status.respond(200, json=status_json(1, completeDT="20261128134700"))
    status = await client.get_esign_state(CLIENT_CODE, RECEIPT_ID)

    assert status.state is SignState.SIGNED
    assert status.complete_dt is not None
    assert status.complete_dt.isoformat() == "2026-11-28T13:47:00+09:00"
    sent = service.status.calls.last.request
    assert sent.method == "GET"
    assert sent.url == f"{API}/SignToken/Status/{RECEIPT_ID}"
    assert sent.headers["Authorization"] == "Bearer session-token-1"
    assert sent.headers["x-pb-version"] == "2.0"
    assert sent.headers["Accept-Encoding"] == "gzip"
    assert "x-kc-auth" not in sent.headers
    assert sent.content == b""


async def test_gzip_answers_are_decoded(client: Client, service: Service) -> None:
    body = gzip.compress(json.dumps(status_json(2)).encode())
    service.status.respond(200, content=body, headers={"Content-Encoding": "gzip"})
    assert (await client.get_esign_state(CLIENT_CODE, RECEIPT_ID)).state is SignState.EXPIRED


# verify_esign ------------------------------------------------------------------


async def test_verify_returns_the_signed_data(client: Client, service: Service) -> None:
    result = await client.verify_esign(CLIENT_CODE, RECEIPT_ID)
    assert result == ESignVerification(receipt_id=RECEIPT_ID, signed_data="c2lnbmVkLWRhdGE=")
    sent = service.verify.calls.last.request
    assert sent.url == f"{API}/SignToken/Verify/{RECEIPT_ID}"
    assert sent.headers["x-pb-version"] == "2.0"
    assert sent.headers["Authorization"] == "Bearer session-token-1"


@pytest.mark.parametrize(
    "signature",
    [
        "abc",
        "a/b+c=",  # base64: sent as the official SDKs send it, not as %2F%2B%3D
        "+/AbCd09+/xyz==",
        "-_base64url_",
        "a:b@c!$&'()*,;~.",
        "...",  # not a dot segment
        "+//a//b==",  # empty segments, as about 8 % of long standard base64 has
        "/abc/",
    ],
)
async def test_app_to_app_signature_is_appended_to_the_path_as_given(
    client: Client, service: Service, signature: str
) -> None:
    await client.verify_esign(CLIENT_CODE, RECEIPT_ID, signature)
    sent = service.verify.calls.last.request
    assert sent.url.raw_path.decode() == f"/SignToken/Verify/{RECEIPT_ID}/{signature}"


@pytest.mark.parametrize(
    ("signature", "sent"),
    [
        # A URI cannot hold these raw: httpx escapes them, as .NET's System.Uri does.
        ('a"b', "a%22b"),
        ("서명", "%EC%84%9C%EB%AA%85"),
        ("a{b}`<>", "a%7Bb%7D%60%3C%3E"),
        ("a%zz%", "a%25zz%25"),  # a lone %, not an escape: escaped as System.Uri does
    ],
)
async def test_characters_no_uri_can_hold_are_percent_encoded(
    client: Client, service: Service, signature: str, sent: str
) -> None:
    await client.verify_esign(CLIENT_CODE, RECEIPT_ID, signature)
    raw_path = service.verify.calls.last.request.url.raw_path.decode()
    assert raw_path == f"/SignToken/Verify/{RECEIPT_ID}/{sent}"


@pytest.mark.parametrize(
    ("signature", "words"),
    [
        ("", "empty"),
        ("x?y", "?, #, \\ or a %XX"),
        ("x#y", "?, #, \\ or a %XX"),
        ("x%2Fy", "?, #, \\ or a %XX"),
        ("back\\slash", "?, #, \\ or a %XX"),
        ("a b", "whitespace"),
        ("a\tb", "whitespace"),
        ("a\u3000b", "whitespace"),
        ("a\x00b", "control"),
        ("a\x85b", "control"),
        ("\ud800", "surrogates"),
        ("x%2fy", "%XX escape"),
        (".", "segment"),
        ("..", "segment"),
        ("../../Status/1", "segment"),
        ("a/./b", "segment"),
        (b"abc", "string"),
    ],
)
async def test_a_signature_that_would_change_the_url_is_refused_before_sending(
    client: Client, service: Service, signature: str, words: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        await client.verify_esign(CLIENT_CODE, RECEIPT_ID, signature)
    assert refused.value.field == "signature"
    assert words in refused.value.message
    assert service.calls == 0


# Validation: a clear error and nothing sent ---------------------------------------

CALLS = {
    "request": lambda c, code, rid: c.request_esign(code, make_request()),
    "state": lambda c, code, rid: c.get_esign_state(code, rid),
    "verify": lambda c, code, rid: c.verify_esign(code, rid),
    "await": lambda c, code, rid: c.await_signed(code, ESignReceipt(receipt_id=rid)),
}


BAD_CLIENT_CODES = [
    "",
    "02004000001",
    "0200400000012",
    "02004000000a",
    "\uff10" * 12,  # full-width digits
    20040000001,
]
BAD_RECEIPT_IDS = [
    "",
    "1" * 21,
    "../Verify/1",
    "123?x=1",
    "12%2F3",
    "\uff11\uff12\uff13",
    22112815423700001,
]


@pytest.mark.parametrize("operation", sorted(CALLS))
@pytest.mark.parametrize("client_code", BAD_CLIENT_CODES)
async def test_bad_client_codes_are_refused_before_any_request(
    client: Client, service: Service, operation: str, client_code: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        await CALLS[operation](client, client_code, RECEIPT_ID)
    assert caught.value.field == "client_code"
    assert "12 digits" in caught.value.message
    assert service.calls == 0


@pytest.mark.parametrize("operation", ["state", "verify", "await"])
@pytest.mark.parametrize("receipt_id", BAD_RECEIPT_IDS)
async def test_bad_receipt_ids_are_refused_before_any_request(
    client: Client, service: Service, operation: str, receipt_id: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        await CALLS[operation](client, CLIENT_CODE, receipt_id)
    assert caught.value.field == "receipt_id"
    assert "1 to 20 digits" in caught.value.message
    assert service.calls == 0


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda c: c.request_esign(CLIENT_CODE, {"Token": "x"}), "request"),
        (lambda c: c.request_esign(CLIENT_CODE, make_request(), app_to_app="yes"), "app_to_app"),
        (lambda c: c.verify_esign(CLIENT_CODE, RECEIPT_ID, ""), "signature"),
        (lambda c: c.verify_esign(CLIENT_CODE, RECEIPT_ID, ".."), "signature"),
        (lambda c: c.verify_esign(CLIENT_CODE, RECEIPT_ID, "a\nb"), "signature"),
        (lambda c: c.verify_esign(CLIENT_CODE, RECEIPT_ID, "a b"), "signature"),
        (lambda c: c.verify_esign(CLIENT_CODE, RECEIPT_ID, 5), "signature"),
        (
            lambda c: c.await_signed(CLIENT_CODE, ESignReceipt(receipt_id=RECEIPT_ID), interval=0),
            "interval",
        ),
        (
            lambda c: c.await_signed(
                CLIENT_CODE, ESignReceipt(receipt_id=RECEIPT_ID), interval=float("nan")
            ),
            "interval",
        ),
        (
            lambda c: c.await_signed(CLIENT_CODE, ESignReceipt(receipt_id=RECEIPT_ID), timeout=-1),
            "timeout",
        ),
        (
            lambda c: c.await_signed(CLIENT_CODE, ESignReceipt(receipt_id=RECEIPT_ID), timeout="5"),
            "timeout",
        ),
    ],
)
async def test_other_bad_arguments_are_refused_before_any_request(
    client: Client, service: Service, call: object, field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        await call(client)  # type: ignore[operator]
    assert caught.value.field == field
    assert service.calls == 0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"link_id": ""}, "link_id"),
        ({"secret_key": "not base64!"}, "secret_key"),
        ({"secret_key": None}, "secret_key"),
        ({"base_url": "kakaocert-api.linkhub.co.kr"}, "base_url"),
        ({"auth_url": "ftp://auth"}, "auth_url"),
        ({"base_url": "https://x/?q=1"}, "base_url"),
        ({"timeout": 0}, "timeout"),
        ({"use_server_time": "yes"}, "use_server_time"),
        ({"ip_restrict": None}, "ip_restrict"),
        ({"http_client": object()}, "http_client"),
    ],
)
def test_bad_client_settings_are_refused(kwargs: dict[str, object], field: str) -> None:
    settings: dict[str, object] = {"link_id": LINK_ID, "secret_key": SECRET_KEY, **kwargs}
    with pytest.raises(ValidationError) as caught:
        Client(settings.pop("link_id"), settings.pop("secret_key"), **settings)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert SECRET_KEY not in str(caught.value)


# Error mapping ------------------------------------------------------------------


async def test_error_json_becomes_api_error(client: Client, service: Service) -> None:
    service.status.respond(
        404, json={"code": -11000009, "message": "접수아이디가 존재하지 않습니다."}
    )
    with pytest.raises(APIError) as caught:
        await client.get_esign_state(CLIENT_CODE, RECEIPT_ID)
    error = caught.value
    assert (error.code, error.http_status) == (-11000009, 404)
    assert error.message == "접수아이디가 존재하지 않습니다."
    assert service.status.call_count == 1  # a 4xx is not retried


@pytest.mark.parametrize(
    ("status", "content", "words"),
    [
        (503, b"<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>", "<h1>503"),
        (502, b"", "(empty)"),
        (500, b'{"unexpected": true}', "unexpected"),
        (400, b"\xff\xfe\x00garbage", "garbage"),
    ],
)
async def test_bodies_without_error_json_become_api_error_with_an_excerpt(
    client: Client, service: Service, status: int, content: bytes, words: str
) -> None:
    service.request.respond(status, content=content, headers={"Content-Type": "text/html"})
    with pytest.raises(APIError) as caught:
        await client.request_esign(CLIENT_CODE, make_request())
    error = caught.value
    assert error.http_status == status
    assert error.code == -99999999
    assert f"HTTP {status}" in error.message
    assert words in error.message
    assert service.request.call_count == 1  # request is never repeated after an answer


async def test_long_error_bodies_are_cut_short(client: Client, service: Service) -> None:
    service.request.respond(503, text="<p>" + "x" * 10_000)
    with pytest.raises(APIError) as caught:
        await client.request_esign(CLIENT_CODE, make_request())
    assert len(caught.value.message) < 300


@pytest.mark.parametrize(
    ("content", "headers"),
    [
        (b"<html>ok</html>", {}),
        (b'{"receiptId": 5}', {}),
        (b"{}", {}),
        (gzip.compress(b'{"receiptId": "1", "tx_id": null}')[:20], {"Content-Encoding": "gzip"}),
        (b"x" * (2 << 20), {}),
    ],
    ids=["html", "wrong-type", "missing-field", "truncated-gzip", "huge"],
)
async def test_unreadable_success_answers_become_malformed_response(
    client: Client, service: Service, content: bytes, headers: dict[str, str]
) -> None:
    service.request.respond(200, content=content, headers=headers)
    with pytest.raises(MalformedResponse) as caught:
        await client.request_esign(CLIENT_CODE, make_request())
    assert caught.value.http_status == 200
    assert "POST /SignToken/Request" in caught.value.message
    assert service.request.call_count == 1


async def test_a_huge_gzip_bomb_is_refused(client: Client, service: Service) -> None:
    bomb = gzip.compress(b"0" * (4 << 20))
    service.status.respond(200, content=bomb, headers={"Content-Encoding": "gzip"})
    with pytest.raises(MalformedResponse, match="byte limit"):
        await client.get_esign_state(CLIENT_CODE, RECEIPT_ID)


@pytest.mark.parametrize(
    ("failure", "kind"),
    [
        (httpx.ConnectError("[Errno 111] Connection refused"), RequestNotSent),
        (httpx.ConnectTimeout("connect timed out"), RequestNotSent),
        (httpx.ReadTimeout("read timed out"), TransportError),
        (httpx.ReadError("connection reset by peer"), TransportError),
        (
            httpx.RemoteProtocolError("Server disconnected without sending a response."),
            TransportError,
        ),
    ],
)
async def test_transport_failures_become_transport_errors(
    client: Client, service: Service, failure: Exception, kind: type[TransportError]
) -> None:
    service.request.side_effect = failure
    with pytest.raises(kind) as caught:
        await client.request_esign(CLIENT_CODE, make_request())
    assert type(caught.value) is kind
    # The original is chained, detached from its traceback and request (whose
    # frames and headers hold the session token).
    cause = caught.value.__cause__
    assert type(cause) is type(failure)
    assert str(cause) == str(failure)
    assert cause.__traceback__ is None
    assert "POST /SignToken/Request" in caught.value.message


async def test_a_lost_verify_answer_is_reported_as_outcome_unknown(
    client: Client, service: Service
) -> None:
    service.verify.side_effect = httpx.ReadTimeout("read timed out")
    with pytest.raises(VerifyOutcomeUnknown) as caught:
        await client.verify_esign(CLIENT_CODE, RECEIPT_ID)
    assert caught.value.receipt_id == RECEIPT_ID
    assert "may be consumed" in caught.value.message
    assert isinstance(caught.value.__cause__, TransportError)
    assert service.verify.call_count == 1


async def test_an_unreadable_verify_answer_is_outcome_unknown(
    client: Client, service: Service
) -> None:
    service.verify.respond(200, content=b'{"receiptId": "1", "signedData"')
    with pytest.raises(VerifyOutcomeUnknown):
        await client.verify_esign(CLIENT_CODE, RECEIPT_ID)
    assert service.verify.call_count == 1


async def test_a_verify_that_could_not_connect_says_it_was_not_sent(
    client: Client, service: Service
) -> None:
    service.verify.side_effect = httpx.ConnectError("refused")
    with pytest.raises(RequestNotSent, match="was not sent") as refused:
        await client.verify_esign(CLIENT_CODE, RECEIPT_ID)
    assert refused.value.progress is Progress.NOT_SENT
    assert not refused.value.answer_lost
    # It never left, so it was tried again, as a request is: five attempts in all.
    assert service.verify.call_count == 5


async def test_a_verify_error_answer_is_an_api_error(client: Client, service: Service) -> None:
    service.verify.respond(409, json={"code": -11000020, "message": "이미 검증된 요청입니다."})
    with pytest.raises(APIError) as caught:
        await client.verify_esign(CLIENT_CODE, RECEIPT_ID)
    assert caught.value.code == -11000020
    assert not isinstance(caught.value, TransportError)


async def test_no_raw_exception_escapes_a_broken_token_answer(
    client: Client, service: Service
) -> None:
    service.token.side_effect = None
    service.token.respond(200, json={"session_token": "x"})
    with pytest.raises(MalformedResponse, match="expiration"):
        await client.get_esign_state(CLIENT_CODE, RECEIPT_ID)


# The client itself -----------------------------------------------------------------


async def test_repr_never_shows_secrets(client: Client, service: Service) -> None:
    await client.get_esign_state(CLIENT_CODE, RECEIPT_ID)
    for text in (repr(client), str(client)):
        assert SECRET_KEY not in text
        assert "session-token" not in text
        assert LINK_ID in text


async def test_a_callers_http_client_is_used_and_left_open(service: Service) -> None:
    async with httpx.AsyncClient(headers={"X-Caller": "yes"}) as http:
        async with Client(LINK_ID, SECRET_KEY, http_client=http) as client:
            await client.get_esign_state(CLIENT_CODE, RECEIPT_ID)
        assert not http.is_closed
        assert service.status.calls.last.request.headers["X-Caller"] == "yes"
        assert service.status.calls.last.request.headers["Accept-Encoding"] == "gzip"


async def test_one_connection_pool_per_client_closed_on_exit(service: Service) -> None:
    client = Client(LINK_ID, SECRET_KEY)
    assert client.http_backend == "httpx"  # respx is mocking httpx: the client sees it
    through = client._backend._through_respx()  # type: ignore[attr-defined]
    http = through._client
    async with client:
        await client.get_esign_state(CLIENT_CODE, RECEIPT_ID)
        await client.get_esign_state(CLIENT_CODE, RECEIPT_ID)
        assert through._client is http
    assert http.is_closed
    await client.aclose()  # twice is fine
    with pytest.raises(KakaocertError, match="closed"):
        await client.get_esign_state(CLIENT_CODE, RECEIPT_ID)


async def test_debug_logs_name_calls_but_never_secrets(
    client: Client, service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await client.request_esign(CLIENT_CODE, make_request())
    await client.verify_esign(CLIENT_CODE, RECEIPT_ID, "app-signature-value")
    text = caplog.text
    assert "POST /SignToken/Request [2.x request, attempt 1]: HTTP 200" in text
    for secret in (SECRET_KEY, "session-token-1", "홍길동", "01012341234", "19900108"):
        assert secret not in text
    # httpx logs whole URLs at INFO; our own records leave the App to App signature out.
    ours = [r.getMessage() for r in caplog.records if r.name == "kakaocert_async"]
    assert ours
    assert not [line for line in ours if "app-signature-value" in line]
