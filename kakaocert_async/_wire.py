"""The one cattrs converter between the models and the service's JSON.

The converter is made, with its hooks, at its first use (cattrs and the hooks cost
more than the rest of the package's import): :func:`register` and :func:`setup` only
record what it will be taught.

Each model field carries its wire name (``_models.wire``), from which the converter's
hooks are made; types are checked strictly (a ``"false"`` string is not a bool, ``1``
is not a string), unknown fields are ignored and absent optional fields become
``None``. Datetimes travel as ``yyyyMMddHHmmss`` in Korea time. The sandbox uses the
same converter in the other direction.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from ._errors import MalformedResponse
from ._kinds import KINDS
from ._models import WIRE, RequestBase, SignState, TokenGrant, TokenRequest, VerificationBase, wire
from ._secret import Secret
from ._validation import HEADER_WORD

if TYPE_CHECKING:
    import cattrs

    converter: cattrs.Converter
    """The converter (made at the first use of the name: see :func:`__getattr__`)."""

T = TypeVar("T")
V = TypeVar("V", bound=VerificationBase)

KST = dt.timezone(dt.timedelta(hours=9), "KST")
"""Korea Standard Time: the zone of every ``...DT`` field (no daylight saving)."""

APP_TO_APP = "isAppUseYN"
"""The request body's App to App flag: an argument of the call, not of the request model."""


@attrs.frozen(kw_only=True)
class ErrorBody:
    """The body of every error answer: ``{"code": -11000000, "message": "..."}``."""

    code: int = attrs.field(metadata=wire("code"))
    message: str = attrs.field(metadata=wire("message"))


class WireError(ValueError):
    """A body that is not what the protocol promises (internal; mapped by ``_http``)."""


REQUEST_ORDER = (
    "CallCenterNum",
    "Expires_in",
    "ReceiverBirthDay",
    "ReceiverHP",
    "ReceiverName",
    "Token",
    "TMSTitle",
    "TMSMessage",
    "SubClientID",
    "isAllowSimpleRegistYN",
    "isVerifyNameYN",
    "PayLoad",
    "CallCenterName",  # identity verification's own
    "BankAccountName",  # CMS's own, with the three after it
    "BankAccountNum",
    "BankCode",
    "ClientUserID",
)
"""The key order of a 2.x request body (of the keys its class has): the protocol table's,
whichever class declares a field (the signatures' known answers are over these bytes).
Other bodies follow their fields' order (a request's optional fields last)."""


def wire_names(cls: type[Any]) -> dict[str, str]:
    """Field name -> wire name, for every field of ``cls`` that travels, in the order of
    its bodies. A field without a wire name (``_models.wire``) is a ``KeyError``."""
    names = {a.name: a.metadata[WIRE] for a in attrs.fields(cls) if a.metadata[WIRE] is not None}
    if not issubclass(cls, RequestBase):
        return names
    return dict(sorted(names.items(), key=lambda item: REQUEST_ORDER.index(item[1])))


# Scalars, strictly ---------------------------------------------------------


def _typed(
    kind: type[Any], name: str, *, or_null: bool = False, then: Callable[[Any], Any] | None = None
) -> Callable[[object, Any], Any]:
    """A hook that takes exactly a ``kind`` (or null, with ``or_null``), read by ``then``."""
    # One hook per type and per optional type (rather than cattrs's generic Optional
    # dispatch): a state has twenty of them and is read on every poll.
    expected = f"{name} or null" if or_null else name

    def structure(value: object, _: object) -> Any:
        # bool is an int subclass; an int field must not take true/false: type() is.
        if type(value) is kind:
            return value if then is None else then(value)
        if or_null and value is None:
            return None
        raise WireError(f"expected {expected}, got {type(value).__name__}")

    return structure


@functools.lru_cache(maxsize=4096)
def parse_kst(value: str) -> dt.datetime:
    """``yyyyMMddHHmmss`` (Korea time) -> an aware datetime.

    Cached: every poll of a receipt repeats its request and expiry times, and
    receipts made in the same second share them.
    """
    if len(value) != 14 or not value.isascii() or not value.isdigit():
        raise WireError("expected a yyyyMMddHHmmss timestamp")
    month_to_second: list[Any] = [int(value[i : i + 2]) for i in range(4, 14, 2)]
    return dt.datetime(int(value[:4]), *month_to_second).replace(tzinfo=KST)


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
    utc = value.astimezone(dt.timezone.utc).replace(tzinfo=None)  # (isoformat: no +00:00)
    return utc.isoformat(timespec="milliseconds" if milliseconds else "seconds") + "Z"


MAX_SECONDS = 86400
"""A duration from the wire (``expires_in``) longer than a day is absurd: the manual's
longest is 1000 s. Refused, rather than used in arithmetic that could overflow."""


