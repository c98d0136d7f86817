"""Linkhub request signatures: the HMAC targets of the protocol, and their keys.

Pure functions, shared by the client (which signs) and the sandbox (which checks).
Known-answer tests pin them to values computed by ``openssl``.
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


def linkhub_target(
    body: bytes, date: str, *, forwarded: str | None = None, path: str = TOKEN_PATH
) -> str:
    """What ``Authorization: LINKHUB <LinkID> <hmac>`` signs on a Linkhub token request
    (``POST /KAKAOCERT/Token`` by default; Barocert's is ``/BAROCERT/Token``)."""
    forwarded_line = f"{forwarded}\n" if forwarded is not None else ""
    return f"POST\n{sha256_b64(body)}\n{date}\n{forwarded_line}{API_VERSION}\n{path}"


def token_target(body: bytes, date: str, *, forwarded: str | None = None) -> str:
    """What ``Authorization: LINKHUB <LinkID> <hmac>`` signs on ``POST /KAKAOCERT/Token``."""
    return linkhub_target(body, date, forwarded=forwarded)


def request_target(body: bytes, date: str) -> str:
    """What ``x-kc-auth: <LinkID> <hmac>`` signs on ``POST /SignToken/Request`` (no path line)."""
    return f"POST\n{sha256_b64(body)}\n{date}\n{API_VERSION}\n"


def same_signature(expected: str, given: str) -> bool:
    """Compare two signatures in constant time."""
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))
