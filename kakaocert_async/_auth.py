"""Linkhub authentication: the partner's keys, the server clock and the token cache.

- :class:`Credentials` signs HMAC targets with the SecretKey (never shown).
- :class:`ServerClock` stamps ``x-lh-date``: the local clock plus the auth
  server's offset, read once from ``GET /Time`` and refreshed rarely.
- :class:`TokenCache` holds one session token per client code and renews it
  shortly before it expires; concurrent callers share one token request.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable

import attrs
import httpx

from . import _signing, _wire
from ._errors import APIError, KakaocertError, MalformedResponse
from ._http import SAFE_TO_REPEAT, Sender
from ._models import TokenGrant, TokenRequest
from ._singleflight import SingleFlight

log = logging.getLogger("kakaocert_async")

SCOPE = ("member", "310", "320", "330")
"""The scopes the official SDK asks for: KakaoCert's e-sign, identity and CMS services."""

RENEW_MARGIN = 60.0
"""Renew a token this many seconds before it expires (at most half its lifetime)."""

RESYNC_AFTER = 6 * 3600.0
"""Read the server's time again after this many seconds."""

SKEW_HINT_SECONDS = 60.0
"""A local clock this far off the server's is named in a date rejection (local clock in use)."""

Clock = Callable[[], float]


@attrs.frozen
class Credentials:
    """A partner's LinkID and the raw key of its SecretKey."""

    link_id: str
    key: bytes = attrs.field(repr=False)

    def sign(self, target: str) -> str:
        """``<LinkID> <b64 HMAC-SHA256(target)>``, the form both signature headers take."""
        return f"{self.link_id} {_signing.hmac_b64(self.key, target)}"


@functools.lru_cache(maxsize=4)
def _format_date(second: int) -> str:
    # Cached: every call within the same second carries the same date.
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second))


class ServerClock:
    """The time by the auth server's clock, for ``x-lh-date``.

    With a ``read_server_time`` coroutine, the offset from the local clock is
    read on first use (one request, however many callers), kept, and read again
    after :data:`RESYNC_AFTER` or after :meth:`resync`. Without one, or with
    ``use_server_time=False``, the local clock is used as is (and the server's
    is read only to explain a rejected date: :meth:`explain`).
    """

    def __init__(
        self,
        read_server_time: Callable[[], Awaitable[float]] | None,
        *,
        use_server_time: bool = True,
        wall: Clock = time.time,
        monotonic: Clock = time.monotonic,
    ) -> None:
        self._read = read_server_time
        self._use = use_server_time and read_server_time is not None
        self._wall = wall
        self._monotonic = monotonic
        self._offset = 0.0
        self._synced_at: float | None = None
        self._syncs = 0
        self._flights: SingleFlight[None] = SingleFlight()

    @property
    def uses_server_time(self) -> bool:
        return self._use

    @property
    def syncs(self) -> int:
        """How many times the offset has been read (for :meth:`resync`)."""
        return self._syncs

    @property
    def offset(self) -> float:
        """Seconds to add to the local clock to get the server's (0 until synced)."""
        return self._offset

    async def now(self) -> float:
        """Seconds since the epoch, by the server's clock."""
        if self._use and (
            self._synced_at is None or self._monotonic() - self._synced_at > RESYNC_AFTER
        ):
            await self._flights.run(None, self._sync)
        return self._wall() + self._offset

    async def date(self) -> str:
        """``x-lh-date``: ``YYYY-MM-DDTHH:MM:SSZ`` by the server's clock."""
        return _format_date(int(await self.now()))

    def resync(self, stamped_after: int | None = None) -> None:
        """Read the server's time again before the next date (after a rejected date).

        ``stamped_after``: the :attr:`syncs` count when the rejected date was
        stamped; if the offset was read again since, it is fresh and kept (many
        calls refused at once cause one read).
        """
        if stamped_after is None or stamped_after == self._syncs:
            self._synced_at = None

    async def measure_offset(self) -> float:
        """Read the server's time now and return the offset, without keeping it."""
        assert self._read is not None
        before = self._wall()
        server = await self._read()
        after = self._wall()
        return server - (before + after) / 2

    async def explain(self, refused: APIError) -> None:
        """With the local clock in use, add to ``refused`` how far it is off the
        server's, when that is far enough to be why a date was rejected."""
        if self._use or self._read is None:
            return
        try:
            skew = await self.measure_offset()
        except KakaocertError:
            return
        if abs(skew) > SKEW_HINT_SECONDS:
            direction = "ahead of" if skew < 0 else "behind"
            refused.message += (
                f" (the local clock is {abs(skew):.0f} s {direction} the auth server's, and the"
                " service rejects an x-lh-date that far off: create the Client with"
                " use_server_time=True to correct for it)"
            )
            refused.args = (refused.message,)

    async def _sync(self) -> None:
        self._offset = await self.measure_offset()
        self._synced_at = self._monotonic()
        self._syncs += 1
        log.debug("server clock offset: %+.3f s", self._offset)

    def close(self) -> None:
        self._flights.cancel_all()


