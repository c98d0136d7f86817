"""Barocert's input rules (protocol note §2 and §6), on top of the shared ones.

Where the note gives no limit, a field is checked for type and emptiness only
(and, being text, for characters that cannot be sent). Every check raises
:class:`ValidationError` naming the field and never echoing the value.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any

import attrs

from kakaocert_async import _validation as v
from kakaocert_async._errors import ValidationError

MAX_DOCUMENTS = 20
"""Multi-sign: at most this many documents per request."""


def check_receipt_id(value: object, field: str = "receipt_id") -> None:
    """A Barocert receipt id: exactly 32 ASCII digits, so it can never change a URL path."""
    v.check_digits(field, value, 32, 32, "exactly 32 digits (접수아이디)")


def to_member(kind: type[enum.Enum], value: object) -> object:
    """An attrs converter's body for an enum field: a member's value becomes the member;
    anything else is left for the field's validator to refuse by name."""
    if isinstance(value, str) and not isinstance(value, kind):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def documents(item: type[Any]) -> v.Validator:
    """A multi-sign document list: 1 to :data:`MAX_DOCUMENTS` ``item`` objects."""

    def validate(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, tuple):
            kind = type(value).__name__
            raise ValidationError(attribute.name, f"must be a list of {item.__name__}, got {kind}")
        count = len(value)
        if not 1 <= count <= MAX_DOCUMENTS:
            raise ValidationError(
                attribute.name, f"must hold 1 to {MAX_DOCUMENTS} documents, got {count}"
            )
        for index, document in enumerate(value):
            if not isinstance(document, item):
                raise ValidationError(
                    f"{attribute.name}[{index}]",
                    f"must be a {item.__name__}, got {type(document).__name__}",
                )

    return validate


def as_tuple(value: object) -> object:
    """Lists and other iterables (not text) become tuples; anything else is left for the
    validator to refuse."""
    if isinstance(value, str | bytes | dict) or not isinstance(value, Iterable):
        return value
    return tuple(value)
