"""Barocert's control surface: the receiver's answers, the decrypted request, logins,
tokens, stats per endpoint and faults, from Python and over HTTP."""

from __future__ import annotations

import httpx
import pytest

from kakaocert_async.barocert import Kind, State
from kakaocert_async.sandbox import Fault, FaultSpecError, Rejected, Rejection, Sandbox
from tests.barocert._requests import make_request
from tests.sandbox._barocert_raw import BarocertRaw
from tests.sandbox._raw import FakeClock, assert_refused


@pytest.mark.parametrize(
    ("command", "state"),
    [("sign", State.COMPLETED), ("refuse", State.REFUSED), ("fail", State.FAILED)],
)
async def test_the_receivers_answers_over_http(bc: BarocertRaw, command: str, state: State) -> None:
    receipt_id = await bc.receipt(Kind.SIGN)
    answered = await bc.http.post(f"/_sandbox/barocert/receipts/{receipt_id}/{command}")
    assert answered.status_code == 200, answered.text
    assert answered.json()["state"] == state
    assert answered.json()["viewDT"] is not None
    status = (await bc.status(Kind.SIGN, receipt_id)).json()
    assert status["state"] == state
    assert (status["completeDT"] is not None) is (state is State.COMPLETED)
    again = await bc.http.post(f"/_sandbox/barocert/receipts/{receipt_id}/sign")
    assert_refused(again, Rejection.STATE_CONFLICT)


async def test_open_and_expire(bc: BarocertRaw, sandbox: Sandbox) -> None:
    receipt_id = await bc.receipt(Kind.IDENTITY)
    opened = sandbox.barocert.open(receipt_id)
    assert opened.state is State.WAITING
    assert opened.view_dt is not None
    expired = await bc.http.post(f"/_sandbox/barocert/receipts/{receipt_id}/expire")
    assert expired.json()["state"] == State.EXPIRED
    with pytest.raises(Rejected) as refused:
        sandbox.barocert.sign(receipt_id)
    assert refused.value.rejection is Rejection.STATE_CONFLICT


async def test_unknown_commands_and_receipts(bc: BarocertRaw) -> None:
    receipt_id = await bc.receipt(Kind.CMS)
    response = await bc.http.post(f"/_sandbox/barocert/receipts/{receipt_id}/explode")
    assert_refused(response, Rejection.NOT_FOUND)
    unknown = "0" * 32
    response = await bc.http.post(f"/_sandbox/barocert/receipts/{unknown}/sign")
    assert_refused(response, Rejection.RECEIPT_UNKNOWN)
    assert_refused(
        await bc.http.get(f"/_sandbox/barocert/receipts/{unknown}"), Rejection.RECEIPT_UNKNOWN
    )


async def test_the_state_and_the_decrypted_request_over_http(bc: BarocertRaw) -> None:
    request = make_request(Kind.SIGN, app_to_app=True)
    receipt_id = await bc.receipt(Kind.SIGN, request)
    state = (await bc.http.get(f"/_sandbox/barocert/receipts/{receipt_id}")).json()
    assert state["receiptID"] == receipt_id
    assert state["state"] == 0
    decrypted = (await bc.http.get(f"/_sandbox/barocert/receipts/{receipt_id}/request")).json()
    assert decrypted["kind"] == "Sign"
    assert decrypted["receiptID"] == receipt_id
    assert decrypted["request"]["receiverName"] == "홍길동"  # plain, for a virtual phone
    assert decrypted["request"]["token"] == "전자서명 원문"
    assert decrypted["request"]["appUseYN"] is True
    assert bc.sandbox.barocert.request_of(receipt_id) == request


async def test_receipts_sign_by_themselves_after_sign_after(clock: FakeClock) -> None:
    sandbox = Sandbox(clock=clock, sign_after=2.0)
    bc = BarocertRaw(sandbox)
    try:
        receipt_id = await bc.receipt(Kind.MULTI_SIGN)
        assert sandbox.barocert.state(receipt_id).state is State.WAITING
        clock.advance(2)
        assert (await bc.status(Kind.MULTI_SIGN, receipt_id)).json()["state"] == 1
        assert (await bc.verify(Kind.MULTI_SIGN, receipt_id)).status_code == 200
    finally:
        await bc.aclose()


