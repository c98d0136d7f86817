"""Raw, hand-signed Barocert calls into the sandbox app, so a test controls every header.

Bodies are built by the package's own ``barocert._wire.encode_request`` and signed
with ``_signing.barocert_target``: the pieces a Barocert client is made of.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

from kakaocert_async import _signing, _wire
from kakaocert_async.barocert import (
    Kind,
    _crypto,
)
from kakaocert_async.barocert import _kinds as barocert_kinds
from kakaocert_async.barocert import _wire as barocert_wire
from kakaocert_async.sandbox import Sandbox
from tests.barocert._requests import make_request
from tests.sandbox._raw import BASE, _merge


class BarocertRaw:
    """Builds and sends Barocert calls by hand; ``headers={"x": None}`` removes a header."""

    def __init__(
        self,
        sandbox: Sandbox,
        *,
        client_ip: str = "127.0.0.1",
        cipher: _crypto.Cipher | None = None,
    ) -> None:
        self.sandbox = sandbox
        self.key = _signing.decode_secret_key(sandbox.secret_key)
        self.cipher = cipher or _crypto.Cipher(self.key)
        # The sandbox's transport: a dropped connection is an httpx transport error.
        self.http = httpx.AsyncClient(
            transport=sandbox.transport(client_ip=client_ip), base_url=BASE
        )
        self._session: str | None = None

    async def aclose(self) -> None:
        await self.http.aclose()

    def date(self, offset: float = 0.0) -> str:
        """``x-bc-date`` by the sandbox clock (as ``/Time`` says it), ``offset`` seconds off."""
        when = dt.datetime.fromtimestamp(self.sandbox.now() + offset, tz=dt.timezone.utc)
        return _wire.format_utc(when, milliseconds=True)

    async def token(
        self,
        *,
        access_id: str = barocert_wire.ACCESS_ID,
        scope: tuple[str, ...] = barocert_wire.SCOPE,
        forwarded: str | None = "*",
        key: bytes | None = None,
        path: str = _signing.BAROCERT_TOKEN_PATH,
    ) -> httpx.Response:
        body = _wire.dumps({"access_id": access_id, "scope": list(scope)})
        date = self.date()
        target = _signing.token_target(
            body, date, forwarded=forwarded, path=_signing.BAROCERT_TOKEN_PATH
        )
        headers = {
            "x-lh-date": date,
            "x-lh-version": "2.0",
            "Authorization": f"LINKHUB {self.sandbox.link_id} "
            + _signing.hmac_b64(key or self.key, target),
            "Content-Type": "Application/json",
        }
        if forwarded is not None:
            headers["x-lh-forwarded"] = forwarded
        return await self.http.post(path, content=body, headers=headers)

    async def session(self, **options: Any) -> str:
        """A session token (the call must succeed); cached unless options are given."""
        if self._session is not None and not options:
            return self._session
        response = await self.token(**options)
        assert response.status_code == 200, response.text
        token: str = response.json()["session_token"]
        if not options:
            self._session = token
        return token

    async def post(
        self,
        path: str,
        body: bytes = b"",
        *,
        token: str | None = None,
        date: str | None = None,
        signed_path: str | None = None,
        signed_body: bytes | None = None,
        key: bytes | None = None,
        headers: dict[str, str | None] | None = None,
    ) -> httpx.Response:
        """A signed POST, as the official SDK sends it."""
        date = date or self.date()
        target = _signing.barocert_target(
            body if signed_body is None else signed_body, date, signed_path or path
        )
        sent = {
            "x-bc-date": date,
            "x-bc-version": "2.1",
            "Authorization": f"Bearer {token or await self.session()}",
            "Content-Type": "application/json; charset=utf8",
            "x-bc-auth": _signing.hmac_b64(key or self.key, target),
            "x-bc-encryptionmode": "GCM",
        }
        return await self.http.post(path, content=body, headers=_merge(sent, headers))

    async def request(
        self,
        kind: Kind,
        request: Any = None,
        *,
        client_code: str | None = None,
        body: bytes | dict[str, Any] | None = None,
        **options: Any,
    ) -> httpx.Response:
        """``POST /KAKAO/<kind>/<cc>`` with ``request`` encrypted (or a raw ``body``)."""
        if body is None:
            content = barocert_wire.encode_request(request or make_request(kind), self.cipher)
        else:
            content = _wire.dumps(body) if isinstance(body, dict) else body
        path = barocert_kinds.of(kind).request_path(client_code or self.sandbox.client_code)
        return await self.post(path, content, **options)

    async def receipt(self, kind: Kind, request: Any = None, **options: Any) -> str:
        """A new receipt id (the call must succeed)."""
        response = await self.request(kind, request, **options)
        assert response.status_code == 200, response.text
        receipt_id: str = response.json()["receiptID"]
        return receipt_id

    def encrypted(self, kind: Kind, request: Any = None) -> dict[str, Any]:
        """A request body of ``kind`` as JSON data, encrypted, to edit before sending."""
        body: dict[str, Any] = _wire.loads(
            barocert_wire.encode_request(request or make_request(kind), self.cipher)
        )
        return body

    async def status(
        self,
        kind: Kind,
        receipt_id: str,
        *,
        client_code: str | None = None,
        token: str | None = None,
        headers: dict[str, str | None] | None = None,
    ) -> httpx.Response:
        path = barocert_kinds.of(kind).status_path(
            client_code or self.sandbox.client_code, receipt_id
        )
        sent = {
            "x-pb-version": "2.1",
            "Authorization": f"Bearer {token or await self.session()}",
        }
        return await self.http.get(path, headers=_merge(sent, headers))

    async def verify(
        self, kind: Kind, receipt_id: str, *, client_code: str | None = None, **options: Any
    ) -> httpx.Response:
        path = barocert_kinds.of(kind).verify_path(
            client_code or self.sandbox.client_code, receipt_id
        )
        return await self.post(path, **options)

    async def verify_login(
        self, tx_id: str, *, client_code: str | None = None, **options: Any
    ) -> httpx.Response:
        path = barocert_wire.login_verify_path(client_code or self.sandbox.client_code, tx_id)
        return await self.post(path, **options)
