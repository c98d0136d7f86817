"""Identity verification and CMS pass the flows ESign passes, against the in-process sandbox.

Each family: request -> wait -> verify, with the right models and paths; App to App
for ESign and CMS; the service's errors; bad input refused with nothing sent
(arrivals counted at the sandbox); verify never sent twice; the same waiting and
deadline rules, whatever kind of receipt is waited for.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
import pytest

from kakaocert_async import (
    APIError,
    Client,
    CMSReceipt,
    CMSRequest,
    CMSStatus,
    CMSVerification,
    ESignReceipt,
    ESignStatus,
    ESignVerification,
    SignState,
    SignTimeout,
    ValidationError,
    VerifyAuthReceipt,
    VerifyAuthRequest,
    VerifyAuthStatus,
    VerifyAuthVerification,
    VerifyOutcomeUnknown,
    _wire,
)
from kakaocert_async._models import ReceiptBase, StatusBase, VerificationBase
from kakaocert_async.sandbox import COUNTERS, ENDPOINTS, Fault, Rejection, Sandbox
from tests._served import expected_signed_data
from tests._support import make_cms_request, make_request, make_verify_auth_request

Request = Callable[..., Awaitable[ReceiptBase]]


@attrs.frozen
class Kind:
    """One family as a test drives it through the public API."""

    name: str
    prefix: str
    """Of its sandbox endpoint names."""
    request: Callable[[Client, str], Awaitable[ReceiptBase]]
    state: Callable[[Client, str, str], Awaitable[StatusBase]]
    verify: Callable[[Client, str, str], Awaitable[VerificationBase]]
    receipt: type[ReceiptBase]
    status: type[StatusBase]
    verification: type[VerificationBase]
    token: str | None
    get_state: str


ESIGN = Kind(
    "esign",
    "",
    lambda c, code: c.request_esign(code, make_request()),
    lambda c, code, rid: c.get_esign_state(code, rid),
    lambda c, code, rid: c.verify_esign(code, rid),
    ESignReceipt,
    ESignStatus,
    ESignVerification,
    "전자서명 원문",
    "get_esign_state",
)
IDENTITY = Kind(
    "identity",
    "identity.",
    lambda c, code: c.request_verify_auth(code, make_verify_auth_request()),
    lambda c, code, rid: c.get_verify_auth_state(code, rid),
    lambda c, code, rid: c.verify_auth(code, rid),
    VerifyAuthReceipt,
    VerifyAuthStatus,
    VerifyAuthVerification,
    "nonce-7f3a9c",
    "get_verify_auth_state",
)
CMS = Kind(
    "cms",
    "cms.",
    lambda c, code: c.request_cms(code, make_cms_request()),
    lambda c, code, rid: c.get_cms_state(code, rid),
    lambda c, code, rid: c.verify_cms(code, rid),
    CMSReceipt,
    CMSStatus,
    CMSVerification,
    None,
    "get_cms_state",
)
KINDS = [ESIGN, IDENTITY, CMS]
NEW_KINDS = [IDENTITY, CMS]


def api_arrivals(sandbox: Sandbox) -> dict[str, int]:
    """Arrivals at every API endpoint (all but time and token) that saw any."""
    return {
        name: count
        for name, count in sandbox.stats.items()
        if name in ENDPOINTS and name not in {"time", "token"} and count
    }


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
async def test_request_wait_verify(kind: Kind) -> None:
    sandbox = Sandbox(sign_after=None)
    async with sandbox, sandbox.client() as client:
        code = sandbox.client_code
        receipt = await kind.request(client, code)
        assert type(receipt) is kind.receipt
        pending = await kind.state(client, code, receipt.receipt_id)
        assert type(pending) is kind.status
        assert pending.state is SignState.PENDING
        await sandbox.sign(receipt.receipt_id)
        signed = await client.await_signed(code, receipt, interval=0.01)  # type: ignore[call-overload]
        assert type(signed) is kind.status
        assert signed.state is SignState.SIGNED
        verification = await kind.verify(client, code, receipt.receipt_id)
        assert type(verification) is kind.verification
        verified = await kind.state(client, code, receipt.receipt_id)
    assert verification.receipt_id == receipt.receipt_id
    assert verification.signed_data == expected_signed_data(
        sandbox, receipt.receipt_id, kind.token or ""
    )
    assert verified.verify_dt is not None
    # Every call went to this family's endpoints, and only once each but the reads.
    p = kind.prefix
    assert api_arrivals(sandbox) == {f"{p}request": 1, f"{p}status": 3, f"{p}verify": 1}
    assert sandbox.stats["token"] == 1


async def test_the_states_carry_each_familys_own_fields() -> None:
    sandbox = Sandbox(sign_after=None)
    async with sandbox, sandbox.client() as client:
        code = sandbox.client_code
        named = make_verify_auth_request(call_center_name="고객센터", payload="memo-9")
        identity = await client.request_verify_auth(code, named)
        cms = await client.request_cms(code, make_cms_request())
        identity_state = await client.get_verify_auth_state(code, identity.receipt_id)
        cms_state = await client.get_cms_state(code, cms.receipt_id)
    assert identity_state.call_center_name == "고객센터"
    assert identity_state.payload == "memo-9"
    assert cms_state.call_center_name == sandbox.settings.client_name  # not sent: registered
    assert cms_state.app_to_app is False
    assert not hasattr(identity_state, "app_to_app")
    assert cms_state.tx_id is None  # App to App only


# App to App ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_app", "verify"),
    [
        (
            lambda c, code: c.request_esign(code, make_request(), app_to_app=True),
            lambda c, code, rid, sig: c.verify_esign(code, rid, sig),
        ),
        (
            lambda c, code: c.request_cms(code, make_cms_request(), app_to_app=True),
            lambda c, code, rid, sig: c.verify_cms(code, rid, sig),
        ),
    ],
    ids=["esign", "cms"],
)
async def test_app_to_app(request_app: Any, verify: Any) -> None:
    sandbox = Sandbox(sign_after=None)
    async with sandbox, sandbox.client() as client:
        code = sandbox.client_code
        receipt = await request_app(client, code)
        assert receipt.tx_id
        await sandbox.sign(receipt.receipt_id)
        signature = sandbox.signature(receipt.receipt_id)
        assert {"+", "/", "="} <= set(signature)
        with pytest.raises(APIError) as missing:
            await verify(client, code, receipt.receipt_id, None)
        verification = await verify(client, code, receipt.receipt_id, signature)
        state = sandbox.state(receipt.receipt_id)
    assert missing.value.code == Rejection.SIGNATURE_MISSING.code
    assert verification.receipt_id == receipt.receipt_id
    assert getattr(state, "app_to_app", None) is True


async def test_identity_verification_has_no_app_to_app() -> None:
    # Neither in the API (no such arguments) nor on the wire.
    sandbox = Sandbox(sign_after=None)
    async with sandbox, sandbox.client() as client:
        code = sandbox.client_code
        with pytest.raises(TypeError):
            await client.request_verify_auth(code, make_verify_auth_request(), True)  # type: ignore[call-arg]
        with pytest.raises(TypeError):
            await client.verify_auth(code, "1", "sig")  # type: ignore[call-arg]
    assert api_arrivals(sandbox) == {}


# Errors -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", NEW_KINDS, ids=lambda k: k.name)
async def test_the_services_refusals(kind: Kind) -> None:
    sandbox = Sandbox(sign_after=None)
    async with sandbox, sandbox.client() as client:
        code = sandbox.client_code
        receipt = await kind.request(client, code)
        esign = await client.request_esign(code, make_request())
        with pytest.raises(APIError) as not_signed:
            await kind.verify(client, code, receipt.receipt_id)
        with pytest.raises(APIError) as other_family:
            await kind.state(client, code, esign.receipt_id)
        with pytest.raises(APIError) as unknown:
            await kind.state(client, code, "022112815423700001")
        await sandbox.expire(receipt.receipt_id)
        with pytest.raises(APIError) as expired:
            await kind.verify(client, code, receipt.receipt_id)
    assert (not_signed.value.code, not_signed.value.http_status) == (
        Rejection.NOT_SIGNED.code,
        409,
    )
    assert other_family.value.code == Rejection.RECEIPT_UNKNOWN.code
    assert unknown.value.code == Rejection.RECEIPT_UNKNOWN.code
    assert expired.value.code == Rejection.RECEIPT_EXPIRED.code


@pytest.mark.parametrize("kind", NEW_KINDS, ids=lambda k: k.name)
async def test_verify_is_never_sent_twice(kind: Kind) -> None:
    sandbox = Sandbox(sign_after=None)
    async with sandbox, sandbox.client() as client:
        code = sandbox.client_code
        receipt = await kind.request(client, code)
        await sandbox.sign(receipt.receipt_id)
        sandbox.faults.add(Fault(action="drop", endpoints={f"{kind.prefix}verify"}))
        with pytest.raises(VerifyOutcomeUnknown) as lost:
            await kind.verify(client, code, receipt.receipt_id)
        state = await kind.state(client, code, receipt.receipt_id)
    assert sandbox.stats[f"{kind.prefix}verify"] == 1
    assert lost.value.receipt_id == receipt.receipt_id
    assert f"{kind.get_state}()" in lost.value.message
    assert state.verify_dt is not None  # the drop came after the service consumed it


@pytest.mark.parametrize("kind", NEW_KINDS, ids=lambda k: k.name)
async def test_a_request_is_not_repeated_and_a_state_read_is(kind: Kind) -> None:
    sandbox = Sandbox(sign_after=None)
    async with sandbox, sandbox.client() as client:
        code = sandbox.client_code
        sandbox.faults.add(Fault(action="error", endpoints={f"{kind.prefix}request"}, times=1))
        with pytest.raises(APIError):
            await kind.request(client, code)
        receipt = await kind.request(client, code)
        status = f"{kind.prefix}status"
        sandbox.faults.add(Fault(action="error", endpoints={status}, status=502, times=2))
        state = await kind.state(client, code, receipt.receipt_id)
    assert state.state is SignState.PENDING
    assert sandbox.stats[f"{kind.prefix}request"] == 2  # one each call: never repeated
    assert sandbox.stats[status] == 3  # two failures, then the answer


# Waiting ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
async def test_waiting_watches_every_kind_with_the_same_deadline_rules(kind: Kind) -> None:
    sandbox = Sandbox(sign_after=None)
    async with sandbox, sandbox.client() as client:
        code = sandbox.client_code
        receipt = await kind.request(client, code)
        with pytest.raises(SignTimeout) as timed_out:
            await client.await_signed(code, receipt, timeout=0.05, interval=0.01)  # type: ignore[call-overload]
        seen = []
        async for status in client.watch_state(code, receipt, interval=0.01):  # type: ignore[call-overload]
            seen.append(status)
            if len(seen) == 2:
                await sandbox.sign(receipt.receipt_id)
    assert type(timed_out.value.last_status) is kind.status
    assert all(type(status) is kind.status for status in seen)
    assert [status.state for status in seen] == [SignState.PENDING] * 2 + [SignState.SIGNED]


async def test_a_worker_rebuilds_the_receipt_from_its_stored_id() -> None:
    sandbox = Sandbox(sign_after=0.0)
    async with sandbox, sandbox.client() as client:
        code = sandbox.client_code
        stored = (await client.request_cms(code, make_cms_request())).receipt_id
        identity = (await client.request_verify_auth(code, make_verify_auth_request())).receipt_id
        cms_state = await client.await_signed(code, CMSReceipt(receipt_id=stored), interval=0.01)
        identity_state = await client.await_signed(
            code, VerifyAuthReceipt(receipt_id=identity), interval=0.01
        )
        # A plain id is an e-signature's, as it always was (deprecated): a CMS id is
        # unknown there.
        with (
            pytest.raises(APIError) as unknown,
            pytest.warns(DeprecationWarning, match="ESignReceipt"),
        ):
            await client.await_signed(code, stored, interval=0.01)  # type: ignore[arg-type]
    assert isinstance(cms_state, CMSStatus)
    assert cms_state.state is SignState.SIGNED
    assert isinstance(identity_state, VerifyAuthStatus)
    assert unknown.value.code == Rejection.RECEIPT_UNKNOWN.code
    assert sandbox.stats["status"] == 1


# Validation: nothing sent -------------------------------------------------------------

NEW_FIELD_PROBLEMS = [
    (VerifyAuthRequest, "call_center_name", 5, "string"),
    (VerifyAuthRequest, "token", None, "string"),
    (VerifyAuthRequest, "token", " ", "required"),
    (CMSRequest, "bank_account_name", "", "required"),
    (CMSRequest, "bank_account_num", "  ", "required"),
    (CMSRequest, "bank_code", 4, "string"),
    (CMSRequest, "client_user_id", None, "string"),
    (CMSRequest, "token", "x" * 501, "at most 500"),
    (CMSRequest, "bank_account_num", "1\x002", "control"),
    # The shared fields keep the manual's limits in every family.
    (CMSRequest, "receiver_hp", "010-1234-1234", "10 or 11 digits"),
    (VerifyAuthRequest, "tms_title", "x" * 41, "at most 40"),
    (VerifyAuthRequest, "expires_in", 1001, "between 1 and 1000"),
]


@pytest.mark.parametrize(("cls", "field", "value", "words"), NEW_FIELD_PROBLEMS)
def test_bad_fields_are_refused_when_built(
    cls: type[Any], field: str, value: object, words: str
) -> None:
    make = make_cms_request if cls is CMSRequest else make_verify_auth_request
    with pytest.raises(ValidationError) as refused:
        make(**{field: value})
    assert refused.value.field == field
    assert words in refused.value.message
    if isinstance(value, str) and len(value) > 2:
        assert value not in str(refused.value)


def test_what_the_official_examples_send_is_accepted() -> None:
    # No limits are public for these: long values, masked account numbers, empty
    # optional fields (the examples send SubClientID='').
    cms = make_cms_request(
        bank_account_num="371-02-6***85",
        bank_account_name="김" * 100,
        client_user_id="x" * 300,
        sub_client_id="",
    )
    assert cms.token is None
    identity = make_verify_auth_request(call_center_name="고객센터 " * 30)
    assert identity.call_center_name is not None


def test_a_cms_request_names_no_call_center_as_no_official_sdk_sends_one() -> None:
    # The .NET and Java RequestCMS have no CallCenterName (only RequestVerifyAuth has):
    # a strict service would refuse it, a lenient one ignore it.
    assert "call_center_name" not in attrs.fields_dict(CMSRequest)
    with pytest.raises(TypeError, match="call_center_name"):
        make_cms_request(call_center_name="고객센터")
    assert "CallCenterName" not in json.loads(
        _wire.encode_request(make_cms_request(), app_to_app=False)
    )


def test_reprs_hide_the_bank_details_and_the_receiver() -> None:
    cms = make_cms_request(bank_account_num="371-02-6***85", client_user_id="member-1042")
    text = repr(cms) + str(cms)
    for secret in ("371-02-6***85", "member-1042", "홍길동", "01012341234", "19900108"):
        assert secret not in text
    assert "'004'" in text  # a bank code is no one's personal data


BAD_CALLS = {
    "verify_auth: ESign request": (
        lambda c, code: c.request_verify_auth(code, make_request()),
        "request",
    ),
    "cms: identity request": (
        lambda c, code: c.request_cms(code, make_verify_auth_request()),
        "request",
    ),
    "esign: cms request": (lambda c, code: c.request_esign(code, make_cms_request()), "request"),
    "cms: app_to_app None": (
        lambda c, code: c.request_cms(code, make_cms_request(), None),
        "app_to_app",
    ),
    "cms: bad client code": (
        lambda c, code: c.request_cms("123", make_cms_request()),
        "client_code",
    ),
    "identity state: bad id": (lambda c, code: c.get_verify_auth_state(code, "1/2"), "receipt_id"),
    "cms verify: bad id": (lambda c, code: c.verify_cms(code, "x"), "receipt_id"),
    "cms verify: bad signature": (lambda c, code: c.verify_cms(code, "1", "a/../b"), "signature"),
    "cms verify: query": (lambda c, code: c.verify_cms(code, "1", "a?b"), "signature"),
    "identity verify: bad id": (lambda c, code: c.verify_auth(code, ""), "receipt_id"),
    "await: not a receipt": (
        lambda c, code: c.await_signed(code, {"receipt_id": "1"}),
        "receipt",
    ),
    "await: bad id in a receipt": (
        lambda c, code: c.await_signed(code, CMSReceipt(receipt_id="1 OR 1")),
        "receipt_id",
    ),
    "watch: bad interval": (
        lambda c, code: c.await_signed(code, VerifyAuthReceipt(receipt_id="1"), interval=0),
        "interval",
    ),
}


@pytest.mark.parametrize(("call", "field"), BAD_CALLS.values(), ids=BAD_CALLS.keys())
async def test_bad_arguments_send_nothing(call: Any, field: str) -> None:
    sandbox = Sandbox(sign_after=None)
    async with sandbox, sandbox.client() as client:
        with pytest.raises(ValidationError) as refused:
            await call(client, sandbox.client_code)
    assert refused.value.field == field
    assert sandbox.stats == dict.fromkeys(COUNTERS, 0)
