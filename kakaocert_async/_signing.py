"""Linkhub request signatures: the HMAC targets of the protocol, and their keys.

Pure functions, shared by the client (which signs) and the sandbox (which checks),
for both generations: KakaoCert 2.x and Barocert. Known-answer tests pin them to
values computed by ``openssl`` (2.x) and to the protocol note's vectors (Barocert).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

API_VERSION = "2.0"
TOKEN_PATH = "/KAKAOCERT/Token"  # noqa: S105 -- a URL path, not a password
FORWARDED_ANY = "*"
"""The ``x-lh-forwarded`` value that lifts the token's IP restriction."""
BAROCERT_TOKEN_PATH = "/BAROCERT/Token"  # noqa: S105 -- a URL path, not a password
BAROCERT_API_VERSION = "2.1"
"""``x-bc-version`` (POST) and ``x-pb-version`` (GET) of Barocert API calls."""


def decode_secret_key(secret_key: str) -> bytes:
    """The raw HMAC key inside a base64 SecretKey; ``ValueError`` if it is not base64."""
    try:
        key = base64.b64decode("".join(secret_key.split()).encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise ValueError("the secret key is not valid base64") from None
    if not key:
        raise ValueError("the secret key is empty")
    return key


def sha256_b64(body: bytes) -> str:
    """``b64(SHA-256(body))``."""
    return base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def hmac_b64(key: bytes, target: str) -> str:
    """``b64(HMAC-SHA256(key, target as UTF-8))``."""
    return base64.b64encode(hmac.new(key, target.encode("utf-8"), hashlib.sha256).digest()).decode(
        "ascii"
    )


def token_target(
    body: bytes, date: str, *, forwarded: str | None = None, path: str = TOKEN_PATH
) -> str:
    """What ``Authorization: LINKHUB <LinkID> <hmac>`` signs on ``POST /KAKAOCERT/Token``
    (or on the token ``path`` of another Linkhub service)."""
    forwarded_line = f"{forwarded}\n" if forwarded is not None else ""
    return f"POST\n{sha256_b64(body)}\n{date}\n{forwarded_line}{API_VERSION}\n{path}"


def request_target(body: bytes, date: str) -> str:
    """What ``x-kc-auth: <LinkID> <hmac>`` signs on ``POST /SignToken/Request`` (no path line)."""
    return f"POST\n{sha256_b64(body)}\n{date}\n{API_VERSION}\n"


def barocert_target(body: bytes, date: str, path: str) -> str:
    """What ``x-bc-auth: <hmac>`` signs on a Barocert ``POST``: the path (as sent, with
    client code and receipt id) on a line of its own; no hash line for an empty body
    (the verify calls), and no API version."""
    hash_line = f"{sha256_b64(body)}\n" if body else ""
    return f"POST\n{hash_line}{date}\n{path}\n"


def same_signature(expected: str, given: str) -> bool:
    """Compare two signatures in constant time."""
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))
