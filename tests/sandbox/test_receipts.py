"""GET /SignToken/Status and /SignToken/Verify: state, lifecycle on the clock, and refusals."""

from __future__ import annotations

import base64
import urllib.parse

import pytest

from kakaocert_async import ESignStatus, SignState, _wire
from kakaocert_async.sandbox import Rejected, Rejection, Sandbox
from tests.sandbox._raw import FakeClock, Raw, assert_refused


async def _signed(raw: Raw, sandbox: Sandbox, **changes: object) -> tuple[str, str]:
    token = await raw.session()
    receipt_id = (await raw.receipt(token, **changes))["receiptId"]
    await sandbox.sign(receipt_id)
    return token, receipt_id


def _state(response_json: dict[str, object]) -> ESignStatus:
    return _wire.structure(response_json, ESignStatus)


# Status ----------------------------------------------------------------------------


async def test_status_answers_the_full_result_object(
    raw: Raw, sandbox: Sandbox, clock: FakeClock
) -> None:
    clock.now = 1_800_000_000.0  # 2027-01-15 17:00:00 KST
    token = await raw.session()
    receipt_id = (await raw.receipt(token, Expires_in=120))["receiptId"]
    response = await raw.status(token, receipt_id)
    assert response.status_code == 200
    body = response.json()
    assert list(body) == list(_wire.wire_names(ESignStatus).values())
    assert body == {
        "receiptID": receipt_id,
        "clientCode": sandbox.client_code,
        "clientName": "샌드박스 이용기관",
        "subClientName": "샌드박스 이용기관 (020040000002)",
        "subClientCode": "020040000002",
        "state": 0,
        "expires_in": 120,
        "callCenterNum": "1600-9854",
        "tmstitle": "계약 서명",
        "tmsmessage": "계약서에 서명해 주세요",
        "allowSimpleRegistYN": True,
        "verifyNameYN": False,
        "requestDT": "20270115170000",
        "expireDT": "20270115170200",
        "regDT": "20270115170000",
        "viewDT": None,
        "completeDT": None,
        "verifyDT": None,
        "payload": "memo-1",
        "callCenterName": "샌드박스 이용기관",  # the registered name: the request names none
        "appUseYN": False,
        "tx_id": None,
    }


async def test_the_lifecycle_follows_the_clock(raw: Raw, clock: FakeClock) -> None:
    sandbox = Sandbox(clock=clock, sign_after=5.0)
    raw = Raw(sandbox)
    try:
        clock.now = 1_800_000_000.0
        token = await raw.session()
        receipt_id = (await raw.receipt(token))["receiptId"]
        clock.advance(4.9)
        assert _state((await raw.status(token, receipt_id)).json()).state is SignState.PENDING
        clock.advance(0.1)
        status = _state((await raw.status(token, receipt_id)).json())
        assert status.state is SignState.SIGNED
        assert status.complete_dt is not None
        assert status.complete_dt.timestamp() == 1_800_000_005
        assert status.view_dt == status.complete_dt
        # Signed stays signed, even past the expiry.
        clock.advance(1000)
        assert _state((await raw.status(token, receipt_id)).json()).state is SignState.SIGNED
    finally:
        await raw.aclose()


async def test_a_signature_due_after_the_expiry_never_comes(clock: FakeClock) -> None:
    sandbox = Sandbox(clock=clock, sign_after=60.0)
    raw = Raw(sandbox)
    try:
        token = await raw.session()
        receipt_id = (await raw.receipt(token, Expires_in=30))["receiptId"]
        clock.advance(29)
        assert sandbox.state(receipt_id).state is SignState.PENDING
        clock.advance(1)
        assert sandbox.state(receipt_id).state is SignState.EXPIRED
        clock.advance(60)
        status = sandbox.state(receipt_id)
        assert status.state is SignState.EXPIRED
        assert status.complete_dt is None
    finally:
        await raw.aclose()


async def test_a_late_look_still_sees_the_signature_made_in_time(clock: FakeClock) -> None:
    sandbox = Sandbox(clock=clock, sign_after=10.0)
    raw = Raw(sandbox)
    try:
        token = await raw.session()
        receipt_id = (await raw.receipt(token, Expires_in=30))["receiptId"]
        clock.advance(500)  # nobody looked in between
        assert sandbox.state(receipt_id).state is SignState.SIGNED
    finally:
        await raw.aclose()


async def test_without_sign_after_only_a_command_signs(
    raw: Raw, sandbox: Sandbox, clock: FakeClock
) -> None:
    token = await raw.session()
    receipt_id = (await raw.receipt(token, Expires_in=60))["receiptId"]
    clock.advance(59)
    assert sandbox.state(receipt_id).state is SignState.PENDING
    clock.advance(1)
    assert sandbox.state(receipt_id).state is SignState.EXPIRED


