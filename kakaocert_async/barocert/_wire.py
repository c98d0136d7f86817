"""Barocert on the wire: the models on the package's one converter, request bodies, paths.

Importing this module registers the Barocert models, by the wire names on their
fields, on ``kakaocert_async._wire.converter`` (so its strict scalar hooks and
Korea-time datetimes apply). Request bodies carry exactly the fields the protocol
note marks encrypted as AES-256-GCM ciphertexts (a fresh IV each), the rest plain;
absent optional fields are left out.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from kakaocert_async import _wire
from kakaocert_async._errors import MalformedResponse
from kakaocert_async._models import WIRE
from kakaocert_async._validation import path_value
from kakaocert_async._wire import WireError

from . import _crypto
from ._kinds import KINDS
from ._models import (
    ENCRYPTED,
    LoginVerification,
    MultiSignVerification,
    Receipt,
    Request,
    SignDocument,
    State,
    Status,
    Verification,
)

if TYPE_CHECKING:
    import cattrs

SCOPE = ("partner", "401", "402", "403", "404", "405")
"""The scopes of a Barocert Kakao token, as the official SDK asks for them."""
ACCESS_ID = ""
"""A Barocert token is per LinkID: its ``access_id`` is empty."""
ENCRYPTION_MODE = "GCM"
"""``x-bc-encryptionmode``: how the encrypted fields are encrypted."""

VerifiedT = TypeVar("VerifiedT", Verification, MultiSignVerification, LoginVerification)


def decode_verification(body: bytes, cls: type[VerifiedT], *, about: str, label: str) -> VerifiedT:
    """A verify answer about ``about`` (a receipt id, or a login's tx id).

    Read whole if it fits; if some other field does not (a type the service
    changed, a state this SDK reads otherwise), read again from the id and the
    signed data alone, the rest left out: the service answers a verify once, and
    its signed data must not be lost to a field the caller may not even need. A
    :class:`~kakaocert_async.MalformedResponse` (the whole reading's) if even
    those do not fit, or if the answer is about another receipt.
    """
    field = "tx_id" if cls is LoginVerification else "receipt_id"
    try:
        return _wire.decode_about(body, cls, about=about, label=label, field=field)
    except MalformedResponse as whole:
        failure = whole
    with contextlib.suppress(WireError):  # (raised below, not chained to this one)
        data = _wire.loads(body)
        if isinstance(data, dict):
            # What it cannot do without (the id and the signed data): its fields with no default.
            essential = [f.metadata[WIRE] for f in attrs.fields(cls) if f.default is attrs.NOTHING]
            data = {key: data[key] for key in essential if key in data}
        result = _wire.structure(data, cls)
        if getattr(result, field) == about:
            return result
    raise failure


# Hooks -------------------------------------------------------------------------


def _structure_state(value: object, _: object) -> State:
    # An int on the wire; the .NET SDK types a verify answer's state as a string, so
    # a string of digits is taken too. State() keeps values it does not know. (A verify
    # answer's State | None: cattrs's Optional hook, null as None, the rest to this one.)
    if type(value) is str and value.isascii() and value.isdigit():
        return State(int(value))
    if type(value) is not int:
        raise WireError(f"expected a state number, got {type(value).__name__}")
    return State(value)


def _state_hooks(converter: cattrs.Converter) -> None:
    converter.register_structure_hook(State, _structure_state)


_wire.setup(_state_hooks)
# SignDocument first: MultiSignRequest's hooks take its hooks as they are then.
_wire.register(SignDocument, request=True)
for _kind in KINDS:
    _wire.register(_kind.request, request=True)
for _answer in (Receipt, Status, Verification, MultiSignVerification, LoginVerification):
    _wire.register(_answer)


# Encrypted fields ----------------------------------------------------------------


def map_encrypted(
    cls: type[Any], data: dict[str, Any], transform: Callable[[str, str], str], *, at: str = ""
) -> None:
    """Replace, in ``data`` (a body of ``cls`` in wire names), every encrypted field's
    string value by ``transform(value, wire_path)``, documents included
    (``tokens[2].token``). Values that are not strings, and shapes that do not fit,
    are left for the converter to refuse."""
    for field in attrs.fields(cls):
        wire = field.metadata[WIRE]
        value = data.get(wire)
        if field.metadata.get(ENCRYPTED) and isinstance(value, str):
            data[wire] = transform(value, at + wire)
        elif field.name == "documents" and isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, dict):
                    map_encrypted(SignDocument, item, transform, at=f"{at}{wire}[{index}].")


def encode_request(request: Request, cipher: _crypto.Cipher) -> bytes:
    """The body of ``POST /KAKAO/<kind>/<clientCode>``: plaintext fields as given, the
    encrypted ones encrypted with a fresh IV each, absent optional fields left out."""
    body: dict[str, Any] = _wire.get_converter().unstructure(request)
    map_encrypted(type(request), body, lambda value, _: cipher.encrypt(value))
    return _wire.dumps(body)


# Paths ---------------------------------------------------------------------------


def login_verify_path(client_code: str, tx_id: str) -> str:
    """The tx id is free-form: appended as the official SDK appends it (``+``, ``/``,
    ``=`` as given), by the rule of every path value (the HMAC signs the path as sent)."""
    code, tx = path_value(client_code, "client_code"), path_value(tx_id, "tx_id")
    return f"/KAKAO/Login/Verify/{code}/{tx}"
