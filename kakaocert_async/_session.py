"""One authenticated call: token, date and signature, made once more if refused with 401.

This is the SDK's one 401 path. A 401 means the service refused the session
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

import functools
import logging
from typing import Protocol

from . import _signing
from ._auth import Credentials, Linkhub, ServerClock, TokenCache
from ._errors import APIError
from ._http import OnLost, RetryPolicy, Sender
from ._secret import Headers, Secret

log = logging.getLogger("kakaocert_async")

SCOPE = ("member", "310", "320", "330")
"""The scopes the official SDK asks for: KakaoCert's e-sign, identity and CMS services."""


class Dialect(Protocol):
    """How one generation of the API gets its tokens and authenticates its calls."""

    token_path: str
    """The Linkhub token request's path (``/KAKAOCERT/Token``)."""
    scope: tuple[str, ...]

    def subject(self, client_code: str) -> str:
        """The token request's ``access_id``, which is also the token cache's key."""
        ...

    def get_headers(self, token: Secret[str]) -> Headers:
        """The headers of an unsigned GET."""
        ...

    def post_headers(
        self, token: Secret[str], date: str, body: bytes, path: str, credentials: Credentials
    ) -> Headers:
        """The headers of a signed POST of ``body`` to ``path`` at ``date``."""
        ...


def bearer(headers: dict[str, str], token: Secret[str]) -> Headers:
    """A copy of ``headers`` with ``Authorization: Bearer <token>`` (kept wrapped)."""
    with_token: Headers = dict(headers)
    with_token["Authorization"] = Secret(f"Bearer {token.reveal()}")
    return with_token


class KakaoCert2:
    """KakaoCert 2.x: a token per client code, ``x-kc-auth`` over body, date and version."""

    token_path = _signing.TOKEN_PATH
    scope: tuple[str, ...] = SCOPE

    def __init__(self, common: dict[str, str]) -> None:
        self._get = {**common, "x-pb-version": _signing.API_VERSION}
        self._post = {
            **common,
            "x-lh-version": _signing.API_VERSION,
            "Content-Type": "application/json; charset=utf8",
        }

    def subject(self, client_code: str) -> str:
        return client_code

    def get_headers(self, token: Secret[str]) -> Headers:
        return bearer(self._get, token)

    def post_headers(
        self, token: Secret[str], date: str, body: bytes, path: str, credentials: Credentials
    ) -> Headers:
        headers = bearer(self._post, token)
        headers["x-lh-date"] = date
        headers["x-kc-auth"] = credentials.sign(_signing.request_target(body, date))
        return headers


class _Attempted:
    """What one attempt used: the token, and the clock's sync count when it was stamped."""

    __slots__ = ("stamped", "token")

    def __init__(self, stamped: int) -> None:
        self.token: Secret[str] | None = None
        self.stamped = stamped


class Session:
    """Authenticated calls to one API for one partner (LinkID)."""

    def __init__(
        self,
        sender: Sender,
        *,
        dialect: Dialect,
        api_url: str,
        auth_url: str,
        credentials: Credentials,
        use_server_time: bool,
        ip_restrict: bool,
        headers: dict[str, str],
    ) -> None:
        self._sender = sender
        self._dialect = dialect
        self._api_url = api_url
        self._credentials = credentials
        linkhub = Linkhub(
            sender,
            auth_url,
            credentials,
            token_path=dialect.token_path,
            scope=dialect.scope,
            forwarded=None if ip_restrict else _signing.FORWARDED_ANY,
            headers=headers,
        )
        self.clock = ServerClock(linkhub.server_time, use_server_time=use_server_time)
        self.tokens = TokenCache(
            functools.partial(linkhub.grant, clock=self.clock),
            self.clock,
            label=linkhub.token_label,
        )

    async def get(
        self,
        client_code: str,
        path: str,
        *,
        label: str,
        policy: RetryPolicy,
        deadline: float | None = None,
        on_lost: OnLost | None = None,
    ) -> bytes:
        """``GET {api}{path}`` with the bearer token; the 200 body."""
        return await self._call(
            client_code, path, None, label=label, policy=policy, deadline=deadline, on_lost=on_lost
        )

    async def post(
        self,
        client_code: str,
        path: str,
        body: Secret[bytes],
        *,
        label: str,
        policy: RetryPolicy,
        deadline: float | None = None,
        on_lost: OnLost | None = None,
    ) -> bytes:
        """``POST {api}{path}``, signed; the 200 body. ``body`` stays wrapped (it
        holds the receiver's personal data) until it is written to the wire."""
        return await self._call(
            client_code, path, body, label=label, policy=policy, deadline=deadline, on_lost=on_lost
        )

    async def _call(
        self,
        client_code: str,
        path: str,
        secret_body: Secret[bytes] | None,
        *,
        label: str,
        policy: RetryPolicy,
        deadline: float | None,
        on_lost: OnLost | None,
    ) -> bytes:
        dialect, clock, tokens = self._dialect, self.clock, self.tokens
        subject = dialect.subject(client_code)
        url = self._api_url + path
        method = "GET" if secret_body is None else "POST"
        attempted = _Attempted(clock.syncs)

        async def prepare(deadline: float | None) -> tuple[str, str, Headers, Secret[bytes] | None]:
            # Read afresh for every attempt: a retry after a long outage must not
            # carry a token (or a date) that went stale in between. What an earlier
            # attempt used is forgotten first, so that a 401 to this attempt's token
            # request is not taken for a refusal of that earlier token.
            attempted.token = None
            attempted.stamped = clock.syncs
            token = attempted.token = await tokens.token(subject, deadline)
            if secret_body is None:
                return method, url, dialect.get_headers(token), None
            date = await clock.date(deadline)
            attempted.stamped = clock.syncs
            headers = dialect.post_headers(
                token, date, secret_body.reveal(), path, self._credentials
            )
            return method, url, headers, secret_body

        renewed_token = resynced = False
        while True:
            try:
                return await self._sender.send(
                    prepare, label=label, policy=policy, deadline=deadline, on_lost=on_lost
                )
            except APIError as error:
                if error.http_status != 401:
                    raise
                # Each remedy is tried once per call: a new token if the call's own
                # token was refused; a fresh reading of the server's clock if a date
                # was (this call's, or, when no token was had, the token request's).
                granting = attempted.token is None
                dated = secret_body is not None or granting
                renew = not granting and not renewed_token
                resync = dated and clock.uses_server_time and not resynced
                if not (renew or resync):
                    if dated:
                        await clock.explain(error)
                    raise
                log.debug("%s: refused with HTTP 401 [%d]; renewing", label, error.code)
                if renew:
                    assert attempted.token is not None
                    tokens.discard(subject, attempted.token)
                    renewed_token = True
                if resync:
                    clock.resync(attempted.stamped)
                    resynced = True

    def close(self) -> None:
        self.tokens.close()
        self.clock.close()
