"""The :class:`Sandbox` facade: settings, service, faults, app, clients and servers as one."""

from __future__ import annotations

import contextlib
import functools
import weakref
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from kakaocert_async import barocert
from kakaocert_async._client import Client
from kakaocert_async._connection import ClientBase
from kakaocert_async._models import StatusBase
from kakaocert_async._secret import Secret, total_repr

from ._faults import Fault, FaultPlan
from ._service import BarocertService, Service
from ._settings import DEFAULT_SECRET_KEY, Settings, SettingsOptions
from ._transport import DEFAULT_CLIENT_IP, SandboxTransport

if TYPE_CHECKING:
    from typing_extensions import Unpack

C = TypeVar("C", bound=ClientBase)

INSTALL_HINT = "pip install 'kakaocert-async[sandbox]'"

IN_PROCESS_URL = "http://kakaocert-sandbox.invalid"
"""The base URL of in-process clients (both auth and API); never resolved."""


class SandboxUnavailable(ImportError):
    """starlette or uvicorn, which the sandbox's server side needs, is not installed."""


def require_extra() -> None:
    """Raise :class:`SandboxUnavailable` now if the ``sandbox`` extra is missing: then the
    sandbox's server side (``_app``, ``_server``) imports."""
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ModuleNotFoundError as exc:
        raise SandboxUnavailable(
            f"the KakaoCert sandbox needs starlette and uvicorn ({exc}): {INSTALL_HINT}"
        ) from exc


