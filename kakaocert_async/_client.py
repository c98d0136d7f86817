"""The asyncio client of KakaoCert 2.x: request a signature, read its state, await it, verify it.

Three kinds of the same shape (e-signature, identity verification, CMS
withdrawal consent) share one implementation of each call, told apart by
``_kinds``' table; each call is one generic operation (``request``,
``get_state``, ``verify``, ``await_signed``), and the official SDKs' names are
thin wrappers of it. Those calls, and the constructor, are :class:`ReceiptClient`'s,
on which Barocert's client stands too.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any, ClassVar, TypeVar, cast

from . import _kinds, _polling, _telemetry, _validation, _wire
from ._bound import Bound, operation
from ._connection import ClientBase, last_state
from ._env import Variables
from ._errors import (
    ClientClosed,
    KakaocertError,
    MalformedResponse,
    RawAnswer,
    ValidationError,
    VerifyOutcomeUnknown,
    raise_alone,
)
from ._http import ONE_SHOT, SAFE_TO_REPEAT, SINGLE, RetryPolicy
from ._kinds import CMS, ESIGN, IDENTITY, AnyKind, ReceiptKind
from ._lifecycle import Tracked
from ._models import (
    CMSReceipt,
    CMSRequest,
    CMSStatus,
    CMSVerification,
    ESignReceipt,
    ESignRequest,
    ESignStatus,
    ESignVerification,
    ReceiptBase,
    ReceiptT,
    RequestBase,
    Status,
    StatusT,
    VerificationT,
    VerifyAuthReceipt,
    VerifyAuthRequest,
    VerifyAuthStatus,
    VerifyAuthVerification,
)
from ._secret import Secret
from ._session import KakaoCert2

T = TypeVar("T")
R = TypeVar("R")  # a kind's receipt
S = TypeVar("S", bound=Status)  # a kind's status

API_URL = "https://kakaocert-api.linkhub.co.kr"
"""The KakaoCert API (production)."""
AUTH_URL = "https://auth.linkhub.co.kr"
"""The Linkhub auth service (production)."""
STATIC_API_URL = "https://static-kakaocert-api.linkhub.co.kr"
"""The KakaoCert API on its fixed IPs (the official SDKs' ``UseStaticIP = True``), for a
firewall that lets traffic out to listed addresses only; use it with :data:`STATIC_AUTH_URL`."""
STATIC_AUTH_URL = "https://static-auth.linkhub.co.kr"
"""The Linkhub auth service on its fixed IPs: with :data:`STATIC_API_URL`."""
GA_API_URL = "https://ga-kakaocert-api.linkhub.co.kr"
"""The KakaoCert API on Linkhub's GA hosts (the official SDKs' ``UseGAIP = True``, which
takes precedence over ``UseStaticIP`` there); use it with :data:`GA_AUTH_URL`."""
GA_AUTH_URL = "https://ga-auth.linkhub.co.kr"
"""The Linkhub auth service on its GA hosts: with :data:`GA_API_URL`."""


class ReceiptClient(ClientBase):
    """What the clients of both generations share: their constructor, and the calls on a
    receipt of a kind (request it, read its state, watch it, verify it once), told apart
    by the kind (``_kinds``). Internal: :class:`Client` and ``barocert.Client`` document
    their arguments."""

    # Hooks of a generation -----------------------------------------------------

    _encode: Callable[[AnyKind, Any, bool | None], bytes]
    """The body of a request (checked to be of the kind), as sent and signed."""

    def _received(self, kind: AnyKind, receipt: Any) -> Any:
        """The receipt a request returns, as decoded from its answer (or as the fleet
        rebuilds it from its id)."""
        return receipt

    _check_receipt_id: ClassVar[Callable[..., None]] = staticmethod(_validation.check_receipt_id)
    """The generation's rule for a receipt id."""
    _signed_verify: ClassVar[bool] = False
    """Whether a verify is a signed POST of an empty body (Barocert), not a GET (2.x)."""
    _decode_verification: ClassVar[Callable[..., Any]] = staticmethod(_wire.decode_verification)
    """A verify's answer read (how leniently is the generation's)."""

    def _longest_verify(self) -> float:
        """The most seconds :meth:`_verify` can take to send, under ``ONE_SHOT``."""
        return self._session.longest_call(ONE_SHOT, signed=self._signed_verify)

    # The calls, for every kind -------------------------------------------------

    async def _request(
        self,
        kinds: tuple[ReceiptKind[Any, R, Any, Any], ...],
        client_code: str,
        request: object,
        app_to_app: bool | None = None,
    ) -> R:
        """Send ``request``, of one of ``kinds`` (the operation's, or every kind of the
        generation), once."""
        _validation.check_client_code(client_code)
        kind = next((kind for kind in kinds if isinstance(request, kind.request)), None)
        if kind is None:
            names = [kind.request.__name__ for kind in kinds]
            *others, last = [f"{'an' if n[0] in 'AEIOU' else 'a'} {n}" for n in names]
            listed = f"{', '.join(others)} or {last}" if others else last
            raise ValidationError("request", f"must be {listed}, got {type(request).__name__}")
        body = Secret(self._encode(kind, request, app_to_app))
        path = kind.request_path(client_code)
        label = f"POST {path}"

        traced = _telemetry.Traced(kind.name, kind.paths[0])

        def send(call: Tracked) -> Awaitable[bytes]:
            return self._session.call(
                "request", client_code, path, body, policy=ONE_SHOT, progress=call, traced=traced
            )

        def read(answer: bytes) -> R:
            try:
                decoded = _wire.decode(answer, kind.receipt, label=label)
            except MalformedResponse as unreadable:
                unreadable.raw_answer = RawAnswer(answer)  # the receipt's id may be in it
                raise
            return cast(R, self._received(kind, decoded))

        return await self._once(send, read, operation="request", label=label)

    async def _get_state(
        self, kind: ReceiptKind[Any, Any, S, Any], client_code: str, receipt_id: str
    ) -> S:
        _validation.check_client_code(client_code)
        self._check_receipt_id(receipt_id)
        with self._calls.track() as call:
            return await self._read_state(
                kind, client_code, receipt_id, SAFE_TO_REPEAT, None, progress=call
            )

    def _watch(
        self,
        kind: ReceiptKind[Any, Any, S, Any],
        client_code: str,
        receipt_id: str,
        *,
        timeout: float | None,
        interval: float | None,
    ) -> AsyncGenerator[S, None]:
        """The one polling loop (:func:`_polling.watch`) over the receipt's state, by the
        server's clock as last read: every argument (``interval`` by default
        :data:`_polling.DEFAULT_INTERVAL`) is checked now, before iteration starts, and
        each step is tracked (closing the client ends it with ``ClientClosed``)."""
        _validation.check_client_code(client_code)
        self._check_receipt_id(receipt_id)
        if timeout is not None:
            _validation.check_seconds(timeout, "timeout")
        # A client's deadline (with_options()), if shorter, is the wait's timeout.
        limits = (timeout, self._session.options.deadline)
        timeout = min((limit for limit in limits if limit is not None), default=None)
        if interval is None:
            interval = _polling.DEFAULT_INTERVAL
        _validation.check_seconds(interval, "interval", at_least=_polling.MIN_INTERVAL)
        self._calls.check()
        # One attempt per poll (SINGLE): the polling loop is where a wait's patience
        # lives. A partial, not a closure: it is held by every waiter while it sleeps.
        read = functools.partial(self._read_state, kind, client_code, receipt_id, SINGLE)
        states = _polling.watch(
            read,
            self._session.clock.estimate,
            receipt_id=receipt_id,
            timeout=timeout,
            interval=interval,
        )
        attributes = {
            "kakaocert.receipt_id": receipt_id,
            "kakaocert.generation": self._session.generation,
        }
        return self._calls.guard(_telemetry.wait(states, attributes))

    async def _read_state(
        self,
        kind: ReceiptKind[Any, Any, S, Any],
        client_code: str,
        receipt_id: str,
        policy: RetryPolicy,
        deadline: float | None,
        *,
        progress: Tracked | None = None,
    ) -> S:
        path = kind.status_path(client_code, receipt_id)
        label = f"GET {path}"
        answer = await self._session.call(
            "state",
            client_code,
            path,
            policy=policy,
            deadline=deadline,
            progress=progress,
            traced=_telemetry.Traced(kind.name, kind.paths[1], receipt_id),
        )
        return _wire.decode_about(answer, kind.status, about=receipt_id, label=label)

    async def _verify_once(
        self,
        client_code: str,
        path: str,
        cls: type[T],
        *,
        label: str,
        about: str,
        advice: str,
        traced: _telemetry.Traced,
    ) -> T:
        """Send a verify once (a GET, or a signed POST of an empty body: the generation's
        :attr:`_signed_verify`) and read its answer as a ``cls``.

        ``about`` is the receipt, or the login, verified. The service answers a verify
        once, so an answer lost after sending (the exchange broke, timed out, or the
        close cut it short), or one that cannot be read (:class:`MalformedResponse`),
        is a :class:`VerifyOutcomeUnknown` that keeps what came (the signed data may be
        in it); ``advice`` says how to find out whether it went through. An answer that
        comes after its caller went away goes to the Client's ``on_unclaimed``.
        """

        def lost(error: KakaocertError, raw: bytes | None = None) -> VerifyOutcomeUnknown:
            """The error to raise for ``error`` (by ``raise_alone``, ``error`` its cause)."""
            return VerifyOutcomeUnknown(
                f"{label}: the verify was sent but its answer was lost ({error.message}); the"
                f" service answers verify once, so the receipt may be consumed. {advice}",
                receipt_id=about,
                raw_answer=None if raw is None else RawAnswer(raw),
                progress=error.progress,
            )

        body = Secret(b"") if self._signed_verify else None

        async def send(call: Tracked) -> bytes:
            try:
                return await self._session.call(
                    "verify",
                    client_code,
                    path,
                    body,
                    label=label,
                    policy=ONE_SHOT,
                    progress=call,
                    traced=traced,
                )
            except KakaocertError as error:
                if not error.answer_lost:
                    raise
                raise_alone(lost(error), cause=error)

        def read(answer: bytes) -> T:
            try:
                return cast(T, self._decode_verification(answer, cls, about=about, label=label))
            except MalformedResponse as unreadable:
                # The answer is kept: the signed data may be in it.
                raise_alone(lost(unreadable, answer), cause=unreadable)

        try:
            return await self._once(send, read, operation="verify", label=label, about=about)
        except ClientClosed as closed:
            if not closed.answer_lost:
                raise
            raise_alone(lost(closed), cause=closed)

    async def _verify(
        self,
        kind: ReceiptKind[Any, Any, Any, T],
        client_code: str,
        receipt_id: str,
        signature: str | None = None,
    ) -> T:
        """Verify a receipt of ``kind`` once (``signature``: 2.x's App to App only)."""
        _validation.check_client_code(client_code)
        self._check_receipt_id(receipt_id)
        path = kind.verify_path(client_code, receipt_id)
        label = f"{'POST' if self._signed_verify else 'GET'} {path}"
        template = kind.paths[2]
        if signature is not None:
            if not kind.app_to_app:
                raise ValidationError("signature", f"is for App to App, which {kind.name} has not")
            # As given, as every official SDK sends it: path_value refused only what would
            # change the URL's meaning and escaped what a request line cannot hold raw.
            path += "/" + _validation.path_value(signature, "signature")
            label += "/<signature>"
            template += "/{signature}"
        return await self._verify_once(
            client_code,
            path,
            kind.verification,
            label=label,
            about=receipt_id,
            advice=f"Check {kind.get_state}(): verify_dt is set if it went through.",
            traced=_telemetry.Traced(kind.name, template, receipt_id),
        )


