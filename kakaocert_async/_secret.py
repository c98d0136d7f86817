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

import functools
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import attrs

T = TypeVar("T")


class Secret(Generic[T]):
    """A value that shows as ``<secret>`` (a str, bytes, or a mapping of environment
    variables that holds some); compare and hash it like the value."""

    __slots__ = ("_value",)
    _value: T

    def __init__(self, value: T) -> None:
        self._value = value

    def reveal(self) -> T:
        """The value itself: for the wire, and nothing else."""
        return self._value

    def __repr__(self) -> str:
        return "<secret>"

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


def hide_userinfo(url: object) -> object:
    """``url`` in a :class:`Secret` if it is a string with credentials in it (a proxy's
    ``http://user:password@host``), so that no frame holds the password; else as is."""
    if isinstance(url, str) and "@" in url:
        return Secret(url)
    return url


def total_repr(*classes: type[Any]) -> None:
    """Make the repr (and str) of each class total: an instance its ``__init__`` never
    finished (the ``self`` of a constructor's frame, in a traceback whose locals an error
    tracker or ``traceback.TracebackException(capture_locals=True)`` shows) is
    ``<Name (not built)>`` instead of an ``AttributeError`` that breaks the printing."""
    for cls in classes:
        for name in ("__repr__", "__str__"):
            if name in cls.__dict__:
                setattr(cls, name, _total(cls.__dict__[name]))


def total_reprs_of_module(namespace: dict[str, Any]) -> None:
    """:func:`total_repr` of every attrs class a module defines (``namespace`` is its
    ``globals()``): its models, so that none is left out of the list."""
    module = namespace["__name__"]
    models = {c for c in namespace.values() if isinstance(c, type) and attrs.has(c)}
    total_repr(*(cls for cls in models if cls.__module__ == module))


def _total(show: Callable[[Any], str]) -> Callable[[Any], str]:
    @functools.wraps(show)
    def total(self: Any) -> str:
        try:
            return show(self)
        except Exception:
            return f"<{type(self).__qualname__} (not built)>"

    return total
