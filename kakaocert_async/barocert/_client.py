"""The asyncio Barocert client: request, read, await and verify every kind of Kakao receipt.

Identity verification, sign, multi-sign and CMS have the same three calls
(request, status, verify) on paths told apart by their :class:`Kind`, so each
call is implemented once, for every kind; login verify is the fifth operation.
The constructor and the calls of every kind (connection, session, retries,
deadlines, the polling loop and the close) are the 2.x client's
(:class:`~kakaocert_async._client.ReceiptClient`), with the
:class:`~kakaocert_async.barocert._dialect.Barocert` dialect.
"""

from __future__ import annotations

import functools
import time
from collections.abc import AsyncGenerator
from typing import Any, ClassVar

import attrs

from kakaocert_async import _telemetry, _validation
from kakaocert_async._bound import Bound, operation
from kakaocert_async._client import Client as KakaoCert2Client
from kakaocert_async._client import ReceiptClient, T
from kakaocert_async._connection import last_state
from kakaocert_async._env import Variables
from kakaocert_async._errors import APIError, KakaocertError, ValidationError
from kakaocert_async._http import SINGLE
from kakaocert_async._kinds import AnyKind, ReceiptKind

from . import _crypto
from . import _validation as bv
from . import _wire as bw  # (importing it registers the models on the package's converter)
from ._dialect import Barocert
from ._errors import VERIFY_WINDOW, VerifyTooLate
from ._kinds import CMS, IDENTITY, KINDS, MULTI_SIGN, SIGN
from ._kinds import of as kind_entry
from ._models import (
    CMSRequest,
    IdentityRequest,
    Kind,
    LoginVerification,
    MultiSignRequest,
    MultiSignVerification,
    Receipt,
    SignRequest,
    State,
    Status,
    Verification,
)

API_URL = "https://static-barocert.linkhub.co.kr"
"""The Barocert API (production) on its fixed IPs: the official SDK's default host."""
AUTH_URL = "https://static-auth.linkhub.co.kr"
"""The Linkhub auth service on its fixed IPs: the official Barocert SDK's default."""
NON_STATIC_API_URL = "https://barocert.linkhub.co.kr"
"""The Barocert API on Linkhub's other host (the official SDK's ``UseStaticIP = False``)."""
NON_STATIC_AUTH_URL = "https://auth.linkhub.co.kr"
"""The Linkhub auth service's other host."""

_LATE_SLACK = 5.0
"""Seconds short of the window still taken as past it: ``complete_dt`` has whole seconds,
and the two clocks (the service's window, the auth server's time) may differ a little."""


