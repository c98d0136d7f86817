"""POST /KAKAOCERT/Token and GET /Time: what a token answer holds, and every refusal."""

from __future__ import annotations

import re

import pytest

from kakaocert_async import _wire
from kakaocert_async.sandbox import Rejection, Sandbox
from tests.sandbox._raw import FakeClock, Raw, assert_refused


async def test_time_reports_the_sandbox_clock_with_milliseconds(
    raw: Raw, sandbox: Sandbox, clock: FakeClock
) -> None:
    clock.now = 1_800_000_000.25
    response = await raw.http.get("/Time")
    assert response.status_code == 200
    assert response.text == "2027-01-15T08:00:00.250Z"
    assert _wire.parse_utc(response.text).timestamp() == sandbox.now()


async def test_time_includes_the_clock_offset(clock: FakeClock) -> None:
    sandbox = Sandbox(sign_after=None, clock=clock, clock_offset=-90.0)
    clock.now = 1_800_000_000.0
    raw = Raw(sandbox)
    try:
        response = await raw.http.get("/Time")
    finally:
        await raw.aclose()
    assert response.text == "2027-01-15T07:58:30.000Z"


async def test_a_token_answer_has_every_field_in_the_official_form(
    raw: Raw, sandbox: Sandbox, clock: FakeClock
) -> None:
    clock.now = 1_800_000_000.7
    response = await raw.token("123456789012")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "session_token",
        "serviceID",
        "linkID",
        "usercode",
        "ipaddress",
        "expiration",
        "scope",
    }
    assert body["serviceID"] == "KAKAOCERT"
    assert body["linkID"] == sandbox.link_id
    assert body["usercode"] == "123456789012"
    assert body["ipaddress"] == "127.0.0.1"
    assert body["scope"] == ["member", "310", "320", "330"]
    # The official SDK cuts the last 5 characters and compares the rest as text.
    assert body["expiration"] == "2027-01-15T09:00:00.000Z"
    assert re.fullmatch(r"[\w-]{20,}", body["session_token"])


async def test_each_token_is_new(raw: Raw) -> None:
    assert await raw.session() != await raw.session()


@pytest.mark.parametrize("millis", [False, True])
async def test_dates_with_and_without_milliseconds_are_accepted(raw: Raw, millis: bool) -> None:
    response = await raw.token(date=raw.date(millis=millis))
    assert response.status_code == 200, response.text


async def test_the_official_sdks_content_type_spelling_is_accepted(raw: Raw) -> None:
    response = await raw.token(headers={"Content-Type": "Application/json"})
    assert response.status_code == 200, response.text


async def test_dates_within_the_window_are_accepted(raw: Raw) -> None:
    for offset in (-299, 299):
        response = await raw.token(date=raw.date(offset))
        assert response.status_code == 200, offset


@pytest.mark.parametrize("offset", [-301, 301, -86400])
async def test_a_stale_date_is_refused(raw: Raw, offset: float) -> None:
    assert_refused(await raw.token(date=raw.date(offset)), Rejection.DATE_SKEWED)


async def test_a_missing_date_is_refused(raw: Raw) -> None:
    assert_refused(await raw.token(headers={"x-lh-date": None}), Rejection.DATE_MISSING)


@pytest.mark.parametrize(
    "date",
    [
        "2026-11-28 05:00:00Z",
        "2026-11-28T05:00:00",
        "2026-11-28T05:00:00+00:00",
        "2026-11-28T05:00:00.0Z",
        "2026-11-28Z",
        "20261128T050000Z",
        "2026-13-28T05:00:00Z",
        "Fri, 28 Nov 2026 05:00:00 GMT",
    ],
)
async def test_a_malformed_date_is_refused(raw: Raw, date: str) -> None:
    assert_refused(await raw.token(date=date), Rejection.DATE_MALFORMED)


