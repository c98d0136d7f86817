"""One authenticated API call: token, date and signature, sent once more if the token is refused.

A 401 answer means the session token (or, on a signed call, the date) was
refused: the token is dropped, a new one fetched (shared by every caller that
saw the refusal), the server clock re-read for signed calls, and the call made
once more. Anything else is the caller's to handle; a caller that must know when
its request may have been processed without an answer (verify) gives ``on_lost``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import TypeAlias

import httpx

from . import _signing
from ._auth import Credentials, Linkhub, ServerClock, TokenCache
from ._errors import APIError, KakaocertError, TransportError
from ._http import RetryPolicy, Sender, answer_lost

log = logging.getLogger("kakaocert_async")

OnLost: TypeAlias = Callable[[KakaocertError], KakaocertError]
"""Turns the error of a request that may have been processed, its answer lost, into
the one to raise."""


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
        self.clock = ServerClock(linkhub.server_time, use_server_time=use_server_time)
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
        on_lost: OnLost | None = None,
    ) -> bytes:
        """``GET {api}{path}`` with the bearer token; the 200 body."""
        url = self._api_url + path

        async def prepare(token: str) -> httpx.Request:
            headers = {**self._get_headers, "Authorization": f"Bearer {token}"}
            return self._http.build_request("GET", url, headers=headers)

        return await self._call(
            client_code, prepare, label=label, policy=policy, deadline=deadline, on_lost=on_lost
        )

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
        on_lost: OnLost | None = None,
    ) -> bytes:
        for renewed in (False, True):
            # Token and clock come first, with their own retries: a failure
            # there is theirs, and never multiplies this call's attempts (nor
            # is it a lost answer: the call was not sent).
            token = await self.tokens.token(client_code)
            if signed:
                await self.clock.now()
            stamped_after = self.clock.syncs
            try:
                return await self._sender.send(
                    functools.partial(prepare, token),
                    label=label,
                    policy=policy,
                    deadline=deadline,
                )
            except (APIError, TransportError) as error:
                if on_lost is not None and answer_lost(error):
                    raise on_lost(error) from error
                if not isinstance(error, APIError) or error.http_status != 401:
                    raise
                if renewed:
                    if signed:
                        await self.clock.explain(error)
                    raise
                log.debug("%s: refused with HTTP 401 [%d]; renewing the token", label, error.code)
                self.tokens.discard(client_code, token)
                if signed and self.clock.uses_server_time:
                    self.clock.resync(stamped_after)
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        self.tokens.close()
        self.clock.close()
