"""What every client shares: its way to the wire, its session, its calls in flight and its close.

KakaoCert 2.x's :class:`~kakaocert_async.Client` and Barocert's
:class:`~kakaocert_async.barocert.Client` differ only in their operations and in
their :class:`~kakaocert_async._session.Dialect`. Everything else, from the
checks of their common arguments to the close that ends calls in flight, and the
care that a request's or a verify's answer is never dropped, is built here, once.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import ssl
import sys
import urllib.parse
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, ClassVar, TypedDict, TypeVar

import attrs

from . import _signing, _telemetry, _transports, _validation, _wire
from ._auth import Credentials
from ._bound import Bound
from ._env import Environment, Variables, hidden
from ._errors import ClientClosed, KakaocertError, Progress, ValidationError
from ._hints import Call
from ._http import Sender
from ._lifecycle import DEFAULT_GRACE, Calls, Tracked
from ._models import Status
from ._options import DEFAULT_MAX_RETRIES, checked
from ._secret import Secret, hide_userinfo, total_repr
from ._session import Dialect, Session
from ._transports import AiohttpBackend, Backend, HttpxBackend, Proxy
from ._version import __version__

if TYPE_CHECKING:
    import httpx
    from typing_extensions import Unpack

C = TypeVar("C", bound="ClientBase")
B = TypeVar("B", bound="Bound")
S = TypeVar("S", bound=Status)
V = TypeVar("V")

log = logging.getLogger("kakaocert_async")

DEFAULT_MAX_CONNECTIONS = 100
"""Connections a Client opens at most (callers beyond wait their turn, in order)."""


class ClientOptions(TypedDict, total=False):
    """The keyword arguments of a client that ``from_env()`` passes on as given."""

    timeout: float
    max_retries: int
    use_server_time: bool
    ip_restrict: bool
    max_connections: int
    http_client: httpx.AsyncClient | None
    transport: httpx.AsyncBaseTransport | None
    proxy: str | None
    tls: ssl.SSLContext | str | os.PathLike[str] | None
    on_unclaimed: Callable[[UnclaimedAnswer], object] | None


@attrs.frozen(kw_only=True)
class UnclaimedAnswer:
    """The outcome of a request or a verify whose caller was gone when it came.

    The service acts on a request or a verify once, so once either was sent, its
    answer is read to the end even if its caller was cancelled or the Client was
    closed meanwhile (or, through httpx, which goes on reading, if the call timed
    out), and handed to the ``on_unclaimed`` hook of the Client (by
    default, a WARNING on the ``kakaocert_async`` logger naming the receipt, never
    the signed data): store the receipt or the signed data there, or mark the
    receipt for attention.

    Attributes:
        call: The call, as its errors name it (``GET /SignToken/Verify/{receipt id}``).
        receipt_id: The receipt verified, or the one a request created (``None`` if that
            is not known).
        result: What the call would have returned (the receipt, or the verification with
            the signed data), or ``None`` if it failed.
        error: Why it failed (``VerifyOutcomeUnknown`` when the answer was lost), or
            ``None``.
    """

    call: str
    receipt_id: str | None
    result: object | None
    error: KakaocertError | None


total_repr(UnclaimedAnswer)  # a half-built one's repr does not raise


def _warn_unclaimed(answer: UnclaimedAnswer) -> None:
    """The default ``on_unclaimed``: one WARNING line, with no signed data in it."""
    if answer.error is not None:
        log.warning(
            "%s: its caller was gone, and it failed (%s); the service may have acted on it",
            answer.call,
            answer.error,
        )
    else:
        log.warning(
            "%s: its caller was gone when the answer came (receipt %s); it is dropped"
            " (give the Client an on_unclaimed hook to keep it)",
            answer.call,
            answer.receipt_id,
        )


def _raw_key(
    secret_key: Secret[str], key_check: Callable[[Secret[bytes]], object] | None
) -> Secret[bytes] | str:
    """The raw key of a SecretKey, or what is wrong with it: returned, not raised, so that
    no traceback holds this frame or its chained errors' (they have the key as a local)."""
    text = secret_key.reveal()
    if not isinstance(text, str):
        return "must be a string (the SecretKey, base64)"
    try:
        key = Secret(_signing.decode_secret_key(text))
        if key_check is not None:
            key_check(key)
    except ValueError as problem:
        if key_check is not None and str(problem):
            return f"must be the SecretKey, in base64 ({problem})"
        return "must be the SecretKey, in base64"
    return key