def _seconds(value: int) -> int:
    if not 0 <= value <= MAX_SECONDS:
        raise WireError(f"expected 0 to {MAX_SECONDS} seconds")
    return value


MAX_TOKEN_CHARS = 4096


def _token(value: str) -> Secret[str]:
    # The value is never echoed: it is a credential, however malformed.
    if len(value) > MAX_TOKEN_CHARS or not HEADER_WORD.fullmatch(value):
        raise WireError("not a printable ASCII word (it cannot go into a header)")
    return Secret(value)


_STATES = {int(state): state for state in SignState}


def _state(value: int) -> SignState:
    if value not in _STATES:  # (not SignState(value): an enum's call is slow, and polled)
        raise WireError(f"expected state 0, 1 or 2, got {value}")
    return _STATES[value]


def _structure_strings(value: object, _: object) -> tuple[str, ...]:
    if type(value) is not list or not all(type(item) is str for item in value):
        raise WireError("expected a list of strings")
    return tuple(value)


def _make_converter() -> cattrs.Converter:
    import cattrs

    converter = cattrs.Converter()
    for kind, name in ((str, "a string"), (int, "an integer"), (bool, "true or false")):
        converter.register_structure_hook(kind, _typed(kind, name))
        converter.register_structure_hook(kind | None, _typed(kind, name, or_null=True))
    converter.register_structure_hook(SignState, _typed(int, "state 0, 1 or 2", then=_state))
    converter.register_structure_hook_func(lambda t: t == tuple[str, ...], _structure_strings)
    kst = _typed(str, "a yyyyMMddHHmmss string", or_null=True, then=parse_kst)
    converter.register_structure_hook(dt.datetime | None, kst)
    converter.register_unstructure_hook(dt.datetime, format_kst)
    return converter


_converter: cattrs.Converter | None = None
_SETUPS: list[Callable[[cattrs.Converter], object]] = []
_MAKING = threading.Lock()


def get_converter() -> cattrs.Converter:
    """The converter, made (once, whichever thread asks first) with every :func:`setup`."""
    global _converter
    made = _converter
    if made is None:
        with _MAKING:
            if _converter is None:
                made = _make_converter()
                for teach in _SETUPS:
                    teach(made)
                _converter = made  # only once fully taught: other threads read it unlocked
            made = _converter
    return made


def setup(teach: Callable[[cattrs.Converter], object]) -> None:
    """Have ``teach`` teach the converter its hooks: when it is made, in the order of
    the calls, or now if it is made already. ``teach`` must not ask for the converter."""
    with _MAKING:
        _SETUPS.append(teach)
        if _converter is not None:
            teach(_converter)


def __getattr__(name: str) -> Any:
    """``_wire.converter``: :func:`get_converter` (PEP 562; for the sandbox and tests)."""
    if name == "converter":
        return get_converter()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def register(cls: type[Any], *, request: bool = False, **hooks: dict[str, Any]) -> None:
    """Teach the converter an attrs class, by the wire names on its fields
    (:func:`wire_names`; a field without one is neither read nor written). ``hooks``
    holds per-field cattrs overrides (``struct_hook``, ``unstruct_hook``). A
    ``request``'s optional fields (default ``None``) stay off the wire when absent.

    The Barocert models are registered when their ``_wire`` is imported; the scalar
    hooks above apply to their fields too. (A :func:`setup`: done when the converter
    is made.)
    """
    setup(functools.partial(_register, cls=cls, request=request, hooks=hooks))


def _register(
    converter: cattrs.Converter, *, cls: type[Any], request: bool, hooks: dict[str, Any]
) -> None:
    from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

    names = wire_names(cls)
    overrides: dict[str, Any] = {
        a.name: override(
            rename=names.get(a.name),
            omit=a.name not in names,
            omit_if_default=request and a.default is None,
            **hooks.get(a.name, {}),
        )
        for a in attrs.fields(cls)
    }
    converter.register_structure_hook(cls, make_dict_structure_fn(cls, converter, **overrides))
    unstructure = make_dict_unstructure_fn(cls, converter, **overrides)
    if issubclass(cls, RequestBase):
        # cattrs puts the fields it may leave out last.
        unstructure = _in_order(unstructure, tuple(names.values()))
    converter.register_unstructure_hook(cls, unstructure)


def _in_order(
    unstructure: Callable[[Any], dict[str, Any]], order: tuple[str, ...]
) -> Callable[[Any], dict[str, Any]]:
    def ordered(value: Any) -> dict[str, Any]:
        data = unstructure(value)
        return {key: data[key] for key in order if key in data}

    return ordered


