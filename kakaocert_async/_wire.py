"""The one cattrs converter between the models and the service's JSON.

Wire names follow the protocol tables; types are checked strictly (a ``"false"``
string is not a bool, ``1`` is not a string), unknown fields are ignored and
absent optional fields become ``None``. Datetimes travel as ``yyyyMMddHHmmss``
in Korea time. The sandbox uses the same converter in the other direction.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from ._errors import MalformedResponse
from ._models import (
    ESignReceipt,
    ESignRequest,
    ESignStatus,
    ESignVerification,
    SignState,
    TokenGrant,
    TokenRequest,
)

T = TypeVar("T")

KST = dt.timezone(dt.timedelta(hours=9), "KST")
"""Korea Standard Time: the zone of every ``...DT`` field (no daylight saving)."""

APP_TO_APP = "isAppUseYN"
"""The request body's App to App flag: an argument of the call, not of ESignRequest."""

_DT_FORMAT = "%Y%m%d%H%M%S"


@attrs.frozen(kw_only=True)
class ErrorBody:
    """The body of every error answer: ``{"code": -11000000, "message": "..."}``."""

    code: int
    message: str


class WireError(ValueError):
    """A body that is not what the protocol promises (internal; mapped by ``_http``)."""


# Field name -> wire name, per the protocol tables --------------------------

REQUEST_WIRE_NAMES = {
    "call_center_num": "CallCenterNum",
    "expires_in": "Expires_in",
    "receiver_birthday": "ReceiverBirthDay",
    "receiver_hp": "ReceiverHP",
    "receiver_name": "ReceiverName",
    "token": "Token",
    "tms_title": "TMSTitle",
    "tms_message": "TMSMessage",
    "sub_client_id": "SubClientID",
    "allow_simple_regist": "isAllowSimpleRegistYN",
    "verify_name": "isVerifyNameYN",
    "payload": "PayLoad",
}

STATUS_WIRE_NAMES = {
    "receipt_id": "receiptID",
    "client_code": "clientCode",
    "client_name": "clientName",
    "sub_client_name": "subClientName",
    "sub_client_code": "subClientCode",
    "state": "state",
    "expires_in": "expires_in",
    "call_center_num": "callCenterNum",
    "tms_title": "tmstitle",
    "tms_message": "tmsmessage",
    "allow_simple_regist": "allowSimpleRegistYN",
    "verify_name": "verifyNameYN",
    "request_dt": "requestDT",
    "expire_dt": "expireDT",
    "reg_dt": "regDT",
    "view_dt": "viewDT",
    "complete_dt": "completeDT",
    "verify_dt": "verifyDT",
    "payload": "payload",
    "app_to_app": "appUseYN",
    "tx_id": "tx_id",
}

RECEIPT_WIRE_NAMES = {"receipt_id": "receiptId", "tx_id": "tx_id"}
VERIFICATION_WIRE_NAMES = {"receipt_id": "receiptId", "signed_data": "signedData"}
TOKEN_REQUEST_WIRE_NAMES = {"access_id": "access_id", "scope": "scope"}
TOKEN_WIRE_NAMES = {"session_token": "session_token", "expiration": "expiration"}
ERROR_WIRE_NAMES = {"code": "code", "message": "message"}


# Scalars, strictly ---------------------------------------------------------


def _strict(kind: type[T], name: str) -> Callable[[object, Any], T]:
    def structure(value: object, _: object) -> T:
        # bool is an int subclass; an int field must not take true/false.
        if type(value) is not kind:
            raise WireError(f"expected {name}, got {type(value).__name__}")
        return value

    return structure


def _strict_or_null(kind: type[T], name: str) -> Callable[[object, Any], T | None]:
    # One hook per optional type (rather than cattrs's generic Optional
    # dispatch): a state has twenty of them and is read on every poll.
    def structure(value: object, _: object) -> T | None:
        if value is None or type(value) is kind:
            return value
        raise WireError(f"expected {name} or null, got {type(value).__name__}")

    return structure


@functools.lru_cache(maxsize=4096)
def parse_kst(value: str) -> dt.datetime:
    """``yyyyMMddHHmmss`` (Korea time) -> an aware datetime.

    Cached: every poll of a receipt repeats its request and expiry times, and
    receipts made in the same second share them.
    """
    if len(value) != 14 or not value.isascii() or not value.isdigit():
        raise WireError("expected a yyyyMMddHHmmss timestamp")
    return dt.datetime(
        int(value[:4]),
        int(value[4:6]),
        int(value[6:8]),
        int(value[8:10]),
        int(value[10:12]),
        int(value[12:]),
        tzinfo=KST,
    )


def format_kst(value: dt.datetime) -> str:
    """An aware datetime -> ``yyyyMMddHHmmss`` in Korea time."""
    # Not strftime: it costs microseconds per call (glibc re-reads the zone
    # each time), and the sandbox formats several per state answer.
    kst = value.astimezone(KST)
    return (
        f"{kst.year:04d}{kst.month:02d}{kst.day:02d}{kst.hour:02d}{kst.minute:02d}{kst.second:02d}"
    )


def parse_utc(value: str) -> dt.datetime:
    """``YYYY-MM-DDTHH:MM:SS[.fff]Z`` (the auth server's form) -> an aware UTC datetime."""
    text = value.strip()
    if not text.endswith("Z"):
        raise WireError("expected a UTC time ending in Z")
    try:
        parsed = dt.datetime.fromisoformat(text[:-1])
    except ValueError:
        raise WireError("expected a UTC time like 2026-11-28T05:00:00Z") from None
    if parsed.tzinfo is not None:
        raise WireError("expected a UTC time ending in Z")
    return parsed.replace(tzinfo=dt.timezone.utc)


