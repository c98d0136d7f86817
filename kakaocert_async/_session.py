"""One authenticated API call: token, date and signature, sent once more if the token is refused.

A 401 answer means the session token (or, on a signed call, the date) was
refused: the token is dropped, a new one fetched (shared by every caller that
saw the refusal), the server clock re-read for signed calls, and the call made
once more. Anything else is the caller's to handle.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable

import httpx

from . import _signing
from ._auth import Credentials, Linkhub, ServerClock, TokenCache
from ._errors import APIError, KakaocertError
from ._http import RetryPolicy, Sender

log = logging.getLogger("kakaocert_async")

_SKEW_HINT_SECONDS = 60.0


class Session:
    """Authenticated calls to the KakaoCert API for one partner (LinkID)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        api_url: str,
        auth_url: str,
        credentials: Credentials,
        use_server_time: bool,
        ip_restrict: bool,
        user_agent: str,
    ) -> None:
        self._http = http
        self._api_url = api_url
        self._credentials = credentials
        self._sender = Sender(http)
        common = {"User-Agent": user_agent, "Accept-Encoding": "gzip"}
        linkhub = Linkhub(
            self._sender,
            http,
            auth_url,
            credentials,
            forwarded=None if ip_restrict else _signing.FORWARDED_ANY,
            headers=common,
        )
        self._server_clock = ServerClock(linkhub.server_time)
        self.clock = self._server_clock if use_server_time else ServerClock(None)
        self.tokens = TokenCache(functools.partial(linkhub.grant, clock=self.clock), self.clock)
        self._get_headers = {**common, "x-pb-version": _signing.API_VERSION}
        self._post_headers = {
            **common,
            "x-lh-version": _signing.API_VERSION,
            "Content-Type": "application/json; charset=utf8",
        }

    async def get(
        self,
        client_code: str,
        path: str,
        *,
        label: str,
        policy: RetryPolicy,
        deadline: float | None = None,
    ) -> bytes:
        """``GET {api}{path}`` with the bearer token; the 200 body."""
        url = self._api_url + path

        async def prepare(token: str) -> httpx.Request:
            headers = {**self._get_headers, "Authorization": f"Bearer {token}"}
            return self._http.build_request("GET", url, headers=headers)

        return await self._call(client_code, prepare, label=label, policy=policy, deadline=deadline)

    async def post(
        self,
        client_code: str,
        path: str,
        body: bytes,
        *,
        label: str,
        policy: RetryPolicy,
        deadline: float | None = None,
    ) -> bytes:
        """``POST {api}{path}`` with the bearer token, ``x-lh-date`` and ``x-kc-auth``."""
        url = self._api_url + path

        async def prepare(token: str) -> httpx.Request:
            date = await self.clock.date()
            headers = {
                **self._post_headers,
                "Authorization": f"Bearer {token}",
                "x-lh-date": date,
                "x-kc-auth": self._credentials.sign(_signing.request_target(body, date)),
            }
            return self._http.build_request("POST", url, headers=headers, content=body)

        return await self._call(
            client_code, prepare, label=label, policy=policy, deadline=deadline, signed=True
        )

    async def _call(
        self,
        client_code: str,
        prepare: Callable[[str], Awaitable[httpx.Request]],
        *,
        label: str,
        policy: RetryPolicy,
        deadline: float | None,
        signed: bool = False,
    ) -> bytes:
        for renewed in (False, True):
            # Token and clock come first, with their own retries: a failure
            # there is theirs, and never multiplies this call's attempts.
            token = await self.tokens.token(client_code)
            if signed:
                await self.clock.now()
            try:
                return await self._sender.send(
                    functools.partial(prepare, token),
                    label=label,
                    policy=policy,
                    deadline=deadline,
                )
            except APIError as refused:
                if refused.http_status != 401:
                    raise
                if renewed:
                    if signed and not self.clock.uses_server_time:
                        await self._explain_skew(refused)
                    raise
                log.debug("%s: refused with HTTP 401 [%d]; renewing the token", label, refused.code)
                self.tokens.discard(client_code, token)
                if signed and self.clock.uses_server_time:
                    self.clock.resync()
        raise AssertionError("unreachable")  # pragma: no cover

    async def _explain_skew(self, refused: APIError) -> None:
        """With the local clock in use, say so when it is far off the server's."""
        try:
            skew = await self._server_clock.measure_offset()
        except KakaocertError:
            return
        if abs(skew) > _SKEW_HINT_SECONDS:
            direction = "ahead of" if skew < 0 else "behind"
            refused.message += (
                f" (the local clock is {abs(skew):.0f} s {direction} the auth server's, and the"
                " service rejects an x-lh-date that far off: create the Client with"
                " use_server_time=True to correct for it)"
            )
            refused.args = (refused.message,)

    def close(self) -> None:
        self.tokens.close()
        self._server_clock.close()
