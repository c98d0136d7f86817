"""Test support: credentials, canned answers and a respx stand-in for the service."""

from __future__ import annotations

import json
import os
import time

import httpx
import respx

from kakaocert_async import CMSRequest, ESignRequest, VerifyAuthRequest

LINK_ID = "TESTLINK"
# base64 of b"0123456789abcdef0123456789abcdef": a made-up key for tests only.
SECRET_KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
KEY = b"0123456789abcdef0123456789abcdef"
CLIENT_CODE = "020040000001"
RECEIPT_ID = "022112815423700001"
API = "https://kakaocert-api.linkhub.co.kr"
AUTH = "https://auth.linkhub.co.kr"


def plain_terminal(env: dict[str, str] | None = None) -> dict[str, str]:
    """``env`` (or this process's) for a program whose output a test reads: pytest cuts
    and colours its output by the terminal's width and the colour variables, which CI
    may set (COLUMNS, FORCE_COLOR), so the text read is plain and 80 columns wide."""
    env = dict(os.environ if env is None else env)
    for name in ("FORCE_COLOR", "PY_COLORS", "CLICOLOR_FORCE"):
        env.pop(name, None)
    return {**env, "COLUMNS": "80", "NO_COLOR": "1"}


def utc(seconds: float, *, millis: bool = True) -> str:
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    return text + (".000Z" if millis else "Z")


def kst(seconds: float) -> str:
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(seconds + 9 * 3600))


def status_json(
    state: int = 0, *, receipt_id: str = RECEIPT_ID, **extra: object
) -> dict[str, object]:
    now = time.time()
    body: dict[str, object] = {
        "receiptID": receipt_id,
        "clientCode": CLIENT_CODE,
        "clientName": "테스트",
        "subClientName": None,
        "subClientCode": None,
        "state": state,
        "expires_in": 300,
        "callCenterNum": "1600-9854",
        "tmstitle": "계약 서명",
        "tmsmessage": None,
        "allowSimpleRegistYN": True,
        "verifyNameYN": False,
        "requestDT": kst(now),
        "expireDT": kst(now + 300),
        "regDT": kst(now),
        "viewDT": None,
        "completeDT": None,
        "verifyDT": None,
        "payload": "memo",
        "callCenterName": None,
        "appUseYN": False,
        "tx_id": None,
    }
    body.update(extra)
    return body


REQUEST_FIELDS: dict[str, object] = {
    "call_center_num": "1600-9854",
    "expires_in": 300,
    "receiver_birthday": "19900108",
    "receiver_hp": "01012341234",
    "receiver_name": "홍길동",
    "token": "전자서명 원문",
    "tms_title": "계약 서명",
    "allow_simple_regist": True,
    "verify_name": False,
}
"""A good ESignRequest's fields; the other families' requests start from them."""
BANK_FIELDS: dict[str, object] = {
    "bank_account_name": "홍길동",
    "bank_account_num": "9-4324-5**7-58",
    "bank_code": "004",
    "client_user_id": "clientUserID-0423-01",
}


def make_request(**changes: object) -> ESignRequest:
    return ESignRequest(**{**REQUEST_FIELDS, **changes})  # type: ignore[arg-type]


def make_verify_auth_request(**changes: object) -> VerifyAuthRequest:
    fields = {**REQUEST_FIELDS, "token": "nonce-7f3a9c", "tms_title": "본인인증"}
    return VerifyAuthRequest(**{**fields, **changes})  # type: ignore[arg-type]


def make_cms_request(**changes: object) -> CMSRequest:
    fields = {**REQUEST_FIELDS, **BANK_FIELDS, "tms_title": "자동이체 출금동의"}
    del fields["token"]  # the official examples send none
    return CMSRequest(**{**fields, **changes})  # type: ignore[arg-type]


class Service:
    """A respx router standing in for Linkhub auth and the KakaoCert API."""

    def __init__(self, router: respx.MockRouter) -> None:
        self.router = router
        self.server_offset = 0.0
        self.token_ttl = 3600.0
        self.tokens_issued = 0
        self.time = router.get(f"{AUTH}/Time", name="time").mock(side_effect=self._time)
        self.token = router.post(f"{AUTH}/KAKAOCERT/Token", name="token").mock(
            side_effect=self._token
        )
        self.request = router.post(f"{API}/SignToken/Request", name="request").respond(
            200, json={"receiptId": RECEIPT_ID, "tx_id": None}
        )
        # State and verify answer about the receipt asked for, as the service does.
        self.status = router.get(
            url__regex=rf"^{API}/SignToken/Status/[0-9]+$", name="status"
        ).mock(side_effect=self._status)
        self.verify = router.get(url__regex=rf"^{API}/SignToken/Verify/.+", name="verify").mock(
            side_effect=self._verify
        )
        self.state = 0
        """The state the default status answer reports."""

    def _status(self, request: httpx.Request) -> httpx.Response:
        receipt_id = request.url.path.rsplit("/", 1)[1]
        return httpx.Response(200, json=status_json(self.state, receipt_id=receipt_id))

    def _verify(self, request: httpx.Request) -> httpx.Response:
        receipt_id = request.url.path.split("/")[3]
        return httpx.Response(200, json={"receiptId": receipt_id, "signedData": "c2lnbmVkLWRhdGE="})

    def _time(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text=utc(time.time() + self.server_offset))

    def _token(self, request: httpx.Request) -> httpx.Response:
        self.tokens_issued += 1
        body = json.loads(request.content)
        expiration = utc(time.time() + self.server_offset + self.token_ttl)
        return httpx.Response(
            200,
            json={
                "session_token": f"session-token-{self.tokens_issued}",
                "serviceID": "KAKAOCERT",
                "linkID": LINK_ID,
                "usercode": body["access_id"],
                "ipaddress": "127.0.0.1",
                "expiration": expiration,
                "scope": body["scope"],
            },
        )

    @property
    def api_calls(self) -> int:
        return self.request.call_count + self.status.call_count + self.verify.call_count

    @property
    def calls(self) -> int:
        return len(self.router.calls)
