"""Interoperability: the official synchronous SDK (kakaocert 2.52.0 + linkhub 1.6.0), unmodified,
runs request -> state -> verify against the sandbox served on a loopback port.

The SDK talks HTTPS to fixed hosts; the test points its auth URL at the sandbox
with ``linkhub.authURL`` and hands it a plain-HTTP connection to the sandbox
wherever it would open an HTTPS one. Its singletons are reset around the test.
"""

from __future__ import annotations

import http.client
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest

from kakaocert_async.sandbox import Rejection, Sandbox

kakaocert = pytest.importorskip(
    "kakaocert", reason="the official SDK (kakaocert==2.52.0) is not installed"
)
linkhub = pytest.importorskip(
    "linkhub", reason="the official SDK (linkhub==1.6.0) is not installed"
)
service_module = pytest.importorskip("kakaocert.kakaocertService")

# The SDK calls datetime.utcnow(), deprecated since Python 3.12.
pytestmark = pytest.mark.filterwarnings("ignore:datetime.datetime.utcnow:DeprecationWarning")


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Sandbox, Any]]:
    """The sandbox on a port, and a fresh official KakaocertService wired to it."""
    sandbox = Sandbox()
    with sandbox.serve_in_thread(host="127.0.0.1", port=0) as url:
        port = urllib.parse.urlsplit(url).port
        opened: list[http.client.HTTPConnection] = []
        plain = http.client.HTTPConnection

        def to_sandbox(*args: Any, **kwargs: Any) -> http.client.HTTPConnection:
            # Wherever the SDK opens a connection (HTTPS to the API, HTTP to the auth
            # URL), open plain HTTP to the sandbox, and keep it to close at the end:
            # the SDK replaces connections without closing them.
            connection = plain("127.0.0.1", port, timeout=10)
            opened.append(connection)
            return connection

        monkeypatch.setattr(service_module.httpclient, "HTTPSConnection", to_sandbox)
        monkeypatch.setattr(http.client, "HTTPConnection", to_sandbox)
        monkeypatch.setattr(service_module.Singleton, "_instances", {})
        monkeypatch.setattr(linkhub.TokenInstance, "_ServiceURL", "")
        linkhub.authURL(url)
        service = service_module.KakaocertService(sandbox.link_id, sandbox.secret_key)
        try:
            yield sandbox, service
        finally:
            for connection in opened:
                connection.close()


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
