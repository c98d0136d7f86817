"""Barocert on the wire: names on the package's one converter, request bodies, paths.

Importing this module registers the Barocert models on ``kakaocert_async._wire.converter``
(so its strict scalar hooks and Korea-time datetimes apply). Request bodies carry
exactly the fields the protocol note marks encrypted as AES-256-GCM ciphertexts
(a fresh IV each), the rest plain; absent optional fields are left out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import attrs

from kakaocert_async import _wire
from kakaocert_async._errors import MalformedResponse
from kakaocert_async._validation import path_value
from kakaocert_async._wire import WireError

from . import _crypto
from ._models import (
    ENCRYPTED,
    CMSRequest,
    IdentityRequest,
    Kind,
    LoginVerification,
    MultiSignRequest,
    MultiSignVerification,
    Receipt,
    Request,
    SignDocument,
    SignRequest,
    State,
    Status,
    Verification,
)

SCOPE = ("partner", "401", "402", "403", "404", "405")
"""The scopes of a Barocert Kakao token, as the official SDK asks for them."""
ACCESS_ID = ""
"""A Barocert token is per LinkID: its ``access_id`` is empty."""
ENCRYPTION_MODE = "GCM"
"""``x-bc-encryptionmode``: how the encrypted fields are encrypted."""

# Field name -> wire name ----------------------------------------------------

_RECEIVER = {
    "receiver_hp": "receiverHP",
    "receiver_name": "receiverName",
    "receiver_birthday": "receiverBirthday",
}
_MESSAGE = {"req_title": "reqTitle", "extra_message": "extraMessage", "expire_in": "expireIn"}
_APP_TO_APP = {"app_to_app": "appUseYN", "return_url": "returnURL"}

IDENTITY_WIRE_NAMES = {**_RECEIVER, **_MESSAGE, "token": "token", **_APP_TO_APP}
SIGN_WIRE_NAMES = {
    **_RECEIVER,
    "sign_title": "signTitle",
    **_MESSAGE,
    "token": "token",
    "token_type": "tokenType",
    **_APP_TO_APP,
}
DOCUMENT_WIRE_NAMES = {"title": "signTitle", "token": "token"}
MULTI_SIGN_WIRE_NAMES = {
    **_RECEIVER,
    **_MESSAGE,
    "documents": "tokens",
    "token_type": "tokenType",
    **_APP_TO_APP,
}
CMS_WIRE_NAMES = {
    **_RECEIVER,
    **_MESSAGE,
    "request_corp": "requestCorp",
    "bank_name": "bankName",
    "bank_account_num": "bankAccountNum",
    "bank_account_name": "bankAccountName",
    "bank_account_birthday": "bankAccountBirthday",
    "bank_service_type": "bankServiceType",
    **_APP_TO_APP,
}
REQUEST_WIRE_NAMES: dict[type[Any], dict[str, str]] = {
    # SignDocument first: MultiSignRequest's hooks take its hooks as they are then.
    SignDocument: DOCUMENT_WIRE_NAMES,
    IdentityRequest: IDENTITY_WIRE_NAMES,
    SignRequest: SIGN_WIRE_NAMES,
    MultiSignRequest: MULTI_SIGN_WIRE_NAMES,
    CMSRequest: CMS_WIRE_NAMES,
}

RECEIPT_WIRE_NAMES = {"receipt_id": "receiptID", "scheme": "scheme", "kind": "kind"}
"""``kind`` is the client's own note: omitted both ways (see ``_register``)."""
STATUS_WIRE_NAMES = {
    "receipt_id": "receiptID",
    "client_code": "clientCode",
    "state": "state",
    "expire_in": "expireIn",
    "call_center_name": "callCenterName",
    "call_center_num": "callCenterNum",
    "req_title": "reqTitle",
    "sign_title": "signTitle",
    "auth_category": "authCategory",
    "return_url": "returnURL",
    "token_type": "tokenType",
    "request_dt": "requestDT",
    "view_dt": "viewDT",
    "complete_dt": "completeDT",
    "expire_dt": "expireDT",
    "verify_dt": "verifyDT",
    "scheme": "scheme",
    "app_to_app": "appUseYN",
}
_VERIFIED = {
    "state": "state",
    "ci": "ci",
    "receiver_name": "receiverName",
    "receiver_year": "receiverYear",
    "receiver_day": "receiverDay",
    "receiver_hp": "receiverHP",
    "receiver_gender": "receiverGender",
    "receiver_foreign": "receiverForeign",
    "receiver_telco_type": "receiverTelcoType",
}
VERIFICATION_WIRE_NAMES = {**_VERIFIED, "receipt_id": "receiptID", "signed_data": "signedData"}
MULTI_SIGN_VERIFICATION_WIRE_NAMES = {
    **_VERIFIED,
    "receipt_id": "receiptID",
    "multi_signed_data": "multiSignedData",
}
LOGIN_VERIFICATION_WIRE_NAMES = {**_VERIFIED, "tx_id": "txID", "signed_data": "signedData"}