class Sandbox:
    """A local KakaoCert (Linkhub auth and the API on one origin) that speaks the real protocol:
    e-signatures, identity verification and CMS withdrawal consents, and Barocert.

    In-process by default (no sockets)::

        async with Sandbox(sign_after=1.0) as sandbox, sandbox.client() as client:
            receipt = await client.request_esign(sandbox.client_code, request)

    (:meth:`barocert_client` gives Barocert's client), or on a real port with
    :meth:`serve` / :meth:`serve_in_thread`. Every argument is a :class:`Settings`
    field; ``faults`` are added at once. Its receiver signs each request
    ``sign_after`` seconds after it is made (1 s by default, as everywhere the sandbox
    runs); ``sign_after=None`` signs only on command (:meth:`sign`).

    Args:
        secret_key: The partner SecretKey it checks signatures with (base64);
            :data:`DEFAULT_SECRET_KEY` by default.
        faults: Faults to add at once (:attr:`faults`).
        **settings: The other :class:`Settings` fields (``link_id``, ``client_code``,
            ``sign_after``, ``clock``, ...), each defaulting as there.

    Raises:
        ValidationError: A setting is out of its limits.
        TypeError: An unknown setting, or one of ``faults`` is not a :class:`Fault`.
    """

    def __init__(
        self,
        *,
        secret_key: str = DEFAULT_SECRET_KEY,
        faults: Iterable[Fault] = (),
        **settings: Unpack[SettingsOptions],
    ) -> None:
        key = Secret(secret_key)  # a refused setting's traceback does not show it
        del secret_key
        self.settings = Settings(secret_key=key.reveal(), **settings)
        self.service = Service(self.settings)
        """The emulated service: its methods are synchronous and thread-safe."""
        self.barocert = BarocertService(self.settings)
        """The emulated Barocert service, on the same origin and credentials: its control
        (``sign``, ``expire``, ``open``, ``refuse``, ``fail``, ``state``, ``request_of``,
        ``login``, ``revoke_tokens``) is synchronous and thread-safe."""
        self.faults = FaultPlan(self.service.now)
        """The active faults: ``add``, ``remove``, ``clear``, ``listing``."""
        self.faults.extend(faults)
        self._clients: weakref.WeakSet[ClientBase] = weakref.WeakSet()

    def __repr__(self) -> str:
        s = self.settings
        return (
            f"<Sandbox link_id={s.link_id!r} client_code={s.client_code!r}"
            f" sign_after={s.sign_after!r} receipts={len(self.service)}>"
        )

    # Credentials -----------------------------------------------------------

    @property
    def link_id(self) -> str:
        return self.settings.link_id

    @property
    def secret_key(self) -> str:
        return self.settings.secret_key

    @property
    def client_code(self) -> str:
        """The default client code (any 12-digit code is accepted)."""
        return self.settings.client_code

    # The app and in-process clients -----------------------------------------

    @functools.cached_property
    def app(self) -> Any:
        """The ASGI app (Starlette), built on first use."""
        require_extra()
        from ._app import build_app

        return build_app(self.service, self.faults, self.barocert)

    url = IN_PROCESS_URL

    def transport(self, *, client_ip: str = DEFAULT_CLIENT_IP) -> SandboxTransport:
        """An httpx transport into :attr:`app`, calling from ``client_ip``.

        Args:
            client_ip: The caller's IP as the sandbox sees it, which IP-bound tokens are
                checked against (``127.0.0.1`` by default).

        Returns:
            The transport (``httpx.AsyncBaseTransport``).

        Raises:
            SandboxUnavailable: The ``sandbox`` extra (starlette, uvicorn) is missing.
        """
        return SandboxTransport(self.app, client_ip=client_ip)

    def http_client(
        self, *, client_ip: str = DEFAULT_CLIENT_IP, **kwargs: Any
    ) -> httpx.AsyncClient:
        """An ``httpx.AsyncClient`` on :attr:`url`, for raw calls; close it yourself.

        Args:
            client_ip: The caller's IP as the sandbox sees it, which IP-bound tokens are
                checked against (``127.0.0.1`` by default).
            **kwargs: More ``httpx.AsyncClient`` arguments (not ``transport`` nor
                ``base_url``, which are the sandbox's).

        Returns:
            The client, calling in-process.

        Raises:
            SandboxUnavailable: The ``sandbox`` extra (starlette, uvicorn) is missing.
        """
        return httpx.AsyncClient(
            transport=self.transport(client_ip=client_ip), base_url=self.url, **kwargs
        )

    def client(self, *, client_ip: str = DEFAULT_CLIENT_IP, **kwargs: Any) -> Client:
        """A :class:`kakaocert_async.Client` wired to the sandbox in-process.

        ``kwargs`` go to ``Client`` (``timeout``, ``use_server_time``,
        ``ip_restrict``, ...; not ``http_client`` or ``transport``, which are the
        sandbox's). Close it (``async with``); the sandbox closes any left open
        when it closes.

        Args:
            client_ip: The caller's IP as the sandbox sees it, which IP-bound tokens are
                checked against (``127.0.0.1`` by default).
            **kwargs: More arguments of ``Client``; ``client_code`` is the sandbox's
                unless given, so that :meth:`~kakaocert_async.Client.for_client` binds it.

        Returns:
            The client, calling in-process.

        Raises:
            SandboxUnavailable: The ``sandbox`` extra (starlette, uvicorn) is missing.
            ValidationError: An argument is out of its limits.
        """
        return self._wired(Client, client_ip, kwargs)

    def barocert_client(
        self, *, client_ip: str = DEFAULT_CLIENT_IP, **kwargs: Any
    ) -> barocert.Client:
        """A :class:`kakaocert_async.barocert.Client` wired to the sandbox in-process: the
        same origin and credentials, Barocert's API (``sandbox.barocert`` controls it).

        ``kwargs`` go to the client, as for :meth:`client`.

        Args:
            client_ip: The caller's IP as the sandbox sees it, which IP-bound tokens are
                checked against (``127.0.0.1`` by default).
            **kwargs: More arguments of ``barocert.Client``, as for :meth:`client`.

        Returns:
            The client, calling in-process.

        Raises:
            SandboxUnavailable: The ``sandbox`` extra (starlette, uvicorn) is missing.
            ValidationError: An argument is out of its limits.
        """
        return self._wired(barocert.Client, client_ip, kwargs)

    def _wired(self, cls: Callable[..., C], client_ip: str, options: dict[str, Any]) -> C:
        """A client of class ``cls`` into this sandbox in-process, closed with it."""
        options.setdefault("client_code", self.client_code)  # for_client() binds it
        client = cls(
            self.link_id,
            self.secret_key,
            base_url=self.url,
            auth_url=self.url,
            transport=self.transport(client_ip=client_ip),
            **options,
        )
        self._clients.add(client)
        return client

    # Control -------------------------------------------------------------------

    async def sign(self, receipt_id: str) -> StatusBase:
        """The receiver signs the (pending) receipt now.

        Args:
            receipt_id: The receipt.

        Returns:
            Its state now: an ``ESignStatus``, ``VerifyAuthStatus`` or ``CMSStatus``.

        Raises:
            Rejected: No such 2.x receipt (``RECEIPT_UNKNOWN``: Barocert's are
                ``sandbox.barocert``'s), or it is no longer waiting (``STATE_CONFLICT``).
        """
        return self.service.sign(receipt_id)

    async def expire(self, receipt_id: str) -> StatusBase:
        """The (pending) receipt expires now.

        Args:
            receipt_id: The receipt.

        Returns:
            Its state now: an ``ESignStatus``, ``VerifyAuthStatus`` or ``CMSStatus``.

        Raises:
            Rejected: No such 2.x receipt (``RECEIPT_UNKNOWN``: Barocert's are
                ``sandbox.barocert``'s), or it is no longer waiting (``STATE_CONFLICT``).
        """
        return self.service.expire(receipt_id)

    async def open(self, receipt_id: str) -> StatusBase:
        """The receiver opens the KakaoTalk message now (``viewDT``).

        Args:
            receipt_id: The receipt.

        Returns:
            Its state now: an ``ESignStatus``, ``VerifyAuthStatus`` or ``CMSStatus``.

        Raises:
            Rejected: No such 2.x receipt (``RECEIPT_UNKNOWN``: Barocert's are
                ``sandbox.barocert``'s), or it is no longer waiting (``STATE_CONFLICT``).
        """
        return self.service.open(receipt_id)

    def revoke_tokens(self) -> int:
        """Invalidate every session token issued so far (their next use is refused
        with 401, and a client must renew); returns how many were live.

        Returns:
            How many of the 2.x service's tokens it revoked (Barocert's are
                ``sandbox.barocert.revoke_tokens()``'s).
        """
        return self.service.revoke_tokens()

    def state(self, receipt_id: str) -> StatusBase:
        """A receipt's state, read directly (no token, not counted): an ESignStatus,
        VerifyAuthStatus or CMSStatus, as the receipt's family.

        Args:
            receipt_id: The receipt.

        Returns:
            Its state now.

        Raises:
            Rejected: No such 2.x receipt (``RECEIPT_UNKNOWN``).
        """
        return self.service.status(receipt_id)

    def signature(self, receipt_id: str) -> str:
        """The App to App signature KakaoTalk would hand the partner's app for this receipt.

        Args:
            receipt_id: The receipt.

        Returns:
            The signature, as the verify must carry it.

        Raises:
            Rejected: No such 2.x receipt (``RECEIPT_UNKNOWN``), or it is not an App to
                App one (``STATE_CONFLICT``).
        """
        return self.service.signature(receipt_id)

    @property
    def stats(self) -> dict[str, int]:
        """Arrivals per endpoint: time, token, request, status, verify (e-sign),
        identity.request ... cms.verify, the ``barocert.*`` ones, control, other (see
        ``COUNTERS``)."""
        return self.service.stats

    def reset_stats(self) -> None:
        self.service.reset_stats()

    def verify_count(self, receipt_id: str) -> int:
        """How many verifies reached this receipt, refused ones included (0 if none).

        Args:
            receipt_id: The receipt.

        Returns:
            The count.

        Raises:
            Rejected: No such 2.x receipt (``RECEIPT_UNKNOWN``).
        """
        return self.service.verify_arrivals(receipt_id)

    @property
    def verify_counts(self) -> dict[str, int]:
        """Verify arrivals per receipt id, for every receipt a verify reached."""
        return self.service.verifies

    def now(self) -> float:
        """The sandbox clock (epoch seconds).

        Returns:
            ``clock()`` plus ``clock_offset`` (:meth:`Settings.now`).
        """
        return self.service.now()

    def environment(self, url: str) -> dict[str, str]:
        """The environment variables that point ``kakaocert-async``, ``Client.from_env()``
        and ``barocert.Client.from_env()`` at this sandbox served on ``url``:
        ``KAKAOCERT_LINK_ID`` ... ``KAKAOCERT_AUTH_URL`` and their ``BAROCERT_`` twins
        (what ``kakaocert-async sandbox`` prints as ``export`` lines).

        Args:
            url: The sandbox's base URL (what :meth:`serve` yields).

        Returns:
            The variables' names and values.
        """
        values = {
            "LINK_ID": self.link_id,
            "SECRET_KEY": self.secret_key,
            "CLIENT_CODE": self.client_code,
            "API_URL": url,
            "AUTH_URL": url,
        }
        return {
            variables.name(role): value
            for variables in (Client.variables, barocert.Client.variables)
            for role, value in values.items()
        }

    # Real servers ----------------------------------------------------------------

    def serve(
        self, *, host: str = "127.0.0.1", port: int = 0, **uvicorn_options: Any
    ) -> contextlib.AbstractAsyncContextManager[str]:
        """Serve on a real socket from this event loop; yields ``http://host:port``.

        Args:
            host: The address to listen on.
            port: The port; ``0``, a free one.
            **uvicorn_options: More ``uvicorn.Config`` options (``log_level``: by
                default, uvicorn's loggers are left as the host program set them).

        Returns:
            An async context manager: entering it binds the socket (``OSError`` if it
                cannot), starts the server in a task of the running loop and yields its
                base URL; leaving it stops the server.

        Raises:
            SandboxUnavailable: The ``sandbox`` extra (starlette, uvicorn) is missing.
        """
        app = self.app  # the extra checked
        from ._server import serve

        return serve(app, host=host, port=port, **uvicorn_options)

    def serve_in_thread(
        self, *, host: str = "127.0.0.1", port: int = 0, **uvicorn_options: Any
    ) -> contextlib.AbstractContextManager[str]:
        """Serve on a real socket from a background thread; yields ``http://host:port``.

        Args:
            host: The address to listen on.
            port: The port; ``0``, a free one.
            **uvicorn_options: More ``uvicorn.Config`` options, as for :meth:`serve`.

        Returns:
            A context manager: entering it binds the socket (``OSError`` if it cannot),
                starts the server in a daemon thread with its own event loop and yields its
                base URL; leaving it stops the server and joins the thread.

        Raises:
            SandboxUnavailable: The ``sandbox`` extra (starlette, uvicorn) is missing.
        """
        app = self.app  # the extra checked
        from ._server import serve_in_thread

        return serve_in_thread(app, host=host, port=port, **uvicorn_options)

    # Lifetime ------------------------------------------------------------------

    async def __aenter__(self) -> Sandbox:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the clients it made that are still open. The sandbox itself holds nothing."""
        clients, self._clients = list(self._clients), weakref.WeakSet()
        for client in clients:
            await client.aclose()


total_repr(Sandbox)  # a half-built one's repr does not raise