async def test_a_receipt_expires_by_the_clock(bc: BarocertRaw, clock: FakeClock) -> None:
    receipt_id = await bc.receipt(Kind.SIGN, make_request(Kind.SIGN, expire_in=10))
    clock.advance(10)
    status = (await bc.status(Kind.SIGN, receipt_id)).json()
    assert status["state"] == State.EXPIRED
    assert status["expireDT"] is not None


async def test_logins_from_python_and_over_http(bc: BarocertRaw, sandbox: Sandbox) -> None:
    created = await bc.http.post(
        "/_sandbox/barocert/logins", json={"receiverName": "김철수", "receiverHP": "01099998888"}
    )
    assert created.status_code == 200, created.text
    tx_id = created.json()["txID"]
    assert tx_id.startswith("01")
    assert (await bc.verify_login(tx_id)).status_code == 200
    other = await bc.http.post("/_sandbox/barocert/logins", json={"clientCode": "020040000002"})
    response = await bc.verify_login(other.json()["txID"], client_code="020040000002")
    assert response.status_code == 200
    for bad in ({"clientCode": 12}, {"unknown": "x"}, [1]):
        response = await bc.http.post("/_sandbox/barocert/logins", json=bad)
        assert_refused(response, Rejection.CONTROL_INVALID)
    assert_refused(
        await bc.http.post("/_sandbox/barocert/logins", json={"clientCode": "1"}),
        Rejection.BC_CLIENT_CODE_INVALID,
    )
    assert sandbox.barocert.login() != sandbox.barocert.login()


async def test_revoked_tokens_are_unknown(bc: BarocertRaw, sandbox: Sandbox) -> None:
    token = await bc.session()
    revoked = await bc.http.delete("/_sandbox/barocert/tokens")
    assert revoked.json() == {"revoked": 1}
    assert_refused(await bc.request(Kind.SIGN, token=token), Rejection.TOKEN_UNKNOWN)
    assert sandbox.barocert.revoke_tokens() == 0


async def test_stats_count_each_barocert_endpoint(bc: BarocertRaw, sandbox: Sandbox) -> None:
    receipt_id = await bc.receipt(Kind.CMS)
    await bc.status(Kind.CMS, receipt_id)
    await bc.status(Kind.CMS, receipt_id, headers={"x-pb-version": None})  # refused, counted
    await bc.verify(Kind.CMS, receipt_id)
    await bc.verify_login("01-unknown")
    await bc.http.get("/KAKAO/Nothing")
    stats = sandbox.stats
    assert stats["barocert.token"] == 1
    assert stats["barocert.cms.request"] == 1
    assert stats["barocert.cms.status"] == 2
    assert stats["barocert.cms.verify"] == 1
    assert stats["barocert.login.verify"] == 1
    assert stats["barocert.sign.request"] == 0
    assert stats["request"] == stats["status"] == stats["verify"] == 0  # the 2.x ones
    assert stats["other"] == 1


async def test_faults_strike_barocert_endpoints(bc: BarocertRaw, sandbox: Sandbox) -> None:
    receipt_id = await bc.receipt(Kind.SIGN)
    sandbox.faults.add(Fault.parse("error:endpoint=barocert.sign.status,every=2,body=json"))
    codes = [(await bc.status(Kind.SIGN, receipt_id)).status_code for _ in range(4)]
    assert codes == [200, 503, 200, 503]
    sandbox.barocert.sign(receipt_id)
    sandbox.faults.add(Fault(action="drop", endpoints={"barocert.sign.verify"}, times=1))
    with pytest.raises(httpx.RemoteProtocolError):
        await bc.verify(Kind.SIGN, receipt_id)
    # The drop ran the verify first: the receipt is consumed.
    assert_refused(await bc.verify(Kind.SIGN, receipt_id), Rejection.ALREADY_VERIFIED)


async def test_fault_endpoints_are_checked_by_name() -> None:
    with pytest.raises(FaultSpecError, match=r"barocert\.sign\.status"):
        Fault.parse("error:endpoint=barocert.sign.state")
