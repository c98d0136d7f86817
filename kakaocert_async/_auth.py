"""Linkhub authentication: the partner's keys, the server clock and the token cache.

- :class:`Credentials` signs HMAC targets with the SecretKey (never shown).
- :class:`ServerClock` stamps the date header: the local clock plus the auth
  server's offset, read once from ``GET /Time`` and refreshed rarely.
- :class:`TokenCache` holds one session token per subject (a client code for
  KakaoCert 2.x) and renews it shortly before it expires; concurrent callers
  share one token request, and each waits for it no longer than its own deadline.
- :class:`Linkhub` makes the two calls of the auth service, once each: the call
  that needed them is the one that retries (``_session``), so a failure is never
  retried at two levels.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable

import attrs

from . import _signing, _telemetry, _wire
from ._answers import body_of
from ._errors import APIError, KakaocertError, MalformedResponse
from ._hints import Call, Generation
from ._http import Sender
from ._models import TokenGrant, TokenRequest
from ._secret import Headers, Secret
from ._singleflight import SingleFlight

log = logging.getLogger("kakaocert_async")

RENEW_MARGIN = 60.0
"""Renew a token this many seconds before it expires (at most half its lifetime)."""

MIN_TOKEN_LIFETIME = 0.0
"""A token granted with no more life than this left (by the server's clock) is refused:
it would be asked for again on every call."""

REFUSED_TOKEN_BACKOFF = 5.0
"""After a token was refused as already expired, seconds before asking again."""

RESYNC_AFTER = 6 * 3600.0
"""Read the server's time again after this many seconds."""

SKEW_HINT_SECONDS = 60.0
"""A local clock this far off the server's is named in a date rejection (local clock in use)."""

Clock = Callable[[], float]


@attrs.frozen
class Credentials:
    """A partner's LinkID and the raw key of its SecretKey."""

    link_id: str
    key: Secret[bytes]

    def hmac(self, target: str) -> str:
        """``b64 HMAC-SHA256(target)`` with the SecretKey."""
        return _signing.hmac_b64(self.key.reveal(), target)

    def sign(self, target: str) -> Secret[str]:
        """``<LinkID> <b64 HMAC-SHA256(target)>``: ``x-kc-auth``, and the token request's after
        ``LINKHUB``."""
        return Secret(f"{self.link_id} {self.hmac(target)}")


@functools.lru_cache(maxsize=4)
def _format_second(second: int) -> str:
    # Cached: every call within the same second shares it.
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))


def format_date(when: float) -> str:
    """``YYYY-MM-DDTHH:MM:SS.mmmZ`` (UTC), milliseconds included: the form of the auth
    server's ``GET /Time`` answer, which the official SDKs send as the date as it came."""
    second, millisecond = divmod(int(when * 1000), 1000)
    return f"{_format_second(second)}.{millisecond:03d}Z"


