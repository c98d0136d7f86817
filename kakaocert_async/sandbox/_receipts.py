"""One request's life in the sandbox (of any family), computed lazily from the clock.

A receipt is pending until it is signed (``sign_at`` reached, or a command) or
expires (``expires_at`` reached, or a command); nothing runs in the background:
each look at a receipt first settles what the clock says has happened since.
The App to App values and the signed data are derived from the sandbox key and
the receipt id, so they are the same every time they are asked for.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import itertools
import uuid
from typing import Any

import attrs

from kakaocert_async import _wire
from kakaocert_async._kinds import KINDS as FAMILIES
from kakaocert_async._kinds import AnyKind as AnyFamily
from kakaocert_async._models import RequestBase, SignState, StatusBase
from kakaocert_async._wire import KST


@attrs.define(kw_only=True, slots=True)
class Receipt:
    """The sandbox's record of one request (times are sandbox-clock epoch seconds)."""

    receipt_id: str
    client_code: str
    family: AnyFamily
    request: RequestBase[Any]
    app_to_app: bool
    tx_id: str | None
    signature: str | None
    """App to App: what KakaoTalk hands the partner's app, and verify must carry."""
    requested_at: float
    expires_at: float
    sign_at: float | None
    """When the receiver will sign by itself (``None``: only on command)."""
    viewed_at: float | None = None
    signed_at: float | None = None
    verified_at: float | None = None
    _answer: tuple[tuple[object, ...], dict[str, Any]] | None = attrs.field(
        default=None, init=False, eq=False, repr=False
    )
    """The last state answer's wire JSON, and what it was made from."""

    def settle(self, now: float) -> SignState:
        """Bring the record up to ``now`` and return the state."""
        if self.signed_at is None:
            sign_at = self.sign_at
            if sign_at is not None and sign_at <= now and sign_at < self.expires_at:
                self._mark_signed(sign_at)
            elif now >= self.expires_at:
                return SignState.EXPIRED
            else:
                return SignState.PENDING
        return SignState.SIGNED

    def sign(self, now: float) -> bool:
        """The receiver signs now; ``False`` if it is no longer pending."""
        if self.settle(now) is not SignState.PENDING:
            return False
        self._mark_signed(now)
        return True

    def expire(self, now: float) -> bool:
        """The request expires now; ``False`` if it is no longer pending."""
        if self.settle(now) is not SignState.PENDING:
            return False
        self.expires_at = now
        return True

    def open(self, now: float) -> bool:
        """The receiver opens the KakaoTalk message now; ``False`` if no longer pending."""
        if self.settle(now) is not SignState.PENDING:
            return False
        if self.viewed_at is None:
            self.viewed_at = now
        return True

    def _mark_signed(self, when: float) -> None:
        self.signed_at = when
        if self.viewed_at is None or self.viewed_at > when:
            self.viewed_at = when

    def status_answer(self, now: float, *, client_name: str) -> dict[str, Any]:
        """:meth:`status` as wire JSON (a fresh dict).

        Kept from the last call while nothing it shows has changed: clients poll
        a pending receipt over and over, and each answer is the same.
        """
        state = self.settle(now)
        made_from = (
            state,
            client_name,
            self.expires_at,
            self.viewed_at,
            self.signed_at,
            self.verified_at,
        )
        if self._answer is None or self._answer[0] != made_from:
            self._answer = (
                made_from,
                _wire.converter.unstructure(self.status(now, client_name=client_name)),
            )
        return dict(self._answer[1])

    def status(self, now: float, *, client_name: str) -> StatusBase:
        """The state of this receipt at ``now``, as its family's status class."""
        state = self.settle(now)
        request = self.request
        sub_client = request.sub_client_id
        fields: dict[str, Any] = {
            "receipt_id": self.receipt_id,
            "client_code": self.client_code,
            "client_name": client_name,
            "sub_client_name": None if sub_client is None else f"{client_name} ({sub_client})",
            "sub_client_code": sub_client,
            "state": state,
            "expires_in": request.expires_in,
            "call_center_num": request.call_center_num,
            "tms_title": request.tms_title,
            "tms_message": request.tms_message,
            "allow_simple_regist": request.allow_simple_regist,
            "verify_name": request.verify_name,
            "request_dt": kst(self.requested_at),
            "expire_dt": kst(self.expires_at),
            "reg_dt": kst(self.requested_at),
            "view_dt": kst(self.viewed_at),
            "complete_dt": kst(self.signed_at),
            "verify_dt": kst(self.verified_at),
            "payload": request.payload,
        }
        cls: type[StatusBase] = self.family.status
        extra = _EXTRA_FIELDS[cls]
        if extra:
            own = {
                "app_to_app": self.app_to_app,
                "tx_id": self.tx_id,
                # Named by identity verification's request; CMS's has no such field,
                # and its state shows the client's registered name.
                "call_center_name": getattr(request, "call_center_name", client_name),
            }
            fields.update((name, own[name]) for name in extra)
        status: StatusBase = cls(**fields)
        return status


def _extra_fields(cls: type[StatusBase]) -> tuple[str, ...]:
    """The fields of ``cls`` beyond those every family's state has."""
    common = attrs.fields_dict(StatusBase)
    return tuple(name for name in attrs.fields_dict(cls) if name not in common)


_EXTRA_FIELDS = {family.status: _extra_fields(family.status) for family in FAMILIES}


def kst(when: float | None) -> dt.datetime | None:
    return None if when is None else dt.datetime.fromtimestamp(when, tz=KST)


class ReceiptIds:
    """Receipt ids shaped like the real ones: ``0`` + ``yyMMddHHmmss`` (KST) + 5 digits."""

    __slots__ = ("_sequence",)

    def __init__(self) -> None:
        self._sequence = 0

    def next(self, now: float) -> str:
        self._sequence = self._sequence % 99999 + 1
        stamp = dt.datetime.fromtimestamp(now, tz=KST).strftime("%y%m%d%H%M%S")
        return f"0{stamp}{self._sequence:05d}"


def derive(key: bytes, purpose: str, receipt_id: str) -> bytes:
    return hmac.new(key, f"{purpose}\n{receipt_id}".encode(), hashlib.sha256).digest()


def tx_id(key: bytes, receipt_id: str) -> str:
    """The App to App KakaoTalk transaction id of a receipt."""
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