@pytest.mark.parametrize("version", [None, "1.0", "2", ""])
async def test_a_missing_or_wrong_version_is_refused(raw: Raw, version: str | None) -> None:
    response = await raw.token(headers={"x-lh-version": version})
    assert_refused(response, Rejection.VERSION)


async def test_a_wrong_key_is_refused(raw: Raw) -> None:
    response = await raw.token(key=b"not the sandbox key")
    assert_refused(response, Rejection.TOKEN_HMAC_MISMATCH)


async def test_a_signature_over_other_bytes_is_refused(raw: Raw) -> None:
    response = await raw.token(signed_body=b'{"access_id":"020040000001","scope":["310"]}')
    assert_refused(response, Rejection.TOKEN_HMAC_MISMATCH)


async def test_the_forwarded_line_must_be_signed_when_sent(raw: Raw) -> None:
    # Signed without the "*" line, but sent with x-lh-forwarded: *.
    response = await raw.token(headers={"x-lh-forwarded": "*"})
    assert_refused(response, Rejection.TOKEN_HMAC_MISMATCH)
    # Signed with it but not sent.
    response = await raw.token(forwarded="*", headers={"x-lh-forwarded": None})
    assert_refused(response, Rejection.TOKEN_HMAC_MISMATCH)


async def test_forwarded_must_be_a_star(raw: Raw) -> None:
    assert_refused(await raw.token(forwarded="10.0.0.1"), Rejection.FORWARDED_INVALID)


async def test_an_unknown_link_id_is_refused(raw: Raw) -> None:
    assert_refused(await raw.token(link_id="SOMEONE"), Rejection.LINK_ID_UNKNOWN)


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer abc", "LINKHUB SANDBOX", "LINKHUB", "SANDBOX c2ln", "LINKHUB A B C"],
)
async def test_a_malformed_authorization_is_refused(raw: Raw, authorization: str | None) -> None:
    response = await raw.token(headers={"Authorization": authorization})
    assert_refused(response, Rejection.LINKHUB_AUTH_MISSING)


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
async def test_a_body_that_is_not_declared_json_is_refused(
    raw: Raw, content_type: str | None
) -> None:
    response = await raw.token(headers={"Content-Type": content_type})
    assert_refused(response, Rejection.CONTENT_TYPE)


@pytest.mark.parametrize("body", [b"", b"access_id=1", b"[1, 2]", b"\xff\xfe"])
async def test_a_body_that_is_not_a_json_object_is_refused(raw: Raw, body: bytes) -> None:
    assert_refused(await raw.token(body=body), Rejection.BODY_MALFORMED)


@pytest.mark.parametrize(
    "body",
    [
        b'{"access_id": "020040000001"}',
        b'{"access_id": "020040000001", "scope": "310"}',
        b'{"access_id": "020040000001", "scope": [310]}',
        b'{"access_id": 20040000001, "scope": ["310"]}',
        b'{"scope": ["310"]}',
    ],
)
async def test_a_token_body_of_the_wrong_shape_is_refused(raw: Raw, body: bytes) -> None:
    assert_refused(await raw.token(body=body), Rejection.TOKEN_BODY_INVALID)


@pytest.mark.parametrize("client_code", ["02004000000", "0200400000011", "02004000000a", ""])
async def test_a_client_code_of_other_than_12_digits_is_refused(raw: Raw, client_code: str) -> None:
    body = _wire.dumps({"access_id": client_code, "scope": ["310"]})
    assert_refused(await raw.token(body=body), Rejection.ACCESS_ID_INVALID, "access_id")


async def test_other_credentials_can_be_configured(clock: FakeClock) -> None:
    sandbox = Sandbox(sign_after=None, clock=clock, link_id="PARTNER", secret_key="c2VjcmV0")
    raw = Raw(sandbox)
    try:
        assert raw.key == b"secret"
        assert (await raw.token()).status_code == 200
    finally:
        await raw.aclose()
