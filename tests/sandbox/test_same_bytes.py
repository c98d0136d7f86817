"""The official SDK and kakaocert_async put the same request on the wire, operation by operation.

A small HTTP server on a loopback port records every request as it arrives (the
raw request target, the headers, the body bytes) and answers each with a canned,
valid answer. The official SDK (kakaocert 2.52.0) and this package's Client make
each of the nine operations with the same inputs; the two requests must agree on
the method, the path as sent (App to App signatures with ``+``, ``/`` and ``=``
included), the headers that matter, the body as JSON data, and each signature
header must be a valid HMAC of its own body and date.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import http.server
import json
import re
import threading
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import attrs
import pytest

from kakaocert_async import (
    Client,
    CMSRequest,
    CMSStatus,
    ESignRequest,
    ESignStatus,
    SignState,
    VerifyAuthRequest,
    VerifyAuthStatus,
    _signing,
    _wire,
)
from kakaocert_async._kinds import CMS, ESIGN, IDENTITY, AnyKind
from kakaocert_async.sandbox import DEFAULT_SECRET_KEY
from tests.sandbox._official import IGNORE_UTCNOW, kakaocert, official_service

pytestmark = IGNORE_UTCNOW

LINK_ID = "SANDBOX"
KEY = _signing.decode_secret_key(DEFAULT_SECRET_KEY)
CLIENT_CODE = "020040000001"
RECEIPT_ID = "025112814050300001"
SESSION_TOKEN = "captured-session-token"
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z")
"""The form of the auth server's /Time answer, milliseconds included: the official SDK
sends that answer as its date, and this package the same form (by the same clock)."""


@attrs.frozen
class Captured:
    """One request as it arrived."""

    method: str
    target: str
    """The request target, byte for byte as sent (latin-1)."""
    headers: dict[str, str]
    """Lower-case names."""
    body: bytes


class _Recorder(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _CaptureServer

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.server.captured.append(Captured(self.command, self.path, headers, body))
        status, content_type, payload = _canned(self.command, self.path)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _CaptureServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Recorder)
        self.captured: list[Captured] = []


def _canned(method: str, target: str) -> tuple[int, str, bytes]:
    """A valid answer to any call of the protocol."""
    now = dt.datetime.now(dt.timezone.utc)
    if target == "/Time":
        return 200, "text/plain", _wire.format_utc(now, milliseconds=True).encode()
    if target == _signing.TOKEN_PATH:
        expiration = _wire.format_utc(now + dt.timedelta(hours=1), milliseconds=True)
        token = {"session_token": SESSION_TOKEN, "expiration": expiration, "scope": []}
        return 200, "application/json", json.dumps(token).encode()
    for family in (ESIGN, IDENTITY, CMS):
        if target == family.paths[0]:
            answer: dict[str, Any] = {"receiptId": RECEIPT_ID}
            if family.app_to_app:
                answer["tx_id"] = None
            return 200, "application/json", json.dumps(answer).encode()
        if target.startswith(family.paths[1].removesuffix("{receipt_id}")):
            state = family.status(receipt_id=RECEIPT_ID, state=SignState.SIGNED)
            return 200, "application/json", _wire.dumps(_wire.converter.unstructure(state))
        if target.startswith(family.paths[2].removesuffix("{receipt_id}")):
            answer = {"receiptId": RECEIPT_ID, "signedData": "c2lnbmVkLWRhdGE="}
            return 200, "application/json", json.dumps(answer).encode()
    return 404, "application/json", b'{"code": -11090001, "message": "not found"}'


@pytest.fixture(scope="module")
def capture() -> Iterator[_CaptureServer]:
    server = _CaptureServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _url(server: _CaptureServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host!s}:{port}"


# The same inputs for both -------------------------------------------------------------

SHARED = {
    "CallCenterNum": "1600-9854",
    "Expires_in": 300,
    "ReceiverBirthDay": "19900108",
    "ReceiverHP": "01012341234",
    "ReceiverName": "홍길동",
    "TMSTitle": "계약 서명",
    "TMSMessage": "부가 내용",
    "SubClientID": "",
    "isAllowSimpleRegistYN": False,
    "isVerifyNameYN": True,
    "PayLoad": "memo-7",
}
OWN = {
    "esign": {"Token": "전자서명 원문"},
    "identity": {"Token": "nonce-7f3a9c", "CallCenterName": "고객센터"},
    "cms": {  # no CallCenterName: the official .NET and Java RequestCMS have none
        "BankAccountName": "예금주명",
        "BankAccountNum": "9-4324-5**7-58",
        "BankCode": "004",
        "ClientUserID": "clientUserID-0423-01",
    },
}
PYTHON_NAMES = {
    "CallCenterNum": "call_center_num",
    "Expires_in": "expires_in",
    "ReceiverBirthDay": "receiver_birthday",
    "ReceiverHP": "receiver_hp",
    "ReceiverName": "receiver_name",
    "TMSTitle": "tms_title",
    "TMSMessage": "tms_message",
    "SubClientID": "sub_client_id",
    "isAllowSimpleRegistYN": "allow_simple_regist",
    "isVerifyNameYN": "verify_name",
    "PayLoad": "payload",
    "Token": "token",
    "CallCenterName": "call_center_name",
    "BankAccountName": "bank_account_name",
    "BankAccountNum": "bank_account_num",
    "BankCode": "bank_code",
    "ClientUserID": "client_user_id",
}
"""Written out here rather than taken from the package: the test checks the mapping."""
OFFICIAL_REQUESTS = {
    "esign": kakaocert.RequestESign,
    "identity": kakaocert.RequestVerifyAuth,
    "cms": kakaocert.RequestCMS,
}
OURS = {"esign": ESignRequest, "identity": VerifyAuthRequest, "cms": CMSRequest}

SIGNATURES = [
    "+/8vW9qkZ3+Ab/Xy1Q==",  # the sandbox's shape: base64 with + / and =
    "MEUCIQDf+/2x/Zz+w==",
    "abc_-DEF.~",  # base64url and other unreserved characters
    "a:b@c!$&'()*+,;=",  # the rest of what a path segment holds raw
    "+//8vW9qk//Z3+Ab/Xy1Q==",  # "//": about one long standard base64 string in twelve
    "/MEUCIQDf+/2x/",  # a leading and a trailing "/"
]


@attrs.frozen
class Operation:
    """One operation, as each client makes it with the same inputs."""

    official: Callable[[Any], object]
    """Given the official ``KakaocertService``."""
    ours: Callable[[Client], Awaitable[object]]


def _inputs(kind: str) -> tuple[Any, Any]:
    """The official SDK's request object and ours, from the same wire fields."""
    wire = {**SHARED, **OWN[kind]}
    official = OFFICIAL_REQUESTS[kind](**wire)
    ours = OURS[kind](**{PYTHON_NAMES[name]: value for name, value in wire.items()})
    return official, ours


