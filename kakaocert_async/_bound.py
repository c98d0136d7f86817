"""A client's operations bound to one client code: ``client.for_client(code)``.

A partner (one LinkID) may serve several client codes (이용기관코드), so every
operation of :class:`~kakaocert_async.Client` takes one; most code uses one
throughout. :class:`BoundClient` takes it once. It holds nothing of its own: each
method is the client's, with the code filled in.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, overload

from ._models import (
    CMSReceipt,
    CMSRequest,
    CMSStatus,
    CMSVerification,
    ESignReceipt,
    ESignRequest,
    ESignStatus,
    ESignVerification,
    StatusBase,
    VerifyAuthReceipt,
    VerifyAuthRequest,
    VerifyAuthStatus,
    VerifyAuthVerification,
)
from ._secret import total_repr

if TYPE_CHECKING:
    from ._client import Client


class BoundClient:
    """The operations of a :class:`~kakaocert_async.Client` for one client code.

    Made by :meth:`Client.for_client() <kakaocert_async.Client.for_client>`; every
    method is the client's of the same name, without the ``client_code`` argument.
    It shares the client's connections, tokens and lifetime: close the client.
    """

    __slots__ = ("client", "client_code")

    def __init__(self, client: Client, client_code: str) -> None:
        self.client = client
        """The :class:`~kakaocert_async.Client` whose operations these are."""
        self.client_code = client_code
        """The client code (이용기관코드) every call is made for."""

    def __repr__(self) -> str:
        return f"<BoundClient client_code={self.client_code!r} of {self.client!r}>"

    # E-signature (전자서명) ---------------------------------------------------

    async def request_esign(self, request: ESignRequest, app_to_app: bool = False) -> ESignReceipt:
        """:meth:`Client.request_esign <kakaocert_async.Client.request_esign>`: ask the
        receiver to sign ``request.text``. Not idempotent."""
        return await self.client.request_esign(self.client_code, request, app_to_app)

    async def get_esign_state(self, receipt_id: str) -> ESignStatus:
        """:meth:`Client.get_esign_state <kakaocert_async.Client.get_esign_state>`."""
        return await self.client.get_esign_state(self.client_code, receipt_id)

    async def verify_esign(
        self, receipt_id: str, signature: str | None = None
    ) -> ESignVerification:
        """:meth:`Client.verify_esign <kakaocert_async.Client.verify_esign>`: once only."""
        return await self.client.verify_esign(self.client_code, receipt_id, signature)

    # Identity verification (본인인증) -----------------------------------------

    async def request_verify_auth(self, request: VerifyAuthRequest) -> VerifyAuthReceipt:
        """:meth:`Client.request_verify_auth <kakaocert_async.Client.request_verify_auth>`."""
        return await self.client.request_verify_auth(self.client_code, request)

    async def get_verify_auth_state(self, receipt_id: str) -> VerifyAuthStatus:
        """:meth:`Client.get_verify_auth_state
        <kakaocert_async.Client.get_verify_auth_state>`."""
        return await self.client.get_verify_auth_state(self.client_code, receipt_id)

    async def verify_auth(self, receipt_id: str) -> VerifyAuthVerification:
        """:meth:`Client.verify_auth <kakaocert_async.Client.verify_auth>`: once only."""
        return await self.client.verify_auth(self.client_code, receipt_id)

    # CMS withdrawal consent (자동이체 출금동의) -------------------------------

    async def request_cms(self, request: CMSRequest, app_to_app: bool = False) -> CMSReceipt:
        """:meth:`Client.request_cms <kakaocert_async.Client.request_cms>`."""
        return await self.client.request_cms(self.client_code, request, app_to_app)

    async def get_cms_state(self, receipt_id: str) -> CMSStatus:
        """:meth:`Client.get_cms_state <kakaocert_async.Client.get_cms_state>`."""
        return await self.client.get_cms_state(self.client_code, receipt_id)

    async def verify_cms(self, receipt_id: str, signature: str | None = None) -> CMSVerification:
        """:meth:`Client.verify_cms <kakaocert_async.Client.verify_cms>`: once only."""
        return await self.client.verify_cms(self.client_code, receipt_id, signature)

    # Waiting, for every kind ------------------------------------------------

    @overload
    async def await_signed(
        self,
        receipt: str | ESignReceipt,
        *,
        timeout: float | None = None,
        interval: float | None = None,
    ) -> ESignStatus: ...

    @overload
    async def await_signed(
        self,
        receipt: VerifyAuthReceipt,
        *,
        timeout: float | None = None,
        interval: float | None = None,
    ) -> VerifyAuthStatus: ...

    @overload
    async def await_signed(
        self,
        receipt: CMSReceipt,
        *,
        timeout: float | None = None,
        interval: float | None = None,
    ) -> CMSStatus: ...

    async def await_signed(
        self,
        receipt: str | ESignReceipt | VerifyAuthReceipt | CMSReceipt,
        *,
        timeout: float | None = None,
        interval: float | None = None,
    ) -> StatusBase:
        """:meth:`Client.await_signed <kakaocert_async.Client.await_signed>`: poll until
        signed or expired; the state returned is of the receipt's kind."""
        return await self.client.await_signed(
            self.client_code,
            receipt,
            timeout=timeout,
            interval=interval,
        )

    @overload
    def watch_state(
        self,
        receipt: str | ESignReceipt,
        *,
        timeout: float | None = None,
        interval: float | None = None,
    ) -> AsyncGenerator[ESignStatus, None]: ...

    @overload
    def watch_state(
        self,
        receipt: VerifyAuthReceipt,
        *,
        timeout: float | None = None,
        interval: float | None = None,
    ) -> AsyncGenerator[VerifyAuthStatus, None]: ...

    @overload
    def watch_state(
        self,
        receipt: CMSReceipt,
        *,
        timeout: float | None = None,
        interval: float | None = None,
    ) -> AsyncGenerator[CMSStatus, None]: ...

    def watch_state(
        self,
        receipt: str | ESignReceipt | VerifyAuthReceipt | CMSReceipt,
        *,
        timeout: float | None = None,
        interval: float | None = None,
    ) -> AsyncGenerator[StatusBase, None]:
        """:meth:`Client.watch_state <kakaocert_async.Client.watch_state>`: every state
        read until signed or expired."""
        return self.client.watch_state(
            self.client_code,
            receipt,
            timeout=timeout,
            interval=interval,
        )

    def watch_esign_state(
        self, receipt_id: str, *, timeout: float | None = None, interval: float | None = None
    ) -> AsyncGenerator[ESignStatus, None]:
        """:meth:`Client.watch_esign_state <kakaocert_async.Client.watch_esign_state>`."""
        return self.client.watch_esign_state(
            self.client_code, receipt_id, timeout=timeout, interval=interval
        )


total_repr(BoundClient)  # a half-built one's repr does not raise
