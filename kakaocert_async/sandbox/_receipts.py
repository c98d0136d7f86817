"""One request's life in the sandbox, of any kind and generation, computed lazily from the clock.

A receipt waits until it is signed (``sign_at`` reached, or a command), expires
(``expires_at`` reached, or a command) or, Barocert's only, is refused or fails (a
command); nothing runs in the background: each look at a receipt first settles what
the clock says has happened since. The states are numbered alike in both generations
(0 waiting, 1 signed, 2 expired; Barocert's 3 refused, 4 failed): a record speaks
Barocert's :class:`State`, the 2.x service reads it as a ``SignState``. The App to
App values and the signed data are derived from the sandbox key and the receipt id,
so they are the same every time they are asked for.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import itertools
import uuid
from collections.abc import Callable
from typing import Any

import attrs

from kakaocert_async import _wire
from kakaocert_async._kinds import AnyKind
from kakaocert_async._wire import KST
from kakaocert_async.barocert._models import State


@attrs.define(kw_only=True, slots=True)
class Receipt:
    """The sandbox's record of one request (times are sandbox-clock epoch seconds)."""

    kind: AnyKind
    receipt_id: str
    client_code: str
    request: Any
    """The request as received (Barocert's decrypted): the kind's request model."""
    requested_at: float
    expires_at: float
    sign_at: float | None
    """When the receiver will sign by itself (``None``: only on command)."""
    app_to_app: bool = False
    tx_id: str | None = None
    """2.x App to App: KakaoTalk's transaction id."""
    signature: str | None = None
    """2.x App to App: what KakaoTalk hands the partner's app, and verify must carry."""
    scheme: str | None = None
    """Barocert App to App: the URL the partner's app opens."""
    viewed_at: float | None = None
    signed_at: float | None = None
    verified_at: float | None = None
    ended: State | None = None
    """``REFUSED`` or ``FAILED``, when the receiver (by command) did not sign."""
    _answer: tuple[tuple[object, ...], dict[str, Any]] | None = attrs.field(
        default=None, init=False, eq=False, repr=False
    )
    """The last state answer's wire JSON, and what it was made from."""

    def settle(self, now: float) -> State:
        """Bring the record up to ``now`` and return the state."""
        if self.ended is not None:
            return self.ended
        if self.signed_at is None:
            sign_at = self.sign_at
            if sign_at is not None and sign_at <= now and sign_at < self.expires_at:
                self.signed_at = sign_at
                self._viewed(sign_at)
            elif now >= self.expires_at:
                return State.EXPIRED
            else:
                return State.WAITING
        return State.COMPLETED

    def answer(self, now: float, ending: State | None = None) -> bool:
        """The receiver answers now: signs (``ending`` ``None``), refuses or fails;
        ``False`` if the receipt is no longer waiting."""
        if self.settle(now) is not State.WAITING:
            return False
        if ending is None:
            self.signed_at = now
        else:
            self.ended = ending
        self._viewed(now)
        return True

    def expire(self, now: float) -> bool:
        """The request expires now; ``False`` if it is no longer waiting."""
        if self.settle(now) is not State.WAITING:
            return False
        self.expires_at = now
        return True

    def open(self, now: float) -> bool:
        """The receiver opens the KakaoTalk message now; ``False`` if no longer waiting."""
        if self.settle(now) is not State.WAITING:
            return False
        self._viewed(now)
        return True

    def _viewed(self, when: float) -> None:
        if self.viewed_at is None or self.viewed_at > when:
            self.viewed_at = when

    def status_answer(
        self, now: float, status: Callable[[Receipt, float], object]
    ) -> dict[str, Any]:
        """``status(self, now)`` as wire JSON (a fresh dict).

        Kept from the last call while nothing it shows has changed: clients poll
        a waiting receipt over and over, and each answer is the same.
        """
        made_from = (
            self.settle(now),
            self.expires_at,
            self.viewed_at,
            self.signed_at,
            self.verified_at,
        )
        if self._answer is None or self._answer[0] != made_from:
            self._answer = (made_from, _wire.converter.unstructure(status(self, now)))
        return dict(self._answer[1])


def kst(when: float | None) -> dt.datetime | None:
    return None if when is None else dt.datetime.fromtimestamp(when, tz=KST)


def derive(key: bytes, purpose: str, receipt_id: str) -> bytes:
    return hmac.new(key, f"{purpose}\n{receipt_id}".encode(), hashlib.sha256).digest()


def tx_id(key: bytes, receipt_id: str) -> str:
    """The App to App KakaoTalk transaction id of a 2.x receipt."""
    return str(uuid.UUID(bytes=derive(key, "tx_id", receipt_id)[:16], version=4))


def app_signature(key: bytes, receipt_id: str, *, double_slash: bool = False) -> str:
    """The App to App signature of a receipt: base64 that starts ``+/`` and ends ``=``,
    characters a client must send in the verify path as given (as the official SDKs
    do), not percent-encoded. Without ``//`` unless ``double_slash`` (then it starts
    ``+///``), as about one standard base64 string in twelve of this length has."""
    if double_slash:
        derived = derive(key, "signature", receipt_id)
        return base64.b64encode(b"\xfb\xff\xff" + derived[:17]).decode()
    for attempt in itertools.count():
        derived = derive(key, f"signature {attempt}" if attempt else "signature", receipt_id)
        signature = base64.b64encode(b"\xfb\xff" + derived[:18]).decode()
        if "//" not in signature:
            return signature
    raise AssertionError("unreachable")  # pragma: no cover


def signed_data(key: bytes, receipt: Receipt) -> str:
    """The signed data of a 2.x receipt (see :func:`opaque_signed_data`)."""
    token = getattr(receipt.request, "token", None) or ""  # optional in CMS
    return opaque_signed_data(key, "signedData", f"{receipt.receipt_id}\n{token}")


def opaque_signed_data(key: bytes, purpose: str, reference: str) -> str:
    """Base64 standing in for signed data (about 1 KiB, the same every time)."""
    seed = derive(key, purpose, reference)
    return base64.b64encode(b"\x30\x82\x03\x00" + hashlib.shake_256(seed).digest(768)).decode()
