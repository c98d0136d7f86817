"""SignIdentity and SignDirectDebit in the sandbox, by hand-signed calls: as strict as SignToken.

Bodies structured strictly into each family's model (refusals name the wire
field), each family's own scope, receipts known only to their own family, App to
App only where it exists, the same control surface and per-endpoint stats/faults.
"""

from __future__ import annotations

import pytest

from kakaocert_async import CMSStatus, SignState, VerifyAuthStatus, _wire
from kakaocert_async.sandbox import Fault, Rejected, Rejection, Sandbox
from tests.sandbox._raw import (
    BODIES,
    CMS,
    DROP,
    ESIGN,
    IDENTITY,
    FakeClock,
    Raw,
    assert_refused,
    cms_body,
    identity_body,
)


async def test_identity_request_state_verify(raw: Raw, sandbox: Sandbox) -> None:
    token = await raw.session()
    answer = await raw.receipt(token, IDENTITY)
    assert set(answer) == {"receiptId"}  # no tx_id: no App to App
    receipt_id = answer["receiptId"]
    body = (await raw.status(token, receipt_id, family=IDENTITY)).json()
    assert set(body) == set(_wire.wire_names(VerifyAuthStatus).values())
    assert body["callCenterName"] == "고객센터"
    assert body["state"] == 0
    await sandbox.sign(receipt_id)
    verified = await raw.verify(token, receipt_id, family=IDENTITY)
    assert verified.status_code == 200, verified.text
    assert set(verified.json()) == {"receiptId", "signedData"}
    again = await raw.verify(token, receipt_id, family=IDENTITY)
    assert_refused(again, Rejection.ALREADY_VERIFIED)
    assert sandbox.stats["identity.request"] == 1
    assert sandbox.stats["identity.status"] == 1
    assert sandbox.stats["identity.verify"] == 2
    assert (sandbox.stats["request"], sandbox.stats["status"], sandbox.stats["verify"]) == (0, 0, 0)


async def test_cms_request_state_verify_in_app_to_app(raw: Raw, sandbox: Sandbox) -> None:
    token = await raw.session()
    answer = await raw.receipt(token, CMS, isAppUseYN=True)
    assert answer["tx_id"]
    receipt_id = answer["receiptId"]
    body = (await raw.status(token, receipt_id, family=CMS)).json()
    assert set(body) == set(_wire.wire_names(CMSStatus).values())
    assert body["appUseYN"] is True
    await sandbox.sign(receipt_id)
    signature = sandbox.signature(receipt_id)
    assert_refused(await raw.verify(token, receipt_id, family=CMS), Rejection.SIGNATURE_MISSING)
    response = await raw.verify(token, receipt_id, signature, family=CMS)
    assert response.status_code == 200, response.text
    assert sandbox.stats["cms.verify"] == 2


async def test_cms_takes_the_fields_the_dotnet_sdk_sends(raw: Raw, sandbox: Sandbox) -> None:
    token = await raw.session()
    body = cms_body(Token="원문", SubClientID="")
    receipt_id = (await raw.receipt(token, CMS, **body))["receiptId"]
    state = sandbox.state(receipt_id)
    assert isinstance(state, CMSStatus)
    # RequestCMS names no call center: its state shows the client's registered name.
    assert state.call_center_name == sandbox.settings.client_name
    # The .NET SDK sends every field, the unset ones as null.
    nulls = cms_body(Token=None, TMSMessage=None, PayLoad=None)
    assert (await raw.request(token, nulls, family=CMS)).status_code == 200


@pytest.mark.parametrize(
    ("family", "changes", "rejection", "field"),
    [
        (CMS, {"BankCode": DROP}, Rejection.FIELD_MISSING, "BankCode"),
        (CMS, {"BankAccountNum": None}, Rejection.FIELD_MISSING, "BankAccountNum"),
        (CMS, {"BankAccountName": ""}, Rejection.FIELD_INVALID, "BankAccountName"),
        (CMS, {"ClientUserID": 12}, Rejection.FIELD_TYPE, "ClientUserID"),
        (CMS, {"ReceiverHP": "010-1234-1234"}, Rejection.FIELD_INVALID, "ReceiverHP"),
        (CMS, {"isAppUseYN": "true"}, Rejection.FIELD_TYPE, "isAppUseYN"),
        (IDENTITY, {"Token": DROP}, Rejection.FIELD_MISSING, "Token"),
        (IDENTITY, {"CallCenterName": 5}, Rejection.FIELD_TYPE, "CallCenterName"),
        (IDENTITY, {"isAppUseYN": True}, Rejection.FIELD_INVALID, "isAppUseYN"),
        (IDENTITY, {"Expires_in": 0}, Rejection.FIELD_INVALID, "Expires_in"),
        (IDENTITY, {"TMSTitle": "x" * 41}, Rejection.FIELD_INVALID, "TMSTitle"),
    ],
)
async def test_bodies_are_checked_strictly_naming_the_wire_field(
    raw: Raw,
    sandbox: Sandbox,
    family: str,
    changes: dict[str, object],
    rejection: Rejection,
    field: str,
) -> None:
    token = await raw.session()
    make = cms_body if family == CMS else identity_body
    response = await raw.request(token, make(**changes), family=family)
    assert_refused(response, rejection, field)
    assert len(sandbox.service) == 0