async def test_commands_set_the_times(raw: Raw, sandbox: Sandbox, clock: FakeClock) -> None:
    clock.now = 1_800_000_000.0
    token = await raw.session()
    receipt_id = (await raw.receipt(token))["receiptId"]
    clock.advance(3)
    opened = await sandbox.open(receipt_id)
    assert opened.view_dt is not None
    assert opened.view_dt.timestamp() == 1_800_000_003
    assert opened.state is SignState.PENDING
    clock.advance(4)
    signed = await sandbox.sign(receipt_id)
    assert signed.state is SignState.SIGNED
    assert signed.view_dt == opened.view_dt
    assert signed.complete_dt is not None
    assert signed.complete_dt.timestamp() == 1_800_000_007
    clock.advance(2)
    assert (await raw.verify(token, receipt_id)).status_code == 200
    verified = _state((await raw.status(token, receipt_id)).json())
    assert verified.verify_dt is not None
    assert verified.verify_dt.timestamp() == 1_800_000_009


async def test_expire_now(raw: Raw, sandbox: Sandbox, clock: FakeClock) -> None:
    clock.now = 1_800_000_000.0
    token = await raw.session()
    receipt_id = (await raw.receipt(token))["receiptId"]
    clock.advance(10)
    expired = await sandbox.expire(receipt_id)
    assert expired.state is SignState.EXPIRED
    assert expired.expire_dt is not None
    assert expired.expire_dt.timestamp() == 1_800_000_010


@pytest.mark.parametrize("command", ["sign", "expire", "open"])
async def test_commands_need_a_pending_receipt(raw: Raw, sandbox: Sandbox, command: str) -> None:
    token = await raw.session()
    receipt_id = (await raw.receipt(token))["receiptId"]
    await sandbox.expire(receipt_id)
    with pytest.raises(Rejected) as refused:
        await getattr(sandbox, command)(receipt_id)
    assert refused.value.rejection is Rejection.STATE_CONFLICT


async def test_commands_on_an_unknown_receipt(sandbox: Sandbox) -> None:
    with pytest.raises(Rejected) as refused:
        await sandbox.sign("000000000000000001")
    assert refused.value.rejection is Rejection.RECEIPT_UNKNOWN
    assert refused.value.http_status == 404


async def test_status_of_another_client_codes_receipt_is_refused(raw: Raw) -> None:
    mine = await raw.session("111111111111")
    theirs = await raw.session("222222222222")
    receipt_id = (await raw.receipt(theirs))["receiptId"]
    assert_refused(await raw.status(mine, receipt_id), Rejection.RECEIPT_OTHER_CLIENT)
    assert_refused(await raw.verify(mine, receipt_id), Rejection.RECEIPT_OTHER_CLIENT)


async def test_an_ip_bound_token_is_refused_from_another_ip(raw: Raw, sandbox: Sandbox) -> None:
    token = await raw.session()
    receipt_id = (await raw.receipt(token))["receiptId"]
    elsewhere = Raw(sandbox, client_ip="10.1.2.3")
    try:
        assert_refused(await elsewhere.status(token, receipt_id), Rejection.TOKEN_IP_MISMATCH)
        assert_refused(await elsewhere.request(token), Rejection.TOKEN_IP_MISMATCH)
    finally:
        await elsewhere.aclose()


async def test_a_forwarded_token_works_from_any_ip(raw: Raw, sandbox: Sandbox) -> None:
    token = await raw.session(forwarded="*")
    receipt_id = (await raw.receipt(token))["receiptId"]
    elsewhere = Raw(sandbox, client_ip="10.1.2.3")
    try:
        assert (await elsewhere.status(token, receipt_id)).status_code == 200
    finally:
        await elsewhere.aclose()


async def test_an_unknown_receipt_is_refused(raw: Raw) -> None:
    token = await raw.session()
    assert_refused(await raw.status(token, "022112815423700001"), Rejection.RECEIPT_UNKNOWN)
    assert_refused(await raw.verify(token, "022112815423700001"), Rejection.RECEIPT_UNKNOWN)


@pytest.mark.parametrize("receipt_id", ["abc", "1" * 21, "12%2034"])
async def test_a_malformed_receipt_id_is_refused(raw: Raw, receipt_id: str) -> None:
    token = await raw.session()
    assert_refused(await raw.status(token, receipt_id), Rejection.RECEIPT_ID_INVALID)


async def test_status_needs_its_version_header(raw: Raw) -> None:
    token = await raw.session()
    receipt_id = (await raw.receipt(token))["receiptId"]
    response = await raw.status(token, receipt_id, headers={"x-pb-version": None})
    assert_refused(response, Rejection.VERSION)
    response = await raw.verify(token, receipt_id, headers={"x-pb-version": "1.0"})
    assert_refused(response, Rejection.VERSION)