_seconds_or_null = _typed(int, "an integer", or_null=True, then=_seconds)
for _kind in KINDS:
    register(_kind.request, request=True)
    register(_kind.receipt)
    register(_kind.status, expires_in={"struct_hook": _seconds_or_null})
    register(_kind.verification)
for _model in (ErrorBody, TokenRequest):
    register(_model)
register(
    TokenGrant,
    session_token={
        "struct_hook": _typed(str, "a string", then=_token),
        "unstruct_hook": Secret.reveal,
    },
    expiration={
        "struct_hook": _typed(str, "a UTC time string", then=parse_utc),
        "unstruct_hook": functools.partial(format_utc, milliseconds=True),
    },
)


# Bytes <-> objects ---------------------------------------------------------


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def dumps(data: object) -> bytes:
    """Compact UTF-8 JSON: the exact bytes that are sent and signed."""
    return _ENCODER.encode(data).encode("utf-8")


def encode_request(request: RequestBase[Any], *, app_to_app: bool | None) -> bytes:
    """The body of a request (``POST /SignToken/Request`` and its kin); ``isAppUseYN``
    only for a family that has App to App (``app_to_app`` not ``None``)."""
    body = get_converter().unstructure(request)
    if app_to_app is not None:
        body[APP_TO_APP] = app_to_app
    return dumps(body)


def loads(body: bytes) -> Any:
    """Parse a JSON body (UTF-8, as JSON between systems is: RFC 8259, 8.1);
    :class:`WireError` if it is not JSON."""
    try:
        # Decoded here: json.loads(bytes) would first guess among UTF-8, -16 and -32.
        return json.loads(body.decode())
    except (ValueError, RecursionError) as exc:
        # UnicodeDecodeError and JSONDecodeError are both ValueErrors.
        raise WireError(f"the body is not JSON ({type(exc).__name__})") from None


def structure(data: Any, cls: type[T]) -> T:
    """Wire JSON -> ``cls``; :class:`WireError` naming the bad field if it does not fit."""
    if not isinstance(data, dict):
        raise WireError(f"expected a JSON object, got {type(data).__name__}")
    try:
        result: T = get_converter().structure(data, cls)
    except Exception as exc:
        raise WireError(_describe(exc, cls)) from None
    return result


def _describe(exc: Exception, cls: type[Any]) -> str:
    import cattrs

    if isinstance(exc, cattrs.BaseValidationError):
        problems = "; ".join(cattrs.transform_error(exc, path=cls.__name__))
        return f"the body does not fit {cls.__name__}: {problems}"
    return f"the body does not fit {cls.__name__}: {exc}"


def decode_verification(body: bytes, cls: type[V], *, about: str, label: str) -> V:
    """A verify answer about receipt ``about``, read as leniently as the official SDKs
    read it: whatever else it holds, ``signedData`` as a string is the signed data. A
    :class:`MalformedResponse` if there is none, or if the answer names another
    receipt."""
    try:
        data = loads(body)
        if not isinstance(data, dict):
            raise WireError(f"expected a JSON object, got {type(data).__name__}")
        named = data.get("receiptId", data.get("receiptID"))
        # A number is compared as the digits it spells (leading zeros may be lost).
        named_ok = not isinstance(named, str | int) or isinstance(named, bool)
        if not named_ok and str(named).lstrip("0") != about.lstrip("0"):
            raise WireError("the answer is about another receipt")
        signed_data = data.get("signedData")
        if type(signed_data) is not str:
            kind = "missing" if signed_data is None else f"a {type(signed_data).__name__}"
            raise WireError(f"signedData is {kind}, not a string")
    except WireError as exc:
        raise MalformedResponse(f"{label}: {exc}", http_status=200) from None
    return cls(receipt_id=about, signed_data=signed_data)


def decode_about(
    body: bytes, cls: type[T], *, about: str, label: str, field: str = "receipt_id"
) -> T:
    """:func:`decode` of an answer about one receipt (or login): its ``field`` must be
    ``about``, or it is a :class:`MalformedResponse`. A confused gateway or cache
    must never make a wait end, or a verify return, on another receipt's answer."""
    result = decode(body, cls, label=label)
    if getattr(result, field) != about:
        raise MalformedResponse(f"{label}: the answer is about another receipt", http_status=200)
    return result


def decode(body: bytes | Secret[bytes], cls: type[T], *, label: str) -> T:
    """A 200 body -> ``cls``; :class:`MalformedResponse` if it is not one. An answer
    that holds a secret (a token grant) comes as a :class:`Secret`: it never sits in a
    local of a frame that a raised error's traceback includes."""
    failure: MalformedResponse | None = None
    try:
        return structure(loads(body.reveal() if isinstance(body, Secret) else body), cls)
    except WireError as exc:
        failure = MalformedResponse(f"{label}: {exc}", http_status=200)
    raise failure  # outside the handler: no context whose frames saw the answer