async def test_identity_takes_an_app_to_app_flag_only_when_false(raw: Raw) -> None:
    token = await raw.session()
    response = await raw.request(token, identity_body(isAppUseYN=False), family=IDENTITY)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(("family", "scope"), [(IDENTITY, "320"), (CMS, "330"), (ESIGN, "310")])
async def test_each_family_needs_its_own_scope(raw: Raw, family: str, scope: str) -> None:
    others = [s for s in ("member", "310", "320", "330") if s != scope]
    token = await raw.session(scope=others)
    response = await raw.request(token, BODIES[family](), family=family)
    assert_refused(response, Rejection.SCOPE_MISSING)
    assert scope in response.json()["message"]
    assert_refused(await raw.status(token, "1", family=family), Rejection.SCOPE_MISSING)
    # The token works for the other families.
    other = IDENTITY if family != IDENTITY else CMS
    assert (await raw.request(token, BODIES[other](), family=other)).status_code == 200


async def test_a_receipt_is_known_only_to_its_own_family(raw: Raw, sandbox: Sandbox) -> None:
    token = await raw.session()
    ids = {
        family: (await raw.receipt(token, family))["receiptId"] for family in (ESIGN, IDENTITY, CMS)
    }
    for family, receipt_id in ids.items():
        await sandbox.sign(receipt_id)
        for other in {ESIGN, IDENTITY, CMS} - {family}:
            status = await raw.status(token, receipt_id, family=other)
            assert_refused(status, Rejection.RECEIPT_UNKNOWN)
            assert_refused(
                await raw.verify(token, receipt_id, family=other), Rejection.RECEIPT_UNKNOWN
            )
        assert (await raw.verify(token, receipt_id, family=family)).status_code == 200


async def test_identity_verify_takes_no_signature_segment(raw: Raw, sandbox: Sandbox) -> None:
    token = await raw.session()
    receipt_id = (await raw.receipt(token, IDENTITY))["receiptId"]
    await sandbox.sign(receipt_id)
    response = await raw.verify(token, receipt_id, "c2ln", family=IDENTITY)
    assert_refused(response, Rejection.NOT_FOUND)
    # Nothing consumed.
    assert (await raw.verify(token, receipt_id, family=IDENTITY)).status_code == 200


@pytest.mark.parametrize("family", [IDENTITY, CMS])
async def test_gets_take_either_version_header(raw: Raw, family: str) -> None:
    # The Python SDK sends x-pb-version, the .NET SDK x-lh-version.
    token = await raw.session()
    receipt_id = (await raw.receipt(token, family))["receiptId"]
    dotnet = {"x-pb-version": None, "x-lh-version": "2.0"}
    assert (await raw.status(token, receipt_id, family=family, headers=dotnet)).status_code == 200
    neither = {"x-pb-version": None}
    response = await raw.status(token, receipt_id, family=family, headers=neither)
    assert_refused(response, Rejection.VERSION)


async def test_the_control_surface_serves_every_family(
    raw: Raw, sandbox: Sandbox, clock: FakeClock
) -> None:
    token = await raw.session()
    identity = (await raw.receipt(token, IDENTITY, Expires_in=60))["receiptId"]
    cms = (await raw.receipt(token, CMS, isAppUseYN=True))["receiptId"]
    opened = await sandbox.open(identity)
    assert isinstance(opened, VerifyAuthStatus)
    assert opened.view_dt is not None
    expired = await sandbox.expire(cms)
    assert isinstance(expired, CMSStatus)
    assert expired.state is SignState.EXPIRED
    clock.advance(61)
    assert sandbox.state(identity).state is SignState.EXPIRED
    with pytest.raises(Rejected) as no_signature:
        sandbox.signature(identity)
    assert no_signature.value.rejection is Rejection.STATE_CONFLICT
    # Over HTTP too, in the family's own wire names.
    peek = (await raw.http.get(f"/_sandbox/receipts/{cms}")).json()
    assert set(peek) == set(_wire.wire_names(CMSStatus).values())
    signature = (await raw.http.get(f"/_sandbox/receipts/{cms}/signature")).json()
    assert signature == {"receiptID": cms, "signature": sandbox.signature(cms)}
    fresh = (await raw.receipt(token, CMS))["receiptId"]
    signed = (await raw.http.post(f"/_sandbox/receipts/{fresh}/sign")).json()
    assert signed["state"] == 1
    assert "callCenterName" in signed


async def test_faults_strike_by_family_endpoint(raw: Raw, sandbox: Sandbox) -> None:
    token = await raw.session()
    esign = (await raw.receipt(token))["receiptId"]
    cms = (await raw.receipt(token, CMS))["receiptId"]
    sandbox.faults.add(Fault.parse("error:endpoint=cms.status+identity.request,status=502"))
    assert (await raw.status(token, esign)).status_code == 200
    assert (await raw.status(token, cms, family=CMS)).status_code == 502
    assert (await raw.request(token, identity_body(), family=IDENTITY)).status_code == 502
    assert (await raw.request(token, cms_body(), family=CMS)).status_code == 200
    with pytest.raises(ValueError, match="unknown endpoints"):
        Fault.parse("error:endpoint=cms.nowhere")