class ServerClock:
    """The time by the auth server's clock, for the date header of signed calls.

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
        self.uses_server_time = use_server_time and read_server_time is not None
        self._wall = wall
        self._monotonic = monotonic
        self.offset = 0.0
        """Seconds to add to the local clock to get the server's (0 until read)."""
        self._synced_at: float | None = None
        self.syncs = 0
        """How many times the offset has been read (for :meth:`resync`)."""
        self._flights: SingleFlight[None] = SingleFlight()

    async def now(self, deadline: float | None = None) -> float:
        """Seconds since the epoch, by the server's clock (reading it first if due;
        waiting for that no longer than ``deadline``, a ``time.monotonic()``)."""
        if self.uses_server_time and (
            self._synced_at is None or self._monotonic() - self._synced_at > RESYNC_AFTER
        ):
            await self._flights.run(None, self._sync, deadline=deadline, waiting_for="GET /Time")
        return self._wall() + self.offset

    def estimate(self) -> float:
        """:meth:`now` without reading the server: the offset as last read."""
        return self._wall() + self.offset

    async def date(self, deadline: float | None = None) -> str:
        """``YYYY-MM-DDTHH:MM:SS.mmmZ`` by the server's clock (:func:`format_date`)."""
        return format_date(await self.now(deadline))

    def resync(self, stamped_after: int | None = None) -> None:
        """Read the server's time again before the next date (after a rejected date).

        ``stamped_after``: the :attr:`syncs` count when the rejected date was
        stamped; if the offset was read again since, it is fresh and kept (many
        calls refused at once cause one read).
        """
        if self.uses_server_time and (stamped_after is None or stamped_after == self.syncs):
            self._synced_at = None

    async def measure_offset(self) -> float:
        """Read the server's time now and return the offset, without keeping it."""
        assert self._read is not None
        before = self._wall()
        server = await self._read()
        after = self._wall()
        return server - (before + after) / 2

    async def explain(self, refused: APIError) -> None:
        """With the local clock in use, say in ``refused``'s hint how far it is off the
        server's, when that is far enough to be why a date was rejected (a measured
        hint, in place of any guess of ``_hints``')."""
        if self.uses_server_time or self._read is None:
            return
        try:
            skew = await self.measure_offset()
        except KakaocertError:
            return
        if abs(skew) > SKEW_HINT_SECONDS:
            direction = "ahead of" if skew < 0 else "behind"
            refused.hint = (
                f"the local clock is {abs(skew):.0f} s {direction} the auth server's, and the"
                " service rejects a date that far off: create the Client with"
                " use_server_time=True to correct for it"
            )

    async def _sync(self) -> None:
        self.offset = await self.measure_offset()
        self._synced_at = self._monotonic()
        self.syncs += 1
        log.debug("server clock offset: %+.3f s", self.offset)

    def close(self) -> None:
        self._flights.cancel_all()


@attrs.frozen
class _Cached:
    token: Secret[str] | None
    """``None`` after a grant refused as already expired: the back-off, until ``renew_at``."""
    renew_at: float
    """``time.monotonic()`` after which the token is renewed (or asked for again)."""
    expires_at: float
    """``time.monotonic()`` at which the token is of no more use: then it is dropped."""


SWEEP_FLOOR = 64
"""The cache is swept of expired tokens whenever it has grown to twice its size after
the last sweep, and never below this: memory is bounded by the live tokens, however
many client codes a long-lived process serves, at an amortised cost of O(1) a token."""


Grant = Callable[[str], Awaitable[TokenGrant]]


