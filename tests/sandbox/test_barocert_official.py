"""Interoperability: the official barocert SDK (1.8.0, with pycryptodome), unmodified, runs
every KakaocertService operation against the sandbox served on a loopback port, and sends
exactly what the stored capture says."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from kakaocert_async.barocert import Kind, State
from kakaocert_async.sandbox import Rejection, Sandbox, decrypt_personal_data
from tests.sandbox._barocert_official import (
    PLAINTEXT,
    Recorder,
    capture,
    official_service,
    run_every_operation,
    stored,
)
from tests.sandbox._raw import FakeClock

barocert = pytest.importorskip("barocert", reason="the official SDK (barocert==1.8.0)")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def served(clock: FakeClock) -> Iterator[tuple[Sandbox, Any, Recorder]]:
    sandbox = Sandbox(sign_after=None, clock=clock)
    with official_service(sandbox) as (service, recorder):
        yield sandbox, service, recorder


def test_every_kakao_operation_runs_unmodified(served: tuple[Sandbox, Any, Recorder]) -> None:
    sandbox, service, recorder = served
    answers, _ = run_every_operation(service, sandbox, recorder)

    for kind, method in (
        (Kind.IDENTITY, "Identity"),
        (Kind.SIGN, "Sign"),
        (Kind.MULTI_SIGN, "MultiSign"),
        (Kind.CMS, "CMS"),
    ):
        receipt_id = answers[f"request{method}"].receiptID
        assert len(receipt_id) == 32
        assert receipt_id.isdigit()
        assert sandbox.barocert.request_of(receipt_id) == PLAINTEXT[kind]
        waiting = answers[f"get{method}Status"]
        assert waiting.receiptID == receipt_id
        assert waiting.state == State.WAITING
        assert waiting.clientCode == sandbox.client_code
        assert answers[f"get{method}Status (signed)"].state == State.COMPLETED
        verified = answers[f"verify{method}"]
        assert verified.receiptID == receipt_id
        assert verified.state == State.COMPLETED
        assert decrypt_personal_data(verified.receiverName) == "홍길동"
        assert verified.ci

    assert answers["requestSign"].scheme.startswith("kakaotalk://")  # App to App
    assert answers["requestIdentity"].scheme is None
    assert answers["getSignStatus"].tokenType == "HASH"
    assert answers["getSignStatus"].appUseYN is True
    assert answers["verifyIdentity"].signedData == "login-nonce-0001"
    assert len(answers["verifyMultiSign"].multiSignedData) == 3
    assert answers["verifyLogin"].txID.startswith("01")
    assert answers["verifyLogin"].signedData

    stats = sandbox.stats
    assert stats["barocert.token"] == 1  # one token per LinkID, for everything
    for kind in ("identity", "sign", "multi_sign", "cms"):
        assert stats[f"barocert.{kind}.request"] == 1
        assert stats[f"barocert.{kind}.status"] == 2
        assert stats[f"barocert.{kind}.verify"] == 1
    assert stats["barocert.login.verify"] == 1
    assert stats["other"] == 0


def test_what_the_official_sdk_sends_is_the_stored_capture(
    served: tuple[Sandbox, Any, Recorder],
) -> None:
    # normalize() also checks every HMAC against the body, date and path as sent, and
    # decrypts every field the protocol note marks encrypted.
    sandbox, service, recorder = served
    _, calls = run_every_operation(service, sandbox, recorder)
    assert capture(sandbox, calls) == stored()


def test_the_capture_has_one_api_call_per_operation() -> None:
    api_calls = {
        name: [call for call in made if call["path"].startswith("/KAKAO/")]
        for name, made in stored().items()
    }
    assert len({name.split(" ")[0] for name in api_calls}) == 13  # every Kakao operation
    assert all(len(made) == 1 for made in api_calls.values())
    verify = api_calls["verifySign"][0]
    assert verify["method"] == "POST"
    assert "content-length: 0" in verify["headers"]
    assert "json" not in verify
    status = api_calls["getCMSStatus"][0]
    assert status["method"] == "GET"
    assert "x-pb-version: 2.1" in status["headers"]
    assert not any(header.startswith("x-bc-date") for header in status["headers"])


def test_the_official_sdk_reads_the_sandboxs_errors(
    served: tuple[Sandbox, Any, Recorder], clock: FakeClock
) -> None:
    sandbox, service, _ = served
    code = sandbox.client_code
    e = service._encrypt

    def sign(**changes: Any) -> Any:
        fields = {
            "receiverHP": e("01012341234"),
            "receiverName": e("홍길동"),
            "receiverBirthday": e("19900108"),
            "signTitle": "계약서",
            "expireIn": 300,
            "token": e("원문"),
            "tokenType": "TEXT",
            **changes,
        }
        return barocert.KakaoSign(**fields)

    # A caller who forgets _encrypt is told which field.
    with pytest.raises(barocert.BarocertException) as plain:
        service.requestSign(code, sign(receiverHP="01012341234"))
    assert plain.value.code == Rejection.BC_CIPHERTEXT_INVALID.code
    assert "[receiverHP]" in plain.value.message
    assert "01012341234" not in plain.value.message

    receipt_id = service.requestSign(code, sign()).receiptID
    with pytest.raises(barocert.BarocertException) as early:
        service.verifySign(code, receipt_id)
    assert early.value.code == Rejection.NOT_SIGNED.code
    sandbox.barocert.sign(receipt_id)
    clock.advance(601)
    with pytest.raises(barocert.BarocertException) as late:
        service.verifySign(code, receipt_id)
    assert late.value.code == Rejection.BC_VERIFY_TOO_LATE.code

    other = service.requestSign(code, sign()).receiptID
    sandbox.barocert.sign(other)
    service.verifySign(code, other)
    with pytest.raises(barocert.BarocertException) as twice:
        service.verifySign(code, other)
    assert twice.value.code == Rejection.ALREADY_VERIFIED.code

    with pytest.raises(barocert.BarocertException) as unknown:
        service.getCMSStatus(code, "0" * 32)
    assert unknown.value.code == Rejection.RECEIPT_UNKNOWN.code