def _request(kind: str, official: str, ours: str, *app_to_app: bool) -> Operation:
    theirs, mine = _inputs(kind)
    return Operation(
        lambda service: getattr(service, official)(CLIENT_CODE, theirs, *app_to_app),
        lambda client: getattr(client, ours)(CLIENT_CODE, mine, *app_to_app),
    )


def _read(official: str, ours: str, *signature: str) -> Operation:
    return Operation(
        lambda service: getattr(service, official)(CLIENT_CODE, RECEIPT_ID, *signature),
        lambda client: getattr(client, ours)(CLIENT_CODE, RECEIPT_ID, *signature),
    )


OPERATIONS = {
    "requestESign": _request("esign", "requestESign", "request_esign", False),
    "requestESign app to app": _request("esign", "requestESign", "request_esign", True),
    "getESignState": _read("getESignState", "get_esign_state"),
    "verifyESign": _read("verifyESign", "verify_esign"),
    "requestVerifyAuth": _request("identity", "requestVerifyAuth", "request_verify_auth"),
    "getVerifyAuthState": _read("getVerifyAuthState", "get_verify_auth_state"),
    "verifyAuth": _read("verifyAuth", "verify_auth"),
    "requestCMS": _request("cms", "requestCMS", "request_cms", False),
    "requestCMS app to app": _request("cms", "requestCMS", "request_cms", True),
    "getCMSState": _read("getCMSState", "get_cms_state"),
    "verifyCMS": _read("verifyCMS", "verify_cms"),
    **{
        f"{official} signature {i}": _read(official, ours, signature)
        for i, signature in enumerate(SIGNATURES)
        for official, ours in (("verifyESign", "verify_esign"), ("verifyCMS", "verify_cms"))
    },
}


@pytest.fixture
def official(monkeypatch: pytest.MonkeyPatch, capture: _CaptureServer) -> Iterator[Any]:
    with official_service(monkeypatch, _url(capture), LINK_ID, DEFAULT_SECRET_KEY) as service:
        yield service


@contextlib.contextmanager
def _recording(server: _CaptureServer) -> Iterator[list[Captured]]:
    """The API requests (not /Time, not the token) that arrive inside the block."""
    start = len(server.captured)
    found: list[Captured] = []
    yield found
    found += [c for c in server.captured[start:] if c.target not in {"/Time", _signing.TOKEN_PATH}]