_ESSENTIAL = {
    Verification: ("receiptID", "signedData"),
    MultiSignVerification: ("receiptID", "multiSignedData"),
    LoginVerification: ("txID", "signedData"),
}
"""Per verify answer, the wire names it cannot do without: the id and the signed data."""

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
    try:
        data = _wire.loads(body)
        if isinstance(data, dict):
            data = {key: data[key] for key in _ESSENTIAL[cls] if key in data}
        result: VerifiedT | None = _wire.structure(data, cls)
    except WireError:
        result = None
    if result is not None and getattr(result, field) == about:
        return result
    raise failure


VERIFICATION_OF: dict[Kind, type[Verification] | type[MultiSignVerification]] = {
    Kind.IDENTITY: Verification,
    Kind.SIGN: Verification,
    Kind.MULTI_SIGN: MultiSignVerification,
    Kind.CMS: Verification,
}
"""The class of a verify answer, by kind of receipt."""


# Hooks -------------------------------------------------------------------------


def _structure_state(value: object, _: object) -> State:
    # An int on the wire; the .NET SDK types a verify answer's state as a string, so
    # a string of digits is taken too. State() keeps values it does not know.
    if type(value) is str and value.isascii() and value.isdigit():
        return State(int(value))
    if type(value) is not int:
        raise WireError(f"expected a state number, got {type(value).__name__}")
    return State(value)


def _structure_state_or_null(value: object, _: object) -> State | None:
    return None if value is None else _structure_state(value, State)


def _register() -> None:
    converter = _wire.converter
    converter.register_structure_hook(State, _structure_state)
    converter.register_structure_hook(State | None, _structure_state_or_null)
    converter.register_unstructure_hook(State, int)
    omit_none = {"omit_if_default": True}
    for cls, names in REQUEST_WIRE_NAMES.items():
        optional = {
            field.name: omit_none
            for field in attrs.fields(cls)
            if field.default is None  # optional text: left out when absent
        }
        _wire.register(cls, names, **optional)
    _wire.register(Receipt, RECEIPT_WIRE_NAMES, kind={"omit": True})
    _wire.register(Status, STATUS_WIRE_NAMES)
    _wire.register(Verification, VERIFICATION_WIRE_NAMES)
    _wire.register(MultiSignVerification, MULTI_SIGN_VERIFICATION_WIRE_NAMES)
    _wire.register(LoginVerification, LOGIN_VERIFICATION_WIRE_NAMES)


_register()


# Encrypted fields ----------------------------------------------------------------


def map_encrypted(
    cls: type[Any], data: dict[str, Any], transform: Callable[[str, str], str], *, at: str = ""
) -> None:
    """Replace, in ``data`` (a body of ``cls`` in wire names), every encrypted field's
    string value by ``transform(value, wire_path)``, documents included
    (``tokens[2].token``). Values that are not strings, and shapes that do not fit,
    are left for the converter to refuse."""
    names = REQUEST_WIRE_NAMES[cls]
    for field in attrs.fields(cls):
        wire = names[field.name]
        value = data.get(wire)
        if field.metadata.get(ENCRYPTED) and isinstance(value, str):
            data[wire] = transform(value, at + wire)
        elif field.name == "documents" and isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, dict):
                    map_encrypted(SignDocument, item, transform, at=f"{at}{wire}[{index}].")


def encrypted_paths(request: Request) -> list[str]:
    """The wire paths of the fields that ``request``'s body carries encrypted."""
    paths: list[str] = []

    def note(value: str, path: str) -> str:
        paths.append(path)
        return value

    map_encrypted(type(request), _wire.converter.unstructure(request), note)
    return paths


def encode_request(request: Request, cipher: _crypto.Cipher) -> bytes:
    """The body of ``POST /KAKAO/<kind>/<clientCode>``: plaintext fields as given, the
    encrypted ones encrypted with a fresh IV each, absent optional fields left out."""
    body: dict[str, Any] = _wire.converter.unstructure(request)
    map_encrypted(type(request), body, lambda value, _: cipher.encrypt(value))
    return _wire.dumps(body)


# Paths ---------------------------------------------------------------------------


def login_verify_path(client_code: str, tx_id: str) -> str:
    """The tx id is free-form: appended as the official SDK appends it (``+``, ``/``,
    ``=`` as given), by the rule of every path value (the HMAC signs the path as sent)."""
    code, tx = path_value(client_code, "client_code"), path_value(tx_id, "tx_id")
    return f"/KAKAO/Login/Verify/{code}/{tx}"