class Client(ReceiptClient):
    """An asyncio client of Barocert's Kakao service: identity verification (본인인증), sign
    (전자서명, one document or up to 20), CMS withdrawal consent (출금동의) and login
    verification (간편로그인).

    Requests take the receiver's data in plain text: the client encrypts the fields
    the protocol marks (AES-256-GCM with your SecretKey, a fresh IV for each value)
    just before sending. One ``Client`` holds one connection pool, one clock offset
    and one session token for the LinkID (shared by every client code): create it
    once (per event loop) and share it.

    Arguments:
        link_id: The partner's LinkID.
        secret_key: The partner's SecretKey (base64 of 32 bytes: it is the AES-256
            key too). Never shown in a repr.
        client_code: Your 12-digit client code (이용기관코드), if you use one:
            :meth:`for_client` then binds it, so that calls need not repeat it.
        base_url: The Barocert API; :data:`API_URL` by default (the fixed-IP host,
            as the official SDK, so that a firewall that lets its traffic out lets
            this client's too); :data:`NON_STATIC_API_URL` is the other.
        auth_url: The Linkhub auth service; :data:`AUTH_URL` by default (with
            :data:`NON_STATIC_API_URL`, use :data:`NON_STATIC_AUTH_URL`).
        timeout: Seconds one attempt of an HTTP exchange may take in all (waiting
            for a connection, connecting, sending, reading the answer).
        max_retries: Extra attempts of a call that may be repeated (4 by default, 0 to
            10): a state read after a passing failure (no connection, a timeout, a 429
            or a 5xx), a request or a verify only when it provably never left. Each
            retry waits a backoff (from 0.1 s, doubling up to 2 s, with jitter) or the
            ``Retry-After`` asked for. :meth:`with_options` makes a sibling with other
            limits (a deadline per call too).
        use_server_time: Stamp ``x-bc-date`` by the auth server's clock, read
            once; ``False`` trusts the local clock.
        ip_restrict: ``True`` (the default) asks for session tokens that only the
            IP address that asked may use. The official Barocert SDK asks for
            tokens usable from anywhere (``x-lh-forwarded: *``); pass ``False``
            for that, e.g. behind egress proxies that change your address.
        max_connections: Connections open at most; callers beyond that wait their
            turn in arrival order.
        http_client: An ``httpx.AsyncClient`` to send with, used as given and
            not closed by this client.
        transport: An httpx transport to send through instead of the network:
            the sandbox's in-process one, or ``httpx.MockTransport`` in tests.
        proxy: The proxy to send through, as a URL (``http://user:password@proxy:3128``;
            credentials percent-encoded), for every request. ``None`` (the default):
            ``HTTPS_PROXY``, ``HTTP_PROXY`` or ``ALL_PROXY`` where ``NO_PROXY`` allows,
            their credentials included. The password is never shown.
        tls: The certificates to trust instead of the default ones (a TLS-inspecting
            proxy's, say): the path of a CA bundle (PEM), or an ``ssl.SSLContext``
            used as given.
        on_unclaimed: Called with an :class:`~kakaocert_async.UnclaimedAnswer` when
            a request or a verify that was sent outlived its caller (cancelled, ended
            by :meth:`aclose`, or, through httpx, timed out): its answer was read to the
            end and is handed here rather than dropped. By default, a WARNING on the
            ``kakaocert_async`` logger naming the receipt (never the signed data).

    :meth:`from_env` reads the credentials from ``BAROCERT_*`` environment
    variables (each credential falling back to its ``KAKAOCERT_`` twin), as the
    command line does.

    Every coroutine checks its arguments first (a :class:`ValidationError`, nothing
    sent). Requests are never repeated once they may have left; status reads are
    retried on passing failures; verify is sent once.

    >>> import asyncio
    >>> from kakaocert_async.sandbox import Sandbox
    >>> async def main() -> str:
    ...     async with Sandbox(sign_after=0.0) as sandbox, sandbox.barocert_client() as client:
    ...         receipt = await client.request_sign(sandbox.client_code, SignRequest(
    ...             receiver_hp="01012341234", receiver_name="홍길동",
    ...             receiver_birthday="19900108", sign_title="약관 동의", expire_in=60,
    ...             token="약관에 동의합니다", token_type="TEXT"))
    ...         status = await client.await_completed(sandbox.client_code, receipt,
    ...                                               interval=0.01)
    ...         return status.state.name
    >>> asyncio.run(main())
    'COMPLETED'
    """

    _dialect = Barocert

    variables: ClassVar[Variables] = Variables(
        prefix="BAROCERT_", api_url=API_URL, auth_url=AUTH_URL, fallback=KakaoCert2Client.variables
    )
    """``BAROCERT_LINK_ID``, ``_SECRET_KEY``, ``_CLIENT_CODE`` (each falling back to its
    ``KAKAOCERT_`` twin), ``BAROCERT_API_URL`` and ``BAROCERT_AUTH_URL``: what
    :meth:`from_env` (and ``kakaocert-async barocert``) read."""

    def for_client(self, client_code: str | None = None) -> BoundClient:
        """This client for one client code, which its operations then no longer take.

        ``client_code`` is checked now; without it, the one given to the
        constructor (or ``BAROCERT_CLIENT_CODE``, to :meth:`from_env`) is bound.
        The bound client shares this client's pool, token and lifetime::

            async with barocert.Client.from_env() as client:
                kakao = client.for_client()
                receipt = await kakao.request_sign(request)
                status = await kakao.await_completed(receipt)

        Args:
            client_code: The client code to bind; by default, :attr:`client_code`.

        Returns:
            The bound client.

        Raises:
            ValidationError: ``client_code`` is malformed, or none was given and the client
                has none.
        """
        return self._bind(BoundClient, client_code)

    # Every kind: the kind is the request's or the receipt's ---------------------

    @operation
    async def request(
        self,
        client_code: str,
        request: IdentityRequest | SignRequest | MultiSignRequest | CMSRequest,
    ) -> Receipt:
        """Ask the receiver to sign: any kind's request (:class:`IdentityRequest`,
        :class:`SignRequest`, :class:`MultiSignRequest`, :class:`CMSRequest`); the
        receipt knows its kind.

        Sends a KakaoTalk message, or with ``request.app_to_app`` returns the
        ``scheme`` your app opens. Not idempotent: repeated only when it provably
        never left (:class:`~kakaocert_async.RequestNotSent`), never after a timeout
        or a 5xx.

        Args:
            client_code: The client code (이용기관코드); not taken by a :class:`BoundClient`.
            request: What to ask, of any kind, the receiver's data in plain text.

        Returns:
            The receipt, which knows its kind: keep it (or its ``receipt_id`` and kind) to
                read the status and verify.

        Raises:
            ValidationError: An argument breaks a documented limit; nothing was sent.
            APIError: The service refused the request (or the token request), or answered 429
                or 5xx.
            RequestNotSent: It never left whole (no connection, no token), after the retries
                ``max_retries`` allows.
            TransportError: It was sent and no usable answer came (a timeout, a broken
                connection; :class:`MalformedResponse`: an unreadable one). The service may
                have sent the message: it is never repeated.
            ClientClosed: The client was closed before or during the call.
        """
        return await self._request(KINDS, client_code, request)

    @operation
    async def get_status(self, client_code: str, receipt: Receipt) -> Status:
        """The status of a receipt (of any kind). Safe to repeat; retried on passing
        failures.

        Args:
            client_code: The client code (이용기관코드); not taken by a :class:`BoundClient`.
            receipt: The receipt a request returned, of any kind.

        Returns:
            The receipt's status.

        Raises:
            ValidationError: An argument breaks a documented limit; nothing was sent.
            APIError: The service refused the read (an unknown receipt, say), or still answered
                429 or 5xx after the retries ``max_retries`` allows.
            TransportError: No usable answer after those retries (:class:`RequestNotSent` if
                nothing left; :class:`MalformedResponse` if the answer was unreadable).
            ClientClosed: The client was closed before or during the call.
        """
        kind, receipt_id = _kind_of(receipt, None)
        return await self._get_state(kind, client_code, receipt_id)

    @operation
    async def verify(
        self, client_code: str, receipt: Receipt
    ) -> Verification | MultiSignVerification:
        """The signed data of a completed receipt (of any kind; a multi-sign's is one per
        document, in the request's order).

        **Once only, within 10 minutes of the signature.** The service answers a
        receipt's verify once, so it is never sent again once it may have reached the
        service: if its answer is lost after sending,
        :class:`~kakaocert_async.VerifyOutcomeUnknown` says so (read the status:
        ``verify_dt`` is set if it went through). Refused because it came more than
        10 minutes after ``complete_dt``: :class:`VerifyTooLate`.

        Args:
            client_code: The client code (이용기관코드); not taken by a :class:`BoundClient`.
            receipt: The receipt a request returned, of any kind.

        Returns:
            The verification with the signed data: a :class:`MultiSignVerification` for a
                multi-sign receipt, a :class:`Verification` otherwise.

        Raises:
            ValidationError: An argument breaks a documented limit; nothing was sent.
            VerifyTooLate: The service refused it, and the status read right after shows the
                receipt completed over 10 minutes before, never verified.
            APIError: The service refused the verify otherwise (not completed, verified
                already, an unknown receipt), or the token request.
            VerifyOutcomeUnknown: It was sent and its answer was lost or unreadable: the
                receipt may be consumed. Never repeated.
            RequestNotSent: It never left (no connection, no token), after the retries
                ``max_retries`` allows.
            ClientClosed: The client was closed before the verify was sent.
        """
        kind, receipt_id = _kind_of(receipt, None)
        return await self._verify(kind, client_code, receipt_id)

    # Identity verification (본인인증) ---------------------------------------------

    @operation
    async def request_identity(self, client_code: str, request: IdentityRequest) -> Receipt:
        """Ask the receiver to prove who they are by signing ``request.token``
        (requestIdentity).

        Sends a KakaoTalk message, or with ``request.app_to_app`` returns the
        ``scheme`` your app opens. Not idempotent: repeated only when it provably
        never left (:class:`~kakaocert_async.RequestNotSent`), never after a timeout
        or a 5xx.

        Args:
            client_code: The client code (이용기관코드); not taken by a :class:`BoundClient`.
            request: The identity verification, the receiver's data in plain text.

        Returns:
            The receipt: keep it (or its ``receipt_id``) to read the status and verify.

        Raises:
            ValidationError: An argument breaks a documented limit; nothing was sent.
            APIError: The service refused the request (or the token request), or answered 429
                or 5xx.
            RequestNotSent: It never left whole (no connection, no token), after the retries
                ``max_retries`` allows.
            TransportError: It was sent and no usable answer came (a timeout, a broken
                connection; :class:`MalformedResponse`: an unreadable one). The service may
                have sent the message: it is never repeated.
            ClientClosed: The client was closed before or during the call.
        """
        return await self._request((IDENTITY,), client_code, request)

    @operation
    async def get_identity_status(self, client_code: str, receipt_id: str) -> Status:
        """The state of an identity verification (getIdentityStatus). Safe to repeat;
        retried on passing failures.

        Args:
            client_code: The client code (이용기관코드); not taken by a :class:`BoundClient`.
            receipt_id: The receipt's id (``receipt.receipt_id``).

        Returns:
            The identity verification's status.

        Raises:
            ValidationError: An argument breaks a documented limit; nothing was sent.
            APIError: The service refused the read (an unknown receipt, say), or still answered
                429 or 5xx after the retries ``max_retries`` allows.
            TransportError: No usable answer after those retries (:class:`RequestNotSent` if
                nothing left; :class:`MalformedResponse` if the answer was unreadable).
            ClientClosed: The client was closed before or during the call.
        """
        return await self._get_state(IDENTITY, client_code, receipt_id)

    @operation
    async def verify_identity(self, client_code: str, receipt_id: str) -> Verification:
        """The signed data of a completed identity verification (verifyIdentity): compare
        ``signed_data`` with the token you sent.

        **Once only, within 10 minutes of the signature.** The service answers a
        receipt's verify once, so it is never repeated: if its answer is lost after
        sending, :class:`~kakaocert_async.VerifyOutcomeUnknown` says so (read the
        status: ``verify_dt`` is set if it went through). Refused because it came
        more than 10 minutes after ``complete_dt``: :class:`VerifyTooLate`.

        Args:
            client_code: The client code (이용기관코드); not taken by a :class:`BoundClient`.
            receipt_id: The receipt's id (``receipt.receipt_id``).

        Returns:
            The verification, with the signed data.

        Raises:
            ValidationError: An argument breaks a documented limit; nothing was sent.
            VerifyTooLate: The service refused it, and the status read right after shows the
                receipt completed over 10 minutes before, never verified.
            APIError: The service refused the verify otherwise (not completed, verified
                already, an unknown receipt), or the token request.
            VerifyOutcomeUnknown: It was sent and its answer was lost or unreadable: the
                receipt may be consumed. Never repeated.
            RequestNotSent: It never left (no connection, no token), after the retries
                ``max_retries`` allows.
            ClientClosed: The client was closed before the verify was sent.
        """
        return await self._verify(IDENTITY, client_code, receipt_id)

    # Sign, one document (전자서명 단건) -------------------------------------------

    @operation
    async def request_sign(self, client_code: str, request: SignRequest) -> Receipt:
        """Ask the receiver to sign one document (requestSign). Not idempotent, as
        :meth:`request_identity`.

        Args:
            client_code: The client code (이용기관코드); not taken by a :class:`BoundClient`.
            request: The sign request, the receiver's data in plain text.

        Returns:
            The receipt: keep it (or its ``receipt_id``) to read the status and verify.

        Raises:
            ValidationError: An argument breaks a documented limit; nothing was sent.
            APIError: The service refused the request (or the token request), or answered 429
                or 5xx.
            RequestNotSent: It never left whole (no connection, no token), after the retries
                ``max_retries`` allows.
            TransportError: It was sent and no usable answer came (a timeout, a broken
                connection; :class:`MalformedResponse`: an unreadable one). The service may
                have sent the message: it is never repeated.
            ClientClosed: The client was closed before or during the call.
        """
        return await self._request((SIGN,), client_code, request)

    @operation
    async def get_sign_status(self, client_code: str, receipt_id: str) -> Status:
        """The state of a sign request (getSignStatus). Safe to repeat.

        Args:
            client_code: The client code (이용기관코드); not taken by a :class:`BoundClient`.
            receipt_id: The receipt's id (``receipt.receipt_id``).

        Returns:
            The sign request's status.

        Raises:
            ValidationError: An argument breaks a documented limit; nothing was sent.
            APIError: The service refused the read (an unknown receipt, say), or still answered
                429 or 5xx after the retries ``max_retries`` allows.
            TransportError: No usable answer after those retries (:class:`RequestNotSent` if
                nothing left; :class:`MalformedResponse` if the answer was unreadable).
            ClientClosed: The client was closed before or during the call.
        """
        return await self._get_state(SIGN, client_code, receipt_id)

    @operation
    async def verify_sign(self, client_code: str, receipt_id: str) -> Verification:
        """The signed data of a completed sign request (verifySign).

        **Once only, within 10 minutes of the signature**, as :meth:`verify_identity`:
        a lost answer is :class:`~kakaocert_async.VerifyOutcomeUnknown`, a verify
        refused for coming too late is :class:`VerifyTooLate`.

        Args:
            client_code: The client code (이용기관코드); not taken by a :class:`BoundClient`.
            receipt_id: The receipt's id (``receipt.receipt_id``).

        Returns:
            The verification, with the signed data.

        Raises:
            ValidationError: An argument breaks a documented limit; nothing was sent.
            VerifyTooLate: The service refused it, and the status read right after shows the
                receipt completed over 10 minutes before, never verified.
            APIError: The service refused the verify otherwise (not completed, verified
                already, an unknown receipt), or the token request.
            VerifyOutcomeUnknown: It was sent and its answer was lost or unreadable: the
                receipt may be consumed. Never repeated.
            RequestNotSent: It never left (no connection, no token), after the retries
                ``max_retries`` allows.
            ClientClosed: The client was closed before the verify was sent.
        """
        return await self._verify(SIGN, client_code, receipt_id)

    # Sign, up to 20 documents (전자서명 복수) -------------------------------------

    @operation
    async def request_multi_sign(self, client_code: str, request: MultiSignRequest) -> Receipt:
        """Ask the receiver to sign 1 to 20 documents at once (requestMultiSign). Not
        idempotent, as :meth:`request_identity`.

        Args:
            client_code: The client code (이용기관코드); not taken by a :class:`BoundClient`.
            request: The multi-sign request, the receiver's data in plain text.

        Returns:
            The receipt: keep it (or its ``receipt_id``) to read the status and verify.

        Raises:
            ValidationError: An argument breaks a documented limit; nothing was sent.
            APIError: The service refused the request (or the token request), or answered 429
                or 5xx.
            RequestNotSent: It never left whole (no connection, no token), after the retries
                ``max_retries`` allows.
            TransportError: It was sent and no usable answer came (a timeout, a broken
                connection; :class:`MalformedResponse`: an unreadable one). The service may
                have sent the message: it is never repeated.
            ClientClosed: The client was closed before or during the call.
        """
        return await self._request((MULTI_SIGN,), client_code, request)

    @operation
    async def get_multi_sign_status(self, client_code: str, receipt_id: str) -> Status:
        """The state of a multi-sign request (getMultiSignStatus). Safe to repeat.

        Args:
            client_code: The client code (이용기관코드); not taken by a :class:`BoundClient`.
            receipt_id: The receipt's id (``receipt.receipt_id``).

        Returns:
            The multi-sign request's status.

        Raises:
            ValidationError: An argument breaks a documented limit; nothing was sent.
            APIError: The service refused the read (an unknown receipt, say), or still answered
                429 or 5xx after the retries ``max_retries`` allows.
            TransportError: No usable answer after those retries (:class:`RequestNotSent` if
                nothing left; :class:`MalformedResponse` if the answer was unreadable).
            ClientClosed: The client was closed before or during the call.
        """
        return await self._get_state(MULTI_SIGN, client_code, receipt_id)

    @operation
    async def verify_multi_sign(self, client_code: str, receipt_id: str) -> MultiSignVerification:
        """The signed data of a completed multi-sign request, one per document in the
        request's order (verifyMultiSign).

        **Once only, within 10 minutes of the signature**, as :meth:`verify_identity`.

        Args:
            client_code: The client code (이용기관코드); not taken by a :class:`BoundClient`.
            receipt_id: The receipt's id (``receipt.receipt_id``).

        Returns:
            The verification, with one signed datum per document.

        Raises:
            ValidationError: An argument breaks a documented limit; nothing was sent.
            VerifyTooLate: The service refused it, and the status read right after shows the
                receipt completed over 10 minutes before, never verified.
            APIError: The service refused the verify otherwise (not completed, verified
                already, an unknown receipt), or the token request.
            VerifyOutcomeUnknown: It was sent and its answer was lost or unreadable: the
                receipt may be consumed. Never repeated.
            RequestNotSent: It never left (no connection, no token), after the retries
                ``max_retries`` allows.
            ClientClosed: The client was closed before the verify was sent.
        """
        return await self._verify(MULTI_SIGN, client_code, receipt_id)

    # CMS withdrawal consent (출금동의) --------------------------------------------

    @operation
    async def request_cms(self, client_code: str, request: CMSRequest) -> Receipt:
        """Ask the receiver to consent to a bank withdrawal (requestCMS). Not
        idempotent, as :meth:`request_identity`.

        Args:
            client_code: The client code (이용기관코드); not taken by a :class:`BoundClient`.
            request: The withdrawal consent, the receiver's data in plain text.

        Returns:
            The receipt: keep it (or its ``receipt_id``) to read the status and verify.

        Raises:
            ValidationError: An argument breaks a documented limit; nothing was sent.
            APIError: The service refused the request (or the token request), or answered 429
                or 5xx.
            RequestNotSent: It never left whole (no connection, no token), after the retries
                ``max_retries`` allows.
            TransportError: It was sent and no usable answer came (a timeout, a broken
                connection; :class:`MalformedResponse`: an unreadable one). The service may
                have sent the message: it is never repeated.
            ClientClosed: The client was closed before or during the call.
        """
        return await self._request((CMS,), client_code, request)

    @operation
    async def get_cms_status(self, client_code: str, receipt_id: str) -> Status:
        """The state of a withdrawal consent (getCMSStatus). Safe to repeat.

        Args:
            client_code: The client code (이용기관코드); not taken by a :class:`BoundClient`.
            receipt_id: The receipt's id (``receipt.receipt_id``).

        Returns:
            The withdrawal consent's status.

        Raises:
            ValidationError: An argument breaks a documented limit; nothing was sent.
            APIError: The service refused the read (an unknown receipt, say), or still answered
                429 or 5xx after the retries ``max_retries`` allows.
            TransportError: No usable answer after those retries (:class:`RequestNotSent` if
                nothing left; :class:`MalformedResponse` if the answer was unreadable).
            ClientClosed: The client was closed before or during the call.
        """
        return await self._get_state(CMS, client_code, receipt_id)

    @operation
    async def verify_cms(self, client_code: str, receipt_id: str) -> Verification:
        """The signed data of a completed withdrawal consent (verifyCMS).

        **Once only, within 10 minutes of the signature**, as :meth:`verify_identity`.

        Args:
            client_code: The client code (이용기관코드); not taken by a :class:`BoundClient`.
            receipt_id: The receipt's id (``receipt.receipt_id``).

        Returns:
            The verification, with the signed data.

        Raises:
            ValidationError: An argument breaks a documented limit; nothing was sent.
            VerifyTooLate: The service refused it, and the status read right after shows the
                receipt completed over 10 minutes before, never verified.
            APIError: The service refused the verify otherwise (not completed, verified
                already, an unknown receipt), or the token request.
            VerifyOutcomeUnknown: It was sent and its answer was lost or unreadable: the
                receipt may be consumed. Never repeated.
            RequestNotSent: It never left (no connection, no token), after the retries
                ``max_retries`` allows.
            ClientClosed: The client was closed before the verify was sent.
        """
        return await self._verify(CMS, client_code, receipt_id)

    # Login (간편로그인) -------------------------------------------------------------

    @operation
    async def verify_login(self, client_code: str, tx_id: str) -> LoginVerification:
        """The signed data of a KakaoTalk login (verifyLogin): ``tx_id`` is the transaction
        id your app received from KakaoTalk.

        **Once only, within 10 minutes of the login.** Never repeated; a lost answer
        is :class:`~kakaocert_async.VerifyOutcomeUnknown`. A login has no status to
        read, so a verify refused for coming too late is the service's
        :class:`~kakaocert_async.APIError` as it sent it.

        Args:
            client_code: The client code (이용기관코드); not taken by a :class:`BoundClient`.
            tx_id: The transaction id your app received from KakaoTalk.

        Returns:
            The login's verification, with the signed data.

        Raises:
            ValidationError: An argument breaks a documented limit; nothing was sent.
            APIError: The service refused the verify (too late too, as it sent it), or the
                token request.
            VerifyOutcomeUnknown: It was sent and its answer was lost or unreadable. Never
                repeated.
            RequestNotSent: It never left (no connection, no token), after the retries
                ``max_retries`` allows.
            ClientClosed: The client was closed before the verify was sent.
        """
        _validation.check_client_code(client_code)
        path = bw.login_verify_path(client_code, tx_id)  # tx_id checked as every path value
        label = f"POST /KAKAO/Login/Verify/{client_code}/<tx_id>"
        return await self._verify_once(
            client_code,
            path,
            LoginVerification,
            label=label,
            about=tx_id,
            advice="A login has no status to read: if it matters, have the user log in again.",
            traced=_telemetry.Traced("login", "/KAKAO/Login/Verify/{client_code}/{tx_id}"),
        )

    # Waiting, for every kind --------------------------------------------------------

    @operation
    async def await_completed(
        self,
        client_code: str,
        receipt: Receipt | str,
        *,
        kind: Kind | str | None = None,
        timeout: float | None = None,
        interval: float | None = None,
    ) -> Status:
        """Poll the status until it is final (completed, expired, refused, failed, or a
        state this SDK does not know) and return that status.

        ``receipt`` is what a request returned (it knows its kind), or a receipt id
        with ``kind`` (a :class:`Kind`, or its value: ``"Identity"``, ``"Sign"``,
        ``"MultiSign"``, ``"CMS"``); ``Receipt(receipt_id=..., kind=...)`` rebuilds
        one from a stored id.

        Polls at once, then every ``interval`` seconds (2 by default). Ends by
        ``timeout`` seconds if given, else a few seconds after the receipt
        expires; if it is still waiting then, raises
        :class:`~kakaocert_async.SignTimeout` (its ``last_status`` the last status
        read). A poll that fails for a passing reason is missed and made again
        shortly; if no status could be read at all by then, raises
        :class:`~kakaocert_async.ServiceUnreachable` instead. Check ``state`` of the
        result: :attr:`State.COMPLETED` means verify it now (within 10 minutes).

        Args:
            client_code: The client code (이용기관코드); not taken by a :class:`BoundClient`.
            receipt: A receipt a request returned, or a receipt id (with ``kind``).
            kind: The kind of a receipt id: a :class:`Kind` or its value.
            timeout: Seconds to wait at most; by default, until a few seconds after the
                receipt expires.
            interval: Seconds between polls (2 by default, 0.01 at least).

        Returns:
            The final status.

        Raises:
            ValidationError: An argument breaks a documented limit (checked before the first
                poll), or a receipt id came without its ``kind``.
            SignTimeout: The receipt was still waiting at the deadline (``last_status``: the
                status last read).
            ServiceUnreachable: No status could be read at all by the deadline.
            APIError: A refusal that will not pass (an unknown receipt, say): it ends the wait
                at once.
            MalformedResponse: An unreadable answer: it ends the wait at once.
            ClientClosed: The client was closed before or during the wait.
        """
        the_kind, receipt_id = _kind_of(receipt, kind)
        return await last_state(
            self._watch(the_kind, client_code, receipt_id, timeout=timeout, interval=interval)
        )

    @operation
    def watch_status(
        self,
        client_code: str,
        receipt: Receipt | str,
        *,
        kind: Kind | str | None = None,
        timeout: float | None = None,
        interval: float | None = None,
    ) -> AsyncGenerator[Status, None]:
        """Like :meth:`await_completed`, but yields every status read, for progress
        displays. The last one yielded is final; :class:`~kakaocert_async.SignTimeout`
        ends it otherwise. Arguments are checked at once, before iteration starts.

        Args:
            client_code: The client code (이용기관코드); not taken by a :class:`BoundClient`.
            receipt: A receipt a request returned, or a receipt id (with ``kind``).
            kind: The kind of a receipt id: a :class:`Kind` or its value.
            timeout: Seconds to wait at most; by default, until a few seconds after the
                receipt expires.
            interval: Seconds between polls (2 by default, 0.01 at least).

        Yields:
            Each status read; the last one is final.

        Raises:
            ValidationError: An argument breaks a documented limit (checked before the first
                poll), or a receipt id came without its ``kind``.
            SignTimeout: The receipt was still waiting at the deadline (``last_status``: the
                status last read).
            ServiceUnreachable: No status could be read at all by the deadline.
            APIError: A refusal that will not pass (an unknown receipt, say): it ends the wait
                at once.
            MalformedResponse: An unreadable answer: it ends the wait at once.
            ClientClosed: The client was closed before or during the wait.
        """
        the_kind, receipt_id = _kind_of(receipt, kind)
        return self._watch(the_kind, client_code, receipt_id, timeout=timeout, interval=interval)

    # The calls, for every kind ------------------------------------------------------

    @functools.cached_property
    def _cipher(self) -> _crypto.Cipher:
        return _crypto.Cipher(self._key)

    def _encode(self, kind: AnyKind, request: Any, app_to_app: bool | None) -> bytes:
        # Encrypted here, each field with a fresh IV (the body stays wrapped until the wire).
        return bw.encode_request(request, self._cipher)

    def _received(self, kind: AnyKind, receipt: Receipt) -> Receipt:
        return attrs.evolve(receipt, kind=Kind(kind.segment))

    _check_receipt_id = staticmethod(bv.check_receipt_id)
    _signed_verify = True
    _decode_verification = staticmethod(bw.decode_verification)

    async def _verify(
        self,
        kind: ReceiptKind[Any, Any, Any, T],
        client_code: str,
        receipt_id: str,
        signature: str | None = None,
    ) -> T:
        try:
            return await super()._verify(kind, client_code, receipt_id)
        except APIError as refused:
            with self._calls.track():
                late = await self._too_late(kind, client_code, receipt_id, refused)
            if late is None:
                raise
            raise late from refused

    async def _too_late(
        self, kind: AnyKind, client_code: str, receipt_id: str, refused: APIError
    ) -> VerifyTooLate | None:
        """A refused verify, explained if the 10 minutes had passed: the status (read now,
        once) says completed, never verified, and ``complete_dt`` is over 10 minutes ago
        by the auth server's clock (read now too: the offset kept may be hours old).
        ``None`` when that cannot be told."""
        status = refused.http_status
        if not 400 <= status < 500 or status in (401, 429):
            return None
        try:
            state = await self._read_state(kind, client_code, receipt_id, SINGLE, None)
            if not (
                state.state == State.COMPLETED
                and state.verify_dt is None
                and state.complete_dt is not None
            ):
                return None
            server_now = time.time() + await self._session.clock.measure_offset()
        except KakaocertError:
            return None
        elapsed = server_now - state.complete_dt.timestamp()
        if elapsed <= VERIFY_WINDOW - _LATE_SLACK:
            return None
        minutes, seconds = divmod(round(elapsed), 60)
        completed = state.complete_dt.strftime("%Y-%m-%d %H:%M:%S %Z")
        return VerifyTooLate(
            f"{refused.message} (verify comes too late: the service answers it only within"
            f" 10 minutes of the signature, and receipt {receipt_id} was completed at"
            f" {completed}, {minutes} min {seconds} s ago; its signed data can no longer be"
            " obtained: request a new signature)",
            code=refused.code,
            http_status=refused.http_status,
            receipt_id=receipt_id,
            complete_dt=state.complete_dt,
        )


