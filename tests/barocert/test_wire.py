"""Barocert on the wire: exactly the note's fields encrypted (a fresh IV each), the rest
plain, absent optional fields left out; answers structured strictly by wire name."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from kakaocert_async import ValidationError, _wire
from kakaocert_async.barocert import (
    Kind,
    LoginVerification,
    MultiSignVerification,
    Receipt,
    State,
    Status,
    Verification,
)
from kakaocert_async.barocert import _kinds as barocert_kinds
from kakaocert_async.barocert import _wire as barocert_wire
from kakaocert_async.barocert._crypto import Cipher
from tests.barocert._requests import make_request

CIPHER = Cipher(base64.b64decode("SwWxqU+0TErBXy/9TVjIPEnI0VTUMMSQZtJf3Ed8q3I="))

# The note's "E" fields, per request (§2).
ENCRYPTED = {
    Kind.IDENTITY: ["receiverHP", "receiverName", "receiverBirthday", "extraMessage", "token"],
    Kind.SIGN: ["receiverHP", "receiverName", "receiverBirthday", "extraMessage", "token"],
    Kind.MULTI_SIGN: [
        "receiverHP",
        "receiverName",
        "receiverBirthday",
        "extraMessage",
        "tokens[0].token",
        "tokens[1].token",
        "tokens[2].token",
    ],
    Kind.CMS: [
        "receiverHP",
        "receiverName",
        "receiverBirthday",
        "extraMessage",
        "requestCorp",
        "bankName",
        "bankAccountNum",
        "bankAccountName",
        "bankAccountBirthday",
        "bankServiceType",
    ],
}
PLAIN = {
    Kind.IDENTITY: {"reqTitle": "본인인증 요청", "expireIn": 300, "appUseYN": False},
    Kind.SIGN: {
        "signTitle": "계약서 서명",
        "reqTitle": "전자서명 요청",
        "expireIn": 300,
        "tokenType": "TEXT",
        "appUseYN": False,
    },
    Kind.MULTI_SIGN: {
        "reqTitle": "복수 서명 요청",
        "expireIn": 300,
        "tokenType": "TEXT",
        "appUseYN": False,
    },
    Kind.CMS: {"reqTitle": "출금동의 요청", "expireIn": 300, "appUseYN": False},
}


def _at(body: dict[str, Any], path: str) -> Any:
    value: Any = body
    for part in path.replace("[", ".").replace("]", "").split("."):
        value = value[int(part)] if part.isdigit() else value[part]
    return value


def encrypted_paths(request: Any) -> list[str]:
    """The wire paths of the fields that ``request``'s body carries encrypted."""
    paths: list[str] = []

    def note(value: str, path: str) -> str:
        paths.append(path)
        return value

    barocert_wire.map_encrypted(type(request), _wire.converter.unstructure(request), note)
    return paths


@pytest.mark.parametrize("kind", list(Kind))
def test_exactly_the_notes_fields_are_encrypted(kind: Kind) -> None:
    request = make_request(kind)
    assert encrypted_paths(request) == ENCRYPTED[kind]
    body = json.loads(barocert_wire.encode_request(request, CIPHER))
    plaintext = _wire.converter.unstructure(request)
    for path in ENCRYPTED[kind]:
        assert CIPHER.decrypt(_at(body, path)) == _at(plaintext, path)
    for name, value in PLAIN[kind].items():
        assert body[name] == value  # plain, as given
    assert type(body["expireIn"]) is int
    encrypted_tops = {path.split("[")[0] for path in ENCRYPTED[kind]}
    assert set(body) == encrypted_tops | set(PLAIN[kind])


def test_a_documents_title_comes_before_its_token() -> None:
    multi = json.loads(barocert_wire.encode_request(make_request(Kind.MULTI_SIGN), CIPHER))
    assert [list(document) for document in multi["tokens"]] == [["signTitle", "token"]] * 3


def test_absent_optional_fields_stay_off_the_wire() -> None:
    request = make_request(Kind.SIGN, extra_message=None, req_title=None)
    body = json.loads(barocert_wire.encode_request(request, CIPHER))
    assert "extraMessage" not in body
    assert "reqTitle" not in body
    assert "returnURL" not in body
    assert None not in body.values()
    app = make_request(Kind.IDENTITY, app_to_app=True, return_url="https://shop.example/back")
    body = json.loads(barocert_wire.encode_request(app, CIPHER))
    assert body["appUseYN"] is True
    assert body["returnURL"] == "https://shop.example/back"  # plain


def test_every_field_and_every_body_gets_a_fresh_iv() -> None:
    request = make_request(Kind.CMS, bank_account_name="홍길동")  # same text as receiverName
    first = json.loads(barocert_wire.encode_request(request, CIPHER))
    second = json.loads(barocert_wire.encode_request(request, CIPHER))
    values = [first[p] for p in ENCRYPTED[Kind.CMS]] + [second[p] for p in ENCRYPTED[Kind.CMS]]
    ivs = {base64.b64decode(value)[:12] for value in values}
    assert len(ivs) == len(values)
    assert first["receiverName"] != first["bankAccountName"]


def test_the_body_is_compact_utf8() -> None:
    body = barocert_wire.encode_request(make_request(Kind.IDENTITY), CIPHER)
    assert b", " not in body
    assert "본인인증".encode() in body


