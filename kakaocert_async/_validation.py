"""The input rules of the service manual, checked before anything is sent.

Each check raises :class:`ValidationError` naming the field and the rule it
breaks; it never echoes the value, which may be personal data. The rules come
from the seed manual's lengths and formats; ``attrs`` validators for the model
fields are built from the same checks.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import re
import urllib.parse
from collections.abc import Callable
from typing import Any, TypeVar

import attrs

from ._errors import ValidationError

T = TypeVar("T")

# Every control character (Unicode's Cc: C0, DEL and C1, the CSI of terminal escapes
# among them), except tab, line feed and carriage return, which a message text may
# hold; and lone surrogates, which cannot be sent as UTF-8.
_UNSENDABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# What would change a URL's meaning instead of being part of its path (Linkhub's protocol notes):
# a query, a fragment, a Windows separator (System.Uri turns it into /), a %XX escape
# (read as the character it stands for); and anything a request line cannot hold
# (whitespace of any kind, C0 and C1 controls).
_URL_SYNTAX = re.compile(r"[?#\\]|%[0-9A-Fa-f]{2}")
PATH_AS_GIVEN = "!$&'()*+,;=:@/|^[]"
"""Besides letters, digits and ``-._~``: what a path value carries as given (base64's
``+``, ``/`` and ``=`` among them). Anything else (non-ASCII, ``"``, ``<``, ``>``, a
backquote, ``{``, ``}``, a lone ``%``) is percent-encoded as UTF-8, as .NET's
``System.Uri`` escapes what no URI can hold raw, and the same on both HTTP backends."""
_NOT_IN_A_REQUEST_LINE = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")


def _type_name(value: object) -> str:
    return type(value).__name__


def check_text(field: str, value: object, *, max_length: int | None, required: bool = True) -> None:
    """Check a free-text field: a ``str`` of valid Unicode, no control characters,
    at most ``max_length`` characters (``None``: no limit is known), and not blank
    when ``required``."""
    if not isinstance(value, str):
        raise ValidationError(field, f"must be a string, got {_type_name(value)}")
    if required and (not value or value.isspace()):
        raise ValidationError(field, "is required and must not be empty")
    if max_length is not None and len(value) > max_length:
        raise ValidationError(field, f"must be at most {max_length} characters, got {len(value)}")
    bad = _UNSENDABLE.search(value)
    if bad is not None:
        if "\ud800" <= bad.group() <= "\udfff":
            raise ValidationError(field, "must be valid Unicode text (no lone surrogates)")
        raise ValidationError(field, "must not contain control characters")


HEADER_WORD = re.compile(r"[!-~]+")
"""What a header value may be: a printable ASCII word (a LinkID, a session token)."""


def check_link_id(value: object, field: str = "link_id") -> None:
    """The partner's LinkID: it travels in headers, so printable ASCII without
    spaces (no line breaks, no non-ASCII letters), at most 100 characters."""
    check_text(field, value, max_length=100)
    if not isinstance(value, str) or not HEADER_WORD.fullmatch(value):
        raise ValidationError(
            field, "must be printable ASCII without spaces (it is sent in a header)"
        )


def check_count(
    value: object, field: str, *, at_most: int, at_least: int = 1, unit: str = ""
) -> None:
    """A whole number from ``at_least`` (1 by default) to ``at_most`` (not a bool), of
    ``unit`` if given."""
    of, units = (f" of {unit}", f" {unit}") if unit else ("", "")
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(field, f"must be an int{of}, got {_type_name(value)}")
    if not at_least <= value <= at_most:
        raise ValidationError(
            field, f"must be between {at_least} and {at_most}{units}, got {value}"
        )


def check_digits(field: str, value: object, fewest: int, most: int, rule: str) -> None:
    """A string of ``fewest`` to ``most`` ASCII digits, as ``rule`` says."""
    if not isinstance(value, str):
        raise ValidationError(field, f"must be a string of {rule}, got {_type_name(value)}")
    # (isascii first: isdigit alone also takes '²' and other digit-like signs.)
    if not (value.isascii() and value.isdigit() and fewest <= len(value) <= most):
        raise ValidationError(field, f"must be {rule}")


def check_client_code(value: object, field: str = "client_code") -> None:
    """이용기관코드: exactly 12 ASCII digits."""
    check_digits(field, value, 12, 12, "exactly 12 digits (이용기관코드)")


def check_receipt_id(value: object, field: str = "receipt_id") -> None:
    """접수아이디: 1 to 20 ASCII digits, so it can never change a URL path."""
    check_digits(field, value, 1, 20, "1 to 20 digits (접수아이디)")


def check_phone(value: object, field: str = "receiver_hp") -> None:
    """A mobile number: 10 or 11 ASCII digits, no hyphens."""
    check_digits(field, value, 10, 11, "10 or 11 digits without hyphens")


def check_birthday(value: object, field: str = "receiver_birthday") -> None:
    """A real calendar date written ``YYYYMMDD``, from 1900 and not in the future."""
    check_digits(field, value, 8, 8, "a date written YYYYMMDD")
    assert isinstance(value, str)
    born: dt.date | None = None
    with contextlib.suppress(ValueError):  # raised below, not chained to this one
        born = dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
    if born is None:
        raise ValidationError(field, "must be a real calendar date written YYYYMMDD")
    # A day of slack: the receiver's "today" in Korea may be tomorrow here.
    if born.year < 1900 or born > dt.date.today() + dt.timedelta(days=1):
        raise ValidationError(field, "must be a date between 1900 and today")


def check_expires_in(value: object, field: str = "expires_in") -> None:
    """Seconds until the request expires: an int (not a bool) in 1..1000."""
    check_count(value, field, at_most=1000, unit="seconds")


def check_bool(value: object, field: str) -> None:
    if not isinstance(value, bool):
        raise ValidationError(field, f"must be True or False, got {_type_name(value)}")


def path_value(value: object, field: str) -> str:
    """``value`` as it is appended to a URL path: the one rule for every such value
    (receipt ids, client codes, App to App signatures, login tx ids), in both generations.

    As the official SDKs send it, appended as given (``+``, ``/``, ``=``, ``//``
    included); refused only if it would change the URL's meaning: ``?``, ``#``, ``\\``,
    whitespace, control characters, a ``%`` followed by two hex digits (an escape),
    and a ``.`` or ``..`` segment. What no URI can hold raw is escaped
    (:data:`PATH_AS_GIVEN`), a lone ``%`` as ``%25``. README: "Values in a URL path".
    """
    if not isinstance(value, str):
        raise ValidationError(field, f"must be a string, got {_type_name(value)}")
    if not value:
        raise ValidationError(field, "is required and must not be empty")
    if _URL_SYNTAX.search(value):
        raise ValidationError(
            field, "must not contain ?, #, \\ or a %XX escape (they change the URL)"
        )
    if _NOT_IN_A_REQUEST_LINE.search(value):
        raise ValidationError(field, "must not contain whitespace or control characters")
    if _UNSENDABLE.search(value):  # (controls refused above: only a lone surrogate is left)
        raise ValidationError(field, "must be valid Unicode text (no lone surrogates)")
    if any(segment in {".", ".."} for segment in value.split("/")):
        raise ValidationError(field, "must not have a '.' or '..' segment between its /s")
    return urllib.parse.quote(value, safe=PATH_AS_GIVEN)


def check_seconds(value: object, field: str, *, at_least: float = 0.0, zero: bool = False) -> None:
    """A duration in seconds: a finite real number, above 0 (or 0 itself, with ``zero``)
    and not below ``at_least``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(field, f"must be a number of seconds, got {_type_name(value)}")
    if zero and value == 0:
        return
    if not 0 < value < float("inf"):  # also refuses NaN
        above = "0 or more" if zero else "above 0"
        raise ValidationError(field, f"must be a finite number of seconds {above}")
    if value < at_least:
        raise ValidationError(field, f"must be at least {at_least:g} seconds")


