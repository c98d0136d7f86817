"""Barocert's checks of one HTTP request, as pure functions that raise :class:`Rejected`.

The ``x-bc-*`` headers, the path's client code and receipt id, and request bodies:
every encrypted field is decrypted with the SecretKey (a plaintext where a
ciphertext is due is refused), then the body is structured by the package's own
converter, so the model's validators apply the same limits the SDK checks.
"""

from __future__ import annotations

from typing import Any, TypeVar

import cattrs

from kakaocert_async import _signing, _validation, _wire
from kakaocert_async._errors import ValidationError
from kakaocert_async.barocert import _crypto
from kakaocert_async.barocert import _validation as barocert_validation
from kakaocert_async.barocert import _wire as barocert_wire
from kakaocert_async.barocert._models import REQUEST_OF, Kind, SignDocument

from . import _checks
from ._checks import Headers
from ._rejections import Rejected, Rejection

T = TypeVar("T")

VERSION = _signing.BAROCERT_API_VERSION


def version(headers: Headers, *names: str) -> None:
    """One of ``names`` is sent, and every one sent says ``2.1``."""
    sent = [headers.get(name) for name in names if headers.get(name) is not None]
    if not sent or any(value != VERSION for value in sent):
        raise Rejected(Rejection.BC_VERSION, f"{' or '.join(names)}: {VERSION}")


BC_DATE = _checks.DateHeader(
    "x-bc-date",
    Rejection.BC_DATE_MISSING,
    Rejection.BC_DATE_MALFORMED,
    Rejection.BC_DATE_SKEWED,
)


def date(headers: Headers, now: float, tolerance: float) -> str:
    """``x-bc-date``, well formed and within ``tolerance`` seconds of ``now``."""
    return _checks.date(headers, now, tolerance, header=BC_DATE)


def signature(headers: Headers) -> str:
    """The bare base64 HMAC of ``x-bc-auth`` (no LinkID, unlike 2.x's ``x-kc-auth``)."""
    parts = headers.get("x-bc-auth", "").split()
    if len(parts) != 1:
        raise Rejected(Rejection.BC_AUTH_MISSING)
    return parts[0]


def client_code(value: str) -> None:
    try:
        _validation.check_client_code(value)
    except ValidationError:
        raise Rejected(Rejection.BC_CLIENT_CODE_INVALID) from None


def receipt_id(value: str) -> None:
    try:
        barocert_validation.check_receipt_id(value)
    except ValidationError:
        raise Rejected(Rejection.BC_RECEIPT_ID_INVALID) from None


def encryption_mode(headers: Headers) -> None:
    if headers.get("x-bc-encryptionmode") != barocert_wire.ENCRYPTION_MODE:
        raise Rejected(Rejection.BC_ENCRYPTION_MODE)


def request(kind: Kind, data: dict[str, Any], cipher: _crypto.Cipher | None) -> Any:
    """A request body of ``kind``: its fields decrypted, structured into the plaintext
    model; the first encrypted field that does not decrypt, or the first bad field."""
    cls = REQUEST_OF[kind]
    documents = _documents(data) if kind is Kind.MULTI_SIGN else []

    def decrypt(value: str, path: str) -> str:
        if cipher is None:
            detail = "the sandbox's SecretKey is not an AES-256 key (32 bytes)"
            raise Rejected(Rejection.BC_CIPHERTEXT_INVALID, detail, field=path)
        try:
            return cipher.decrypt(value)
        except _crypto.DecryptionError as exc:
            raise Rejected(Rejection.BC_CIPHERTEXT_INVALID, str(exc), field=path) from None

    barocert_wire.map_encrypted(cls, data, decrypt)
    for index, document in enumerate(documents):
        _structure(SignDocument, document, at=f"tokens[{index}].")
    return _structure(cls, data)


def _documents(data: dict[str, Any]) -> list[dict[str, Any]]:
    """A multi-sign body's ``tokens``: a list of objects (checked here, so a refusal can
    name the document), each titled ``signTitle`` or, as older SDKs send, ``reqTitle``."""
    tokens = data.get("tokens")
    if tokens is None:
        return []
    if not isinstance(tokens, list):
        # cattrs would take a string as a sequence of one-letter documents.
        raise Rejected(Rejection.FIELD_TYPE, "expected a list of documents", field="tokens")
    for index, item in enumerate(tokens):
        if not isinstance(item, dict):
            raise Rejected(Rejection.FIELD_TYPE, "expected an object", field=f"tokens[{index}]")
        if "signTitle" not in item and "reqTitle" in item:
            item["signTitle"] = item.pop("reqTitle")
    return tokens


def _structure(cls: type[T], data: dict[str, Any], *, at: str = "") -> T:
    names = _wire.wire_names(cls)
    try:
        return _wire.converter.structure(data, cls)
    except cattrs.BaseValidationError as exc:
        failures, others = exc.group_exceptions()
        if failures:
            error, note = failures[0]
            wire = names.get(str(note.name), str(note.name))
            if isinstance(error, KeyError) or data.get(wire) is None:
                raise Rejected(Rejection.FIELD_MISSING, field=at + wire) from None
            if not isinstance(error, ValidationError):
                raise Rejected(Rejection.FIELD_TYPE, str(error), field=at + wire) from None
        else:
            error = others[0]
        refusal = error
    except ValidationError as exc:  # a rule across fields (__attrs_post_init__)
        refusal = exc
    if not isinstance(refusal, ValidationError):
        raise Rejected(Rejection.FIELD_TYPE, str(refusal), field=at or None)
    # The rule names the Python field; the answer names the wire field.
    rule = refusal.message.removeprefix(f"{refusal.field}: ")
    wire = names.get(refusal.field, refusal.field)
    raise Rejected(Rejection.FIELD_INVALID, rule, field=at + wire)
