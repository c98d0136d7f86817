"""The converter speaks the protocol's wire names and types, strictly."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kakaocert_async import ESignReceipt, ESignStatus, ESignVerification, SignState, _wire
from kakaocert_async._errors import MalformedResponse
from kakaocert_async._models import TokenGrant, TokenRequest
from kakaocert_async._secret import Secret
from tests._support import make_request, status_json

KST = dt.timezone(dt.timedelta(hours=9))


def test_request_body_uses_the_wire_names_and_types() -> None:
    request = make_request(tms_message="부가", sub_client_id="SUB01", payload="memo-1")
    body = _wire.encode_request(request, app_to_app=True)
    assert json.loads(body) == {
        "CallCenterNum": "1600-9854",
        "Expires_in": 300,
        "ReceiverBirthDay": "19900108",
        "ReceiverHP": "01012341234",
        "ReceiverName": "홍길동",
        "Token": "전자서명 원문",
        "TMSTitle": "계약 서명",
        "TMSMessage": "부가",
        "SubClientID": "SUB01",
        "isAllowSimpleRegistYN": True,
        "isVerifyNameYN": False,
        "PayLoad": "memo-1",
        "isAppUseYN": True,
    }


def test_request_body_is_compact_utf8_and_leaves_out_what_was_not_given() -> None:
    body = _wire.encode_request(make_request(), app_to_app=False)
    assert b" " not in body.replace("전자서명 원문".encode(), b"").replace(
        "계약 서명".encode(), b""
    )
    assert "홍길동".encode() in body
    for absent in (b"TMSMessage", b"SubClientID", b"PayLoad", b"null"):
        assert absent not in body
    assert body.endswith(b'"isAppUseYN":false}')


def test_status_reads_every_field_by_its_wire_name() -> None:
    wire = status_json(
        1,
        subClientName="별칭",
        subClientCode="SUB01",
        tmsmessage="부가",
        requestDT="20261128134500",
        expireDT="20261128135000",
        regDT="20261128134501",
        viewDT="20261128134600",
        completeDT="20261128134700",
        verifyDT="20261128134800",
        appUseYN=True,
        tx_id="tx-1",
    )
    status = _wire.structure(wire, ESignStatus)
    assert status == ESignStatus(
        receipt_id="022112815423700001",
        client_code="020040000001",
        client_name="테스트",
        sub_client_name="별칭",
        sub_client_code="SUB01",
        state=SignState.SIGNED,
        expires_in=300,
        call_center_num="1600-9854",
        tms_title="계약 서명",
        tms_message="부가",
        allow_simple_regist=True,
        verify_name=False,
        request_dt=dt.datetime(2026, 11, 28, 13, 45, 0, tzinfo=KST),
        expire_dt=dt.datetime(2026, 11, 28, 13, 50, 0, tzinfo=KST),
        reg_dt=dt.datetime(2026, 11, 28, 13, 45, 1, tzinfo=KST),
        view_dt=dt.datetime(2026, 11, 28, 13, 46, 0, tzinfo=KST),
        complete_dt=dt.datetime(2026, 11, 28, 13, 47, 0, tzinfo=KST),
        verify_dt=dt.datetime(2026, 11, 28, 13, 48, 0, tzinfo=KST),
        payload="memo",
        app_to_app=True,
        tx_id="tx-1",
    )
    assert status.request_dt is not None
    assert status.request_dt.utcoffset() == dt.timedelta(hours=9)
    assert status.state is SignState.SIGNED


def test_status_round_trips_for_the_sandbox() -> None:
    wire = status_json(2, viewDT="20261128134600")
    assert _wire.converter.unstructure(_wire.structure(wire, ESignStatus)) == wire


def test_unknown_fields_are_ignored_and_absent_optional_fields_are_none() -> None:
    status = _wire.structure({"receiptID": "1", "state": 0, "newField": {"x": 1}}, ESignStatus)
    assert status == ESignStatus(receipt_id="1", state=SignState.PENDING)
    assert status.expire_dt is None


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"state": 3}, "state"),
        ({"state": "1"}, "state"),
        ({"state": True}, "state"),
        ({"receiptID": 22112815}, "receipt_id"),
        ({"allowSimpleRegistYN": "false"}, "allow_simple_regist"),
        ({"expires_in": "300"}, "expires_in"),
        ({"expires_in": True}, "expires_in"),
        ({"requestDT": "2026-11-28 13:45:00"}, "request_dt"),
        ({"requestDT": "20261328134500"}, "request_dt"),
        ({"requestDT": 20261128134500}, "request_dt"),
    ],
)
def test_wrong_types_are_refused_naming_the_field(changes: dict[str, object], words: str) -> None:
    with pytest.raises(_wire.WireError, match=words):
        _wire.structure(status_json(**changes), ESignStatus)


@pytest.mark.parametrize("missing", ["receiptID", "state"])
def test_missing_required_fields_are_refused(missing: str) -> None:
    wire = status_json()
    del wire[missing]
    with pytest.raises(_wire.WireError, match="required field missing"):
        _wire.structure(wire, ESignStatus)


def test_receipt_and_verification_wire_names() -> None:
    assert _wire.structure({"receiptId": "9", "tx_id": "t"}, ESignReceipt) == ESignReceipt(
        receipt_id="9", tx_id="t"
    )
    assert _wire.structure({"receiptId": "9", "tx_id": None}, ESignReceipt).tx_id is None
    assert _wire.structure({"receiptId": "9", "signedData": "s"}, ESignVerification) == (
        ESignVerification(receipt_id="9", signed_data="s")
    )


@pytest.mark.parametrize(
    "text", ["2026-11-28T05:00:00.000Z", "2026-11-28T05:00:00Z", " 2026-11-28T05:00:00Z\n"]
)
def test_token_expiration_and_server_time_are_utc(text: str) -> None:
    expected = dt.datetime(2026, 11, 28, 5, 0, tzinfo=dt.timezone.utc)
    assert _wire.parse_utc(text) == expected
    grant = _wire.structure({"session_token": "t", "expiration": text.strip()}, TokenGrant)
    assert grant.expiration == expected


@pytest.mark.parametrize("text", ["2026-11-28T05:00:00", "yesterday", "2026-11-28T05:00:00+09:00Z"])
def test_times_without_z_are_refused(text: str) -> None:
    with pytest.raises(_wire.WireError):
        _wire.parse_utc(text)


def test_expiration_is_written_with_milliseconds_as_the_official_sdk_expects() -> None:
    grant = TokenGrant(
        session_token=Secret("t"),
        expiration=dt.datetime(2026, 11, 28, 5, 0, tzinfo=dt.timezone.utc),
    )
    assert _wire.converter.unstructure(grant)["expiration"] == "2026-11-28T05:00:00.000Z"


@pytest.mark.parametrize("body", [b"", b"<html>", b"\xff\xfe", b"[1, 2]", b"null", b"[" * 100000])
def test_decode_turns_any_unreadable_body_into_malformed_response(body: bytes) -> None:
    with pytest.raises(MalformedResponse) as caught:
        _wire.decode(body, ESignStatus, label="GET /SignToken/Status/1")
    assert caught.value.http_status == 200
    assert "GET /SignToken/Status/1" in caught.value.message


def test_kst_formatting_converts_zones() -> None:
    moment = dt.datetime(2026, 11, 28, 4, 45, tzinfo=dt.timezone.utc)
    assert _wire.format_kst(moment) == "20261128134500"
    assert _wire.parse_kst("20261128134500") == moment


@given(
    st.datetimes(
        min_value=dt.datetime(1000, 1, 2),
        max_value=dt.datetime(9999, 12, 30),
        timezones=st.sampled_from([dt.timezone.utc, KST, dt.timezone(dt.timedelta(hours=-7))]),
    )
)
def test_kst_formatting_is_strftimes_format(moment: dt.datetime) -> None:
    assert _wire.format_kst(moment) == moment.astimezone(_wire.KST).strftime("%Y%m%d%H%M%S")
    assert _wire.parse_kst(_wire.format_kst(moment)) == moment.replace(microsecond=0)


@pytest.mark.parametrize("scope", ["member", ["member", 310], None, {"a": 1}])
def test_a_token_request_scope_must_be_a_list_of_strings(scope: object) -> None:
    with pytest.raises(_wire.WireError, match="scope"):
        _wire.structure({"access_id": "020040000001", "scope": scope}, TokenRequest)
    good = {"access_id": "020040000001", "scope": ["member", "310"]}
    assert _wire.structure(good, TokenRequest).scope == ("member", "310")