async def test_status_with_an_unknown_or_missing_token_is_refused(raw: Raw) -> None:
    token = await raw.session()
    receipt_id = (await raw.receipt(token))["receiptId"]
    assert_refused(await raw.status("forged", receipt_id), Rejection.TOKEN_UNKNOWN)
    response = await raw.status(token, receipt_id, headers={"Authorization": None})
    assert_refused(response, Rejection.BEARER_MISSING)


async def test_status_with_an_expired_token_is_refused(raw: Raw, clock: FakeClock) -> None:
    token = await raw.session()
    receipt_id = (await raw.receipt(token))["receiptId"]
    clock.advance(3599)
    assert (await raw.status(token, receipt_id)).status_code == 200
    clock.advance(1)
    assert_refused(await raw.status(token, receipt_id), Rejection.TOKEN_EXPIRED)
    assert_refused(await raw.verify(token, receipt_id), Rejection.TOKEN_EXPIRED)


async def test_status_needs_the_esign_scope(raw: Raw) -> None:
    token = await raw.session()
    receipt_id = (await raw.receipt(token))["receiptId"]
    narrow = await raw.session(scope=["member"])
    assert_refused(await raw.status(narrow, receipt_id), Rejection.SCOPE_MISSING)


# Verify -----------------------------------------------------------------------------


async def test_verify_answers_the_signed_data_once(raw: Raw, sandbox: Sandbox) -> None:
    token, receipt_id = await _signed(raw, sandbox)
    response = await raw.verify(token, receipt_id)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"receiptId", "signedData"}
    assert body["receiptId"] == receipt_id
    assert 0 < len(body["signedData"]) < 4096
    base64.b64decode(body["signedData"], validate=True)
    assert_refused(await raw.verify(token, receipt_id), Rejection.ALREADY_VERIFIED)


async def test_signed_data_differs_per_receipt(raw: Raw, sandbox: Sandbox) -> None:
    token, first = await _signed(raw, sandbox)
    _, second = await _signed(raw, sandbox)
    one = (await raw.verify(token, first)).json()["signedData"]
    two = (await raw.verify(token, second)).json()["signedData"]
    assert one != two


async def test_verify_before_signing_is_refused_and_consumes_nothing(
    raw: Raw, sandbox: Sandbox
) -> None:
    token = await raw.session()
    receipt_id = (await raw.receipt(token))["receiptId"]
    assert_refused(await raw.verify(token, receipt_id), Rejection.NOT_SIGNED)
    await sandbox.sign(receipt_id)
    assert (await raw.verify(token, receipt_id)).status_code == 200


async def test_verify_of_an_expired_receipt_is_refused(raw: Raw, sandbox: Sandbox) -> None:
    token = await raw.session()
    receipt_id = (await raw.receipt(token))["receiptId"]
    await sandbox.expire(receipt_id)
    assert_refused(await raw.verify(token, receipt_id), Rejection.RECEIPT_EXPIRED)


async def test_app_to_app_verify_needs_the_signature_as_the_official_sdks_send_it(
    raw: Raw, sandbox: Sandbox
) -> None:
    token, receipt_id = await _signed(raw, sandbox, isAppUseYN=True)
    signature = sandbox.signature(receipt_id)
    assert {"/", "+", "="} <= set(signature)
    assert signature.startswith("+/")
    assert "//" not in signature
    assert_refused(await raw.verify(token, receipt_id), Rejection.SIGNATURE_MISSING)
    assert_refused(
        await raw.verify(token, receipt_id, "-" + signature[1:]), Rejection.SIGNATURE_MISMATCH
    )
    # Percent-encoded, it is not the signature: the sandbox reads the raw path.
    encoded = urllib.parse.quote(signature, safe="")
    assert_refused(await raw.verify(token, receipt_id, encoded), Rejection.SIGNATURE_MISMATCH)
    # As given, "/" and "+" included, it is.
    response = await raw.verify(token, receipt_id, signature)
    assert response.status_code == 200, response.text
    assert response.json()["receiptId"] == receipt_id


async def test_app_to_app_state_carries_the_tx_id(raw: Raw, sandbox: Sandbox) -> None:
    token = await raw.session()
    answer = await raw.receipt(token, isAppUseYN=True)
    body = (await raw.status(token, answer["receiptId"])).json()
    assert body["appUseYN"] is True
    assert body["tx_id"] == answer["tx_id"]


async def test_a_signature_on_a_talk_message_receipt_is_refused(raw: Raw, sandbox: Sandbox) -> None:
    token, receipt_id = await _signed(raw, sandbox)
    response = await raw.verify(token, receipt_id, "c2ln")
    assert_refused(response, Rejection.SIGNATURE_UNEXPECTED)


async def test_signature_of_a_talk_message_receipt_is_a_conflict(
    raw: Raw, sandbox: Sandbox
) -> None:
    token = await raw.session()
    receipt_id = (await raw.receipt(token))["receiptId"]
    with pytest.raises(Rejected) as refused:
        sandbox.signature(receipt_id)
    assert refused.value.rejection is Rejection.STATE_CONFLICT
