"""Interoperability: the official synchronous SDK (kakaocert 2.52.0 + linkhub 1.6.0), unmodified,
runs all nine of its operations — request, state and verify of e-signatures, identity
verifications and CMS withdrawal consents — against the sandbox served on a loopback port.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from kakaocert_async import Client
from kakaocert_async.sandbox import Rejection, Sandbox
from tests._support import make_request
from tests.sandbox._official import IGNORE_UTCNOW, kakaocert, official_service

pytestmark = IGNORE_UTCNOW


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Sandbox, Any]]:
    """The sandbox on a port, and a fresh official KakaocertService wired to it."""
    sandbox = Sandbox(sign_after=None)
    with (
        sandbox.serve_in_thread(host="127.0.0.1", port=0) as url,
        official_service(monkeypatch, url, sandbox.link_id, sandbox.secret_key) as service,
    ):
        yield sandbox, service


def _request(**changes: Any) -> Any:
    fields: dict[str, Any] = {
        "CallCenterNum": "1600-9854",
        "Expires_in": 60,
        "ReceiverBirthDay": "19900108",
        "ReceiverHP": "01012341234",
        "ReceiverName": "홍길동",
        "Token": "전자서명 원문",
        "TMSTitle": "계약 서명",
        "TMSMessage": "계약서에 서명해 주세요",
        "isAllowSimpleRegistYN": False,
        "isVerifyNameYN": True,
        "PayLoad": "memo",
    }
    return kakaocert.RequestESign(**{**fields, **changes})


def test_the_official_sdk_runs_request_state_verify(served: tuple[Sandbox, Any]) -> None:
    sandbox, service = served
    code = sandbox.client_code

    receipt = service.requestESign(code, _request())
    assert len(receipt.receiptId) == 18
    assert receipt.tx_id is None

    state = service.getESignState(code, receipt.receiptId)
    assert state.state == 0
    assert state.receiptID == receipt.receiptId
    assert state.payload == "memo"
    assert state.tmstitle == "계약 서명"

    sandbox.service.sign(receipt.receiptId)
    assert service.getESignState(code, receipt.receiptId).state == 1

    verification = service.verifyESign(code, receipt.receiptId)
    assert verification.receiptId == receipt.receiptId
    assert verification.signedData  # sent gzip-encoded, which the SDK inflates

    with pytest.raises(kakaocert.KakaocertException) as again:
        service.verifyESign(code, receipt.receiptId)
    assert again.value.code == Rejection.ALREADY_VERIFIED.code

    # One token for everything; /Time read before each POST.
    assert sandbox.stats["token"] == 1
    assert sandbox.stats["time"] >= 1
    assert sandbox.stats["request"] == 1


def test_the_official_sdk_in_app_to_app_mode(served: tuple[Sandbox, Any]) -> None:
    sandbox, service = served
    code = sandbox.client_code
    receipt = service.requestESign(code, _request(), True)
    assert receipt.tx_id
    sandbox.service.sign(receipt.receiptId)
    # The SDK puts the signature in the path as given, "+", "/" and "=" included.
    signature = sandbox.signature(receipt.receiptId)
    assert {"+", "/", "="} <= set(signature)
    verification = service.verifyESign(code, receipt.receiptId, signature)
    assert verification.receiptId == receipt.receiptId


def test_the_official_sdk_reads_the_sandboxs_errors(served: tuple[Sandbox, Any]) -> None:
    sandbox, service = served
    with pytest.raises(kakaocert.KakaocertException) as unknown:
        service.getESignState(sandbox.client_code, "022112815423700001")
    assert unknown.value.code == Rejection.RECEIPT_UNKNOWN.code
    assert isinstance(unknown.value.message, str)
    with pytest.raises(kakaocert.KakaocertException) as invalid:
        service.requestESign(sandbox.client_code, _request(ReceiverHP="010-1234-1234"))
    assert invalid.value.code == Rejection.FIELD_INVALID.code
    assert "ReceiverHP" in invalid.value.message


# Identity verification and CMS ------------------------------------------------------

SHARED = {
    "CallCenterNum": "1600-9854",
    "Expires_in": 60,
    "ReceiverBirthDay": "19900108",
    "ReceiverHP": "01012341234",
    "ReceiverName": "홍길동",
    "SubClientID": "",  # as the official examples send it
    "TMSMessage": "메시지 내용",
    "isAllowSimpleRegistYN": False,
    "isVerifyNameYN": True,
    "PayLoad": "memo",
}


def test_the_official_sdk_runs_identity_verification(served: tuple[Sandbox, Any]) -> None:
    sandbox, service = served
    code = sandbox.client_code
    request = kakaocert.RequestVerifyAuth(**SHARED, TMSTitle="본인인증", Token="nonce-1")
    receipt = service.requestVerifyAuth(code, request)
    assert len(receipt.receiptId) == 18

    state = service.getVerifyAuthState(code, receipt.receiptId)
    assert (state.state, state.receiptID, state.tmstitle) == (0, receipt.receiptId, "본인인증")

    sandbox.service.sign(receipt.receiptId)
    assert service.getVerifyAuthState(code, receipt.receiptId).state == 1
    verification = service.verifyAuth(code, receipt.receiptId)
    assert verification.receiptId == receipt.receiptId
    assert verification.signedData
    with pytest.raises(kakaocert.KakaocertException) as again:
        service.verifyAuth(code, receipt.receiptId)
    assert again.value.code == Rejection.ALREADY_VERIFIED.code
    stats = sandbox.stats
    assert (stats["identity.request"], stats["identity.status"], stats["identity.verify"]) == (
        1,
        2,
        2,
    )


def _cms(**changes: Any) -> Any:
    fields = {
        **SHARED,
        "TMSTitle": "자동이체 출금동의",
        "BankAccountName": "예금주명",
        "BankAccountNum": "9-4324-5**7-58",
        "BankCode": "004",
        "ClientUserID": "clientUserID-0423-01",
    }
    return kakaocert.RequestCMS(**{**fields, **changes})


def test_the_official_sdk_runs_cms(served: tuple[Sandbox, Any]) -> None:
    sandbox, service = served
    code = sandbox.client_code
    receipt = service.requestCMS(code, _cms())
    assert receipt.tx_id is None
    state = service.getCMSState(code, receipt.receiptId)
    assert (state.state, state.appUseYN) == (0, False)
    sandbox.service.sign(receipt.receiptId)
    verification = service.verifyCMS(code, receipt.receiptId)
    assert verification.receiptId == receipt.receiptId
    assert verification.signedData


def test_the_official_sdk_runs_cms_in_app_to_app_mode(served: tuple[Sandbox, Any]) -> None:
    sandbox, service = served
    code = sandbox.client_code
    receipt = service.requestCMS(code, _cms(), True)
    assert receipt.tx_id
    sandbox.service.sign(receipt.receiptId)
    signature = sandbox.signature(receipt.receiptId)
    assert {"+", "/", "="} <= set(signature)
    with pytest.raises(kakaocert.KakaocertException) as wrong:
        service.verifyCMS(code, receipt.receiptId, "+/" + signature[2:][::-1])
    assert wrong.value.code == Rejection.SIGNATURE_MISMATCH.code
    verification = service.verifyCMS(code, receipt.receiptId, signature)
    assert verification.receiptId == receipt.receiptId


def test_the_official_sdk_reads_the_new_familys_errors(served: tuple[Sandbox, Any]) -> None:
    sandbox, service = served
    code = sandbox.client_code
    with pytest.raises(kakaocert.KakaocertException) as missing:
        service.requestCMS(code, _cms(BankCode=None))
    assert missing.value.code == Rejection.FIELD_MISSING.code
    assert "BankCode" in missing.value.message
    esign = service.requestESign(code, _request())
    with pytest.raises(kakaocert.KakaocertException) as unknown:
        service.getCMSState(code, esign.receiptId)
    assert unknown.value.code == Rejection.RECEIPT_UNKNOWN.code


@pytest.mark.parametrize("backend", ["aiohttp", "httpx"])
def test_a_signature_with_a_double_slash_verifies_end_to_end(
    monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    # About one long standard-base64 signature in twelve holds "//": the official SDK
    # appends it as given, and so does this package, on either HTTP path.
    sandbox = Sandbox(sign_after=None, double_slash_signatures=True)
    code = sandbox.client_code
    options: dict[str, Any] = (
        {"transport": httpx.AsyncHTTPTransport()} if backend == "httpx" else {}
    )

    async def ours(url: str) -> str:
        async with Client(
            sandbox.link_id, sandbox.secret_key, base_url=url, auth_url=url, **options
        ) as client:
            assert client.http_backend == backend
            receipt = await client.request_esign(code, make_request(), app_to_app=True)
            sandbox.service.sign(receipt.receipt_id)
            signature = sandbox.signature(receipt.receipt_id)
            verification = await client.verify_esign(code, receipt.receipt_id, signature)
            assert verification.receipt_id == receipt.receipt_id
            return signature

    with (
        sandbox.serve_in_thread(host="127.0.0.1", port=0) as url,
        official_service(monkeypatch, url, sandbox.link_id, sandbox.secret_key) as service,
    ):
        receipt = service.requestESign(code, _request(), True)
        sandbox.service.sign(receipt.receiptId)
        signature = sandbox.signature(receipt.receiptId)
        assert "//" in signature
        assert service.verifyESign(code, receipt.receiptId, signature).signedData
        assert "//" in asyncio.run(ours(url))
    assert sandbox.stats["verify"] == 2