# attrs validators, one per kind of field ------------------------------------

Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]


def text(max_length: int | None, *, required: bool = True, blank: bool | None = None) -> Validator:
    """An attrs validator of :func:`check_text`; ``None`` passes when not ``required``.
    A value given may be blank if ``blank`` (by default: if the field is not ``required``;
    Barocert's optional fields, once given, must not be blank either)."""
    not_blank = required if blank is None else not blank

    def validate(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is None and not required:
            return
        check_text(attribute.name, value, max_length=max_length, required=not_blank)

    return validate


def by(check: Callable[[object, str], None]) -> Validator:
    """An attrs validator that runs ``check(value, field_name)``."""

    def validate(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
        check(value, attribute.name)

    return validate


def frameless_errors(cls: type[T]) -> type[T]:
    """``cls``, its constructor's :class:`ValidationError` raised without the frames that
    hold the arguments (``__init__``'s, attrs', the validators': the receiver's name,
    phone and birthday, which error trackers would record) and without chained errors.

    Apply it above ``@attrs.frozen``: the constructor keeps its signature."""
    init = cls.__init__

    @functools.wraps(init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        try:
            init(self, *args, **kwargs)
            return
        except ValidationError as caught:
            error = caught
        del self, args, kwargs
        error.__cause__ = error.__context__ = None
        error.__suppress_context__ = False
        raise error.with_traceback(None)  # from here: no except block, no argument

    setattr(cls, "__init__", __init__)  # noqa: B010 (mypy refuses assigning a method)
    return cls
