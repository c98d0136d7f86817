"""The sending interface: one HTTP exchange on the wire, by aiohttp (the default) or by httpx.

A :class:`Backend` takes a method, an absolute URL, headers and a body, and
returns the :class:`Answer`: status, the headers that matter, and the body as it
came (still encoded, at most :data:`MAX_BODY_BYTES`). It knows nothing of
tokens, retries, deadlines or the protocol; ``_http``, ``_answers`` and
``_session`` do those, the same way for every backend. Each exchange is made **once**: nothing here
sends a request again (aiohttp's own re-send of an idempotent request on a
reused connection is off), and an exchange records in its :class:`Attempt` how
far it got, so that a failure, a timeout or a cancellation can tell a request
that never left from one the service may have acted on.

- :class:`AiohttpBackend` owns an ``aiohttp`` session: the default, and the
  fastest (measured in ``benchmarks/``). While respx is mocking httpx, its
  exchanges go through httpx instead, so that the mock sees every one.
- :class:`HttpxBackend` sends through an ``httpx`` transport or client, for
  ``Client(transport=...)``, ``Client(http_client=...)``, ``httpx.MockTransport``
  and respx.

The proxy and the TLS settings (``Client(proxy=..., tls=...)``) reach both the
aiohttp session and the httpx client the SDK makes itself: a :class:`Proxy`
keeps its credentials apart from its URL, as a :class:`Secret`.
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import functools
import logging
import re
import ssl
import sys
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from ._errors import Progress, ValidationError
from ._secret import Headers, Secret, hide_userinfo, reveal_body, reveal_headers, total_repr

if TYPE_CHECKING:  # each library is imported by the backend that uses it, when it does
    import aiohttp
    import httpx
    import yarl

log = logging.getLogger("kakaocert_async")

MAX_BODY_BYTES = 1 << 20
"""Larger answers are refused: the biggest real one (signed data) is a few KiB."""


class Attempt:
    """How far one exchange got (:class:`~kakaocert_async.Progress`); a backend only
    ever moves it forward, and whoever waits on the exchange reads it, even after a
    timeout or a cancellation cut the exchange short. ``abandoned``: its caller is
    gone and nothing was written, so nothing may be. ``late``: given the exchange
    that a backend goes on with after its caller has gone (httpx's, once it may have
    written), so that its answer, when it comes, is still handed over."""

    __slots__ = ("abandoned", "late", "progress")

    def __init__(self, late: Callable[[asyncio.Future[Answer]], object] | None = None) -> None:
        self.progress = Progress.NOT_SENT
        self.abandoned = False
        self.late = late

    def reached(self, progress: Progress) -> None:
        if progress > self.progress:
            self.progress = progress

    def abandon(self) -> bool:
        """Give the exchange up, its caller gone: whether nothing was written yet (then
        nothing may be: a backend checks before its first byte, whatever task writes it)."""
        self.abandoned = self.progress is Progress.NOT_SENT
        return self.abandoned


class Answer:
    """An HTTP answer: ``encoding`` is the ``Content-Encoding`` list, lower case and
    comma-joined ("" when absent); ``retry_after`` and ``date`` the headers as sent;
    ``body`` is as received, not yet decoded."""

    __slots__ = ("body", "date", "encoding", "retry_after", "status")

    def __init__(self, status: int, encoding: str, headers: Mapping[str, str], body: bytes) -> None:
        self.status = status
        self.encoding = encoding
        self.retry_after = headers.get("Retry-After")
        self.date = headers.get("Date")
        self.body = body


class ExchangeFailed(Exception):
    """No answer could be had; the message says why (never a header value), and
    ``progress`` how far the exchange got."""

    def __init__(self, message: str, progress: Progress) -> None:
        super().__init__(message)
        self.progress = progress


class TooLarge(ExchangeFailed):
    """The answer (``size`` bytes) is over :data:`MAX_BODY_BYTES`; the rest was not read."""

    def __init__(self, status: int, size: object) -> None:
        detail = f"the answer is {size} bytes, over the {MAX_BODY_BYTES} byte limit"
        super().__init__(detail, Progress.PARTLY_ANSWERED)
        self.status = status


def _failed(
    exc: BaseException,
    headers: Headers,
    progress: Progress,
    library: type[Exception],
    not_connected: tuple[type[Exception], ...] = (),
) -> ExchangeFailed:
    """The failure of an exchange that got as far as ``progress``, saying what happened
    (``exc`` is ``not_connected``, another of the ``library``'s errors, or a ``ValueError``
    or ``TypeError``: what it refused to write), with the library error described and
    chained, safely: the scrubbing is done here, for a failed exchange only, never for
    one that went well.

    A library's error can quote a header (h11 names an illegal header value,
    aiohttp's response errors carry the request's headers) or the bytes the
    server sent (a parser naming a bad status line, which may be a token's or a
    verify's answer): its description has the request's secret header values
    (``headers``: a proxy's Proxy-Authorization among them, if sent) replaced by
    ``<secret>`` and quoted bytes by ``<bytes>``, on one line; the copy of it
    chained as ``__cause__`` (same type, no traceback: its frames hold the
    headers) is left out if it would still show either.
    """
    if isinstance(exc, not_connected):
        what = "could not connect"
    elif isinstance(exc, library):
        what = _LOST.get(progress, "the answer was cut short")
    else:
        what = "the request could not be written"
    secrets = _secrets(headers)
    failure = ExchangeFailed(f"{what} ({_describe(exc, secrets)})", progress)
    failure.__cause__ = _safe_copy(exc, secrets)
    return failure


def _secrets(headers: Headers) -> list[str]:
    """The secret header values, and their long parts (the token of "Bearer <token>"),
    longest first."""
    secrets: set[str] = set()
    for value in headers.values():
        if isinstance(value, Secret):
            whole = value.reveal()
            secrets.update([whole, *(part for part in whole.split() if len(part) >= 16)])
    return sorted(secrets, key=len, reverse=True)


def _describe(exc: BaseException, secrets: list[str]) -> str:
    aiohttp = sys.modules.get("aiohttp")  # (not loaded: not one of its errors)
    if aiohttp is not None and isinstance(exc, aiohttp.ClientResponseError):
        # Its message may quote what the server sent, over several lines.
        lines = exc.message.splitlines()
        text = f"{exc.status}, {lines[0] if lines else ''}"
    else:
        text = str(exc)
    for secret in secrets:
        text = text.replace(secret, "<secret>")
    text = _QUOTED_BYTES.sub("<bytes>", text)
    text = text.splitlines()[0] if text else ""
    text = text if len(text) <= 200 else text[:200] + "…"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _safe_copy(exc: BaseException, secrets: list[str]) -> BaseException | None:
    try:
        copy = type(exc)(*exc.args)
        shown = f"{copy!s} {copy!r} {copy.args!r}"
    except Exception:
        return None
    if _QUOTED_BYTES.search(shown) or any(secret in shown for secret in secrets):
        return None
    return copy


_QUOTED_BYTES = re.compile(r"""bytearray\(b(['"]).*?\1\)|\bb(['"]).*?\2""", re.DOTALL)
"""A bytes literal in an error's text: what a parser quotes of the server's answer."""


_LOST = {
    Progress.NOT_SENT: "the request could not be sent",
    Progress.PARTLY_SENT: "the request could not be written in full",
    Progress.SENT: "the answer was lost",
}
"""What became of an exchange that a library error ended at a progress (else: cut short)."""


async def _read_answer(
    status: int,
    headers: Mapping[str, str],
    encoding: str,
    read: Callable[[], Awaitable[bytes]],
    broken: type[Exception],
    sent: Headers,
    attempt: Attempt,
) -> Answer:
    """The answer whose head came, with the body ``read`` gives chunk by chunk (``b""``
    at its end), read up to :data:`MAX_BODY_BYTES` (the same for both libraries): refused
    at once if its ``Content-Length`` is over, else as soon as it passes it. ``broken``
    is the library's error for a connection lost meanwhile; ``sent`` the request's
    headers, kept out of what is said of it."""
    attempt.reached(Progress.PARTLY_ANSWERED)
    length = (headers.get("Content-Length") or "").strip()
    # ASCII digits only: str.isdigit() also takes '²' and other digit-like signs.
    if length.isascii() and length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise TooLarge(status, int(length))
    data = bytearray()
    try:
        while chunk := await read():
            data += chunk
            if len(data) > MAX_BODY_BYTES:
                raise TooLarge(status, f"over {MAX_BODY_BYTES}")
    except broken as exc:
        failure = _failed(exc, sent, attempt.progress, broken)
    else:
        attempt.reached(Progress.ANSWERED)
        return Answer(status, encoding, headers, bytes(data))
    # Raised outside the handler: the library's frames hold the headers.
    raise failure


# Proxies -----------------------------------------------------------------------

PROXY_AUTHORIZATION = "Proxy-Authorization"


class Proxy:
    """A proxy's URL with its credentials held apart, for both libraries.

    ``url`` has no credentials; the login and password (percent-decoded) go only
    into :attr:`authorization`, the ``Proxy-Authorization`` value (Basic, UTF-8,
    as httpx sends it), a :class:`Secret`. The repr never shows the password.
    """

    __slots__ = ("authorization", "login", "url")

    def __init__(self, value: str | Secret[str]) -> None:
        """Raises :class:`~kakaocert_async.ValidationError` (a ``ValueError``) naming
        ``proxy`` (never quoting ``value``, nor holding its password in a frame of the
        error: give a URL with credentials as a :class:`Secret`)."""
        import yarl

        try:
            url = yarl.URL(value.reveal() if isinstance(value, Secret) else value)
        except ValueError:
            url = yarl.URL()
        if url.scheme not in ("http", "https") or not url.host:
            del url
            raise ValidationError(
                "proxy",
                "must be an http:// or https:// URL with a host, such as"
                " http://user:password@proxy:3128",
            )
        self.url = url.with_user(None)
        self.login = url.user
        self.authorization: Secret[str] | None = None
        if url.user is not None:
            pair = f"{url.user}:{url.password or ''}".encode()
            self.authorization = Secret("Basic " + base64.b64encode(pair).decode("ascii"))

    def for_httpx(self, tls: ssl.SSLContext | None) -> httpx.Proxy:
        """The same proxy for httpx, which sends it ``authorization`` as aiohttp does: on
        the CONNECT of an https:// request, or with a plain http:// request."""
        import httpx

        secret = self.authorization
        headers = None if secret is None else {PROXY_AUTHORIZATION: secret.reveal()}
        https = self.url.scheme == "https"  # (httpx takes a context for an https:// one only)
        return httpx.Proxy(str(self.url), headers=headers, ssl_context=tls if https else None)

    def __repr__(self) -> str:
        login = "" if self.login is None else f" (login {self.login!r}, password <secret>)"
        return f"<Proxy {self.url}{login}>"


total_repr(Proxy)  # a half-built one's repr does not raise


def proxy_from_environment(url: yarl.URL) -> Proxy | None:
    """The proxy the environment names for ``url``, as httpx reads it: ``HTTPS_PROXY``,
    ``HTTP_PROXY`` or else ``ALL_PROXY``, unless ``NO_PROXY`` bypasses the host.

    A value that is not an http(s) proxy (a SOCKS one, say) is ignored, with a warning.
    """
    import urllib.request  # (with the first session: it loads http.client and email)

    proxies = urllib.request.getproxies()
    value = proxies.get(url.scheme) or proxies.get("all")
    if not value or (url.host is not None and urllib.request.proxy_bypass(url.host)):
        return None
    try:
        return Proxy(hide_userinfo(value if "://" in value else f"http://{value}"))  # type: ignore[arg-type]
    except ValueError:
        log.warning(
            "the proxy the environment names for %s:// URLs is ignored: it is not"
            " an http:// or https:// proxy URL",
            url.scheme,
        )
        return None


# aiohttp ---------------------------------------------------------------------

_ATTEMPT: contextvars.ContextVar[Attempt] = contextvars.ContextVar("kakaocert_async_attempt")
"""The attempt an aiohttp exchange is making, for :class:`_Request` to mark."""


@functools.cache
def _request_class() -> type[aiohttp.ClientRequest]:
    """aiohttp's request class, marking: made with the first session (aiohttp loaded then)."""
    import aiohttp

    class _StaleConnection(aiohttp.ClientConnectionError):
        """A pooled connection was found closing just before the request was written."""

    class _Request(aiohttp.ClientRequest):
        """aiohttp's request, marking its attempt as sent once it has a connection to write on."""

        async def send(self, conn: Any) -> aiohttp.ClientResponse:
            transport = conn.transport
            if transport is None or transport.is_closing():
                # The server closed this kept-alive connection: nothing was written,
                # so the request may go again (on a new connection), whatever it is.
                raise _StaleConnection("the connection was closed by the server")
            _ATTEMPT.get().reached(Progress.SENT)  # (every one is sent by exchange, which sets it)
            return await super().send(conn)

    return _Request


class AiohttpBackend:
    """Exchanges on an ``aiohttp`` session of its own, opened on first use.

    The session is made in the running loop on the first exchange (aiohttp binds
    it to that loop). Nothing is decoded, followed, stored or sent again by
    aiohttp: no automatic decompression (``_http`` inflates, bounded), no
    redirects, no cookies, and no re-send of a request on a reused connection
    that broke (which aiohttp does for GET by default: a verify is a GET).
    The ``proxy`` given is used for every request; without one, proxies come from
    the environment (:func:`proxy_from_environment`), looked up once per origin
    rather than on every request. A proxy's credentials go on the CONNECT of an
    https:// request (to the proxy alone), or on a plain http:// request. ``tls``
    replaces the default certificate checks.

    While respx is mocking httpx, exchanges go through an httpx client instead
    (made then), so that a test's mock sees them, whenever the Client was made.
    """

    def __init__(
        self,
        *,
        max_connections: int,
        connect_timeout: float,
        proxy: Proxy | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self._max_connections = max_connections
        self._connect_timeout = connect_timeout
        self._proxy_given = proxy
        self._tls = tls
        self._session: aiohttp.ClientSession | None = None
        self._connector: aiohttp.TCPConnector | None = None
        self._with_the_loop: AsyncGenerator[aiohttp.ClientSession, None] | None = None
        self._proxies: dict[str, Proxy | None] = {}
        self._mocked: HttpxBackend | None = None
        if respx_is_active():
            self._through_respx()  # made now: an httpx client costs a TLS context
        self._closed = False

    @property
    def name(self) -> str:
        return "httpx" if respx_is_active() else "aiohttp"

    async def _open(self) -> AsyncGenerator[aiohttp.ClientSession, None]:
        """The session, in the running loop, until the close or the loop's end: if the
        loop ends first (asyncio.run returning with the Client still open), it finalises
        this generator, which closes the connections there and then, rather than leaving
        sockets to the garbage collector (and its ResourceWarnings)."""
        import aiohttp

        self._connector = aiohttp.TCPConnector(
            limit=self._max_connections,
            limit_per_host=0,
            ssl=True if self._tls is None else self._tls,
        )
        session = aiohttp.ClientSession(
            connector=self._connector,
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=self._connect_timeout),
            auto_decompress=False,
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,
            request_class=_request_class(),
        )
        # One exchange, one sending: aiohttp would otherwise send a GET again when a
        # reused connection breaks, after the service may have acted on it. (A
        # private switch, which aiohttp's own test client turns off the same way;
        # tests/reliability/test_fault_matrix.py fails if it stops working.)
        session._retry_connection = False
        try:
            yield session
        finally:
            await session.close()

    def _proxy(self, url: str, target: yarl.URL) -> Proxy | None:
        origin = url[: url.find("/", url.find("//") + 2)]  # (the base URLs all have a path)
        if origin not in self._proxies:
            self._proxies[origin] = self._proxy_given or proxy_from_environment(target)
        return self._proxies[origin]

    def _through_respx(self) -> HttpxBackend:
        if self._mocked is None:
            import httpx

            # The same proxy and TLS settings (httpx reads the environment's proxies).
            client = httpx.AsyncClient(
                timeout=httpx.Timeout(None, connect=self._connect_timeout),
                proxy=None if self._proxy_given is None else self._proxy_given.for_httpx(self._tls),
                verify=True if self._tls is None else self._tls,
            )
            self._mocked = HttpxBackend(client=client, owned=True)
        return self._mocked

    async def exchange(
        self,
        method: str,
        url: str,
        headers: Headers,
        body: bytes | Secret[bytes] | None,
        attempt: Attempt,
    ) -> Answer:
        if self._closed:
            raise ExchangeFailed("the connection pool is closed", Progress.NOT_SENT)
        if respx_is_active():
            return await self._through_respx().exchange(method, url, headers, body, attempt)
        import aiohttp
        import yarl

        if self._session is None:
            self._with_the_loop = self._open()
            self._session = await self._with_the_loop.__anext__()
        # encoded=True: the URL goes out byte for byte as built (an App to App
        # signature in the path included), neither parsed nor re-quoted.
        target = yarl.URL(url, encoded=True)
        proxy = self._proxy(url, target)
        credentials = None if proxy is None else proxy.authorization
        tunnel: Headers | None = None  # what the CONNECT of an https:// request carries
        if credentials is not None:
            if target.scheme == "https":
                tunnel = {PROXY_AUTHORIZATION: credentials}  # to the proxy alone
            else:  # a plain request through the proxy carries them (the proxy drops them)
                headers = {**headers, PROXY_AUTHORIZATION: credentials}
        scrubbed = headers if tunnel is None else {**headers, **tunnel}
        failure: ExchangeFailed | None = None
        marking = _ATTEMPT.set(attempt)
        try:
            response = await self._session.request(
                method,
                target,
                headers=reveal_headers(headers),
                data=reveal_body(body),
                allow_redirects=False,
                proxy=None if proxy is None else proxy.url,
                proxy_headers=None if tunnel is None else reveal_headers(tunnel),
            )
        # (A ValueError or TypeError: what aiohttp refuses to write, a line break in a header.)
        except (aiohttp.ClientError, ValueError, TypeError) as exc:
            not_connected = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)
            failure = _failed(exc, scrubbed, attempt.progress, aiohttp.ClientError, not_connected)
        finally:
            _ATTEMPT.reset(marking)
        if failure is not None:
            raise failure  # (outside the handler: see _read_answer)
        try:
            return await _read_answer(
                response.status,
                response.headers,
                ",".join(response.headers.getall("Content-Encoding", ())).lower(),
                response.content.readany,
                aiohttp.ClientError,
                scrubbed,
                attempt,
            )
        except BaseException:
            response.close()  # never reuse a connection with an answer half read
            raise
        finally:
            response.release()

    def connections_in_use(self) -> int | None:
        # aiohttp keeps lent-out connections in this set; it has no public count.
        return len(getattr(self._connector, "_acquired", ()))

    async def aclose(self) -> None:
        self._closed = True
        if self._mocked is not None:
            await self._mocked.aclose()
        if self._with_the_loop is not None:
            await self._with_the_loop.aclose()  # closes the session


# httpx -------------------------------------------------------------------------


_TRACED = (
    ("send_request_headers.started", Progress.PARTLY_SENT),
    ("send_request_body.complete", Progress.SENT),
    ("receive_response_headers.complete", Progress.PARTLY_ANSWERED),
)
"""httpcore's trace events (``http11.…``, ``http2.…``) and how far each one means."""

Trace = Callable[[str, "dict[str, Any]"], Awaitable[None]]


class _Abandoned(Exception):
    """Stops an exchange whose caller is gone just before it would write anything."""


def _tracer(attempt: Attempt, traced: list[bool]) -> Trace:
    """httpcore's ``trace`` extension, moving ``attempt`` as the exchange goes (the
    events of a proxy's CONNECT, which precede the request's, move nothing), and
    stopping it before the first byte if it was abandoned meanwhile."""
    tunnel = [False]

    async def trace(event: str, info: dict[str, Any]) -> None:
        traced[0] = True
        if event.endswith("send_request_headers.started"):
            tunnel[0] = getattr(info.get("request"), "method", None) == b"CONNECT"
        if tunnel[0]:
            return
        for suffix, progress in _TRACED:
            if event.endswith(suffix):
                if progress is Progress.PARTLY_SENT and attempt.abandoned:
                    # httpcore closes the connection it was given: nothing leaks.
                    raise _Abandoned
                attempt.reached(progress)

    return trace


class HttpxBackend:
    """Exchanges through an httpx transport (handed requests directly) or client.

    It is given one of the two. With ``transport``, requests go straight to it
    (``httpx.AsyncClient.send`` costs more than the exchange), and it is closed
    with the backend; with ``client``, through ``client.send``, and closed here
    only if ``owned``.
    Either way the body is read raw (httpx decodes nothing) and capped while it
    is read. How far an exchange got comes from httpcore's trace events where a
    connection pool is underneath; for other transports (mocks, the sandbox's),
    from what they raise.

    httpcore's connection pool can lose track of a connection when an exchange
    is cancelled at the wrong moment (httpcore 1.0.x): after enough cancels,
    every connection stays "in use" and every call waits for one. So where such
    a pool is underneath (an ``httpx.AsyncHTTPTransport``, given or a client's
    own), a caller's cancellation (or deadline) never reaches into httpx: the
    exchange runs in a task of its own, which a cancelled caller leaves to finish
    in the background, bounded by httpx's own timeouts (``timeout`` for a
    transport; the client's own for a client); :meth:`aclose` ends whatever is
    left. One that had written nothing yet is abandoned: it stops just before its
    first byte, so that it never sends. Other transports (the sandbox's,
    ``httpx.MockTransport``, wrappers) are simply cancelled.
    """

    name = "httpx"

    def __init__(
        self,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        client: httpx.AsyncClient | None = None,
        owned: bool = False,
        timeout: float = 10.0,
    ) -> None:
        import httpx

        self._client = client
        # A transport is given httpx's timeouts; a client applies its own.
        self._extensions: dict[str, Any] = {}
        if client is None:
            self._extensions["timeout"] = httpx.Timeout(timeout).as_dict()
        self._running: set[asyncio.Task[Answer]] = set()
        # A client's build_request: its own default headers, auth, cookies and timeouts apply.
        self._build = httpx.Request if client is None else client.build_request
        self._send: Callable[[httpx.Request], Awaitable[httpx.Response]]
        if client is None:
            assert transport is not None
            self._send = transport.handle_async_request
        else:
            self._send = functools.partial(client.send, stream=True, follow_redirects=False)
        self._inner = transport if client is None else getattr(client, "_transport", None)
        self._closes = transport if client is None else client if owned else None
        # (respx replaces the pool's work while it mocks: nothing to protect then.)
        self._pooled = isinstance(self._inner, httpx.AsyncHTTPTransport) and not respx_is_active()

    async def exchange(
        self,
        method: str,
        url: str,
        headers: Headers,
        body: bytes | Secret[bytes] | None,
        attempt: Attempt,
    ) -> Answer:
        if not self._pooled:
            return await self._exchange(method, url, headers, body, attempt)
        task = asyncio.ensure_future(self._exchange(method, url, headers, body, attempt))
        self._running.add(task)
        task.add_done_callback(self._finished)
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            # (Cancelling it in httpcore's pool could leak a connection.) With nothing
            # written yet, it stops before its first byte; else it goes on writing what it
            # began, so the request counts as sent: never repeated, never said not sent.
            if not task.done() and not attempt.abandon():
                attempt.reached(Progress.SENT)
            if attempt.late is not None and not attempt.abandoned:
                attempt.late(task)
            raise

    def _finished(self, task: asyncio.Task[Answer]) -> None:
        self._running.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: a cancelled caller's outcome is nobody's

    async def _exchange(
        self,
        method: str,
        url: str,
        headers: Headers,
        body: bytes | Secret[bytes] | None,
        attempt: Attempt,
    ) -> Answer:
        import httpx

        failure: ExchangeFailed | None = None
        traced = [False]
        extensions = {**self._extensions, "trace": _tracer(attempt, traced)}
        if not self._pooled:
            # A transport without httpcore's pool may say nothing of how far it got:
            # once it has the request, it may have acted on it.
            attempt.reached(Progress.SENT)
        try:
            request = self._build(
                method,
                url,
                headers=reveal_headers(headers),
                content=reveal_body(body),
                extensions=extensions,
            )
            response = await self._send(request)
        except _Abandoned:
            failure = ExchangeFailed("abandoned before it was sent", Progress.NOT_SENT)
        except (httpx.HTTPError, ValueError, TypeError) as exc:
            not_connected = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
            if not traced[0] and isinstance(exc, httpx.HTTPError):
                # What a transport that reports no progress raised is all it says: these
                # only before anything was sent.
                not_sent = (*not_connected, httpx.LocalProtocolError)
                attempt.progress = Progress.NOT_SENT if isinstance(exc, not_sent) else Progress.SENT
            failure = _failed(exc, headers, attempt.progress, httpx.HTTPError, not_connected)
        if failure is not None:
            raise failure  # (outside the handler: see _read_answer)
        try:
            if response.is_stream_consumed:
                # Read (and decoded) already, by a wrapping transport or a mock.
                encoding, chunks = "", response.aiter_bytes()
            else:
                encoding = ",".join(response.headers.get_list("content-encoding")).lower()
                chunks = response.aiter_raw()
            return await _read_answer(
                response.status_code,
                response.headers,
                encoding,
                functools.partial(anext, chunks, b""),  # b"": the end
                httpx.HTTPError,
                headers,
                attempt,
            )
        finally:
            await response.aclose()

    def connections_in_use(self) -> int | None:
        connections = getattr(getattr(self._inner, "_pool", None), "connections", None)
        if connections is None:
            return None
        return sum(1 for c in connections if not (c.is_idle() or c.is_closed()))

    @property
    def running(self) -> int:
        """Exchanges under way, those of cancelled callers included."""
        return len(self._running)

    async def aclose(self) -> None:
        for task in list(self._running):
            task.cancel()
        if self._running:
            await asyncio.wait(list(self._running))
        if self._closes is not None:
            await self._closes.aclose()


Backend = AiohttpBackend | HttpxBackend
"""What ``_http`` sends through. Either has a ``name`` (``"aiohttp"`` or ``"httpx"``:
which path the next exchange takes); ``exchange(method, url, headers, body, attempt)``,
which sends one request, once, and reads its answer (or raises :class:`ExchangeFailed`),
recording in ``attempt`` how far it got, and is the only place where the
:class:`~kakaocert_async._secret.Secret` values of ``headers`` and ``body`` are
revealed; ``connections_in_use()``, the connections lent out right now (``None`` when
it cannot tell); and ``aclose()``."""


def respx_is_active() -> bool:
    """Whether respx is mocking httpx right now (so that the default Client sends
    through httpx, where the mock sees it, rather than around it by aiohttp)."""
    mocks = sys.modules.get("respx.mocks")
    registry = getattr(getattr(mocks, "Mocker", None), "registry", None)
    if not registry:
        return False
    return any(getattr(mocker, "_patches", None) for mocker in registry.values())
