"""Barocert's field encryption (AES-256-GCM with the SecretKey) and its token hashes.

The layout, from the protocol note (§3): the key is the SecretKey's raw 32 bytes,
used as is; every value gets 12 fresh random IV bytes; there is no associated
data; the 16-byte tag follows the ciphertext; the wire carries standard base64
(padded) of ``IV ‖ ciphertext ‖ tag``. Known-answer tests pin it to the note's
vector. ``cryptography`` does the AES.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kakaocert_async._secret import Secret

KEY_SIZE = 32
"""AES-256: the SecretKey must decode to exactly this many bytes."""
IV_SIZE = 12
TAG_SIZE = 16

_CHUNK = 1 << 20


class DecryptionError(ValueError):
    """A value that is not a ciphertext of this key (not base64, too short, or its tag
    does not match: plaintext, another key, or tampered)."""


class Cipher:
    """Encrypts and decrypts Barocert fields with one partner's key. Never shows the key.

    >>> cipher = Cipher(bytes(32))
    >>> cipher.decrypt(cipher.encrypt("01012341234"))
    '01012341234'
    """

    __slots__ = ("_aead",)

    def __init__(self, key: bytes | Secret[bytes]) -> None:
        secret = key if isinstance(key, Secret) else Secret(key)
        del key  # a refused key's traceback must not show it
        size = len(secret.reveal())
        if size != KEY_SIZE:
            raise ValueError(
                f"an AES-256 key is {KEY_SIZE} bytes (a SecretKey of 44 base64 characters),"
                f" got {size} bytes"
            )
        self._aead = AESGCM(secret.reveal())

    def __repr__(self) -> str:
        return "<Cipher AES-256-GCM>"

    def encrypt(self, plaintext: str, *, iv: bytes | None = None) -> str:
        """``base64(IV ‖ AES-256-GCM(plaintext as UTF-8) ‖ tag)`` with a fresh random IV.

        ``iv`` is for known-answer tests only: an IV must never be used twice with a key.
        """
        if iv is None:
            iv = os.urandom(IV_SIZE)
        elif len(iv) != IV_SIZE:
            raise ValueError(f"the IV is {IV_SIZE} bytes")
        sealed = self._aead.encrypt(iv, plaintext.encode("utf-8"), None)
        return base64.b64encode(iv + sealed).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        """The plaintext of :meth:`encrypt`'s output; :class:`DecryptionError` otherwise.

        The error says what is wrong with the value's form, never its content.
        """
        try:
            raw = base64.b64decode(ciphertext.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            raise DecryptionError("not base64: a plaintext where a ciphertext is due?") from None
        if len(raw) < IV_SIZE + TAG_SIZE:
            raise DecryptionError(
                f"too short for IV and tag ({len(raw)} < {IV_SIZE + TAG_SIZE} bytes)"
            )
        try:
            plain = self._aead.decrypt(raw[:IV_SIZE], raw[IV_SIZE:], None)
        except InvalidTag:
            raise DecryptionError(
                "the GCM tag does not match: encrypted with another key, or altered"
            ) from None
        try:
            return plain.decode("utf-8")
        except UnicodeDecodeError:
            raise DecryptionError("the plaintext is not UTF-8") from None


def _base64url(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def hash_text(text: str) -> str:
    """The token of a ``TokenType.HASH`` request for a text: base64url (no padding) of
    SHA-256 of its UTF-8 bytes, 43 characters.

    >>> hash_text("abc")
    'ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0'

    Args:
        text: The text the receiver signs.

    Returns:
        The token (``SignRequest.token`` with ``token_type=TokenType.HASH``).

    Raises:
        TypeError: ``text`` is not a ``str``.
    """
    if not isinstance(text, str):
        raise TypeError(f"hash_text takes a str, got {type(text).__name__}; use hash_file")
    return _base64url(hashlib.sha256(text.encode("utf-8")).digest())


def hash_file(file: bytes | str | os.PathLike[str] | BinaryIO) -> str:
    """The token of a ``TokenType.HASH`` request for a document: base64url (no padding)
    of SHA-256 of its bytes, 43 characters.

    ``file`` is the document's bytes, a path to it (``str`` or ``PathLike``: a ``str``
    is always a path here; use :func:`hash_text` for text), or a binary file object
    read from where it stands. Reading is synchronous; for a large file in async
    code, run it in a thread (``await asyncio.to_thread(hash_file, path)``).

    Args:
        file: The document: its bytes, its path, or a binary file object.

    Returns:
        The token (``SignRequest.token`` with ``token_type=TokenType.HASH``).

    Raises:
        TypeError: ``file`` is none of those, or a file opened in text mode.
        OSError: The file cannot be read.
    """
    if isinstance(file, bytes | bytearray | memoryview):
        return _base64url(hashlib.sha256(file).digest())
    if isinstance(file, str | os.PathLike):
        with open(file, "rb") as stream:
            return _hash_stream(stream)
    if hasattr(file, "read"):
        return _hash_stream(file)
    raise TypeError(f"hash_file takes bytes, a path or a binary file, got {type(file).__name__}")


def _hash_stream(stream: BinaryIO) -> str:
    digest = hashlib.sha256()
    while chunk := stream.read(_CHUNK):
        if not isinstance(chunk, bytes):
            raise TypeError("hash_file needs a file opened in binary mode ('rb')")
        digest.update(chunk)
    return _base64url(digest.digest())
