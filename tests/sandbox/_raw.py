"""Raw, hand-signed calls into the sandbox app, so a test controls every header."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import httpx

from kakaocert_async import _signing, _wire
from kakaocert_async._session import SCOPE
from kakaocert_async.sandbox import Rejection, Sandbox

BASE = "http://sandbox.test"


class FakeClock:
    """A clock that moves only when told (starts at the real time, so dates agree)."""

    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def request_body(**changes: Any) -> dict[str, Any]:
    """A valid ``POST /SignToken/Request`` body, in wire names."""
    body: dict[str, Any] = {
        "CallCenterNum": "1600-9854",
        "Expires_in": 300,
        "ReceiverBirthDay": "19900108",
        "ReceiverHP": "01012341234",
        "ReceiverName": "홍길동",
        "Token": "전자서명 원문",
        "TMSTitle": "계약 서명",
        "TMSMessage": "계약서에 서명해 주세요",
        "SubClientID": "020040000002",
        "isAllowSimpleRegistYN": True,
        "isVerifyNameYN": False,
        "PayLoad": "memo-1",
        "isAppUseYN": False,
    }
    for key, value in changes.items():
        if value is _DROP:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def identity_body(**changes: Any) -> dict[str, Any]:
    """A valid ``POST /SignIdentity/Request`` body: ESign's without ``isAppUseYN``, plus
    ``CallCenterName``."""
    return request_body(**{"isAppUseYN": DROP, "CallCenterName": "고객센터", **changes})


def cms_body(**changes: Any) -> dict[str, Any]:
    """A valid ``POST /SignDirectDebit/Request`` body: ESign's (no ``Token``, as the
    official examples send it) plus the bank fields."""
    bank = {
        "Token": DROP,
        "BankAccountName": "홍길동",
        "BankAccountNum": "9-4324-5**7-58",
        "BankCode": "004",
        "ClientUserID": "clientUserID-0423-01",
    }
    return request_body(**{**bank, **changes})


_DROP = object()
DROP = _DROP
"""``request_body(ReceiverHP=DROP)`` leaves the field out."""

ESIGN = "/SignToken"
IDENTITY = "/SignIdentity"
CMS = "/SignDirectDebit"
BODIES = {ESIGN: request_body, IDENTITY: identity_body, CMS: cms_body}
"""A valid body of each family, by its path prefix."""


def _merge(headers: dict[str, str], changes: dict[str, str | None] | None) -> dict[str, str]:
    for name, value in (changes or {}).items():
        if value is None:
            headers.pop(name, None)
        else:
            headers[name] = value
    return headers


class Raw:
    """Builds and sends protocol calls by hand; ``headers={"x": None}`` removes a header."""

    def __init__(
        self, sandbox: Sandbox, *, client_ip: str = "127.0.0.1", url: str | None = None
    ) -> None:
        """In-process through ``httpx.ASGITransport``, or to a served ``url``."""
        self.sandbox = sandbox
        self.key = _signing.decode_secret_key(sandbox.secret_key)
        if url is not None:
            self.http = httpx.AsyncClient(base_url=url)
        else:
            transport = httpx.ASGITransport(app=sandbox.app, client=(client_ip, 123))
            self.http = httpx.AsyncClient(transport=transport, base_url=BASE)

    async def aclose(self) -> None:
        await self.http.aclose()

    def date(self, offset: float = 0.0, *, millis: bool = False) -> str:
        """``x-lh-date`` by the sandbox clock, ``offset`` seconds off."""
        when = dt.datetime.fromtimestamp(self.sandbox.now() + offset, tz=dt.timezone.utc)
        return _wire.format_utc(when, milliseconds=millis)

    async def token(
        self,
        client_code: str | None = None,
        *,
        scope: list[str] | None = None,
        body: bytes | None = None,
        forwarded: str | None = None,
        date: str | None = None,
        key: bytes | None = None,
        link_id: str | None = None,
        signed_body: bytes | None = None,
        headers: dict[str, str | None] | None = None,
    ) -> httpx.Response:
        if body is None:
            data = {"access_id": client_code or self.sandbox.client_code, "scope": scope or SCOPE}
            body = _wire.dumps(data)
        date = date or self.date()
        target = _signing.token_target(signed_body or body, date, forwarded=forwarded)
        signature = _signing.hmac_b64(key or self.key, target)
        sent = {
            "x-lh-date": date,
            "x-lh-version": "2.0",
            "Authorization": f"LINKHUB {link_id or self.sandbox.link_id} {signature}",
            "Content-Type": "application/json",
        }
        if forwarded is not None:
            sent["x-lh-forwarded"] = forwarded
        return await self.http.post(
            _signing.TOKEN_PATH, content=body, headers=_merge(sent, headers)
        )

    async def session(self, client_code: str | None = None, **options: Any) -> str:
        """A session token (the call must succeed)."""
        response = await self.token(client_code, **options)
        assert response.status_code == 200, response.text
        token: str = response.json()["session_token"]
        return token

    async def request(
        self,
        token: str,
        body: bytes | dict[str, Any] | None = None,
        *,
        date: str | None = None,
        key: bytes | None = None,
        link_id: str | None = None,
        headers: dict[str, str | None] | None = None,
        family: str = ESIGN,
    ) -> httpx.Response:
        """``POST {family}/Request``; ``family`` is a path prefix (``/SignToken``...)."""
        if body is None:
            body = request_body()
        content = _wire.dumps(body) if isinstance(body, dict) else body
        date = date or self.date()
        signature = _signing.hmac_b64(key or self.key, _signing.request_target(content, date))
        sent = {
            "Authorization": f"Bearer {token}",
            "x-lh-date": date,
            "x-lh-version": "2.0",
            "x-kc-auth": f"{link_id or self.sandbox.link_id} {signature}",
            "Content-Type": "application/json; charset=utf8",
        }
        return await self.http.post(
            f"{family}/Request", content=content, headers=_merge(sent, headers)
        )

    async def receipt(self, token: str, family: str = ESIGN, **changes: Any) -> dict[str, Any]:
        """A new receipt (the call must succeed): ``{"receiptId", "tx_id"}``."""
        body = BODIES[family](**changes)
        response = await self.request(token, body, family=family)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    def _get_headers(self, token: str, headers: dict[str, str | None] | None) -> dict[str, str]:
        return _merge({"Authorization": f"Bearer {token}", "x-pb-version": "2.0"}, headers)

    async def status(
        self,
        token: str,
        receipt_id: str,
        *,
        headers: dict[str, str | None] | None = None,
        family: str = ESIGN,
    ) -> httpx.Response:
        return await self.http.get(
            f"{family}/Status/{receipt_id}", headers=self._get_headers(token, headers)
        )

    async def verify(
        self,
        token: str,
        receipt_id: str,
        signature: str | None = None,
        *,
        headers: dict[str, str | None] | None = None,
        family: str = ESIGN,
    ) -> httpx.Response:
        """``GET {family}/Verify/{id}[/{signature}]``, the signature as given (as the
        official SDKs send it)."""
        path = f"{family}/Verify/{receipt_id}"
        if signature is not None:
            path += "/" + signature
        return await self.http.get(path, headers=self._get_headers(token, headers))


def assert_refused(
    response: httpx.Response, rejection: Rejection, field: str | None = None
) -> None:
    """The answer is ``rejection``'s error JSON with its HTTP status (naming ``field``)."""
    assert response.status_code == rejection.http_status, response.text
    body = response.json()
    assert body["code"] == rejection.code, body
    assert isinstance(body["message"], str)
    assert body["message"].startswith(rejection.text)
    if field is not None:
        assert f"[{field}]" in body["message"], body["message"]