KindEntry = ReceiptKind[Any, Receipt, Status, Verification | MultiSignVerification]
"""Any entry of ``_kinds.KINDS``, as the calls on a receipt of unknown kind see it."""


class BoundClient(Bound, Client):
    """A :class:`Client` bound to one client code (:meth:`Client.for_client`): the same
    operations, without their ``client_code`` argument. It shares the client's
    connections, token and lifetime."""


def _kind_of(receipt: object, kind: object) -> tuple[KindEntry, str]:
    """The kind and id of what ``await_completed`` was given, checked (the id by the
    call, with the other arguments)."""
    chosen = bv.to_member(Kind, kind)  # (None stays None)
    if chosen is not None and not isinstance(chosen, Kind):
        names = ", ".join(repr(k.value) for k in Kind)
        raise ValidationError("kind", f"must be a Kind or one of {names}")
    if isinstance(receipt, Receipt):
        own = receipt.kind
        if own is not None and chosen is not None and own is not chosen:
            raise ValidationError(
                "kind", f"is {chosen.value}, but the receipt is a {own.value} receipt"
            )
        chosen = own or chosen
        receipt_id = receipt.receipt_id
    elif isinstance(receipt, str):
        receipt_id = receipt
    else:
        raise ValidationError(
            "receipt",
            f"must be a Receipt or a receipt id (32 digits), got {type(receipt).__name__}",
        )
    if chosen is None:
        raise ValidationError(
            "kind", "is required with a receipt id: Kind.IDENTITY, SIGN, MULTI_SIGN or CMS"
        )
    return kind_entry(chosen), receipt_id
