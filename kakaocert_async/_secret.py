"""Values that must never be shown: masked in repr and str, revealed only at the wire.

Error trackers (Sentry, by default) and rich tracebacks record the local
variables of every frame of a failure, and a ``repr`` of each. The SecretKey,
session tokens, signature headers and request bodies (which hold the receiver's
name, phone and birthday) therefore travel through the SDK inside
:class:`Secret`, and only the backend that writes them to the socket calls
:meth:`Secret.reveal`, in a frame that no raised error's traceback includes.

>>> token = Secret("session-token-value")
>>> token, str(token), f"{token}"
(<secret>, '<secret>', '<secret>')
>>> token.reveal()
'session-token-value'
"""

from __future__ import annotations

from typing import Generic, TypeVar

T = TypeVar("T", str, bytes)


class Secret(Generic[T]):
    """A str or bytes that shows as ``<secret>``; compare and hash it like the value."""

    __slots__ = ("_value",)
    _value: T

    def __init__(self, value: T) -> None:
        self._value = value

    def reveal(self) -> T:
        """The value itself: for the wire, and nothing else."""
        return self._value

    def __repr__(self) -> str:
        return "<secret>"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return "<secret>"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Secret):
            return bool(self._value == other._value)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._value)


Headers = dict[str, "str | Secret[str]"]
"""Request headers as the SDK builds them: secret values stay wrapped until the wire."""


def reveal_headers(headers: Headers) -> dict[str, str]:
    """The headers with every :class:`Secret` value revealed (for the backend only)."""
    return {
        name: value.reveal() if isinstance(value, Secret) else value
        for name, value in headers.items()
    }


def reveal_body(body: bytes | Secret[bytes] | None) -> bytes | None:
    return body.reveal() if isinstance(body, Secret) else body