def _send_both(
    name: str, official: Any, capture: _CaptureServer
) -> tuple[Captured, Captured, list[Captured]]:
    """Make operation ``name`` with both clients (each fresh): the API request of each,
    and everything that arrived meanwhile."""
    operation = OPERATIONS[name]

    async def ours() -> None:
        url = _url(capture)
        async with Client(LINK_ID, DEFAULT_SECRET_KEY, base_url=url, auth_url=url) as client:
            await operation.ours(client)

    start = len(capture.captured)
    with _recording(capture) as theirs:
        operation.official(official)
    with _recording(capture) as mine:
        asyncio.run(ours())
    assert len(theirs) == 1, theirs
    assert len(mine) == 1, mine
    return theirs[0], mine[0], capture.captured[start:]


def _assert_signed(request: Captured) -> None:
    """``x-kc-auth`` is ``<LinkID> <hmac>`` of this very body at this ``x-lh-date``."""
    date = request.headers["x-lh-date"]
    assert DATE.fullmatch(date)
    link_id, signature = request.headers["x-kc-auth"].split(" ")
    assert link_id == LINK_ID
    expected = _signing.hmac_b64(KEY, _signing.request_target(request.body, date))
    assert _signing.same_signature(expected, signature)


@pytest.mark.parametrize("name", OPERATIONS)
def test_both_clients_send_the_same_request(
    name: str, official: Any, capture: _CaptureServer
) -> None:
    theirs, mine, _ = _send_both(name, official, capture)
    assert mine.method == theirs.method
    assert mine.target == theirs.target  # byte for byte: nothing percent-encoded
    assert mine.headers["authorization"] == theirs.headers["authorization"]
    assert mine.headers["authorization"] == f"Bearer {SESSION_TOKEN}"
    if theirs.method == "POST":
        for header in ("x-lh-version", "content-type"):
            assert mine.headers[header] == theirs.headers[header], header
        assert json.loads(mine.body) == json.loads(theirs.body)
        _assert_signed(theirs)
        _assert_signed(mine)
    else:
        assert mine.headers["x-pb-version"] == theirs.headers["x-pb-version"] == "2.0"
        assert mine.body == theirs.body == b""


@pytest.mark.parametrize("signature", SIGNATURES)
def test_an_app_to_app_signature_goes_exactly_as_given(
    signature: str, official: Any, capture: _CaptureServer
) -> None:
    theirs, mine, _ = _send_both(
        f"verifyCMS signature {SIGNATURES.index(signature)}", official, capture
    )
    assert theirs.target == mine.target == f"{CMS.verify_path('', RECEIPT_ID)}/{signature}"


def test_the_token_requests_agree(official: Any, capture: _CaptureServer) -> None:
    # A fresh SDK and a fresh Client each ask for a token first.
    _, _, everything = _send_both("getCMSState", official, capture)
    tokens = [c for c in everything if c.target == _signing.TOKEN_PATH]
    assert len(tokens) == 2
    theirs, mine = tokens
    assert json.loads(mine.body) == json.loads(theirs.body)
    for request in (theirs, mine):
        date = request.headers["x-lh-date"]
        scheme, link_id, signature = request.headers["authorization"].split(" ")
        assert (scheme, link_id) == ("LINKHUB", LINK_ID)
        target = _signing.token_target(request.body, date)
        assert _signing.same_signature(_signing.hmac_b64(KEY, target), signature)
        assert request.headers["x-lh-version"] == "2.0"


def test_the_dates_have_the_form_of_the_time_answer(official: Any, capture: _CaptureServer) -> None:
    # By the server's clock, as this package's default (use_server_time=True): the
    # official SDK then sends the /Time answer as it came, the token's date included.
    official.UseLocalTimeYN = False
    _, _, everything = _send_both("requestESign", official, capture)
    dated = [c for c in everything if "x-lh-date" in c.headers]
    assert [c.target for c in dated] == [_signing.TOKEN_PATH, ESIGN.paths[0]] * 2
    for request in dated:
        assert DATE.fullmatch(request.headers["x-lh-date"]), request.headers["x-lh-date"]


def test_each_state_answer_fits_its_family(capture: _CaptureServer) -> None:
    # The canned answers are valid for this package's strict reader, so a
    # difference above is the request's, not a failed answer's.
    families: list[tuple[AnyKind, type[Any]]] = [
        (ESIGN, ESignStatus),
        (IDENTITY, VerifyAuthStatus),
        (CMS, CMSStatus),
    ]
    for family, cls in families:
        _, _, payload = _canned("GET", family.status_path("", RECEIPT_ID))
        assert isinstance(_wire.structure(json.loads(payload), cls), cls)