class Client(ReceiptClient):
    """An asyncio client of KakaoCert: e-signatures, identity verification, CMS consents.

    One ``Client`` holds one connection pool, one clock offset and one session
    token per client code: create it once (per event loop) and share it.

    Arguments:
        link_id: The partner's LinkID.
        secret_key: The partner's SecretKey (base64). Never shown in a repr.
        client_code: Your 12-digit client code (이용기관코드), if you use one:
            :meth:`for_client` then binds it, so that calls need not repeat it.
            The operations of the ``Client`` itself still take one each.
        base_url: The KakaoCert API; :data:`API_URL` by default.
            :data:`STATIC_API_URL` (fixed IPs, the official SDKs' ``UseStaticIP``) and
            :data:`GA_API_URL` (``UseGAIP``) are the named hosts for firewalled networks.
        auth_url: The Linkhub auth service; :data:`AUTH_URL` by default
            (:data:`STATIC_AUTH_URL` with the fixed-IP API, :data:`GA_AUTH_URL` with GA).
        timeout: Seconds one attempt of an HTTP exchange may take in all: waiting
            for a free connection, connecting, sending, and reading the answer's
            headers and body (with ``http_client``, its own timeouts apply too).
        max_retries: Extra attempts of a call that may be repeated (4 by default, 0 to
            10): a state read after a passing failure (no connection, a timeout, a 429
            or a 5xx), a request or a verify only when it provably never left. Each
            retry waits a backoff (from 0.1 s, doubling up to 2 s, with jitter) or the
            ``Retry-After`` asked for. :meth:`with_options` makes a sibling with other
            limits (a deadline per call too).
        use_server_time: Stamp ``x-lh-date`` by the auth server's clock, read
            once; ``False`` trusts the local clock.
        ip_restrict: ``False`` asks for tokens usable from any IP
            (``x-lh-forwarded: *``).
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

    Without ``http_client`` or ``transport`` the client sends with aiohttp, its
    fastest path; with either, through httpx (and so while respx is mocking
    httpx, so that the mock sees every call). :attr:`http_backend` says which.

    :meth:`from_env` reads the credentials from ``KAKAOCERT_*`` environment
    variables, as the command line does.

    >>> import asyncio
    >>> from kakaocert_async.sandbox import Sandbox
    >>> async def main() -> str:
    ...     async with Sandbox(sign_after=0.0) as sandbox, sandbox.client() as client:
    ...         receipt = await client.request_esign(sandbox.client_code, ESignRequest(
    ...             call_center_num="1600-9854", expires_in=60, receiver_birthday="19900108",
    ...             receiver_hp="01012341234", receiver_name="홍길동", token="동의합니다",
    ...             tms_title="약관 동의", allow_simple_regist=True, verify_name=True))
    ...         status = await client.await_signed(sandbox.client_code, receipt,
    ...                                            interval=0.01)
    ...         return status.state.name
    >>> asyncio.run(main())
    'SIGNED'
    """

    _dialect = KakaoCert2

    variables: ClassVar[Variables] = Variables(
        prefix="KAKAOCERT_", api_url=API_URL, auth_url=AUTH_URL
    )
    """``KAKAOCERT_LINK_ID``, ``_SECRET_KEY``, ``_CLIENT_CODE``, ``_API_URL`` and
    ``_AUTH_URL``: what :meth:`from_env` (and the command line) read."""

    def for_client(self, client_code: str | None = None) -> BoundClient:
        """This client for one client code, which its operations then no longer take.

        ``client_code`` is checked now; without it, the one given to the
        constructor (or ``KAKAOCERT_CLIENT_CODE``, to :meth:`from_env`) is bound.
        The bound client shares this client's pool, tokens and lifetime. Make as
        many as you serve client codes::

            async with Client.from_env() as client:
                kakao = client.for_client()
                receipt = await kakao.request_esign(request)
                status = await kakao.await_signed(receipt)

        Args:
            client_code: The client code to bind; by default, :attr:`client_code`.

        Returns:
            The bound client.

        Raises:
            ValidationError: ``client_code`` is malformed, or none was given and the client
                has none.
        """
        return self._bind(BoundClient, client_code)

    # Every kind: the kind is the request's or the receipt's -------------------

    @operation
    async def request(
        self, client_code: str, request: RequestBase[ReceiptT], *, app_to_app: bool = False
    ) -> ReceiptT:
        """Ask the receiver to sign: an :class:`ESignRequest`, a :class:`VerifyAuthRequest`
        or a :class:`CMSRequest`; returns the receipt of the same kind.

        Sends the receiver a KakaoTalk message, or, with ``app_to_app=True`` (e-sign
        and CMS), returns a ``tx_id`` for your app to hand to KakaoTalk. Not
        idempotent: it is repeated only when the request provably never left
        (:class:`RequestNotSent`), never after a timeout or a 5xx.

        Args:
            client_code: The client code (이용기관코드); not taken by a :class:`BoundClient`.
            request: What to ask, of any kind.
            app_to_app: Return a ``tx_id`` for your app instead of sending a KakaoTalk message
                (e-sign and CMS only).

        Returns:
            The receipt, of the request's kind: keep it (or its ``receipt_id``) to read the
                state and verify.

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
        return cast(ReceiptT, await self._request(_kinds.KINDS, client_code, request, app_to_app))

    @operation
    async def get_state(self, client_code: str, receipt: ReceiptBase[StatusT, Any]) -> StatusT:
        """Read the state of a receipt (of any kind: the state is of the same kind).
        Safe to repeat; retried on passing failures.

        Args:
            client_code: The client code (이용기관코드); not taken by a :class:`BoundClient`.
            receipt: The receipt a request returned, of any kind.

        Returns:
            The state, of the receipt's kind.

        Raises:
            ValidationError: An argument breaks a documented limit; nothing was sent.
            APIError: The service refused the read (an unknown receipt, say), or still answered
                429 or 5xx after the retries ``max_retries`` allows.
            TransportError: No usable answer after those retries (:class:`RequestNotSent` if
                nothing left; :class:`MalformedResponse` if the answer was unreadable).
            ClientClosed: The client was closed before or during the call.
        """
        kind, receipt_id = _kind_of(receipt)
        return cast(StatusT, await self._get_state(kind, client_code, receipt_id))

    @operation
    async def verify(
        self,
        client_code: str,
        receipt: ReceiptBase[Any, VerificationT],
        signature: str | None = None,
    ) -> VerificationT:
        """Verify a signed receipt (of any kind) and get its signed data. Once only.

        Call it after the state is :attr:`SignState.SIGNED`. ``signature`` is for
        App to App: the value your app got from KakaoTalk (``sig`` on iOS,
        ``signature`` on Android), appended to the path as given, as the official
        SDKs do. The service answers a receipt's verify only once, so it is never
        sent again once it may have reached the service: if the answer is lost
        after sending (a timeout, a broken connection, an unreadable answer, a 5xx
        from a gateway rather than the service's own error, or a close that cut it
        short), :class:`VerifyOutcomeUnknown` says so. An error before sending (no
        token, no connection) is raised as is.

        Args:
            client_code: The client code (이용기관코드); not taken by a :class:`BoundClient`.
            receipt: The receipt a request returned, of any kind.
            signature: App to App only: the value your app got from KakaoTalk.

        Returns:
            The verification, of the receipt's kind, with the signed data.

        Raises:
            ValidationError: An argument breaks a documented limit; nothing was sent.
            APIError: The service refused the verify (not signed yet, verified already, an
                unknown receipt), or the token request.
            VerifyOutcomeUnknown: It was sent and its answer was lost or unreadable: the
                receipt may be consumed. Never repeated.
            RequestNotSent: It never left (no connection, no token), after the retries
                ``max_retries`` allows.
            ClientClosed: The client was closed before the verify was sent.
        """
        kind, receipt_id = _kind_of(receipt)
        return cast(VerificationT, await self._verify(kind, client_code, receipt_id, signature))

    @operation
    async def await_signed(
        self,
        client_code: str,
        receipt: ReceiptBase[StatusT, Any],
        *,
        timeout: float | None = None,
        interval: float | None = None,
    ) -> StatusT:
        """Poll the state until it is signed or expired, and return that state.

        ``receipt`` is what a request returned (an :class:`ESignReceipt`,
        :class:`VerifyAuthReceipt` or :class:`CMSReceipt`; rebuild one from a stored
        id with ``CMSReceipt(receipt_id=...)``). The state returned is of its kind.

        Polls at once, then every ``interval`` seconds (2 by default). Ends by
        ``timeout`` seconds if given, else a few seconds after the receipt
        expires; if it is still pending then, raises :class:`SignTimeout`.
        Everything beneath, token and clock reads included, keeps to that
        deadline. A poll that fails for a passing reason is missed and made
        again shortly: if the last polls failed, :class:`SignTimeout` still ends it
        (``__cause__`` is the last failure); if no state could be read at all, it is
        :class:`ServiceUnreachable` instead. Check ``state`` of the result:
        :attr:`SignState.SIGNED` or :attr:`SignState.EXPIRED`.

        Args:
            client_code: The client code (이용기관코드); not taken by a :class:`BoundClient`.
            receipt: The receipt a request returned, of any kind.
            timeout: Seconds to wait at most; by default, until a few seconds after the
                receipt expires.
            interval: Seconds between polls (2 by default, 0.01 at least).

        Returns:
            The final state, of the receipt's kind: signed or expired.

        Raises:
            ValidationError: An argument breaks a documented limit (checked before the first
                poll).
            SignTimeout: The receipt was still pending at the deadline (``last_status``: the
                state last read).
            ServiceUnreachable: No state could be read at all by the deadline.
            APIError: A refusal that will not pass (an unknown receipt, say): it ends the wait
                at once.
            MalformedResponse: An unreadable answer: it ends the wait at once.
            ClientClosed: The client was closed before or during the wait.
        """
        kind, receipt_id = _kind_of(receipt)
        return await last_state(
            self._watch(kind, client_code, receipt_id, timeout=timeout, interval=interval)
        )

    @operation
    def watch_state(
        self,
        client_code: str,
        receipt: ReceiptBase[StatusT, Any],
        *,
        timeout: float | None = None,
        interval: float | None = None,
    ) -> AsyncGenerator[StatusT, None]:
        """Like :meth:`await_signed`, but yields every state read, for progress displays.

        The last one yielded is signed or expired; :class:`SignTimeout` ends it
        otherwise. Arguments are checked at once, before iteration starts.

        Args:
            client_code: The client code (이용기관코드); not taken by a :class:`BoundClient`.
            receipt: The receipt a request returned, of any kind.
            timeout: Seconds to wait at most; by default, until a few seconds after the
                receipt expires.
            interval: Seconds between polls (2 by default, 0.01 at least).

        Yields:
            Each state read, of the receipt's kind; the last one is signed or expired.

        Raises:
            ValidationError: An argument breaks a documented limit (checked before the first
                poll).
            SignTimeout: The receipt was still pending at the deadline (``last_status``: the
                state last read).
            ServiceUnreachable: No state could be read at all by the deadline.
            APIError: A refusal that will not pass (an unknown receipt, say): it ends the wait
                at once.
            MalformedResponse: An unreadable answer: it ends the wait at once.
            ClientClosed: The client was closed before or during the wait.
        """
        kind, receipt_id = _kind_of(receipt)
        return self._watch(kind, client_code, receipt_id, timeout=timeout, interval=interval)

    # E-signature (전자서명), by the official SDKs' names ------------------------

    @operation
    async def request_esign(
        self, client_code: str, request: ESignRequest, app_to_app: bool = False
    ) -> ESignReceipt:
        """Ask the receiver to sign ``request.text`` (RequestESign): :meth:`request`.

        Args:
            client_code: The client code (이용기관코드); not taken by a :class:`BoundClient`.
            request: What to sign, and who signs it.
            app_to_app: Return a ``tx_id`` for your app instead of sending a KakaoTalk message.

        Returns:
            The receipt: keep its ``receipt_id`` to read the state and verify.

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
        return await self._request((ESIGN,), client_code, request, app_to_app)

    @operation
    async def get_esign_state(self, client_code: str, receipt_id: str) -> ESignStatus:
        """Read the state of a request (GetESignState): :meth:`get_state`.

        Args:
            client_code: The client code (이용기관코드); not taken by a :class:`BoundClient`.
            receipt_id: The receipt's id (``receipt.receipt_id``).

        Returns:
            The e-signature's state.

        Raises:
            ValidationError: An argument breaks a documented limit; nothing was sent.
            APIError: The service refused the read (an unknown receipt, say), or still answered
                429 or 5xx after the retries ``max_retries`` allows.
            TransportError: No usable answer after those retries (:class:`RequestNotSent` if
                nothing left; :class:`MalformedResponse` if the answer was unreadable).
            ClientClosed: The client was closed before or during the call.
        """
        return await self._get_state(ESIGN, client_code, receipt_id)

    @operation
    async def verify_esign(
        self, client_code: str, receipt_id: str, signature: str | None = None
    ) -> ESignVerification:
        """Verify a signed request and get its signed data (VerifyESign): :meth:`verify`.
        Once only.

        Args:
            client_code: The client code (이용기관코드); not taken by a :class:`BoundClient`.
            receipt_id: The receipt's id (``receipt.receipt_id``).
            signature: App to App only: the value your app got from KakaoTalk.

        Returns:
            The verification, with the signed data.

        Raises:
            ValidationError: An argument breaks a documented limit; nothing was sent.
            APIError: The service refused the verify (not signed yet, verified already, an
                unknown receipt), or the token request.
            VerifyOutcomeUnknown: It was sent and its answer was lost or unreadable: the
                receipt may be consumed. Never repeated.
            RequestNotSent: It never left (no connection, no token), after the retries
                ``max_retries`` allows.
            ClientClosed: The client was closed before the verify was sent.
        """
        return await self._verify(ESIGN, client_code, receipt_id, signature)

    @operation
    def watch_esign_state(
        self,
        client_code: str,
        receipt_id: str,
        *,
        timeout: float | None = None,
        interval: float | None = None,
    ) -> AsyncGenerator[ESignStatus, None]:
        """:meth:`watch_state` of an e-signature's receipt id.

        Args:
            client_code: The client code (이용기관코드); not taken by a :class:`BoundClient`.
            receipt_id: The receipt's id (``receipt.receipt_id``).
            timeout: Seconds to wait at most; by default, until a few seconds after the
                receipt expires.
            interval: Seconds between polls (2 by default, 0.01 at least).

        Yields:
            Each state read; the last one is signed or expired.

        Raises:
            ValidationError: An argument breaks a documented limit (checked before the first
                poll).
            SignTimeout: The receipt was still pending at the deadline (``last_status``: the
                state last read).
            ServiceUnreachable: No state could be read at all by the deadline.
            APIError: A refusal that will not pass (an unknown receipt, say): it ends the wait
                at once.
            MalformedResponse: An unreadable answer: it ends the wait at once.
            ClientClosed: The client was closed before or during the wait.
        """
        return self._watch(ESIGN, client_code, receipt_id, timeout=timeout, interval=interval)

    # Identity verification (본인인증) ---------------------------------------

    @operation
    async def request_verify_auth(
        self, client_code: str, request: VerifyAuthRequest
    ) -> VerifyAuthReceipt:
        """Ask the receiver to verify their identity by signing ``request.text``
        (RequestVerifyAuth): :meth:`request`. No App to App.

        Args:
            client_code: The client code (이용기관코드); not taken by a :class:`BoundClient`.
            request: What to sign, and who verifies their identity.

        Returns:
            The receipt: keep its ``receipt_id`` to read the state and verify.

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
        return await self._request((IDENTITY,), client_code, request, None)

    @operation
    async def get_verify_auth_state(self, client_code: str, receipt_id: str) -> VerifyAuthStatus:
        """Read the state of an identity verification (GetVerifyAuthState): :meth:`get_state`.

        Args:
            client_code: The client code (이용기관코드); not taken by a :class:`BoundClient`.
            receipt_id: The receipt's id (``receipt.receipt_id``).

        Returns:
            The identity verification's state.

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
    async def verify_auth(self, client_code: str, receipt_id: str) -> VerifyAuthVerification:
        """Verify a signed identity verification and get its signed data (VerifyAuth):
        :meth:`verify`. Once only.

        Args:
            client_code: The client code (이용기관코드); not taken by a :class:`BoundClient`.
            receipt_id: The receipt's id (``receipt.receipt_id``).

        Returns:
            The verification, with the signed data.

        Raises:
            ValidationError: An argument breaks a documented limit; nothing was sent.
            APIError: The service refused the verify (not signed yet, verified already, an
                unknown receipt), or the token request.
            VerifyOutcomeUnknown: It was sent and its answer was lost or unreadable: the
                receipt may be consumed. Never repeated.
            RequestNotSent: It never left (no connection, no token), after the retries
                ``max_retries`` allows.
            ClientClosed: The client was closed before the verify was sent.
        """
        return await self._verify(IDENTITY, client_code, receipt_id, None)

    # CMS withdrawal consent (자동이체 출금동의) -----------------------------

    @operation
    async def request_cms(
        self, client_code: str, request: CMSRequest, app_to_app: bool = False
    ) -> CMSReceipt:
        """Ask the receiver to consent to automatic withdrawals (RequestCMS): :meth:`request`.

        Args:
            client_code: The client code (이용기관코드); not taken by a :class:`BoundClient`.
            request: The withdrawal to consent to, and who consents.
            app_to_app: Return a ``tx_id`` for your app instead of sending a KakaoTalk message.

        Returns:
            The receipt: keep its ``receipt_id`` to read the state and verify.

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
        return await self._request((CMS,), client_code, request, app_to_app)

    @operation
    async def get_cms_state(self, client_code: str, receipt_id: str) -> CMSStatus:
        """Read the state of a withdrawal consent (GetCMSState): :meth:`get_state`.

        Args:
            client_code: The client code (이용기관코드); not taken by a :class:`BoundClient`.
            receipt_id: The receipt's id (``receipt.receipt_id``).

        Returns:
            The withdrawal consent's state.

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
    async def verify_cms(
        self, client_code: str, receipt_id: str, signature: str | None = None
    ) -> CMSVerification:
        """Verify a signed withdrawal consent and get its signed data (VerifyCMS):
        :meth:`verify`. Once only.

        Args:
            client_code: The client code (이용기관코드); not taken by a :class:`BoundClient`.
            receipt_id: The receipt's id (``receipt.receipt_id``).
            signature: App to App only: the value your app got from KakaoTalk.

        Returns:
            The verification, with the signed data.

        Raises:
            ValidationError: An argument breaks a documented limit; nothing was sent.
            APIError: The service refused the verify (not signed yet, verified already, an
                unknown receipt), or the token request.
            VerifyOutcomeUnknown: It was sent and its answer was lost or unreadable: the
                receipt may be consumed. Never repeated.
            RequestNotSent: It never left (no connection, no token), after the retries
                ``max_retries`` allows.
            ClientClosed: The client was closed before the verify was sent.
        """
        return await self._verify(CMS, client_code, receipt_id, signature)

    # The 2.x dialect of the calls -------------------------------------------

    def _encode(self, kind: AnyKind, request: Any, app_to_app: bool | None) -> bytes:
        if kind.app_to_app:
            _validation.check_bool(app_to_app, "app_to_app")
        return _wire.encode_request(request, app_to_app=app_to_app if kind.app_to_app else None)


class BoundClient(Bound, Client):
    """A :class:`Client` bound to one client code (:meth:`Client.for_client`): the same
    operations, without their ``client_code`` argument. It shares the client's
    connections, tokens and lifetime."""


def _kind_of(receipt: object) -> tuple[AnyKind, str]:
    """The kind of a receipt and its id (a plain ``str`` is an e-signature's, as it was)."""
    if isinstance(receipt, str):
        warnings.warn(
            "a receipt id where a receipt is expected: pass ESignReceipt(receipt_id=...)"
            " (or use the get_esign_state / verify_esign / watch_esign_state of an id)",
            DeprecationWarning,
            stacklevel=4,
        )
        return ESIGN, receipt
    kind = _kinds.of_receipt(receipt)
    if kind is None:
        raise ValidationError(
            "receipt",
            "must be a receipt (ESignReceipt, VerifyAuthReceipt or CMSReceipt),"
            f" got {type(receipt).__name__}",
        )
    return kind, receipt.receipt_id  # type: ignore[attr-defined]