class TokenCache:
    """Session tokens per subject, renewed shortly before they expire."""

    def __init__(
        self,
        grant: Grant,
        clock: ServerClock,
        *,
        monotonic: Clock = time.monotonic,
        label: str = f"POST {_signing.TOKEN_PATH}",
    ) -> None:
        self._grant = grant
        self._clock = clock
        self._monotonic = monotonic
        self._label = label
        self._tokens: dict[str, _Cached] = {}
        self._flights: SingleFlight[Secret[str]] = SingleFlight()
        self._sweep_at = SWEEP_FLOOR

    async def token(self, subject: str, deadline: float | None = None) -> Secret[str]:
        """A usable session token for ``subject``, waiting at most until ``deadline``."""
        cached = self._tokens.get(subject)
        if cached is not None and self._monotonic() < cached.renew_at:
            if cached.token is None:
                raise self._expired_on_arrival(again_in=cached.renew_at - self._monotonic())
            return cached.token
        return await self._flights.run(
            subject, lambda: self._renew(subject), deadline=deadline, waiting_for=self._label
        )

    def discard(self, subject: str, token: Secret[str]) -> None:
        """Forget ``token`` (the service rejected it), unless it was already replaced."""
        cached = self._tokens.get(subject)
        if cached is not None and cached.token == token:
            del self._tokens[subject]

    async def _renew(self, subject: str) -> Secret[str]:
        grant = await self._grant(subject)
        lifetime = grant.expiration.timestamp() - await self._clock.now()
        now = self._monotonic()
        if len(self) >= self._sweep_at:  # drop every expired token and every back-off over
            self._tokens = {s: c for s, c in self._tokens.items() if now < c.expires_at}
            self._sweep_at = max(SWEEP_FLOOR, 2 * len(self))
        if lifetime <= MIN_TOKEN_LIFETIME:
            # Asking again at once would get another such token: back off instead
            # of making one token request per call.
            until = now + REFUSED_TOKEN_BACKOFF
            self._tokens[subject] = _Cached(None, until, until)
            raise self._expired_on_arrival(again_in=REFUSED_TOKEN_BACKOFF)
        margin = min(RENEW_MARGIN, lifetime / 2)
        self._tokens[subject] = _Cached(
            grant.session_token, now + lifetime - margin, now + lifetime
        )
        log.debug("session token: renewed, good for %.0f s", lifetime)
        return grant.session_token

    def __len__(self) -> int:
        """Tokens and back-offs held now (expired ones may linger until the next sweep)."""
        return len(self._tokens)

    def _expired_on_arrival(self, *, again_in: float) -> MalformedResponse:
        return MalformedResponse(
            f"{self._label}: the service granted a token that expires at once (by its own"
            f" clock); not asking again for {again_in:.0f} s",
            http_status=200,
        )

    def close(self) -> None:
        self._flights.cancel_all()
        self._tokens.clear()


@attrs.frozen(repr=False)  # (its repr would show the headers and keys it signs with)
class Linkhub:
    """The two calls of the Linkhub auth service: ``GET /Time`` and the token grant.

    Each is made once: the call that needed the token or the time is repeated by
    its own policy, which fetches them again, so a failure here is retried at one
    level only.
    """

    sender: Sender
    auth_url: str
    credentials: Credentials
    generation: Generation
    token_path: str
    scope: tuple[str, ...]
    forwarded: str | None
    headers: dict[str, str]

    async def _call(self, call: Call, path: str, headers: Headers, body: bytes | None) -> bytes:
        """The 200 body of ``GET`` (or, with a ``body``, ``POST``) ``path``, made once."""
        method = "GET" if body is None else "POST"
        label = f"{method} {path}"
        about = _telemetry.Exchange(label, call, self.generation)
        sending = self.sender.send(method, self.auth_url + path, headers, body, about)
        return body_of(await sending, label, call, self.generation, base_url=self.auth_url)

    async def server_time(self) -> float:
        """The auth server's clock, in seconds since the epoch."""
        body = await self._call("time", "/Time", dict(self.headers), None)
        try:
            return _wire.parse_utc(body.decode("ascii")).timestamp()
        except (UnicodeDecodeError, _wire.WireError) as exc:
            raise MalformedResponse(f"GET /Time: {exc}", http_status=200) from None

    async def grant(self, access_id: str, clock: ServerClock) -> TokenGrant:
        """A new session token for ``access_id`` (a client code, or "" for Barocert)."""
        body = _wire.dumps(
            _wire.converter.unstructure(TokenRequest(access_id=access_id, scope=self.scope))
        )
        date = await clock.date()
        target = _signing.token_target(body, date, forwarded=self.forwarded, path=self.token_path)
        headers: Headers = {
            **self.headers,
            "x-lh-date": date,
            "x-lh-version": _signing.API_VERSION,
            "Authorization": Secret(f"LINKHUB {self.credentials.sign(target).reveal()}"),
            "Content-Type": "application/json",
        }
        if self.forwarded is not None:
            headers["x-lh-forwarded"] = self.forwarded
        # Wrapped at once: the answer holds the session token.
        answer = Secret(await self._call("token", self.token_path, headers, body))
        return _wire.decode(answer, TokenGrant, label=f"POST {self.token_path}")