async def last_state(states: AsyncGenerator[S, None]) -> S:
    """The last state ``states`` yields (a final one, from a client's ``_watch``);
    the iterator is closed whatever happens."""
    last: S | None = None
    async with contextlib.aclosing(states):
        async for last in states:  # noqa: B007 -- the last state is the answer
            pass
    assert last is not None
    return last


def _network(
    proxy: object, tls: object, *, given: bool
) -> tuple[Proxy | None, ssl.SSLContext | None]:
    """``proxy`` and ``tls`` checked: the :class:`Proxy` (``None``: the environment's),
    and the SSL context (``None``: the default checks), made from a CA bundle's path.

    Neither goes with ``http_client`` or ``transport`` (``given``), which carry their
    own. A message never quotes the proxy URL, which may hold a password.
    """
    for name, value in (("proxy", proxy), ("tls", tls)):
        if value is not None and given:
            raise ValidationError(
                name, "cannot go with http_client or transport: set it on that client instead"
            )
    # (A proxy URL with credentials comes as hide_userinfo's Secret, of a string.)
    if proxy is not None and not isinstance(proxy, str | Secret):
        raise ValidationError("proxy", f"must be a URL string, got {type(proxy).__name__}")
    checked_proxy = None if proxy is None else Proxy(proxy)
    if tls is None or isinstance(tls, ssl.SSLContext):
        return checked_proxy, tls
    rule = "must be an ssl.SSLContext or the path of a CA bundle (PEM certificates)"
    if not isinstance(tls, str | os.PathLike):
        raise ValidationError("tls", f"{rule}, got {type(tls).__name__}")
    path = os.fspath(tls)
    if not os.path.isfile(path):
        raise ValidationError("tls", f"{rule}: there is no file {path!r}")
    try:
        return checked_proxy, ssl.create_default_context(cafile=path)
    except (ssl.SSLError, OSError, ValueError):
        raise ValidationError("tls", f"{rule}: {path!r} holds no certificate") from None


def _copy(value: object, cls: type[V], **changed: object) -> V:
    """An object of class ``cls`` sharing everything of ``value`` but ``changed``: a client
    bound to a client code, or a sibling (``with_options()``), and the sibling's session."""
    copy = object.__new__(cls)
    copy.__dict__.update(value.__dict__, **changed)
    return copy


def _is_httpx(value: object, name: str) -> bool:
    """Whether ``value`` is an instance of httpx's class ``name`` (without importing httpx
    for a value that cannot be one: the default backend never needs it)."""
    httpx = sys.modules.get("httpx")
    return httpx is not None and isinstance(value, getattr(httpx, name))


def service_url(field: str, url: object, default: str) -> str:
    """A base URL (``default`` if ``None``), checked: http(s), a host, no query or fragment,
    printable ASCII."""
    url = default if url is None else url
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise ValidationError(field, "must be an http:// or https:// URL")
    try:
        parsed = urllib.parse.urlsplit(url)
        parsed.port  # noqa: B018 (a port out of range or not a number raises)
    except ValueError:
        raise ValidationError(field, "must be a valid URL") from None
    if not parsed.hostname or parsed.query or parsed.fragment:
        raise ValidationError(field, "must be a URL with a host and no query")
    if not url.isascii() or any(c.isspace() or not c.isprintable() for c in url):
        raise ValidationError(field, "must be written in printable ASCII (punycode a host)")
    return url.rstrip("/")


