"""The protocol's checks of one HTTP request, as pure functions that raise :class:`Rejected`.

Headers, dates, the ``<LinkID> <hmac>`` header forms and the JSON bodies of both
generations (Barocert's ``x-bc-*`` headers and path values too; its encrypted fields
are decrypted with the SecretKey, a plaintext where a ciphertext is due refused).
Bodies are structured by the package's own wire converter, so the models'
validators apply the limits the SDK checks, and a refusal names the offending field
by its wire name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeVar, get_args, get_type_hints

import cattrs

from kakaocert_async import _signing, _validation, _wire
from kakaocert_async._errors import ValidationError
from kakaocert_async._kinds import KINDS, AnyKind
from kakaocert_async._models import RequestBase, TokenRequest
from kakaocert_async.barocert import _crypto
from kakaocert_async.barocert import _kinds as barocert_kinds
from kakaocert_async.barocert import _validation as barocert_validation
from kakaocert_async.barocert import _wire as barocert_wire
from kakaocert_async.barocert._models import SignDocument

from ._rejections import Rejected, Rejection
from ._settings import Settings

T = TypeVar("T")
Headers = Mapping[str, str]
"""Request headers; a plain dict must use lower-case names."""

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{3})?Z")
_READ_VERSIONS = ("x-pb-version", "x-lh-version")
"""A GET's version header: the Python SDK sends the first, the .NET SDK the second."""


def _required_wire_names(cls: type[RequestBase[Any]]) -> tuple[str, ...]:
    """The wire fields a body must hold, in the protocol table's order: those whose type
    does not admit ``None``. (``Expires_in``, ``isAllowSimpleRegistYN`` and
    ``isVerifyNameYN`` have defaults in the models, and ``Token`` may come as ``text=``,
    but the manual requires them on the wire, and the client always sends them.)"""
    hints = get_type_hints(cls)
    names = _wire.wire_names(cls).items()
    return tuple(wire for name, wire in names if type(None) not in get_args(hints[name]))


_REQUIRED_WIRE = {kind.request: _required_wire_names(kind.request) for kind in KINDS}


def version(headers: Headers, *names: str, barocert: bool = False) -> None:
    """One of ``names`` is sent, and every one sent says ``2.0`` (``barocert``: ``2.1``)."""
    sent = [headers.get(name) for name in names if headers.get(name) is not None]
    wanted = _signing.BAROCERT_API_VERSION if barocert else _signing.API_VERSION
    if not sent or any(value != wanted for value in sent):
        rejection = Rejection.BC_VERSION if barocert else Rejection.VERSION
        raise Rejected(rejection, f"{' or '.join(names)}: {wanted}")


def read_version(headers: Headers) -> None:
    """A GET carries ``x-pb-version: 2.0`` or ``x-lh-version: 2.0`` (official SDKs send either)."""
    if not any(headers.get(name) == _signing.API_VERSION for name in _READ_VERSIONS):
        raise Rejected(Rejection.VERSION, f"x-pb-version (or x-lh-version): {_signing.API_VERSION}")


def date(headers: Headers, now: float, tolerance: float, *, barocert: bool = False) -> str:
    """``x-lh-date`` (``barocert``: ``x-bc-date``), well formed and within ``tolerance``
    seconds of ``now``; refused with the generation's ``DATE_*`` rejections."""
    prefix = "BC_" if barocert else ""
    value = headers.get("x-bc-date" if barocert else "x-lh-date")
    if value is None:
        raise Rejected(Rejection[f"{prefix}DATE_MISSING"])
    if not _DATE.fullmatch(value):
        raise Rejected(Rejection[f"{prefix}DATE_MALFORMED"])
    try:
        when = _wire.parse_utc(value).timestamp()
    except _wire.WireError:
        raise Rejected(Rejection[f"{prefix}DATE_MALFORMED"]) from None
    if abs(when - now) > tolerance:
        detail = f"{when - now:+.0f} s; tolerance {tolerance:g} s"
        raise Rejected(Rejection[f"{prefix}DATE_SKEWED"], detail)
    return value


def token_call(
    headers: Headers, body: bytes, *, settings: Settings, now: float, path: str
) -> tuple[str, str | None, TokenRequest]:
    """A Linkhub token call to ``path`` (2.x's or Barocert's), checked in order: version,
    date, ``Authorization: LINKHUB <LinkID> <hmac>`` with the known LinkID,
    ``x-lh-forwarded``, the HMAC, the content type and the body. Returns the LinkID,
    ``x-lh-forwarded`` (``None``: the token is bound to the caller's IP) and the body."""
    version(headers, "x-lh-version")
    when = date(headers, now, settings.date_tolerance)
    auth = headers.get("authorization")
    link_id, signature = signed_by(auth, Rejection.LINKHUB_AUTH_MISSING, "LINKHUB")
    if link_id != settings.link_id:
        raise Rejected(Rejection.LINK_ID_UNKNOWN)
    forwarded = headers.get("x-lh-forwarded")
    if forwarded is not None and forwarded != _signing.FORWARDED_ANY:
        raise Rejected(Rejection.FORWARDED_INVALID)
    target = _signing.token_target(body, when, forwarded=forwarded, path=path)
    if not _signing.same_signature(_signing.hmac_b64(settings.key, target), signature):
        raise Rejected(Rejection.TOKEN_HMAC_MISMATCH)
    return link_id, forwarded, token_request(json_object(headers, body))


def signed_by(
    value: str | None, rejection: Rejection, scheme: str | None = None
) -> tuple[str, str]:
    """``[<scheme> ]<LinkID> <signature>`` -> (LinkID, signature)."""
    parts = (value or "").split()
    wanted = 2 if scheme is None else 3
    if len(parts) != wanted or (scheme is not None and parts[0].upper() != scheme):
        raise Rejected(rejection)
    return parts[-2], parts[-1]


