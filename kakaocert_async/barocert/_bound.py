"""A Barocert client's operations bound to one client code: ``client.for_client(code)``.

As the 2.x :class:`~kakaocert_async.BoundClient`: each method is the client's, with
the client code (이용기관코드) filled in; it holds nothing of its own.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING

from kakaocert_async._secret import total_repr

from ._models import (
    CMSRequest,
    IdentityRequest,
    Kind,
    LoginVerification,
    MultiSignRequest,
    MultiSignVerification,
    Receipt,
    SignRequest,
    Status,
    Verification,
)

if TYPE_CHECKING:
    from ._client import Client


class BoundClient:
    """The operations of a :class:`~kakaocert_async.barocert.Client` for one client code.

    Made by :meth:`Client.for_client() <kakaocert_async.barocert.Client.for_client>`;
    every method is the client's of the same name, without the ``client_code``
    argument. It shares the client's connections, token and lifetime: close the client.
    """

    __slots__ = ("client", "client_code")

    def __init__(self, client: Client, client_code: str) -> None:
        self.client = client
        """The :class:`~kakaocert_async.barocert.Client` whose operations these are."""
        self.client_code = client_code
        """The client code (이용기관코드) every call is made for."""

    def __repr__(self) -> str:
        return f"<barocert.BoundClient client_code={self.client_code!r} of {self.client!r}>"

    # Identity verification (본인인증) -----------------------------------------

    async def request_identity(self, request: IdentityRequest) -> Receipt:
        """:meth:`Client.request_identity <kakaocert_async.barocert.Client.request_identity>`."""
        return await self.client.request_identity(self.client_code, request)

    async def get_identity_status(self, receipt_id: str) -> Status:
        """:meth:`Client.get_identity_status
        <kakaocert_async.barocert.Client.get_identity_status>`."""
        return await self.client.get_identity_status(self.client_code, receipt_id)

    async def verify_identity(self, receipt_id: str) -> Verification:
        """:meth:`Client.verify_identity <kakaocert_async.barocert.Client.verify_identity>`:
        once only, within 10 minutes of the signature."""
        return await self.client.verify_identity(self.client_code, receipt_id)

    # Sign, one document (전자서명 단건) ---------------------------------------

    async def request_sign(self, request: SignRequest) -> Receipt:
        """:meth:`Client.request_sign <kakaocert_async.barocert.Client.request_sign>`."""
        return await self.client.request_sign(self.client_code, request)

    async def get_sign_status(self, receipt_id: str) -> Status:
        """:meth:`Client.get_sign_status <kakaocert_async.barocert.Client.get_sign_status>`."""
        return await self.client.get_sign_status(self.client_code, receipt_id)

    async def verify_sign(self, receipt_id: str) -> Verification:
        """:meth:`Client.verify_sign <kakaocert_async.barocert.Client.verify_sign>`: once
        only, within 10 minutes of the signature."""
        return await self.client.verify_sign(self.client_code, receipt_id)

    # Sign, up to 20 documents (전자서명 복수) ---------------------------------

    async def request_multi_sign(self, request: MultiSignRequest) -> Receipt:
        """:meth:`Client.request_multi_sign
        <kakaocert_async.barocert.Client.request_multi_sign>`."""
        return await self.client.request_multi_sign(self.client_code, request)

    async def get_multi_sign_status(self, receipt_id: str) -> Status:
        """:meth:`Client.get_multi_sign_status
        <kakaocert_async.barocert.Client.get_multi_sign_status>`."""
        return await self.client.get_multi_sign_status(self.client_code, receipt_id)

    async def verify_multi_sign(self, receipt_id: str) -> MultiSignVerification:
        """:meth:`Client.verify_multi_sign
        <kakaocert_async.barocert.Client.verify_multi_sign>`: once only."""
        return await self.client.verify_multi_sign(self.client_code, receipt_id)

    # CMS withdrawal consent (출금동의) ----------------------------------------

    async def request_cms(self, request: CMSRequest) -> Receipt:
        """:meth:`Client.request_cms <kakaocert_async.barocert.Client.request_cms>`."""
        return await self.client.request_cms(self.client_code, request)

    async def get_cms_status(self, receipt_id: str) -> Status:
        """:meth:`Client.get_cms_status <kakaocert_async.barocert.Client.get_cms_status>`."""
        return await self.client.get_cms_status(self.client_code, receipt_id)

    async def verify_cms(self, receipt_id: str) -> Verification:
        """:meth:`Client.verify_cms <kakaocert_async.barocert.Client.verify_cms>`: once only."""
        return await self.client.verify_cms(self.client_code, receipt_id)

    # Login (간편로그인) ---------------------------------------------------------

    async def verify_login(self, tx_id: str) -> LoginVerification:
        """:meth:`Client.verify_login <kakaocert_async.barocert.Client.verify_login>`:
        once only, within 10 minutes of the login."""
        return await self.client.verify_login(self.client_code, tx_id)

    # Waiting, for every kind ------------------------------------------------

    async def await_completed(
        self,
        receipt: Receipt | str,
        *,
        kind: Kind | str | None = None,
        timeout: float | None = None,
        interval: float | None = None,
    ) -> Status:
        """:meth:`Client.await_completed <kakaocert_async.barocert.Client.await_completed>`:
        poll until the status is final."""
        return await self.client.await_completed(
            self.client_code, receipt, kind=kind, timeout=timeout, interval=interval
        )

    def watch_status(
        self,
        receipt: Receipt | str,
        *,
        kind: Kind | str | None = None,
        timeout: float | None = None,
        interval: float | None = None,
    ) -> AsyncGenerator[Status, None]:
        """:meth:`Client.watch_status <kakaocert_async.barocert.Client.watch_status>`:
        every status read until it is final."""
        return self.client.watch_status(
            self.client_code, receipt, kind=kind, timeout=timeout, interval=interval
        )


total_repr(BoundClient)  # a half-built one's repr does not raise
