"""The sandbox's settings and its documented, made-up default credentials."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable, Iterable
from math import isfinite
from typing import Any, TypedDict

import attrs

from kakaocert_async import _kinds, _signing, _validation
from kakaocert_async._errors import ValidationError
from kakaocert_async._secret import total_repr

DEFAULT_LINK_ID = "SANDBOX"
"""The LinkID the sandbox accepts unless told otherwise."""
DEFAULT_SECRET_KEY_BYTES = b"kakaocert-async: not a real key."
"""The raw key behind :data:`DEFAULT_SECRET_KEY`; public, so worthless outside the sandbox.
32 bytes, as a real SecretKey's: Barocert uses it as an AES-256 key too."""
DEFAULT_SECRET_KEY = base64.b64encode(DEFAULT_SECRET_KEY_BYTES).decode("ascii")
"""The SecretKey the sandbox accepts unless told otherwise (base64)."""
DEFAULT_CLIENT_CODE = "020040000001"
"""The client code the documentation uses (the official SDKs' examples use it too).
Any other 12-digit code is accepted as well, as if it were registered."""
DEFAULT_CLIENT_NAME = "샌드박스 이용기관"
DEFAULT_TOKEN_TTL = 3600.0
DEFAULT_SIGN_AFTER = 1.0
"""Seconds after a request until the sandbox's receiver signs it, unless told otherwise:
soon enough that a test awaiting a signature passes without configuration (within
one poll of ``await_signed``), late enough that a request is seen pending first, as
on the real service. ``None`` signs only on command (``sandbox.sign``)."""
DATE_TOLERANCE = 300.0
"""An ``x-lh-date`` may be this many seconds off the sandbox clock, either way."""
Clock = Callable[[], float]