class ClientBase:
    """A client's way to one API, and its lifetime: the backend, the fair sender, the
    session, the calls in flight, ``async with`` and ``aclose``; and its configuration
    from the environment (:meth:`from_env`).

    The constructor checks the arguments every client takes (raising
    :class:`ValidationError` naming the argument) and chooses the backend: aiohttp
    unless an httpx ``http_client`` or ``transport`` is given, or respx is mocking
    httpx. ``proxy`` and ``tls`` reach aiohttp and the httpx client the SDK makes (see
    :func:`_network`). :class:`~kakaocert_async.Client` and ``barocert.Client`` document
    its arguments.
    """

    _sibling: bool = False
    """Made by :meth:`with_options`: its lifetime is the client's it came from."""
    _dialect: ClassVar[type[Dialect]]
    """How the generation authenticates its calls (:class:`~kakaocert_async._session.Dialect`)."""
    variables: ClassVar[Variables]
    """The environment variables :meth:`from_env` reads, and the generation's own hosts."""

    def __init__(
        self,
        link_id: str,
        secret_key: str,
        *,
        client_code: str | None = None,
        base_url: str | None = None,
        auth_url: str | None = None,
        timeout: float = 10.0,
        max_retries: int = DEFAULT_MAX_RETRIES,
        use_server_time: bool = True,
        ip_restrict: bool = True,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        proxy: str | None = None,
        tls: ssl.SSLContext | str | os.PathLike[str] | None = None,
        on_unclaimed: Callable[[UnclaimedAnswer], object] | None = None,
    ) -> None:
        # No frame holds the SecretKey, or a proxy URL's password, itself from here on,
        # so that a refused argument's traceback never shows them.
        secret, proxy_url = Secret(secret_key), hide_userinfo(proxy)
        del secret_key, proxy
        _telemetry.log_from_env()
        _validation.check_link_id(link_id)
        key = _raw_key(secret, self._dialect.key_check)
        if isinstance(key, str):  # what is wrong with it, raised from a frame without it
            raise ValidationError("secret_key", key)
        options = checked(timeout=timeout, max_retries=max_retries)
        _validation.check_bool(use_server_time, "use_server_time")
        _validation.check_bool(ip_restrict, "ip_restrict")
        _validation.check_count(max_connections, "max_connections", at_most=10_000)
        if http_client is not None and not _is_httpx(http_client, "AsyncClient"):
            raise ValidationError("http_client", "must be an httpx.AsyncClient")
        if transport is not None:
            if not _is_httpx(transport, "AsyncBaseTransport"):
                raise ValidationError("transport", "must be an httpx.AsyncBaseTransport")
            if http_client is not None:
                raise ValidationError("transport", "give http_client or transport, not both")
        given = http_client is not None or transport is not None
        checked_proxy, context = _network(proxy_url, tls, given=given)
        if on_unclaimed is not None and not callable(on_unclaimed):
            raise ValidationError("on_unclaimed", "must be a callable (or None)")
        self._on_unclaimed = on_unclaimed or _warn_unclaimed
        if client_code is not None:
            _validation.check_client_code(client_code)
        self._client_code = client_code
        self._key = key
        self._link_id = link_id
        # The generation's own hosts unless told otherwise (as from_env() reads them).
        self._base_url = service_url("base_url", base_url, self.variables.api_url)
        auth_url = service_url("auth_url", auth_url, self.variables.auth_url)

        if not given:
            # (Through httpx whenever respx is mocking it: see AiohttpBackend.)
            self._backend: Backend = AiohttpBackend(
                max_connections=max_connections,
                connect_timeout=timeout,
                proxy=checked_proxy,
                tls=context,
            )
        else:
            self._backend = HttpxBackend(transport=transport, client=http_client, timeout=timeout)
        # Loaded when a client is made (an application's start), not on its first call:
        # the backend's HTTP library (aiohttp, by default) and the models' converter.
        library = importlib.import_module(self._backend.name)
        _wire.get_converter()
        agent = f"kakaocert-async/{__version__} {self._backend.name}/{library.__version__}"
        headers = {"User-Agent": agent, "Accept-Encoding": "gzip"}
        self._sender = Sender(self._backend, timeout=timeout, max_connections=max_connections)
        self._session = Session(
            self._sender,
            dialect=self._dialect,
            api_url=self._base_url,
            auth_url=auth_url,
            credentials=Credentials(link_id, key),
            use_server_time=use_server_time,
            ip_restrict=ip_restrict,
            headers=headers,
            options=options,
        )
        self._calls = Calls()

    async def _once(
        self,
        send: Callable[[Tracked], Awaitable[bytes]],
        read: Callable[[bytes], V],
        *,
        operation: Call,
        label: str,
        about: str | None = None,
    ) -> V:
        """``read(await send(call))`` for a call the service acts on once (a request, a
        verify).

        Its exchange runs in a task of its own that the caller's going away does not
        cut short once the request may have left: a cancelled caller (or one the
        close ended) still raises, and the answer, when it comes, goes to
        ``on_unclaimed`` (naming ``about``, the receipt or login verified, or the receipt
        a request's result holds) instead of being dropped; so does the answer of an
        exchange a backend goes on with after the call timed out (httpx's). An
        exchange that had sent nothing is cancelled.
        """

        async def answered(body: Awaitable[bytes]) -> V:
            return read(await body)

        with self._calls.track() as call:
            call.late = lambda exchange: self._hand_over(
                answered(self._session.late_body(exchange, label, operation)), label, about
            )
            exchange = asyncio.ensure_future(answered(send(call)))
            try:
                return await asyncio.shield(exchange)
            except asyncio.CancelledError:
                if not exchange.done() and call.abandon():
                    # Nothing left: nothing to keep. (Stopped before this returns, so
                    # that nothing is left running.)
                    exchange.cancel()
                    await asyncio.wait([exchange])
                else:
                    self._hand_over(exchange, label, about)
                raise

    def _hand_over(self, outcome: Awaitable[V], label: str, about: str | None) -> None:
        """Keep ``outcome`` (the close waits for it) and hand it to ``on_unclaimed``."""
        exchange = asyncio.ensure_future(outcome)
        self._calls.keep(exchange)
        exchange.add_done_callback(lambda done: self._unclaimed(done, label, about))

    def _unclaimed(self, exchange: asyncio.Future[V], label: str, about: str | None) -> None:
        if exchange.cancelled():
            error: KakaocertError | None = ClientClosed(
                f"{label}: the connections were closed before its answer came",
                progress=Progress.SENT,
            )
            result = None
        else:
            failure = exchange.exception()  # (retrieved: asyncio no longer reports it)
            if failure is not None and not isinstance(failure, KakaocertError):
                if not isinstance(failure, _transports.ExchangeFailed):  # (no late answer)
                    log.error("%s: its answer could not be handed over", label, exc_info=failure)
                return
            error, result = failure, None if failure is not None else exchange.result()
        receipt_id = about or getattr(result, "receipt_id", None)
        answer = UnclaimedAnswer(call=label, receipt_id=receipt_id, result=result, error=error)
        try:
            self._on_unclaimed(answer)
        except Exception:
            log.exception("%s: the on_unclaimed hook failed", label)

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

        Args:
            environ: The variables to read instead of ``os.environ``.
            **options: The constructor's other keyword arguments.

        Returns:
            A client of this class.

        Raises:
            ValidationError: A variable is missing or malformed (named), or an option is.
        """
        source = hidden(environ)  # the environment holds the SecretKey: never a local
        del environ
        if "proxy" in options:  # and a proxy URL may hold a password
            options["proxy"] = hide_userinfo(options["proxy"])  # type: ignore[typeddict-item]
        environment = Environment.from_env(
            source, variables=cls.variables, client_code_required=False
        )
        return environment.client(cls, **options)

    @property
    def client_code(self) -> str | None:
        """The client code given to the constructor (or read by :meth:`from_env`), if any:
        ``for_client()`` binds it when called without one."""
        return self._client_code

    def _bind(self, cls: type[B], client_code: str | None) -> B:
        """A client of class ``cls`` (this one's, bound) sharing everything of this one,
        bound to ``client_code`` (by default, :attr:`client_code`)."""
        if client_code is None:
            client_code = self.client_code
        if client_code is None:
            raise ValidationError(
                "client_code",
                "is required: pass it to for_client(), or create the client with"
                f" client_code=... (from_env() reads {self.variables.described('CLIENT_CODE')})",
            )
        _validation.check_client_code(client_code)
        return _copy(self, cls, _bound_code=client_code)

    def with_options(
        self: C,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
        deadline: float | None = None,
    ) -> C:
        """A sibling of this client whose calls keep to other limits; ``None`` keeps
        this client's.

        The sibling is of this client's class (bound to the same client code, if this
        one is) and shares everything else: the connections, the clock, the session
        tokens (no new token request) and the lifetime. Closing this client closes it;
        its own :meth:`aclose` (and ``async with`` on it) does nothing, so that a sibling
        never closes the connections under the client it came from. Make one per
        latency budget, once, or per request: it costs a few objects::

            fast = client.with_options(timeout=2, max_retries=1, deadline=5)
            status = await fast.get_esign_state(code, receipt_id)

        Parameters:
            timeout: Seconds one attempt of a call's exchange may take (token and clock
                reads, shared with the other callers, keep to this client's timeout
                and to the call's deadline).
            max_retries: Extra attempts of a call that may be repeated, 0 to 10: a state
                read after a passing failure, a request or a verify only when it
                provably never left. Polls of a wait are not repeated: the wait polls
                again.
            deadline: Seconds one call may take in all, every attempt and the waits
                between them included; it ends with the error of its last attempt (a
                timeout is a :class:`~kakaocert_async.TransportError`,
                :class:`~kakaocert_async.RequestNotSent` if nothing left). A wait
                (``await_signed``, ``watch_state``) ends by it too, as if its
                ``timeout`` were that short.

        Returns:
            The sibling client.

        Raises:
            ValidationError: An option out of its range, named.
        """
        given = {"timeout": timeout, "max_retries": max_retries, "deadline": deadline}
        options = attrs.asdict(self._session.options)  # what is not given is kept
        options.update((name, value) for name, value in given.items() if value is not None)
        session = _copy(self._session, Session, options=checked(**options))
        return _copy(self, type(self), _session=session, _sibling=True)

    def __repr__(self) -> str:
        name = type(self).__qualname__
        return f"<{name} link_id={self._link_id!r} base_url={self._base_url!r}>"

    @property
    def http_backend(self) -> str:
        """``"aiohttp"`` (the default) or ``"httpx"`` (``http_client``, ``transport``, respx)."""
        return self._backend.name

    async def __aenter__(self: C) -> C:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self, *, grace: float = DEFAULT_GRACE) -> None:
        """Close the client: refuse new calls, let those in flight finish within
        ``grace`` seconds (5 by default), end the rest, and close the connection
        pool (unless it was the caller's). Safe to call twice.

        Calls still in flight after the grace end with
        :class:`~kakaocert_async.ClientClosed` (its ``answer_lost`` says whether the
        request had been sent; a verify that had been sent ends with
        :class:`~kakaocert_async.VerifyOutcomeUnknown`), and so do polling iterators
        made before. A request or a verify already sent is never abandoned: the
        close waits for its answer (within the client's ``timeout``) and hands it to
        ``on_unclaimed``.

        On a sibling made by :meth:`with_options` it does nothing: the client it came
        from owns the connections.

        Args:
            grace: Seconds the calls in flight may take to finish (0 ends them at once).

        Raises:
            ValidationError: ``grace`` is negative or not a number.
        """
        if self._sibling or self._calls.closed:
            return
        _validation.check_seconds(grace, "grace", zero=True)
        try:
            await self._calls.close(grace)
        finally:
            # Even if this close is itself cancelled while the calls unwind: a later
            # aclose() returns at once, so this is the only chance to free the pool.
            self._session.close()
            await self._backend.aclose()


total_repr(ClientBase)  # a half-built one's repr (a traceback's locals) does not raise