def bearer(headers: Headers) -> str:
    """The session token of ``Authorization: Bearer <token>``."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Rejected(Rejection.BEARER_MISSING)
    return token


def json_object(headers: Headers, body: bytes) -> dict[str, Any]:
    """The body as a JSON object, its ``Content-Type`` ``application/json`` (any case,
    parameters ignored)."""
    media_type = headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "application/json":
        raise Rejected(Rejection.CONTENT_TYPE)
    try:
        data = _wire.loads(body)
    except _wire.WireError as exc:
        raise Rejected(Rejection.BODY_MALFORMED, str(exc)) from None
    if not isinstance(data, dict):
        raise Rejected(Rejection.BODY_MALFORMED, f"got a JSON {type(data).__name__}")
    return data


def token_request(data: dict[str, Any]) -> TokenRequest:
    """A token request body: ``{"access_id": str, "scope": [str, ...]}``."""
    # cattrs would take a string as a sequence of one-letter scopes.
    if not isinstance(data.get("scope"), list):
        raise Rejected(Rejection.TOKEN_BODY_INVALID, "scope must be a list of strings")
    try:
        return _wire.structure(data, TokenRequest)
    except _wire.WireError as exc:
        raise Rejected(Rejection.TOKEN_BODY_INVALID, str(exc)) from None


def barocert_signature(headers: Headers) -> str:
    """The bare base64 HMAC of ``x-bc-auth`` (no LinkID, unlike 2.x's ``x-kc-auth``)."""
    parts = headers.get("x-bc-auth", "").split()
    if len(parts) != 1:
        raise Rejected(Rejection.BC_AUTH_MISSING)
    return parts[0]


def client_code(value: str) -> None:
    """A Barocert path's client code: 12 digits."""
    try:
        _validation.check_client_code(value)
    except ValidationError:
        raise Rejected(Rejection.BC_CLIENT_CODE_INVALID) from None


def receipt_id(kind: AnyKind, value: str) -> None:
    """A receipt id of ``kind``'s generation: 1 to 20 digits (2.x), 32 (Barocert)."""
    barocert = kind.generation == "barocert"
    check = barocert_validation if barocert else _validation
    try:
        check.check_receipt_id(value)
    except ValidationError:
        invalid = Rejection.BC_RECEIPT_ID_INVALID if barocert else Rejection.RECEIPT_ID_INVALID
        raise Rejected(invalid) from None


def encryption_mode(headers: Headers) -> None:
    if headers.get("x-bc-encryptionmode") != barocert_wire.ENCRYPTION_MODE:
        raise Rejected(Rejection.BC_ENCRYPTION_MODE)


def sign_request(data: dict[str, Any], kind: AnyKind) -> tuple[RequestBase[Any], bool]:
    """A 2.x request body of ``kind``: its request model and the App to App flag, or the
    first bad field. A kind without App to App takes ``isAppUseYN`` only if false."""
    cls: type[RequestBase[Any]] = kind.request
    for wire in _REQUIRED_WIRE[cls]:
        if data.get(wire) is None:
            # Before structuring: a model's default must not stand in for a missing field.
            raise Rejected(Rejection.FIELD_MISSING, field=wire)
    request = structure(cls, data)
    app_to_app = data.get(_wire.APP_TO_APP)
    if app_to_app is None:
        return request, False
    if type(app_to_app) is not bool:
        raise Rejected(Rejection.FIELD_TYPE, "expected true or false", field=_wire.APP_TO_APP)
    if app_to_app and not kind.app_to_app:
        raise Rejected(
            Rejection.FIELD_INVALID, "no App to App for this request", field=_wire.APP_TO_APP
        )
    return request, app_to_app


def barocert_request(kind: AnyKind, data: dict[str, Any], cipher: _crypto.Cipher | None) -> Any:
    """A Barocert request body of ``kind``: its fields decrypted, structured into the
    plaintext model; the first encrypted field that does not decrypt, or the first bad
    field."""
    cls = kind.request
    documents = _documents(data) if kind is barocert_kinds.MULTI_SIGN else []

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
        structure(SignDocument, document, at=f"tokens[{index}].")
    return structure(cls, data)


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


def structure(cls: type[T], data: dict[str, Any], *, at: str = "") -> T:
    """``data`` structured into ``cls``, or the refusal of its first bad field, named by
    its wire name after ``at``."""
    names = _wire.wire_names(cls)
    try:
        return _wire.converter.structure(data, cls)
    except cattrs.BaseValidationError as exc:
        failures, others = exc.group_exceptions()
        # Not a field's hook's: the constructor's (a validator's, or a rule across
        # fields: __attrs_post_init__), which cattrs wraps too.
        refusal = failures[0][0] if failures else others[0]
        if failures:
            wire = names.get(str(failures[0][1].name), str(failures[0][1].name))
            if isinstance(refusal, KeyError) or data.get(wire) is None:
                raise Rejected(Rejection.FIELD_MISSING, field=at + wire) from None
            if not isinstance(refusal, ValidationError):
                raise Rejected(Rejection.FIELD_TYPE, str(refusal), field=at + wire) from None
    if not isinstance(refusal, ValidationError):
        raise Rejected(Rejection.FIELD_TYPE, str(refusal), field=at or None)
    # The rule names the Python field; the answer names the wire field.
    rule = refusal.message.removeprefix(f"{refusal.field}: ")
    raise Rejected(
        Rejection.FIELD_INVALID, rule, field=at + names.get(refusal.field, refusal.field)
    )
