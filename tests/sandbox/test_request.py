"""POST /SignToken/Request: the answer, the body's rules by wire name, and every refusal."""

from __future__ import annotations

import re
from typing import Any

import pytest

from kakaocert_async.sandbox import Rejection, Sandbox
from tests.sandbox._raw import DROP, FakeClock, Raw, assert_refused, request_body


async def test_a_request_answers_an_18_digit_receipt_id_and_no_tx_id(
    raw: Raw, clock: FakeClock
) -> None:
    clock.now = 1_800_000_000.0  # 2027-01-15 17:00:00 KST
    token = await raw.session()
    response = await raw.request(token)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body == {"receiptId": "027011517000000001", "tx_id": None}
    second = await raw.receipt(token)
    assert second["receiptId"] == "027011517000000002"


async def test_app_to_app_answers_a_tx_id(raw: Raw) -> None:
    token = await raw.session()
    body = await raw.receipt(token, isAppUseYN=True)
    assert re.fullmatch(r"[0-9]{18}", body["receiptId"])
    assert isinstance(body["tx_id"], str)
    assert body["tx_id"]


@pytest.mark.parametrize("flag", [DROP, None, False])
async def test_the_app_to_app_flag_is_optional(raw: Raw, flag: Any) -> None:
    token = await raw.session()
    body = await raw.receipt(token, isAppUseYN=flag)
    assert body["tx_id"] is None


async def test_optional_fields_may_be_left_out_or_null(raw: Raw) -> None:
    token = await raw.session()
    await raw.receipt(token, TMSMessage=DROP, SubClientID=None, PayLoad=DROP)


async def test_unknown_fields_are_ignored(raw: Raw) -> None:
    token = await raw.session()
    await raw.receipt(token, SomethingNew={"x": 1})


async def test_the_body_is_read_as_utf8_json_with_escapes_too(raw: Raw) -> None:
    # The official SDK sends \\uXXXX escapes (json.dumps' default).
    import json

    token = await raw.session()
    content = json.dumps(request_body()).encode("ascii")
    response = await raw.request(token, content)
    assert response.status_code == 200, response.text


# Authentication -------------------------------------------------------------------


async def test_a_wrong_key_is_refused(raw: Raw) -> None:
    token = await raw.session()
    response = await raw.request(token, key=b"another key")
    assert_refused(response, Rejection.REQUEST_HMAC_MISMATCH)


async def test_the_signature_covers_the_exact_body_bytes(raw: Raw) -> None:
    token = await raw.session()
    signed = await raw.request(token, request_body())
    assert signed.status_code == 200
    # Same JSON, other bytes (a space), signature of the first form.
    date = raw.date()
    from kakaocert_async import _signing, _wire

    content = _wire.dumps(request_body())
    signature = _signing.hmac_b64(raw.key, _signing.request_target(content, date))
    response = await raw.request(
        token,
        content + b" ",
        date=date,
        headers={"x-kc-auth": f"{raw.sandbox.link_id} {signature}"},
    )
    assert_refused(response, Rejection.REQUEST_HMAC_MISMATCH)


async def test_the_signature_covers_the_date(raw: Raw) -> None:
    token = await raw.session()
    response = await raw.request(token, date=raw.date(), headers={"x-lh-date": raw.date(-10)})
    assert_refused(response, Rejection.REQUEST_HMAC_MISMATCH)


@pytest.mark.parametrize("value", [None, "", "SANDBOX", "LINKHUB SANDBOX c2ln", "SANDBOX a b"])
async def test_a_malformed_kc_auth_is_refused(raw: Raw, value: str | None) -> None:
    token = await raw.session()
    response = await raw.request(token, headers={"x-kc-auth": value})
    assert_refused(response, Rejection.KC_AUTH_MISSING)


async def test_kc_auth_must_name_the_tokens_link_id(raw: Raw) -> None:
    token = await raw.session()
    response = await raw.request(token, link_id="OTHER")
    assert_refused(response, Rejection.KC_AUTH_LINK_ID)


@pytest.mark.parametrize("offset", [-301, 400])
async def test_a_stale_date_is_refused(raw: Raw, offset: float) -> None:
    token = await raw.session()
    assert_refused(await raw.request(token, date=raw.date(offset)), Rejection.DATE_SKEWED)


async def test_a_missing_date_is_refused(raw: Raw) -> None:
    token = await raw.session()
    response = await raw.request(token, headers={"x-lh-date": None})
    assert_refused(response, Rejection.DATE_MISSING)


async def test_a_malformed_date_is_refused(raw: Raw) -> None:
    token = await raw.session()
    response = await raw.request(token, date="yesterday")
    assert_refused(response, Rejection.DATE_MALFORMED)


@pytest.mark.parametrize("version", [None, "1.0"])
async def test_a_missing_or_wrong_version_is_refused(raw: Raw, version: str | None) -> None:
    token = await raw.session()
    response = await raw.request(token, headers={"x-lh-version": version})
    assert_refused(response, Rejection.VERSION)


@pytest.mark.parametrize("authorization", [None, "Bearer", "Bearer  ", "Basic abc", "abc"])
async def test_a_missing_bearer_token_is_refused(raw: Raw, authorization: str | None) -> None:
    token = await raw.session()
    response = await raw.request(token, headers={"Authorization": authorization})
    assert_refused(response, Rejection.BEARER_MISSING)


