"""The protocol's checks of one HTTP request, as pure functions that raise :class:`Rejected`.

Headers, dates, the two ``<LinkID> <hmac>`` header forms and the JSON bodies;
the bodies are structured by the package's own wire converter, and a refusal
names the offending field by its wire name.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any, NamedTuple, get_args, get_type_hints

import cattrs

from kakaocert_async import _signing, _wire
from kakaocert_async._errors import ValidationError
from kakaocert_async._kinds import KINDS
from kakaocert_async._kinds import AnyKind as AnyFamily
from kakaocert_async._models import RequestBase, TokenRequest

from ._rejections import Rejected, Rejection
from ._settings import Settings

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


def utc(when: float) -> dt.datetime:
    """Epoch seconds -> an aware UTC datetime."""
    return dt.datetime.fromtimestamp(when, tz=dt.timezone.utc)


def time_text(when: float) -> str:
    """Epoch seconds as ``GET /Time`` answers them: ``YYYY-MM-DDTHH:MM:SS.fffZ``."""
    return _wire.format_utc(utc(when), milliseconds=True)


def version(headers: Headers, name: str) -> None:
    """``name`` (``x-lh-version`` or ``x-pb-version``) is ``2.0``."""
    if headers.get(name) != _signing.API_VERSION:
        raise Rejected(Rejection.VERSION, f"{name}: {_signing.API_VERSION}")


def read_version(headers: Headers) -> None:
    """A GET carries ``x-pb-version: 2.0`` or ``x-lh-version: 2.0`` (official SDKs send either)."""
    if not any(headers.get(name) == _signing.API_VERSION for name in _READ_VERSIONS):
        raise Rejected(Rejection.VERSION, f"x-pb-version (or x-lh-version): {_signing.API_VERSION}")


class DateHeader(NamedTuple):
    """A date header and its refusals: missing, malformed, too far off the clock."""

    name: str
    missing: Rejection
    malformed: Rejection
    skewed: Rejection


LH_DATE = DateHeader(
    "x-lh-date", Rejection.DATE_MISSING, Rejection.DATE_MALFORMED, Rejection.DATE_SKEWED
)


def date(headers: Headers, now: float, tolerance: float, *, header: DateHeader = LH_DATE) -> str:
    """``x-lh-date`` (or ``header``), well formed and within ``tolerance`` seconds of ``now``."""
    value = headers.get(header.name)
    if value is None:
        raise Rejected(header.missing)
    if not _DATE.fullmatch(value):
        raise Rejected(header.malformed)
    try:
        when = _wire.parse_utc(value).timestamp()
    except _wire.WireError:
        raise Rejected(header.malformed) from None
    if abs(when - now) > tolerance:
        raise Rejected(header.skewed, f"{when - now:+.0f} s; tolerance {tolerance:g} s")
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
    link_id, signature = signed_by(
        headers.get("authorization"), "LINKHUB", Rejection.LINKHUB_AUTH_MISSING
    )
    if link_id != settings.link_id:
        raise Rejected(Rejection.LINK_ID_UNKNOWN)
    forwarded = headers.get("x-lh-forwarded")
    if forwarded is not None and forwarded != _signing.FORWARDED_ANY:
        raise Rejected(Rejection.FORWARDED_INVALID)
    target = _signing.token_target(body, when, forwarded=forwarded, path=path)
    if not _signing.same_signature(_signing.hmac_b64(settings.key, target), signature):
        raise Rejected(Rejection.TOKEN_HMAC_MISMATCH)
    json_content(headers)
    return link_id, forwarded, token_request(json_object(body))


def json_content(headers: Headers) -> None:
    """``Content-Type`` is ``application/json`` (any case, parameters ignored)."""
    media_type = headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "application/json":
        raise Rejected(Rejection.CONTENT_TYPE)


def signed_by(value: str | None, scheme: str | None, rejection: Rejection) -> tuple[str, str]:
    """``[<scheme> ]<LinkID> <signature>`` -> (LinkID, signature)."""
    parts = (value or "").split()
    if scheme is not None:
        if not parts or parts[0].upper() != scheme:
            raise Rejected(rejection)
        parts = parts[1:]
    if len(parts) != 2:
        raise Rejected(rejection)
    return parts[0], parts[1]


def bearer(headers: Headers) -> str:
    """The session token of ``Authorization: Bearer <token>``."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Rejected(Rejection.BEARER_MISSING)
    return token


def json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object."""
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


def sign_request(data: dict[str, Any], family: AnyFamily) -> tuple[RequestBase[Any], bool]:
    """A request body of ``family``: its request model and the App to App flag, or the
    first bad field. A family without App to App takes ``isAppUseYN`` only if false."""
    cls: type[RequestBase[Any]] = family.request
    for wire in _REQUIRED_WIRE[cls]:
        if data.get(wire) is None:
            # Before structuring: a model's default must not stand in for a missing field.
            raise Rejected(Rejection.FIELD_MISSING, field=wire)
    try:
        request = _wire.converter.structure(data, cls)
    except cattrs.BaseValidationError as exc:
        failures, others = exc.group_exceptions()
        if failures:
            error, note = failures[0]
            raise _field_refusal(data, error, note.name, cls) from None
        error = others[0]
        field = error.field if isinstance(error, ValidationError) else "?"
        raise _field_refusal(data, error, field, cls) from None
    app_to_app = data.get(_wire.APP_TO_APP)
    if app_to_app is None:
        return request, False
    if type(app_to_app) is not bool:
        raise Rejected(Rejection.FIELD_TYPE, "expected true or false", field=_wire.APP_TO_APP)
    if app_to_app and not family.app_to_app:
        raise Rejected(
            Rejection.FIELD_INVALID, "no App to App for this request", field=_wire.APP_TO_APP
        )
    return request, app_to_app


def _field_refusal(
    data: dict[str, Any], error: BaseException, field: str, cls: type[RequestBase[Any]]
) -> Rejected:
    wire = _wire.wire_names(cls).get(field, field)
    if isinstance(error, KeyError) or (wire in _REQUIRED_WIRE[cls] and data.get(wire) is None):
        return Rejected(Rejection.FIELD_MISSING, field=wire)
    if isinstance(error, ValidationError):
        # The rule names the Python field; the answer names the wire field.
        rule = error.message.removeprefix(f"{error.field}: ")
        return Rejected(Rejection.FIELD_INVALID, rule, field=wire)
    return Rejected(Rejection.FIELD_TYPE, str(error), field=wire)
