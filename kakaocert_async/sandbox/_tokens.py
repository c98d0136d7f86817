"""Session tokens as the sandbox issues and checks them: one store per service (2.x, Barocert).

Lookups are dictionary hits; expired tokens are pruned oldest first as new ones
are issued. The store is not locked: its service's lock guards every change.
"""

from __future__ import annotations

import math
import secrets
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

import attrs

from . import _checks
from ._checks import Headers
from ._rejections import Rejected, Rejection


@attrs.define(slots=True)
class Token:
    link_id: str
    client_code: str
    """The client code it is for; empty for a Barocert token, which is per LinkID."""
    ip: str | None
    """The only IP it may be used from; ``None``: any (``x-lh-forwarded: *``)."""
    expires_at: float
    scope: tuple[str, ...]
    """As asked for, in order (a token's few scopes are searched in a blink)."""

    def grant(self, session_token: str, *, service_id: str, client_ip: str) -> dict[str, Any]:
        """The token call's answer, as Linkhub's auth service gives it."""
        return {
            "session_token": session_token,
            "serviceID": service_id,
            "linkID": self.link_id,
            "usercode": self.client_code,
            "ipaddress": client_ip,
            "expiration": _checks.time_text(self.expires_at),
            "scope": list(self.scope),
        }


class Tokens:
    """Session tokens in the order issued: with one TTL, also the order they expire."""

    def __init__(self) -> None:
        self._tokens: OrderedDict[str, Token] = OrderedDict()

    def issue(
        self,
        *,
        link_id: str,
        client_code: str,
        ip: str | None,
        scope: Iterable[str],
        now: float,
        ttl: float,
    ) -> tuple[str, Token]:
        """A new random session token, good until ``now + ttl`` cut to whole seconds."""
        session_token = secrets.token_urlsafe(32)
        token = Token(link_id, client_code, ip, float(math.floor(now + ttl)), tuple(scope))
        tokens = self._tokens
        while tokens and next(iter(tokens.values())).expires_at <= now:
            tokens.popitem(last=False)
        tokens[session_token] = token
        return session_token, token

    def revoke(self) -> int:
        """Forget every token; returns how many there were."""
        revoked = len(self._tokens)
        self._tokens.clear()
        return revoked

    def check(self, headers: Headers, client_ip: str, now: float) -> Token:
        """The token of ``Authorization: Bearer <token>``: issued here (and not revoked),
        not expired, used from its IP."""
        token = self._tokens.get(_checks.bearer(headers))
        if token is None:
            raise Rejected(Rejection.TOKEN_UNKNOWN)
        if now >= token.expires_at:
            raise Rejected(Rejection.TOKEN_EXPIRED)
        if token.ip is not None and token.ip != client_ip:
            raise Rejected(Rejection.TOKEN_IP_MISMATCH)
        return token