def format_utc(value: dt.datetime, *, milliseconds: bool = False) -> str:
    """An aware datetime -> ``YYYY-MM-DDTHH:MM:SSZ`` (or ``...SS.fffZ``) in UTC."""
    utc = value.astimezone(dt.timezone.utc)
    if milliseconds:
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def _structure_kst(value: object, _: object) -> dt.datetime | None:
    if value is None:
        return None
    if type(value) is not str:
        raise WireError(f"expected a yyyyMMddHHmmss string or null, got {type(value).__name__}")
    return parse_kst(value)


def _structure_utc(value: object, _: type[dt.datetime]) -> dt.datetime:
    if type(value) is not str:
        raise WireError(f"expected a UTC time string, got {type(value).__name__}")
    return parse_utc(value)


def _structure_strings(value: object, _: object) -> tuple[str, ...]:
    if type(value) is not list or not all(type(item) is str for item in value):
        raise WireError("expected a list of strings")
    return tuple(value)


def _structure_state(value: object, _: type[SignState]) -> SignState:
    if type(value) is not int:
        raise WireError(f"expected state 0, 1 or 2, got {type(value).__name__}")
    try:
        return SignState(value)
    except ValueError:
        raise WireError(f"expected state 0, 1 or 2, got {value}") from None


def _make_converter() -> cattrs.Converter:
    converter = cattrs.Converter()
    for kind, name in ((str, "a string"), (int, "an integer"), (bool, "true or false")):
        converter.register_structure_hook(kind, _strict(kind, name))
        converter.register_structure_hook(kind | None, _strict_or_null(kind, name))
    converter.register_structure_hook(SignState, _structure_state)
    converter.register_structure_hook_func(lambda t: t == tuple[str, ...], _structure_strings)
    converter.register_structure_hook(dt.datetime | None, _structure_kst)
    converter.register_unstructure_hook(dt.datetime, format_kst)
    converter.register_unstructure_hook(SignState, int)

    def both_ways(cls: type[Any], names: dict[str, str], **extra: Any) -> None:
        assert set(names) == {a.name for a in attrs.fields(cls)}, cls
        renames: dict[str, Any] = {
            field: override(rename=wire, **extra.get(field, {})) for field, wire in names.items()
        }
        converter.register_structure_hook(cls, make_dict_structure_fn(cls, converter, **renames))
        converter.register_unstructure_hook(
            cls, make_dict_unstructure_fn(cls, converter, **renames)
        )

    # Optional request fields the caller left out stay off the wire.
    omit_none = {"omit_if_default": True}
    both_ways(
        ESignRequest,
        REQUEST_WIRE_NAMES,
        tms_message=omit_none,
        sub_client_id=omit_none,
        payload=omit_none,
    )
    both_ways(ESignStatus, STATUS_WIRE_NAMES)
    both_ways(ESignReceipt, RECEIPT_WIRE_NAMES)
    both_ways(ESignVerification, VERIFICATION_WIRE_NAMES)
    both_ways(ErrorBody, ERROR_WIRE_NAMES)
    both_ways(TokenRequest, TOKEN_REQUEST_WIRE_NAMES)
    both_ways(
        TokenGrant,
        TOKEN_WIRE_NAMES,
        expiration={"struct_hook": _structure_utc, "unstruct_hook": _format_expiration},
    )
    return converter


def _format_expiration(value: dt.datetime) -> str:
    return format_utc(value, milliseconds=True)


converter = _make_converter()


# Bytes <-> objects ---------------------------------------------------------


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def dumps(data: object) -> bytes:
    """Compact UTF-8 JSON: the exact bytes that are sent and signed."""
    return _ENCODER.encode(data).encode("utf-8")


def encode_request(request: ESignRequest, *, app_to_app: bool) -> bytes:
    """The body of ``POST /SignToken/Request``."""
    body = converter.unstructure(request)
    body[APP_TO_APP] = app_to_app
    return dumps(body)


def loads(body: bytes) -> Any:
    """Parse a JSON body; :class:`WireError` if it is not JSON."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        # UnicodeDecodeError and JSONDecodeError are both ValueErrors.
        raise WireError(f"the body is not JSON ({type(exc).__name__})") from None


def structure(data: Any, cls: type[T]) -> T:
    """Wire JSON -> ``cls``; :class:`WireError` naming the bad field if it does not fit."""
    if not isinstance(data, dict):
        raise WireError(f"expected a JSON object, got {type(data).__name__}")
    try:
        hook = _HOOKS.get(cls)
        if hook is None:
            # The converter's dispatch, once per class rather than once per answer.
            hook = _HOOKS[cls] = converter.get_structure_hook(cls)
        result: T = hook(data, cls)
    except Exception as exc:
        raise WireError(_describe(exc, cls)) from None
    return result


_HOOKS: dict[type[Any], Callable[[Any, Any], Any]] = {}


def decode(body: bytes, cls: type[T], *, label: str) -> T:
    """A 200 body -> ``cls``; :class:`MalformedResponse` if it is not one."""
    try:
        return structure(loads(body), cls)
    except WireError as exc:
        raise MalformedResponse(f"{label}: {exc}", http_status=200) from None


def _describe(exc: Exception, cls: type[Any]) -> str:
    if isinstance(exc, cattrs.BaseValidationError):
        problems = "; ".join(cattrs.transform_error(exc, path=cls.__name__))
        return f"the body does not fit {cls.__name__}: {problems}"
    return f"the body does not fit {cls.__name__}: {exc}"
