"""How Barocert authenticates: one token per LinkID, ``x-bc-*`` headers, the HMAC over the path.

The :class:`~kakaocert_async._session.Dialect` of Barocert, for the session every
client shares (token cache, server clock, the one 401 path). What differs from
KakaoCert 2.x (protocol note §1, §2, §5):

- the token is asked for at ``/BAROCERT/Token`` with an empty ``access_id`` and
  the scopes ``partner,401..405``, so one token serves every client code;
- a GET carries ``x-pb-version: 2.1`` and the bearer token, nothing signed;
- a POST carries ``x-bc-date``, ``x-bc-version: 2.1``, ``x-bc-auth`` (the bare
  HMAC of ``POST``, the body's hash unless it is empty, the date and the path as
  sent) and ``x-bc-encryptionmode: GCM``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from kakaocert_async import _signing
from kakaocert_async._hints import Generation
from kakaocert_async._secret import Secret
from kakaocert_async._session import Dialect

from . import _crypto
from ._wire import ACCESS_ID, ENCRYPTION_MODE, SCOPE


class Barocert(Dialect):
    """Barocert's Kakao service: a token per LinkID, ``x-bc-auth`` over body, date and path."""

    generation: Generation = "barocert"
    token_path = _signing.BAROCERT_TOKEN_PATH
    scope: tuple[str, ...] = SCOPE
    key_check: ClassVar[Callable[[Secret[bytes]], object] | None] = _crypto.Cipher
    """The SecretKey is the AES-256 key too: 32 bytes, or the client is refused."""
    get_fields: ClassVar[dict[str, str]] = {"x-pb-version": _signing.BAROCERT_API_VERSION}
    post_fields: ClassVar[dict[str, str]] = {
        "x-bc-version": _signing.BAROCERT_API_VERSION,
        "Content-Type": "application/json; charset=utf8",
        "x-bc-encryptionmode": ENCRYPTION_MODE,
    }
    date_header = "x-bc-date"
    auth_header = "x-bc-auth"

    def subject(self, client_code: str) -> str:
        # Not bound to a client code: the cache holds one token for the LinkID.
        return ACCESS_ID

    def signature(self, body: bytes, date: str, path: str) -> Secret[str]:
        return Secret(self._credentials.hmac(_signing.barocert_target(body, date, path)))
