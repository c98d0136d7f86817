"""What every client shares: its way to the wire, its session, its calls in flight and its close.

KakaoCert 2.x's :class:`~kakaocert_async.Client` and Barocert's
:class:`~kakaocert_async.barocert.Client` differ only in their operations and in
their :class:`~kakaocert_async._session.Dialect`. Everything else, from the
checks of their common arguments to the close that ends calls in flight, is
built here, once.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, ClassVar, TypedDict, TypeVar

import aiohttp
import httpx

from . import _polling, _signing, _validation
from ._auth import Credentials
from ._env import Environment, Variables
from ._errors import (
    KakaocertError,
    MalformedResponse,
    RawAnswer,
    ValidationError,
    VerifyOutcomeUnknown,
)
from ._http import OnLost, Sender
from ._lifecycle import Calls
from ._models import Status
from ._secret import Secret
from ._session import Dialect, Session
from ._transports import AiohttpBackend, Backend, HttpxBackend, respx_is_active
from ._version import __version__

if TYPE_CHECKING:
    from typing_extensions import Unpack

C = TypeVar("C", bound="ClientBase")
S = TypeVar("S", bound=Status)

DEFAULT_MAX_CONNECTIONS = 100
"""Connections a Client opens at most (callers beyond wait their turn, in order)."""


class ClientOptions(TypedDict, total=False):
    """The keyword arguments of a client that ``from_env()`` passes on as given."""

    timeout: float
    use_server_time: bool
    ip_restrict: bool
    max_connections: int
    http_client: httpx.AsyncClient | None
    transport: httpx.AsyncBaseTransport | None


class Connection:
    """One partner's way to one API: the backend, the fair sender, the session, the calls.

    Checks the arguments every client takes (raising :class:`ValidationError`
    naming the argument) and chooses the backend: aiohttp unless an httpx
    ``http_client`` or ``transport`` is given, or respx is mocking httpx.
    """

    def __init__(
        self,
        link_id: str,
        secret_key: str,
        *,
        dialect: Callable[[dict[str, str]], Dialect],
        base_url: str,
        auth_url: str,
        timeout: float,
        use_server_time: bool,
        ip_restrict: bool,
        max_connections: int,
        http_client: httpx.AsyncClient | None,
        transport: httpx.AsyncBaseTransport | None,
        client_code: str | None = None,
        key_check: Callable[[bytes], object] | None = None,
    ) -> None:
        _validation.check_link_id(link_id)
        if not isinstance(secret_key, str):
            raise ValidationError("secret_key", "must be a string (the SecretKey, base64)")
        try:
            raw_key = _signing.decode_secret_key(secret_key)
            if key_check is not None:
                key_check(raw_key)
        except ValueError as problem:
            rule = "must be the SecretKey, in base64"
            if key_check is not None and str(problem):
                rule = f"{rule} ({problem})"
            raise ValidationError("secret_key", rule) from None
        self.key = Secret(raw_key)
        _validation.check_seconds(timeout, "timeout")
        _validation.check_bool(use_server_time, "use_server_time")
        _validation.check_bool(ip_restrict, "ip_restrict")
        _validation.check_count(max_connections, "max_connections", at_most=10_000)
        if http_client is not None and not isinstance(http_client, httpx.AsyncClient):
            raise ValidationError("http_client", "must be an httpx.AsyncClient")
        if transport is not None:
            if not isinstance(transport, httpx.AsyncBaseTransport):
                raise ValidationError("transport", "must be an httpx.AsyncBaseTransport")
            if http_client is not None:
                raise ValidationError("transport", "give http_client or transport, not both")
        if client_code is not None:
            _validation.check_client_code(client_code)
        self.client_code = client_code
        self.link_id = link_id
        self.base_url = service_url("base_url", base_url)
        auth_url = service_url("auth_url", auth_url)

        self.backend = _backend(timeout, max_connections, http_client, transport)
        library = aiohttp if self.backend.name == "aiohttp" else httpx
        agent = f"kakaocert-async/{__version__} {self.backend.name}/{library.__version__}"
        headers = {"User-Agent": agent, "Accept-Encoding": "gzip"}
        self.sender = Sender(self.backend, timeout=timeout, max_connections=max_connections)
        self.session = Session(
            self.sender,
            dialect=dialect(headers),
            api_url=self.base_url,
            auth_url=auth_url,
            credentials=Credentials(link_id, self.key),
            use_server_time=use_server_time,
            ip_restrict=ip_restrict,
            headers=headers,
        )
        self.calls = Calls()

    def watch(
        self,
        read: _polling.ReadState[S],
        *,
        receipt_id: str,
        timeout: float | None,
        interval: float | None,
    ) -> AsyncGenerator[S, None]:
        """The one polling loop (:func:`_polling.watch`) over ``read``, by the server's
        clock as last read: ``timeout`` and ``interval`` (default
        :data:`_polling.DEFAULT_INTERVAL`) are checked now, before iteration starts, and
        each step is tracked (closing the client ends it with ``ClientClosed``).

        ``read(deadline)`` must make one attempt (policy ``SINGLE``): the loop is where
        a wait's patience lives.
        """
        if timeout is not None:
            _validation.check_seconds(timeout, "timeout")
        if interval is None:
            interval = _polling.DEFAULT_INTERVAL
        _validation.check_seconds(interval, "interval", at_least=_polling.MIN_INTERVAL)
        self.calls.check()
        states = _polling.watch(
            read,
            self.session.clock.estimate,
            receipt_id=receipt_id,
            timeout=timeout,
            interval=interval,
        )
        return self.calls.guard(states)

    async def aclose(self) -> None:
        """End the calls in flight, then close the connections. Safe to call twice."""
        if self.calls.closed:
            return
        try:
            await self.calls.close()
        finally:
            # Even if this close is itself cancelled while the calls unwind: a later
            # aclose() returns at once, so this is the only chance to free the pool.
            self.session.close()
            await self.backend.aclose()


V = TypeVar("V")


async def verify_once(
    send: Callable[[OnLost], Awaitable[bytes]],
    read: Callable[[bytes], V],
    *,
    label: str,
    receipt_id: str,
    advice: str,
) -> V:
    """Send a verify (``send``, once) and ``read`` its answer, for both clients.

    The service answers a verify once, so an answer lost after sending, or one that
    ``read`` refuses (:class:`MalformedResponse`), is a :class:`VerifyOutcomeUnknown`
    that keeps what came (the signed data may be in it); ``advice`` says how to
    find out whether it went through.
    """

    def lost(error: KakaocertError, raw: bytes | None = None) -> VerifyOutcomeUnknown:
        return VerifyOutcomeUnknown(
            f"{label}: the verify was sent but its answer was lost ({error.message}); the"
            f" service answers verify once, so the receipt may be consumed. {advice}",
            receipt_id=receipt_id,
            raw_answer=None if raw is None else RawAnswer(raw),
        )

    answer = await send(lost)
    try:
        return read(answer)
    except MalformedResponse as unreadable:
        surprise = unreadable
    # Raised outside the handler, with the answer kept: the signed data may be in it.
    error = lost(surprise, answer)
    error.__cause__ = surprise
    raise error


async def last_state(states: AsyncGenerator[S, None]) -> S:
    """The last state ``states`` yields (a final one, from :meth:`Connection.watch`);
    the iterator is closed whatever happens."""
    last: S | None = None
    async with contextlib.aclosing(states):
        async for last in states:  # noqa: B007 -- the last state is the answer
            pass
    assert last is not None
    return last


def _backend(
    timeout: float,
    max_connections: int,
    http_client: httpx.AsyncClient | None,
    transport: httpx.AsyncBaseTransport | None,
) -> Backend:
    if http_client is not None:
        return HttpxBackend(client=http_client, mocked=respx_is_active())
    if transport is not None:
        return HttpxBackend(transport=transport, timeout=timeout, mocked=respx_is_active())
    if respx_is_active():
        # A test mocking httpx with respx must see this client's calls, not
        # have them go around the mock to the network.
        return HttpxBackend(
            client=httpx.AsyncClient(timeout=httpx.Timeout(None, connect=timeout)),
            owned=True,
            mocked=True,
        )
    return AiohttpBackend(max_connections=max_connections, connect_timeout=timeout)


def service_url(field: str, url: object) -> str:
    """A base URL, checked: http(s), a host, no query or fragment, printable ASCII."""
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise ValidationError(field, "must be an http:// or https:// URL")
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        raise ValidationError(field, "must be a valid URL") from None
    if not parsed.host or parsed.query or parsed.fragment:
        raise ValidationError(field, "must be a URL with a host and no query")
    if not url.isascii() or any(c.isspace() or not c.isprintable() for c in url):
        raise ValidationError(field, "must be written in printable ASCII (punycode a host)")
    return url.rstrip("/")


class ClientBase:
    """The lifetime of a client: ``async with``, ``aclose`` and which backend it uses;
    and its configuration from the environment (:meth:`from_env`)."""

    _connection: Connection
    variables: ClassVar[Variables]
    """The environment variables :meth:`from_env` reads."""

    @classmethod
    def from_env(
        cls: type[C], environ: Mapping[str, str] | None = None, **options: Unpack[ClientOptions]
    ) -> C:
        """A client configured by environment variables, as the command line is.

        ``KAKAOCERT_LINK_ID`` and ``KAKAOCERT_SECRET_KEY`` are required;
        ``KAKAOCERT_CLIENT_CODE``, if set, becomes the :attr:`client_code` that
        ``for_client()`` uses; ``KAKAOCERT_API_URL`` and ``KAKAOCERT_AUTH_URL`` point
        the client elsewhere (at ``kakaocert-async sandbox``, say). Barocert's client
        reads ``BAROCERT_*`` instead, each credential falling back to its
        ``KAKAOCERT_`` twin. ``environ`` replaces ``os.environ``; ``options`` go to
        the constructor (``timeout``, ``use_server_time``, ``ip_restrict``, ...).

        A missing variable is a :class:`~kakaocert_async.ValidationError` naming it
        (and how to try the SDK without credentials: ``kakaocert-async sandbox``
        prints the lines to paste); a bad one is named the same way.
        """
        environment = Environment.from_env(
            environ, variables=cls.variables, client_code_required=False
        )
        return environment.client(cls, **options)

    @property
    def client_code(self) -> str | None:
        """The client code given to the constructor (or read by :meth:`from_env`), if any:
        ``for_client()`` binds it when called without one."""
        return self._connection.client_code

    def _code_to_bind(self, client_code: str | None) -> str:
        """The client code ``for_client()`` binds: the one given, else :attr:`client_code`."""
        if client_code is None:
            client_code = self.client_code
        if client_code is None:
            raise ValidationError(
                "client_code",
                "is required: pass it to for_client(), or create the client with"
                f" client_code=... (from_env() reads {self.variables.described('CLIENT_CODE')})",
            )
        _validation.check_client_code(client_code)
        return client_code

    def __repr__(self) -> str:
        connection = self._connection
        name = type(self).__qualname__
        return f"<{name} link_id={connection.link_id!r} base_url={connection.base_url!r}>"

    @property
    def http_backend(self) -> str:
        """``"aiohttp"`` (the default) or ``"httpx"`` (``http_client``, ``transport``, respx)."""
        return self._connection.backend.name

    async def __aenter__(self: C) -> C:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool (unless it was the caller's). Safe to call twice.

        Calls still in flight end with :class:`~kakaocert_async.ClientClosed`, and
        so do polling iterators made before.
        """
        await self._connection.aclose()