def test_paths() -> None:
    cc, rid = "023040000001", "02309110230400000010000000000003"
    assert barocert_kinds.of(Kind.MULTI_SIGN).request_path(cc) == f"/KAKAO/MultiSign/{cc}"
    assert barocert_kinds.of(Kind.CMS).status_path(cc, rid) == f"/KAKAO/CMS/{cc}/{rid}"
    assert (
        barocert_kinds.of(Kind.IDENTITY).verify_path(cc, rid)
        == f"/KAKAO/Identity/Verify/{cc}/{rid}"
    )
    assert barocert_wire.login_verify_path(cc, "01a1ce28b1-5a7f-45fb-807b-def79b6e63a2") == (
        f"/KAKAO/Login/Verify/{cc}/01a1ce28b1-5a7f-45fb-807b-def79b6e63a2"
    )
    # As the official SDK appends it; what no URI holds raw escaped (a lone % too).
    assert barocert_wire.login_verify_path(cc, "01ab+cd=ef/g//h") == (
        f"/KAKAO/Login/Verify/{cc}/01ab+cd=ef/g//h"
    )
    assert barocert_wire.login_verify_path(cc, "é%z") == f"/KAKAO/Login/Verify/{cc}/%C3%A9%25z"
    for refused in ("a b", "a%2Fb", "a/../b", "?x", "#x", "a\\b", ""):
        with pytest.raises(ValidationError) as error:
            barocert_wire.login_verify_path(cc, refused)
        assert error.value.field == "tx_id"


# Answers -------------------------------------------------------------------------


def test_a_receipt() -> None:
    rid = "02309110230400000010000000000003"
    receipt = _wire.structure({"receiptID": rid, "scheme": None}, Receipt)
    assert receipt == Receipt(receipt_id=rid)
    assert _wire.structure({"receiptID": rid}, Receipt).scheme is None


def test_a_status_with_every_field() -> None:
    data = {
        "receiptID": "02309110230400000010000000000003",
        "clientCode": "023040000001",
        "state": 1,
        "expireIn": 1000,
        "callCenterName": "링크허브",
        "callCenterNum": "1600-9854",
        "reqTitle": "전자서명 요청",
        "authCategory": "M",
        "returnURL": "https://kakao.barocert.com",
        "tokenType": "TEXT",
        "requestDT": "20260101090000",
        "viewDT": "20260101090100",
        "completeDT": "20260101090200",
        "expireDT": "20260101092640",
        "verifyDT": None,
        "scheme": None,
        "appUseYN": False,
        "somethingNew": [1, 2],
    }
    status = _wire.structure(data, Status)
    assert status.state is State.COMPLETED
    assert status.request_dt is not None
    assert status.request_dt.isoformat() == "2026-01-01T09:00:00+09:00"
    assert status.verify_dt is None
    assert status.app_to_app is False
    assert status.is_final


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"state": "one"}, "state"),
        ({"state": True}, "state"),
        ({"state": None}, "state"),
        ({"expireIn": "300"}, "expire_in"),
        ({"appUseYN": "N"}, "app_to_app"),
        ({"requestDT": "2026-01-01"}, "request_dt"),
        ({"receiptID": 1}, "receipt_id"),
    ],
)
def test_a_status_that_does_not_fit_is_named(change: dict[str, Any], says: str) -> None:
    data = {"receiptID": "1" * 32, "state": 0, **change}
    with pytest.raises(_wire.WireError, match=says):
        _wire.structure(data, Status)


def test_unknown_states_pass_and_a_string_state_is_read() -> None:
    assert _wire.structure({"receiptID": "1" * 32, "state": 5}, Status).state == 5
    # The .NET SDK types a verify answer's state as a string.
    answer = {"receiptID": "1" * 32, "state": "1", "signedData": "MIIB"}
    assert _wire.structure(answer, Verification).state is State.COMPLETED


def test_verify_answers() -> None:
    common = {
        "state": 1,
        "ci": "Y2k=",
        "receiverName": "bmFtZQ==",
        "receiverYear": "MTk5MA==",
        "receiverDay": "MDEwOA==",
        "receiverHP": "aHA=",
        "receiverGender": "Zw==",
        "receiverForeign": "Zg==",
        "receiverTelcoType": "dA==",
    }
    single = _wire.structure({**common, "receiptID": "1" * 32, "signedData": "MIIB"}, Verification)
    assert single.signed_data == "MIIB"
    assert single.receiver_year == "MTk5MA=="  # passed through as sent
    multi = _wire.structure(
        {**common, "receiptID": "1" * 32, "multiSignedData": ["a", "b"]}, MultiSignVerification
    )
    assert multi.multi_signed_data == ("a", "b")
    login = _wire.structure({**common, "txID": "01abc", "signedData": "MIIB"}, LoginVerification)
    assert login.tx_id == "01abc"
    minimal = _wire.structure({"receiptID": "1" * 32, "signedData": "MIIB"}, Verification)
    assert minimal.ci is None
    assert minimal.state is None
    with pytest.raises(_wire.WireError, match="multi_signed_data"):
        _wire.structure({"receiptID": "1", "multiSignedData": "a"}, MultiSignVerification)
    with pytest.raises(_wire.WireError, match="signed_data"):
        _wire.structure({"receiptID": "1"}, Verification)


def test_verification_classes_by_kind() -> None:
    assert barocert_kinds.of(Kind.MULTI_SIGN).verification is MultiSignVerification
    assert {barocert_kinds.of(k).verification for k in (Kind.IDENTITY, Kind.SIGN, Kind.CMS)} == {
        Verification
    }