async def test_an_unknown_token_is_refused(raw: Raw) -> None:
    assert_refused(await raw.request("no-such-token"), Rejection.TOKEN_UNKNOWN)


async def test_an_expired_token_is_refused(raw: Raw, clock: FakeClock) -> None:
    token = await raw.session()
    clock.advance(3600)
    assert_refused(await raw.request(token), Rejection.TOKEN_EXPIRED)


async def test_a_token_without_the_esign_scope_is_refused(raw: Raw) -> None:
    token = await raw.session(scope=["member", "320"])
    assert_refused(await raw.request(token), Rejection.SCOPE_MISSING)


@pytest.mark.parametrize("content_type", [None, "text/json", "application/jsonx"])
async def test_a_body_not_declared_json_is_refused(raw: Raw, content_type: str | None) -> None:
    token = await raw.session()
    response = await raw.request(token, headers={"Content-Type": content_type})
    assert_refused(response, Rejection.CONTENT_TYPE)


@pytest.mark.parametrize("content", [b"", b"<xml/>", b'{"CallCenterNum": ', b'["a"]', b"12"])
async def test_a_body_that_is_not_a_json_object_is_refused(raw: Raw, content: bytes) -> None:
    token = await raw.session()
    assert_refused(await raw.request(token, content), Rejection.BODY_MALFORMED)


# The body's fields, by wire name ------------------------------------------------

REQUIRED = [
    "CallCenterNum",
    "Expires_in",
    "ReceiverBirthDay",
    "ReceiverHP",
    "ReceiverName",
    "Token",
    "TMSTitle",
    "isAllowSimpleRegistYN",
    "isVerifyNameYN",
]


@pytest.mark.parametrize("field", REQUIRED)
@pytest.mark.parametrize("missing", [DROP, None], ids=["absent", "null"])
async def test_a_missing_required_field_is_refused_by_wire_name(
    raw: Raw, field: str, missing: Any
) -> None:
    token = await raw.session()
    response = await raw.request(token, request_body(**{field: missing}))
    assert_refused(response, Rejection.FIELD_MISSING, field)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("Expires_in", "300"),
        ("Expires_in", 300.0),
        ("Expires_in", True),
        ("isAllowSimpleRegistYN", "true"),
        ("isVerifyNameYN", 0),
        ("isAppUseYN", "true"),
        ("isAppUseYN", 1),
        ("CallCenterNum", 16009854),
        ("ReceiverHP", 1012341234),
        ("ReceiverBirthDay", 19900108),
        ("ReceiverName", ["홍길동"]),
        ("Token", {"text": "x"}),
        ("TMSTitle", False),
        ("TMSMessage", 1),
        ("SubClientID", 20040000002),
        ("PayLoad", 1.5),
    ],
)
async def test_a_wrong_json_type_is_refused_by_wire_name(raw: Raw, field: str, value: Any) -> None:
    token = await raw.session()
    response = await raw.request(token, request_body(**{field: value}))
    assert_refused(response, Rejection.FIELD_TYPE, field)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("CallCenterNum", "1" * 21),
        ("Expires_in", 0),
        ("Expires_in", 1001),
        ("Expires_in", -5),
        ("ReceiverBirthDay", "1990018"),
        ("ReceiverBirthDay", "19900231"),
        ("ReceiverBirthDay", "1990-01-08"),
        ("ReceiverBirthDay", "29990101"),
        ("ReceiverHP", "010123412345"),
        ("ReceiverHP", "010-1234-1234"),
        ("ReceiverHP", "010123412"),
        ("ReceiverName", "가" * 21),
        ("ReceiverName", "   "),
        ("Token", "x" * 501),
        ("Token", ""),
        ("TMSTitle", "x" * 41),
        ("TMSMessage", "x" * 501),
        ("SubClientID", "1" * 13),
        ("PayLoad", "x" * 201),
        ("PayLoad", "a\x00b"),
    ],
)
async def test_a_value_past_a_limit_is_refused_by_wire_name(
    raw: Raw, field: str, value: Any
) -> None:
    token = await raw.session()
    response = await raw.request(token, request_body(**{field: value}))
    assert_refused(response, Rejection.FIELD_INVALID, field)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("CallCenterNum", "1" * 20),
        ("Expires_in", 1),
        ("Expires_in", 1000),
        ("ReceiverHP", "0101234123"),
        ("ReceiverName", "가" * 20),
        ("Token", "x" * 500),
        ("TMSTitle", "x" * 40),
        ("TMSMessage", "x" * 500),
        ("SubClientID", "1" * 12),
        ("PayLoad", "x" * 200),
    ],
)
async def test_values_at_a_limit_are_accepted(raw: Raw, field: str, value: Any) -> None:
    token = await raw.session()
    await raw.receipt(token, **{field: value})


async def test_the_refusal_never_echoes_the_value(raw: Raw) -> None:
    token = await raw.session()
    response = await raw.request(token, request_body(ReceiverHP="010-9876-5432"))
    assert "9876" not in response.text


async def test_each_receipt_belongs_to_the_tokens_client_code(raw: Raw, sandbox: Sandbox) -> None:
    token = await raw.session("111111111111")
    body = await raw.receipt(token)
    assert sandbox.state(body["receiptId"]).client_code == "111111111111"
