"""What to do about the refusals a caller causes: one short English hint per kind, in one table.

:func:`hint_for` is asked by ``_answers.api_error``, the one place an
:class:`~kakaocert_async.APIError` is built from the service's error body, and the
hint rides on the error (``APIError.hint``, and at the end of ``str(error)``)
beside the service's own code and text, which stay as they came. It is told the
facts by the caller that knows them: which call, of which generation of the API.

What a hint may rest on: the real service's error codes are not public, so its
refusals are told apart only by **which call** was refused and the **HTTP
status** (a 401 from the token call: the LinkID or the SecretKey; a 404 from a
state or verify call: an unknown receipt). The sandbox's codes are its own and
documented (``docs/sandbox.md``), so with the sandbox a hint can be exact; those
rows match the code *and* the status, and are tried first. A refusal that fits
no row gets no hint: none is better than a wrong one.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

Call = Literal["token", "time", "request", "state", "verify"]
"""Which call was refused: the auth service's two, or a receipt's three (a login's
verify is a ``"verify"``)."""
Generation = Literal["2.x", "barocert"]
"""KakaoCert 2.x, or Barocert (``_kinds.ReceiptKind.generation``)."""

_PREFIXES = {"2.x": "KAKAOCERT_", "barocert": "BAROCERT_"}
_STATE_CALLS = {"2.x": "get_esign_state() or its kin", "barocert": "get_sign_status() or its kin"}
_WAIT_CALLS = {"2.x": "await_signed()", "barocert": "await_completed()"}


class _Hint(NamedTuple):
    """One row: when it applies, and what it says (``{prefix}``, ``{state_call}`` and
    ``{wait_call}`` are filled in for the API generation refused)."""

    text: str
    status: int
    """The HTTP status it applies to."""
    codes: frozenset[int] | None = None
    """The sandbox codes it applies to (with ``status``); ``None``: any code."""
    calls: frozenset[Call] | None = None
    """The calls it applies to; ``None``: any."""


_CHECK_THE_KEY = (
    "check the SecretKey (secret_key, or {prefix}SECRET_KEY): it must be the one Linkhub"
    " issued with this LinkID, copied whole"
)
_CHECK_THE_LINK_ID = (
    "check the LinkID (link_id, or {prefix}LINK_ID): the auth service does not know it"
)
_CLOCK = (
    "the service refused the request's time stamp: this machine's clock is off; keep"
    " use_server_time=True (the default) or set the clock right"
)
_VERIFIED = (
    "a receipt is verified once, and its signed data came with the first verify: use what"
    " you stored then ({state_call} shows verify_dt)"
)
_NOT_SIGNED = "verify only once the receiver has signed: wait with {wait_call} first"
_EXPIRED = "the request expired unsigned: its signed data will never exist; request a new one"
_UNKNOWN_RECEIPT = (
    "no such receipt for this client code: check the receipt id, the client code, and that"
    " the call is the one for the receipt's kind"
)
_OTHER_CLIENT = "this receipt was requested for another client code: use that one"
_IP_BOUND = (
    "the session token only works from the IP address that asked for it: if your address"
    " changes (egress proxies), create the client with ip_restrict=False"
)
_SIGNATURE_MISSING = (
    "this receipt was requested App to App: pass the signature KakaoTalk gave your app"
    " (sig on iOS, signature on Android) to the verify, as its signature argument"
)
_SIGNATURE_MISMATCH = (
    "the signature is not this receipt's: pass the one KakaoTalk gave your app for this"
    " receipt, as it came"
)
_SIGNATURE_UNEXPECTED = (
    "this receipt was sent as a KakaoTalk message, not App to App: verify it without a signature"
)

_AUTH_REFUSED = (
    "the auth service refused the token request: check link_id and secret_key"
    " ({prefix}LINK_ID, {prefix}SECRET_KEY), and with use_server_time=False this"
    " machine's clock"
)
_SIGNATURE_REFUSED = (
    "the service refused the request's signature: check secret_key ({prefix}SECRET_KEY),"
    " and with use_server_time=False this machine's clock"
)
_VERIFY_REFUSED = (
    "verify is answered once, and only after the receiver signed: read the state"
    " ({state_call}: state, verify_dt) to see which"
)

HINTS: tuple[_Hint, ...] = (
    # The sandbox's own codes (sandbox/_rejections.py; a test keeps them in step).
    _Hint(_CHECK_THE_KEY, 401, frozenset({-11010003, -11020008, -12020003})),
    _Hint(_CHECK_THE_LINK_ID, 401, frozenset({-11010002})),
    _Hint(_CLOCK, 401, frozenset({-11000004, -12000004})),
    _Hint(_IP_BOUND, 403, frozenset({-11020004})),
    _Hint(_UNKNOWN_RECEIPT, 404, frozenset({-11040002})),
    _Hint(_OTHER_CLIENT, 403, frozenset({-11040003})),
    _Hint(_NOT_SIGNED, 409, frozenset({-11040004})),
    _Hint(_EXPIRED, 409, frozenset({-11040005})),
    _Hint(_VERIFIED, 409, frozenset({-11040006})),
    _Hint(_SIGNATURE_MISSING, 400, frozenset({-11040007})),
    _Hint(_SIGNATURE_MISMATCH, 400, frozenset({-11040008})),
    _Hint(_SIGNATURE_UNEXPECTED, 400, frozenset({-11040009})),
    # Any service: only the call and the status are known.
    _Hint(_AUTH_REFUSED, 401, calls=frozenset({"token"})),
    _Hint(_SIGNATURE_REFUSED, 401, calls=frozenset({"request"})),
    _Hint(_UNKNOWN_RECEIPT, 404, calls=frozenset({"state", "verify"})),
    _Hint(_VERIFY_REFUSED, 409, calls=frozenset({"verify"})),
)
"""First match wins: the sandbox's exact rows, then the ones any service fits."""


def hint_for(call: Call, generation: Generation, status: int, code: int) -> str | None:
    """The hint for the service's refusal ``code`` with HTTP ``status`` of ``call`` in
    the API of ``generation``, or ``None``."""
    for text, refused, codes, calls in HINTS:
        if refused == status and code in (codes or {code}) and call in (calls or {call}):
            return text.format(
                prefix=_PREFIXES[generation],
                state_call=_STATE_CALLS[generation],
                wait_call=_WAIT_CALLS[generation],
            )
    return None