@attrs.frozen
class _Cached:
    token: str = attrs.field(repr=False)
    renew_at: float
    """``time.monotonic()`` after which the token is renewed."""


class TokenCache:
    """Session tokens per client code, renewed shortly before they expire."""

    def __init__(
        self,
        grant: Callable[[str], Awaitable[TokenGrant]],
        clock: ServerClock,
        *,
        monotonic: Clock = time.monotonic,
    ) -> None:
        self._grant = grant
        self._clock = clock
        self._monotonic = monotonic
        self._tokens: dict[str, _Cached] = {}
        self._flights: SingleFlight[str] = SingleFlight()

    async def token(self, client_code: str) -> str:
        """A usable session token for ``client_code``."""
        cached = self._tokens.get(client_code)
        if cached is not None and self._monotonic() < cached.renew_at:
            return cached.token
        return await self._flights.run(client_code, lambda: self._renew(client_code))

    def discard(self, client_code: str, token: str) -> None:
        """Forget ``token`` (the service rejected it), unless it was already replaced."""
        cached = self._tokens.get(client_code)
        if cached is not None and cached.token == token:
            del self._tokens[client_code]

    async def _renew(self, client_code: str) -> str:
        grant = await self._grant(client_code)
        lifetime = grant.expiration.timestamp() - await self._clock.now()
        margin = min(RENEW_MARGIN, max(lifetime, 0.0) / 2)
        renew_at = self._monotonic() + lifetime - margin
        self._tokens[client_code] = _Cached(grant.session_token, renew_at)
        log.debug("session token for client %s: renewed, good for %.0f s", client_code, lifetime)
        return grant.session_token

    def close(self) -> None:
        self._flights.cancel_all()
        self._tokens.clear()


class Linkhub:
    """The two calls of the Linkhub auth service: ``GET /Time`` and ``POST /KAKAOCERT/Token``."""

    def __init__(
        self,
        sender: Sender,
        http: httpx.AsyncClient,
        auth_url: str,
        credentials: Credentials,
        *,
        forwarded: str | None,
        headers: dict[str, str],
    ) -> None:
        self._sender = sender
        self._http = http
        self._time_url = f"{auth_url}/Time"
        self._token_url = f"{auth_url}{_signing.TOKEN_PATH}"
        self._credentials = credentials
        self._forwarded = forwarded
        self._headers = headers

    async def server_time(self) -> float:
        """The auth server's clock, in seconds since the epoch."""

        async def prepare() -> httpx.Request:
            return self._http.build_request("GET", self._time_url, headers=self._headers)

        body = await self._sender.send(prepare, label="GET /Time", policy=SAFE_TO_REPEAT)
        try:
            return _wire.parse_utc(body.decode("ascii")).timestamp()
        except (UnicodeDecodeError, _wire.WireError) as exc:
            raise MalformedResponse(f"GET /Time: {exc}", http_status=200) from None

    async def grant(self, client_code: str, clock: ServerClock) -> TokenGrant:
        """A new session token for ``client_code``."""
        body = _wire.dumps(
            _wire.converter.unstructure(TokenRequest(access_id=client_code, scope=SCOPE))
        )

        async def prepare() -> httpx.Request:
            date = await clock.date()
            target = _signing.token_target(body, date, forwarded=self._forwarded)
            headers = {
                **self._headers,
                "x-lh-date": date,
                "x-lh-version": _signing.API_VERSION,
                "Authorization": f"LINKHUB {self._credentials.sign(target)}",
                "Content-Type": "application/json",
            }
            if self._forwarded is not None:
                headers["x-lh-forwarded"] = self._forwarded
            return self._http.build_request("POST", self._token_url, headers=headers, content=body)

        label = f"POST {_signing.TOKEN_PATH}"
        try:
            answer = await self._sender.send(prepare, label=label, policy=SAFE_TO_REPEAT)
        except APIError as refused:
            if refused.http_status != 401:
                raise
            if not clock.uses_server_time:
                await clock.explain(refused)
                raise
            # The date may be what was refused: the server's clock moved since
            # it was read. Read it again and ask once more.
            log.debug(
                "%s: refused with HTTP 401 [%d]; reading the server clock", label, refused.code
            )
            clock.resync()
            answer = await self._sender.send(prepare, label=label, policy=SAFE_TO_REPEAT)
        return _wire.decode(answer, TokenGrant, label=label)
