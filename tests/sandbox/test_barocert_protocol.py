"""The sandbox speaks Barocert: token, signed POSTs with the path HMAC, encrypted bodies,
32-digit receipts, verify once and within 10 minutes, login verify; every refusal."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest

from kakaocert_async import _signing, _wire
from kakaocert_async.barocert import Kind, SignDocument, State
from kakaocert_async.barocert import _kinds as barocert_kinds
from kakaocert_async.barocert import _wire as barocert_wire
from kakaocert_async.barocert._crypto import Cipher
from kakaocert_async.sandbox import Rejection, Sandbox, _checks, decrypt_personal_data
from tests.barocert._requests import make_request
from tests.sandbox._barocert_raw import BarocertRaw
from tests.sandbox._raw import FakeClock, Raw, assert_refused

KINDS = list(Kind)


# The token -------------------------------------------------------------------


async def test_a_token_per_link_id_with_the_barocert_scopes(bc: BarocertRaw) -> None:
    response = await bc.token()
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["serviceID"] == "BAROCERT"
    assert body["linkID"] == bc.sandbox.link_id
    assert body["usercode"] == ""
    assert body["scope"] == ["partner", "401", "402", "403", "404", "405"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z", body["expiration"])


async def test_the_token_body_must_not_name_a_client_code(bc: BarocertRaw) -> None:
    response = await bc.token(access_id=bc.sandbox.client_code)
    assert_refused(response, Rejection.BC_ACCESS_ID, "access_id")


async def test_the_token_hmac_signs_the_barocert_path(bc: BarocertRaw) -> None:
    # A signature over the 2.x token path does not open the Barocert one.
    body = _wire.dumps({"access_id": "", "scope": list(barocert_wire.SCOPE)})
    date = bc.date()
    target = _signing.token_target(body, date, forwarded="*")  # /KAKAOCERT/Token
    response = await bc.http.post(
        _signing.BAROCERT_TOKEN_PATH,
        content=body,
        headers={
            "x-lh-date": date,
            "x-lh-version": "2.0",
            "x-lh-forwarded": "*",
            "Authorization": f"LINKHUB {bc.sandbox.link_id} {_signing.hmac_b64(bc.key, target)}",
            "Content-Type": "application/json",
        },
    )
    assert_refused(response, Rejection.TOKEN_HMAC_MISMATCH)
    assert_refused(await bc.token(key=b"another key"), Rejection.TOKEN_HMAC_MISMATCH)


async def test_tokens_of_one_generation_are_unknown_to_the_other(bc: BarocertRaw, raw: Raw) -> None:
    kakaocert_token = await raw.session()
    response = await bc.request(Kind.SIGN, token=kakaocert_token)
    assert_refused(response, Rejection.TOKEN_UNKNOWN)
    barocert_token = await bc.session()
    assert_refused(await raw.status(barocert_token, "1"), Rejection.TOKEN_UNKNOWN)


async def test_a_token_without_the_forwarded_line_is_bound_to_the_callers_ip(
    sandbox: Sandbox,
) -> None:
    here, there = BarocertRaw(sandbox), BarocertRaw(sandbox, client_ip="10.0.0.9")
    try:
        token = await here.session(forwarded=None)
        assert (await here.request(Kind.IDENTITY, token=token)).status_code == 200
        assert_refused(await there.request(Kind.IDENTITY, token=token), Rejection.TOKEN_IP_MISMATCH)
    finally:
        await here.aclose()
        await there.aclose()


@pytest.mark.parametrize(
    ("kind", "scope"),
    [(Kind.IDENTITY, "401"), (Kind.SIGN, "402"), (Kind.MULTI_SIGN, "403"), (Kind.CMS, "404")],
)
async def test_each_kind_needs_its_scope(bc: BarocertRaw, kind: Kind, scope: str) -> None:
    others = tuple(s for s in barocert_wire.SCOPE if s != scope)
    token = await bc.session(scope=others)
    assert_refused(await bc.request(kind, token=token), Rejection.BC_SCOPE_MISSING)
    token = await bc.session(scope=("partner", scope))
    assert (await bc.request(kind, token=token)).status_code == 200


async def test_an_expired_token_is_refused(bc: BarocertRaw, clock: FakeClock) -> None:
    token = await bc.session()
    clock.advance(3600)
    assert_refused(await bc.request(Kind.SIGN, token=token), Rejection.TOKEN_EXPIRED)


# Requests --------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
async def test_a_request_is_decrypted_and_kept_in_plain_text(bc: BarocertRaw, kind: Kind) -> None:
    request = make_request(kind)
    response = await bc.request(kind, request)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer == {"receiptID": answer["receiptID"], "scheme": None}
    receipt_id = answer["receiptID"]
    # 0 + yyMMdd + the client code + a 13-digit sequence: 32 digits.
    assert re.fullmatch(rf"0\d{{6}}{bc.sandbox.client_code}\d{{13}}", receipt_id)
    assert bc.sandbox.barocert.request_of(receipt_id) == request
    assert bc.sandbox.barocert.kind(receipt_id) is kind


async def test_app_to_app_answers_a_scheme(bc: BarocertRaw) -> None:
    request = make_request(Kind.SIGN, app_to_app=True, return_url="https://shop.example/back")
    answer = (await bc.request(Kind.SIGN, request)).json()
    assert answer["scheme"].startswith("kakaotalk://")
    status = (await bc.status(Kind.SIGN, answer["receiptID"])).json()
    assert status["appUseYN"] is True
    assert status["returnURL"] == "https://shop.example/back"
    assert status["scheme"] == answer["scheme"]


@pytest.mark.parametrize(
    ("kind", "field"),
    [
        (Kind.IDENTITY, "receiverHP"),
        (Kind.IDENTITY, "token"),
        (Kind.SIGN, "receiverName"),
        (Kind.SIGN, "extraMessage"),
        (Kind.MULTI_SIGN, "receiverBirthday"),
        (Kind.CMS, "bankAccountNum"),
        (Kind.CMS, "bankServiceType"),
    ],
)
async def test_plaintext_where_ciphertext_is_due_is_refused(
    bc: BarocertRaw, kind: Kind, field: str
) -> None:
    body = bc.encrypted(kind)
    plain = {"receiverHP": "01012341234", "token": "nonce", "receiverName": "홍길동"}
    body[field] = plain.get(field, "19900108")
    response = await bc.request(kind, body=body)
    assert_refused(response, Rejection.BC_CIPHERTEXT_INVALID, field)
    assert "01012341234" not in response.text
    assert "홍길동" not in response.text


async def test_a_plaintext_document_token_is_refused_naming_the_document(bc: BarocertRaw) -> None:
    body = bc.encrypted(Kind.MULTI_SIGN)
    body["tokens"][1]["token"] = "원문 1"
    response = await bc.request(Kind.MULTI_SIGN, body=body)
    assert_refused(response, Rejection.BC_CIPHERTEXT_INVALID, "tokens[1].token")


async def test_a_ciphertext_of_another_key_or_altered_is_refused(bc: BarocertRaw) -> None:
    body = bc.encrypted(Kind.IDENTITY)
    body["receiverHP"] = Cipher(bytes(32)).encrypt("01012341234")
    assert_refused(
        await bc.request(Kind.IDENTITY, body=body), Rejection.BC_CIPHERTEXT_INVALID, "receiverHP"
    )
    body = bc.encrypted(Kind.IDENTITY)
    raw = bytearray(base64.b64decode(body["token"]))
    raw[-1] ^= 1
    body["token"] = base64.b64encode(raw).decode()
    assert_refused(
        await bc.request(Kind.IDENTITY, body=body), Rejection.BC_CIPHERTEXT_INVALID, "token"
    )


@pytest.mark.parametrize(
    ("kind", "change", "rejection", "field"),
    [
        (Kind.SIGN, {"expireIn": "300"}, Rejection.FIELD_TYPE, "expireIn"),
        (Kind.SIGN, {"expireIn": 1001}, Rejection.FIELD_INVALID, "expireIn"),
        (Kind.SIGN, {"tokenType": "PDF"}, Rejection.FIELD_INVALID, "tokenType"),
        (Kind.SIGN, {"appUseYN": "false"}, Rejection.FIELD_TYPE, "appUseYN"),
        (Kind.IDENTITY, {"reqTitle": None}, Rejection.FIELD_MISSING, "reqTitle"),
        (Kind.IDENTITY, {"reqTitle": "제" * 41}, Rejection.FIELD_INVALID, "reqTitle"),
        (Kind.MULTI_SIGN, {"tokens": []}, Rejection.FIELD_INVALID, "tokens"),
        (Kind.MULTI_SIGN, {"tokens": "abc"}, Rejection.FIELD_TYPE, "tokens"),
        (Kind.MULTI_SIGN, {"tokens": [1]}, Rejection.FIELD_TYPE, "tokens[0]"),
        (Kind.CMS, {"bankName": None}, Rejection.FIELD_MISSING, "bankName"),
    ],
)
async def test_bad_fields_are_refused_by_wire_name(
    bc: BarocertRaw, kind: Kind, change: dict[str, Any], rejection: Rejection, field: str
) -> None:
    body = {**bc.encrypted(kind), **change}
    assert_refused(await bc.request(kind, body=body), rejection, field)


async def test_limits_are_checked_on_the_decrypted_value(bc: BarocertRaw) -> None:
    body = bc.encrypted(Kind.SIGN)
    body["receiverHP"] = bc.cipher.encrypt("010-1234-1234")
    response = await bc.request(Kind.SIGN, body=body)
    assert_refused(response, Rejection.FIELD_INVALID, "receiverHP")
    assert "010-1234-1234" not in response.text
    body = bc.encrypted(Kind.IDENTITY)
    body["token"] = bc.cipher.encrypt("x" * 41)  # identity tokens: at most 40
    assert_refused(await bc.request(Kind.IDENTITY, body=body), Rejection.FIELD_INVALID, "token")


async def test_a_document_missing_its_title_is_named(bc: BarocertRaw) -> None:
    body = bc.encrypted(Kind.MULTI_SIGN)
    del body["tokens"][2]["signTitle"]
    response = await bc.request(Kind.MULTI_SIGN, body=body)
    assert_refused(response, Rejection.FIELD_MISSING, "tokens[2].signTitle")


async def test_documents_may_be_titled_req_title_as_older_sdks_send(bc: BarocertRaw) -> None:
    body = bc.encrypted(Kind.MULTI_SIGN)
    for document in body["tokens"]:
        document["reqTitle"] = document.pop("signTitle")
    receipt_id = (await bc.request(Kind.MULTI_SIGN, body=body)).json()["receiptID"]
    request = bc.sandbox.barocert.request_of(receipt_id)
    assert [d.title for d in request.documents] == ["문서 0", "문서 1", "문서 2"]


async def test_twenty_documents_are_the_most(bc: BarocertRaw) -> None:
    documents = [SignDocument(title=f"문서 {i}", token=f"원문 {i}") for i in range(20)]
    request = make_request(Kind.MULTI_SIGN, documents=documents)
    assert (await bc.request(Kind.MULTI_SIGN, request)).status_code == 200
    body = bc.encrypted(Kind.MULTI_SIGN, request)
    body["tokens"].append(body["tokens"][0])
    response = await bc.request(Kind.MULTI_SIGN, body=body)
    assert_refused(response, Rejection.FIELD_INVALID, "tokens")
    assert "1 to 20" in response.json()["message"]


async def test_a_sign_request_needs_a_title(bc: BarocertRaw) -> None:
    body = bc.encrypted(Kind.SIGN)
    del body["signTitle"], body["reqTitle"]
    assert_refused(await bc.request(Kind.SIGN, body=body), Rejection.FIELD_INVALID, "signTitle")


@pytest.mark.parametrize("kind", list(Kind))
def test_the_sandbox_decrypts_our_bodies_back_to_the_request(bc: BarocertRaw, kind: Kind) -> None:
    request = make_request(kind)
    data = json.loads(barocert_wire.encode_request(request, bc.cipher))
    assert _checks.barocert_request(barocert_kinds.of(kind), data, bc.cipher) == request


# Headers and signatures --------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "rejection"),
    [
        ({"x-bc-version": None}, Rejection.BC_VERSION),
        ({"x-bc-version": "2.0"}, Rejection.BC_VERSION),
        ({"x-bc-date": None}, Rejection.BC_DATE_MISSING),
        ({"x-bc-date": "2026-01-01 00:00:00"}, Rejection.BC_DATE_MALFORMED),
        ({"Authorization": None}, Rejection.BEARER_MISSING),
        ({"Authorization": "Bearer nope"}, Rejection.TOKEN_UNKNOWN),
        ({"x-bc-auth": None}, Rejection.BC_AUTH_MISSING),
        ({"x-bc-auth": "SANDBOX c2lnbmF0dXJl"}, Rejection.BC_AUTH_MISSING),
        ({"x-bc-auth": "c2lnbmF0dXJl"}, Rejection.BC_HMAC_MISMATCH),
        ({"x-bc-encryptionmode": None}, Rejection.BC_ENCRYPTION_MODE),
        ({"x-bc-encryptionmode": "CBC"}, Rejection.BC_ENCRYPTION_MODE),
        ({"Content-Type": "text/plain"}, Rejection.CONTENT_TYPE),
    ],
)
async def test_request_headers_are_checked(
    bc: BarocertRaw, headers: dict[str, str | None], rejection: Rejection
) -> None:
    assert_refused(await bc.request(Kind.SIGN, headers=headers), rejection)


async def test_a_date_off_the_clock_is_refused(bc: BarocertRaw) -> None:
    assert_refused(await bc.request(Kind.SIGN, date=bc.date(-301)), Rejection.BC_DATE_SKEWED)
    assert (await bc.request(Kind.SIGN, date=bc.date(-299)[:19] + "Z")).status_code == 200


async def test_the_hmac_covers_the_path_and_the_exact_body(bc: BarocertRaw) -> None:
    other_client = barocert_kinds.of(Kind.SIGN).request_path("020040000002")
    response = await bc.request(Kind.SIGN, signed_path=other_client)
    assert_refused(response, Rejection.BC_HMAC_MISMATCH)
    body = barocert_wire.encode_request(make_request(Kind.SIGN), bc.cipher)
    respaced = body.replace(b'","', b'", "')
    response = await bc.request(Kind.SIGN, body=respaced, signed_body=body)
    assert_refused(response, Rejection.BC_HMAC_MISMATCH)
    # The 2.x request target (no path line) does not open a Barocert call either.
    date = bc.date()
    two_x = _signing.hmac_b64(bc.key, _signing.request_target(body, date))
    response = await bc.request(Kind.SIGN, body=body, date=date, headers={"x-bc-auth": two_x})
    assert_refused(response, Rejection.BC_HMAC_MISMATCH)


async def test_json_spacing_is_fine_when_signed_as_sent(bc: BarocertRaw) -> None:
    body = barocert_wire.encode_request(make_request(Kind.SIGN), bc.cipher)
    spaced = body.replace(b'","', b'", "').replace(b'":', b'": ')
    assert (await bc.request(Kind.SIGN, body=spaced)).status_code == 200


@pytest.mark.parametrize(
    ("client_code", "rejection"),
    [
        ("12345", Rejection.BC_CLIENT_CODE_INVALID),
        ("02004000000x", Rejection.BC_CLIENT_CODE_INVALID),
    ],
)
async def test_the_client_code_in_the_path_is_checked(
    bc: BarocertRaw, client_code: str, rejection: Rejection
) -> None:
    assert_refused(await bc.request(Kind.SIGN, client_code=client_code), rejection)


# Status --------------------------------------------------------------------------


async def test_status_takes_either_version_header(bc: BarocertRaw) -> None:
    receipt_id = await bc.receipt(Kind.CMS)
    pb = await bc.status(Kind.CMS, receipt_id)
    bc_header = await bc.status(
        Kind.CMS, receipt_id, headers={"x-pb-version": None, "x-bc-version": "2.1"}
    )
    assert pb.status_code == bc_header.status_code == 200
    for headers in ({"x-pb-version": None}, {"x-pb-version": "2.0"}):
        response = await bc.status(Kind.CMS, receipt_id, headers=headers)
        assert_refused(response, Rejection.BC_VERSION)


async def test_the_status_answer(bc: BarocertRaw, sandbox: Sandbox) -> None:
    receipt_id = await bc.receipt(Kind.SIGN)
    body = (await bc.status(Kind.SIGN, receipt_id)).json()
    assert body["receiptID"] == receipt_id
    assert body["clientCode"] == sandbox.client_code
    assert body["state"] == 0
    assert body["expireIn"] == 300
    assert body["reqTitle"] == "전자서명 요청"
    assert body["tokenType"] == "TEXT"
    assert body["appUseYN"] is False
    assert re.fullmatch(r"\d{14}", body["requestDT"])
    assert body["completeDT"] is None


@pytest.mark.parametrize(
    ("receipt_id", "rejection"),
    [
        ("0" * 31, Rejection.BC_RECEIPT_ID_INVALID),
        ("0" * 33, Rejection.BC_RECEIPT_ID_INVALID),
        ("1" * 32, Rejection.RECEIPT_UNKNOWN),
    ],
)
async def test_receipt_ids_are_32_digits(
    bc: BarocertRaw, receipt_id: str, rejection: Rejection
) -> None:
    assert_refused(await bc.status(Kind.SIGN, receipt_id), rejection)


async def test_a_receipt_answers_only_for_its_kind_and_client(bc: BarocertRaw) -> None:
    receipt_id = await bc.receipt(Kind.SIGN)
    assert_refused(await bc.status(Kind.CMS, receipt_id), Rejection.RECEIPT_UNKNOWN)
    response = await bc.status(Kind.SIGN, receipt_id, client_code="020040000002")
    assert_refused(response, Rejection.RECEIPT_OTHER_CLIENT)
    assert_refused(await bc.verify(Kind.MULTI_SIGN, receipt_id), Rejection.RECEIPT_UNKNOWN)


# Verify --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
async def test_verify_once_after_signing(bc: BarocertRaw, sandbox: Sandbox, kind: Kind) -> None:
    receipt_id = await bc.receipt(kind)
    assert_refused(await bc.verify(kind, receipt_id), Rejection.NOT_SIGNED)
    sandbox.barocert.sign(receipt_id)
    response = await bc.verify(kind, receipt_id)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["receiptID"] == receipt_id
    assert body["state"] == State.COMPLETED
    assert body["ci"]
    if kind is Kind.MULTI_SIGN:
        assert len(body["multiSignedData"]) == 3
        assert len(set(body["multiSignedData"])) == 3
        assert "signedData" not in body
    elif kind is Kind.IDENTITY:
        assert body["signedData"] == "nonce-81f3"  # the token, to compare with
    else:
        assert len(body["signedData"]) > 1000
    assert_refused(await bc.verify(kind, receipt_id), Rejection.ALREADY_VERIFIED)
    status = (await bc.status(kind, receipt_id)).json()
    assert status["verifyDT"] is not None


async def test_verify_answers_the_receivers_data_encrypted(
    bc: BarocertRaw, sandbox: Sandbox
) -> None:
    receipt_id = await bc.receipt(Kind.SIGN)
    sandbox.barocert.sign(receipt_id)
    body = (await bc.verify(Kind.SIGN, receipt_id)).json()
    assert "홍길동" not in str(body)
    assert decrypt_personal_data(body["receiverName"]) == "홍길동"
    assert decrypt_personal_data(body["receiverHP"]) == "01012341234"
    assert decrypt_personal_data(body["receiverYear"]) == "1990"
    assert decrypt_personal_data(body["receiverDay"]) == "0108"
    assert len(decrypt_personal_data(body["ci"])) == 88
    # The same person has the same CI on every receipt.
    other = await bc.receipt(Kind.IDENTITY)
    sandbox.barocert.sign(other)
    assert (await bc.verify(Kind.IDENTITY, other)).json()["ci"] == body["ci"]


async def test_verify_within_ten_minutes_of_the_signature(
    bc: BarocertRaw, sandbox: Sandbox, clock: FakeClock
) -> None:
    on_time, late = await bc.receipt(Kind.SIGN), await bc.receipt(Kind.SIGN)
    sandbox.barocert.sign(on_time)
    sandbox.barocert.sign(late)
    clock.advance(600)
    assert (await bc.verify(Kind.SIGN, on_time)).status_code == 200
    clock.advance(1)
    response = await bc.verify(Kind.SIGN, late)
    assert_refused(response, Rejection.BC_VERIFY_TOO_LATE)
    # The refusal did not consume the receipt's once: it is still unverified.
    assert sandbox.barocert.state(late).verify_dt is None


@pytest.mark.parametrize(
    ("command", "rejection"),
    [("expire", Rejection.RECEIPT_EXPIRED), ("refuse", Rejection.NOT_SIGNED)],
)
async def test_verify_of_a_receipt_that_was_not_signed(
    bc: BarocertRaw, sandbox: Sandbox, command: str, rejection: Rejection
) -> None:
    receipt_id = await bc.receipt(Kind.CMS)
    getattr(sandbox.barocert, command)(receipt_id)
    assert_refused(await bc.verify(Kind.CMS, receipt_id), rejection)


async def test_verify_takes_no_body_and_signs_no_hash_line(
    bc: BarocertRaw, sandbox: Sandbox
) -> None:
    receipt_id = await bc.receipt(Kind.SIGN)
    sandbox.barocert.sign(receipt_id)
    assert_refused(await bc.verify(Kind.SIGN, receipt_id, body=b"{}"), Rejection.BC_VERIFY_BODY)
    # A target with a hash line of the empty body is not the protocol's.
    path = barocert_kinds.of(Kind.SIGN).verify_path(sandbox.client_code, receipt_id)
    date = bc.date()
    wrong = f"POST\n{_signing.sha256_b64(b'')}\n{date}\n{path}\n"
    response = await bc.post(
        path, date=date, headers={"x-bc-auth": _signing.hmac_b64(bc.key, wrong)}
    )
    assert_refused(response, Rejection.BC_HMAC_MISMATCH)
    assert (await bc.verify(Kind.SIGN, receipt_id)).status_code == 200


async def test_verify_on_the_status_path_as_the_dotnet_sdk_posts_it(
    bc: BarocertRaw, sandbox: Sandbox
) -> None:
    receipt_id = await bc.receipt(Kind.IDENTITY)
    sandbox.barocert.sign(receipt_id)
    path = barocert_kinds.of(Kind.IDENTITY).status_path(sandbox.client_code, receipt_id)
    response = await bc.post(path)
    assert response.status_code == 200, response.text
    assert sandbox.stats["barocert.identity.verify"] == 1
    assert sandbox.stats["barocert.identity.status"] == 0


# Login ---------------------------------------------------------------------------


async def test_login_verify_once(bc: BarocertRaw, sandbox: Sandbox) -> None:
    tx_id = sandbox.barocert.login(receiver_name="김철수")
    response = await bc.verify_login(tx_id)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["txID"] == tx_id
    assert body["state"] == 1
    assert body["signedData"]
    assert "receiptID" not in body
    assert_refused(await bc.verify_login(tx_id), Rejection.ALREADY_VERIFIED)


async def test_login_verify_refusals(bc: BarocertRaw, sandbox: Sandbox, clock: FakeClock) -> None:
    assert_refused(await bc.verify_login("01-no-such-tx"), Rejection.BC_LOGIN_UNKNOWN)
    tx_id = sandbox.barocert.login()
    response = await bc.verify_login(tx_id, client_code="020040000002")
    assert_refused(response, Rejection.RECEIPT_OTHER_CLIENT)
    token = await bc.session(scope=("partner", "401", "402", "403", "404"))
    assert_refused(await bc.verify_login(tx_id, token=token), Rejection.BC_SCOPE_MISSING)
    clock.advance(601)
    assert_refused(await bc.verify_login(tx_id), Rejection.BC_VERIFY_TOO_LATE)


async def test_a_transaction_id_is_read_from_the_raw_path(
    bc: BarocertRaw, sandbox: Sandbox
) -> None:
    # As the official SDK appends it: "+", "=" and "/" (even "//") as given, the rest of
    # the path is the id; the HMAC signs the path as sent.
    tx_id = sandbox.barocert.login(tx_id="01ab+cd=ef/g//h")
    response = await bc.verify_login(tx_id)
    assert response.status_code == 200, response.text
    assert response.json()["txID"] == tx_id
    assert response.request.url.raw_path.endswith(b"/01ab+cd=ef/g//h")
    # Percent-encoded, an id is read decoded (as an older client sent it).
    tx_id = sandbox.barocert.login(tx_id="01a/b+c")
    response = await bc.post(f"/KAKAO/Login/Verify/{sandbox.client_code}/01a%2Fb%2Bc")
    assert response.status_code == 200, response.text
    assert_refused(await bc.verify_login("01/odd"), Rejection.BC_LOGIN_UNKNOWN)


async def test_a_sandbox_key_that_is_not_an_aes_256_key_says_so() -> None:
    # 2.x takes a key of any length for its HMACs; Barocert needs 32 bytes to decrypt.
    sandbox = Sandbox(sign_after=None, secret_key=base64.b64encode(b"sixteen byte key").decode())
    bc = BarocertRaw(sandbox, cipher=Cipher(bytes(32)))
    try:
        response = await bc.request(Kind.IDENTITY)
    finally:
        await bc.aclose()
    assert_refused(response, Rejection.BC_CIPHERTEXT_INVALID, "receiverHP")
    assert "not an AES-256 key (32 bytes)" in response.json()["message"]
