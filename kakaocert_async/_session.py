"""One authenticated call: the one loop that prepares each attempt, sends it once, and decides.

Every call of every client goes through :meth:`Session.call`: it prepares an
attempt (a session token, the date, the HMAC), has the sender make it once, reads
what came back (``_answers``: told which call it was, for a refusal's hint), and
from the outcome decides what comes next: the answer; another attempt, if the
call's :class:`~kakaocert_async._http.RetryPolicy` allows it for how far the
failed one got; a remedy for a 401; or the error. Nothing beneath it sends
anything twice.

This is also the SDK's one 401 path. A 401 means the service refused the session
token, the date, or (from the auth service) the token request's date. Each
remedy is tried once per call: the token used is dropped (every caller refused
with it shares one new token request), and the server clock is read again (once,
however many callers were refused); then the call is made again. A 401 that no
remedy is left for is the caller's, with an explanation added when the local
clock is the likely cause.

How a generation of the API authenticates is its :class:`Dialect`: KakaoCert 2.x
(:class:`KakaoCert2`) and Barocert (``barocert._dialect.Barocert``) share everything else.
"""

from __future__ import annotations

import abc
import asyncio
import copy
import functools
import logging
from collections.abc import Callable
from typing import ClassVar, Protocol

from . import _signing, _telemetry
from ._answers import body_of
from ._auth import Credentials, Linkhub, ServerClock, TokenCache
from ._errors import (
    APIError,
    KakaocertError,
    Progress,
    RequestNotSent,
    TransportError,
    raise_alone,
)
from ._hints import Call, Generation
from ._http import RetryPolicy, Sender
from ._options import CallOptions
from ._secret import Headers, Secret
from ._transports import Answer, Attempt

log = logging.getLogger("kakaocert_async")

SCOPE = ("member", "310", "320", "330")
"""The scopes the official SDK asks for: KakaoCert's e-sign, identity and CMS services."""


class Dialect(abc.ABC):
    """How one generation of the API gets its tokens and authenticates its calls: the
    headers it adds to the common ones, and how it signs a POST."""

    generation: Generation
    token_path: str
    """The Linkhub token request's path (``/KAKAOCERT/Token``)."""
    scope: tuple[str, ...]
    key_check: ClassVar[Callable[[Secret[bytes]], object] | None] = None
    """What else the SecretKey's raw bytes must be (Barocert's: an AES-256 key), checked when
    the client is made: a ``ValueError`` saying why not."""
    get_fields: ClassVar[dict[str, str]]
    """What a GET carries besides the common headers and the bearer token."""
    post_fields: ClassVar[dict[str, str]]
    """What a POST carries besides the common headers, the bearer token, its date and its
    signature."""
    date_header: ClassVar[str]
    """The header of a POST's date."""
    auth_header: ClassVar[str]
    """The header of a POST's signature."""

    def __init__(self, common: dict[str, str], credentials: Credentials) -> None:
        """``common``: the headers of every request (``User-Agent``, ...); ``credentials``:
        the partner's, which sign a POST."""
        self._credentials = credentials
        self._get = {**common, **self.get_fields}
        self._post = {**common, **self.post_fields}

    def subject(self, client_code: str) -> str:
        """The token request's ``access_id``, which is also the token cache's key: by
        default the client code (a token per client code)."""
        return client_code

    def get_headers(self, token: Secret[str]) -> Headers:
        """The headers of an unsigned GET."""
        return bearer(self._get, token)

    def post_headers(self, token: Secret[str], date: str, body: bytes, path: str) -> Headers:
        """The headers of a signed POST of ``body`` to ``path`` at ``date``."""
        headers = bearer(self._post, token)
        headers[self.date_header] = date
        headers[self.auth_header] = self.signature(body, date, path)
        return headers

    @abc.abstractmethod
    def signature(self, body: bytes, date: str, path: str) -> Secret[str]:
        """The value of :attr:`auth_header` for a POST of ``body`` to ``path`` at ``date``."""


def bearer(headers: dict[str, str], token: Secret[str]) -> Headers:
    """A copy of ``headers`` with ``Authorization: Bearer <token>`` (kept wrapped)."""
    return {**headers, "Authorization": Secret(f"Bearer {token.reveal()}")}