def _check_link_id(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    _validation.check_text(attribute.name, value, max_length=100)
    assert isinstance(value, str)
    if value != value.strip() or " " in value:
        raise ValidationError(attribute.name, "must not contain spaces")


def _check_secret_key(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str):
        raise ValidationError(attribute.name, "must be a string (base64)")
    try:
        _signing.decode_secret_key(value)
    except ValueError:
        raise ValidationError(attribute.name, "must be base64 of the raw key") from None


def _seconds(*, at_least: float | None = None, optional: bool = False) -> _validation.Validator:
    """A finite number of seconds, not below ``at_least`` (``None`` too if ``optional``)."""

    def validate(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is None and optional:
            return
        if isinstance(value, bool) or not isinstance(value, int | float) or not isfinite(value):
            raise ValidationError(attribute.name, "must be a finite number of seconds")
        if at_least is not None and value < at_least:
            raise ValidationError(attribute.name, f"must be at least {at_least:g} seconds")

    return validate


HOST_PATTERN = re.compile(r"(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::([0-9]{1,5}))?")
"""A ``Host`` header, or an ``allowed_hosts`` entry: a name or address, an optional port."""


def split_host(text: str) -> tuple[str, int | None] | None:
    """``name[:port]`` as (lower-case name, port or ``None``); ``None`` if it is not one."""
    match = HOST_PATTERN.fullmatch(text.strip().lower())
    if match is None:
        return None
    return match[1], None if match[2] is None else int(match[2])


def _hosts(value: object) -> tuple[str, ...]:
    """``allowed_hosts``: one name or many, as a tuple of lower-case strings."""
    hosts = (value,) if isinstance(value, str) else value
    hosts = tuple(hosts) if isinstance(hosts, Iterable) else (hosts,)
    if not all(isinstance(h, str) and split_host(h) for h in hosts):
        raise ValidationError("allowed_hosts", "must be host names, each NAME or NAME:PORT")
    return tuple(h.strip().lower() for h in hosts)


def _check_clock(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not callable(value):
        raise ValidationError(attribute.name, "must be a callable returning epoch seconds")


@_validation.frameless_errors  # its ValidationError shows no frame holding the key
@attrs.frozen(kw_only=True)
class Settings:
    """How the sandbox behaves. Every field has a documented default.

    Built, it is checked: a field out of its limits raises
    :class:`~kakaocert_async.ValidationError` naming it.

    Attributes:
        link_id: The partner LinkID it accepts (:data:`DEFAULT_LINK_ID`).
        secret_key: The partner SecretKey it checks signatures with (base64;
            :data:`DEFAULT_SECRET_KEY`).
        client_code: The client code to use by default (:data:`DEFAULT_CLIENT_CODE`);
            any 12-digit code is accepted.
        client_name: ``clientName`` in every state.
        token_ttl: Seconds a session token is good for (its expiration is cut to whole
            seconds); 3600 by default.
        sign_after: Seconds after a request until the receiver "signs" it
            (:data:`DEFAULT_SIGN_AFTER`, 1 s); ``None``: only on command.
        clock_offset: Seconds added to ``clock()`` for the sandbox's own clock (``GET
            /Time`` reports it).
        clock: Epoch seconds; inject one to move time in tests.
        date_tolerance: Seconds an ``x-lh-date`` may be off the sandbox clock (300 by
            default).
        required_scope: The scope a token needs for the e-sign (SignToken) calls: e-sign's
            own, 310, unless told otherwise (every other kind's is its own: 320
            identity, 330 CMS, 401 to 405 Barocert's).
        allowed_hosts: More names the control routes and the phone answer to, as
            ``Host``: ``NAME`` (any port) or ``NAME:PORT``. The address served on, and
            ``localhost`` when it is a loopback one, need no entry. For a sandbox
            reached by another name (a container, a proxy).
        double_slash_signatures: App to App signatures hold ``//`` (start ``+///``), as
            some standard base64 does.
    """

    link_id: str = attrs.field(default=DEFAULT_LINK_ID, validator=_check_link_id)
    secret_key: str = attrs.field(
        default=DEFAULT_SECRET_KEY, validator=_check_secret_key, repr=False
    )
    client_code: str = attrs.field(
        default=DEFAULT_CLIENT_CODE, validator=_validation.by(_validation.check_client_code)
    )
    client_name: str = attrs.field(default=DEFAULT_CLIENT_NAME, validator=_validation.text(80))
    token_ttl: float = attrs.field(default=DEFAULT_TOKEN_TTL, validator=_seconds(at_least=1.0))
    sign_after: float | None = attrs.field(
        default=DEFAULT_SIGN_AFTER, validator=_seconds(at_least=0.0, optional=True)
    )
    clock_offset: float = attrs.field(default=0.0, validator=_seconds())
    clock: Clock = attrs.field(default=time.time, validator=_check_clock, repr=False)
    date_tolerance: float = attrs.field(default=DATE_TOLERANCE, validator=_seconds(at_least=0.0))
    required_scope: str = attrs.field(default=_kinds.ESIGN.scope, validator=_validation.text(20))
    allowed_hosts: tuple[str, ...] = attrs.field(default=(), converter=_hosts)
    double_slash_signatures: bool = attrs.field(
        default=False, validator=_validation.by(_validation.check_bool)
    )

    @property
    def key(self) -> bytes:
        """The raw HMAC key of :attr:`secret_key`."""
        return _signing.decode_secret_key(self.secret_key)

    def now(self) -> float:
        """The sandbox clock, in epoch seconds.

        Returns:
            ``clock()`` plus ``clock_offset``.
        """
        return self.clock() + self.clock_offset


class SettingsOptions(TypedDict, total=False):
    """The keyword arguments of ``Sandbox(...)`` but ``secret_key`` (which it takes
    apart, to keep it out of tracebacks) and ``faults``: the other :class:`Settings`
    fields, each defaulting as there."""

    link_id: str
    client_code: str
    client_name: str
    token_ttl: float
    sign_after: float | None
    clock_offset: float
    clock: Clock
    date_tolerance: float
    required_scope: str
    allowed_hosts: Iterable[str]
    double_slash_signatures: bool


total_repr(Settings)  # a half-built one's repr does not raise