class KakaoCert2(Dialect):
    """KakaoCert 2.x: a token per client code, ``x-kc-auth`` over body, date and version."""

    generation: Generation = "2.x"
    token_path = _signing.TOKEN_PATH
    scope: tuple[str, ...] = SCOPE
    get_fields: ClassVar[dict[str, str]] = {"x-pb-version": _signing.API_VERSION}
    post_fields: ClassVar[dict[str, str]] = {
        "x-lh-version": _signing.API_VERSION,
        "Content-Type": "application/json; charset=utf8",
    }
    date_header = "x-lh-date"
    auth_header = "x-kc-auth"

    def signature(self, body: bytes, date: str, path: str) -> Secret[str]:
        return self._credentials.sign(_signing.request_target(body, date))


class Progressing(Protocol):
    """Where a call in flight keeps how far it got (``_lifecycle``'s tracked call)."""

    def attempt(self) -> Attempt:
        """A new attempt, from which the call's progress is read from now on."""
        ...


class Session:
    """Authenticated calls to one API for one partner (LinkID)."""

    def __init__(
        self,
        sender: Sender,
        *,
        dialect: type[Dialect],
        api_url: str,
        auth_url: str,
        credentials: Credentials,
        use_server_time: bool,
        ip_restrict: bool,
        headers: dict[str, str],
        options: CallOptions | None = None,
    ) -> None:
        self.options = options or CallOptions(timeout=sender.timeout)
        """Every call's timeout, retries and deadline (a sibling's own: a client's
        ``with_options()`` copies the session, its sender, clock and token cache shared)."""
        self._sender = sender
        self._dialect = dialect(headers, credentials)
        self._api_url = api_url
        linkhub = Linkhub(
            sender=sender,
            auth_url=auth_url,
            credentials=credentials,
            generation=dialect.generation,
            token_path=dialect.token_path,
            scope=dialect.scope,
            forwarded=None if ip_restrict else _signing.FORWARDED_ANY,
            headers=headers,
        )
        self.clock = ServerClock(linkhub.server_time, use_server_time=use_server_time)
        sender.server_now = self.clock.estimate
        self.tokens = TokenCache(
            functools.partial(linkhub.grant, clock=self.clock),
            self.clock,
            label=f"POST {dialect.token_path}",
        )

    @property
    def generation(self) -> Generation:
        """The generation of the API this session speaks."""
        return self._dialect.generation

    async def call(
        self,
        operation: Call,
        client_code: str,
        path: str,
        body: Secret[bytes] | None = None,
        *,
        label: str | None = None,
        policy: RetryPolicy,
        deadline: float | None = None,
        progress: Progressing | None = None,
        traced: _telemetry.Traced,
    ) -> bytes:
        """``GET {api}{path}`` with the bearer token, or, with a ``body``, ``POST`` it
        signed; the 200 body, within the operation's span (``traced`` tells its kind, the
        path's template and the receipt: see ``_telemetry``). ``operation`` says which
        call it is (for the hint of a refusal); ``label`` names it in messages (``METHOD
        path`` unless the path holds a value not to show). ``body`` stays wrapped (it
        holds the receiver's personal data) until it is written to the wire;
        ``progress`` follows each attempt, for a caller that may be cancelled meanwhile."""
        dialect, clock, tokens, options = self._dialect, self.clock, self.tokens, self.options
        policy = options.policy(policy)
        deadline = options.call_deadline(deadline)
        subject = dialect.subject(client_code)
        url = self._api_url + path
        method = "GET" if body is None else "POST"
        label = label or f"{method} {path}"
        about = _telemetry.Exchange(label, operation, dialect.generation)  # its attempt: 1
        renewed_token = resynced = False
        with _telemetry.operation(
            operation,
            generation=dialect.generation,
            method=method,
            api_url=self._api_url,
            path=path,
            label=label,
            client_code=client_code,
            traced=traced,
        ):
            while True:
                attempt = Attempt() if progress is None else progress.attempt()
                # Read afresh for every attempt: a retry after a long outage must not
                # carry a token (or a date) that went stale in between.
                token: Secret[str] | None = None
                headers: Headers | None = None
                stamped = clock.syncs
                try:
                    token = await tokens.token(subject, deadline)
                    if body is None:
                        headers = dialect.get_headers(token)
                    else:
                        date = await clock.date(deadline)
                        stamped = clock.syncs
                        headers = dialect.post_headers(token, date, body.reveal(), path)
                    sending = self._sender.send(
                        method,
                        url,
                        headers,
                        body,
                        about,
                        deadline=deadline,
                        attempt=attempt,
                        timeout=options.timeout,
                    )
                    # The reply goes straight to body_of, never into this frame's locals.
                    return body_of(
                        await sending, label, operation, dialect.generation, base_url=self._api_url
                    )
                except KakaocertError as error:
                    failure = error if headers is not None else _not_sent(label, error)
                if isinstance(failure, APIError) and failure.http_status == 401:
                    # Each remedy is tried once per call: a new token if the call's own
                    # token was refused; a fresh reading of the server's clock if a date
                    # was (this call's, or, when no token was had, the token request's).
                    granting = token is None
                    dated = body is not None or granting
                    renew = not granting and not renewed_token
                    resync = dated and clock.uses_server_time and not resynced
                    if not (renew or resync):
                        if dated:
                            await clock.explain(failure)
                        raise_alone(failure)
                    log.debug("%s: refused with HTTP 401 [%d]; renewing", label, failure.code)
                    if renew:
                        assert token is not None
                        tokens.discard(subject, token)
                        renewed_token = True
                    if resync:
                        clock.resync(stamped)
                        resynced = True
                    continue  # a remedy, not a retry: the same attempt number
                wait = policy.wait_before(about.attempt + 1, failure, deadline=deadline)
                if wait is None:
                    raise_alone(failure)
                about = _telemetry.Exchange(label, operation, dialect.generation, about.attempt + 1)
                _telemetry.retrying(about, failure, wait, of=policy.attempts)
                await asyncio.sleep(wait)

    async def late_body(
        self, exchange: asyncio.Future[Answer], label: str, operation: Call
    ) -> bytes:
        """The 200 body of ``exchange``, left to finish after its caller had gone (see
        ``Attempt.late``), when it comes; the error its answer is, raised, as :meth:`call`
        would."""
        reply = self._sender.reply(await exchange)
        return body_of(reply, label, operation, self.generation, base_url=self._api_url)

    def longest_call(self, policy: RetryPolicy, *, signed: bool) -> float:
        """The most seconds :meth:`call` can take under ``policy`` (with :attr:`options`'
        retries) without a deadline:
        what a lease on the call's outcome (``kakaocert_async.arq``'s ``verify_lease``)
        must outlast. ``signed``: a POST (its date is read from the server's clock).

        Every exchange ends within ``timeout`` T (queueing included; the larger of the
        client's and, for a sibling, its own: token and clock reads keep to the first). A
        pass of the loop makes at most three, or four for a POST: the token request
        and the clock read that dates it, the clock read that dates a POST (another
        call's 401 may have made the clock due again), and the call itself. There are
        ``policy.attempts`` passes, and one more for each 401 remedy (a new token, a
        fresh clock): at most two. With the local clock, a pass makes at most two and
        a last 401 reads the server's clock once to explain itself, within the same
        bound. Then the policy's waits between attempts::

            (policy.attempts + 2) * (3 + signed) * T + policy.longest_waits()
        """
        policy = self.options.policy(policy)
        passes = policy.attempts + 2
        exchanges = 3 + int(signed)
        timeout = max(self._sender.timeout, self.options.timeout)  # the auth's, the call's
        return passes * exchanges * timeout + policy.longest_waits()

    def close(self) -> None:
        self.tokens.close()
        self.clock.close()


def _not_sent(label: str, error: KakaocertError) -> KakaocertError:
    """The error of a call whose token or date could not be had: its request never
    left, whatever became of the token or clock request (whose own error is the cause).
    """
    if error.progress is Progress.NOT_SENT:
        return error
    if type(error) is TransportError:
        said: KakaocertError = RequestNotSent(f"{label}: not sent: {error.message}")
    else:
        # An answer of the auth service (a refusal, an unreadable token): as it came, but
        # saying that this call's request never left.
        said = copy.copy(error)
        said.progress = Progress.NOT_SENT
    said.__cause__ = error.__cause__
    return said
