"""One Barocert receipt's (or login's) life in the sandbox, and the data a verify gives.

As for 2.x receipts, nothing runs in the background: each look at a receipt
settles what the sandbox clock says has happened since. The answers' opaque
values (signed data, CI) are derived from the sandbox key and the receipt, so
they are the same every time. The receiver's data in verify answers is
encrypted the way Barocert documents it (base64 of AES-256-CTR), under the
sandbox's published personal-data key: :func:`decrypt_personal_data` reads it.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import uuid
from typing import Any

import attrs
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from kakaocert_async._wire import KST
from kakaocert_async.barocert._models import (
    IdentityRequest,
    Kind,
    MultiSignRequest,
    SignRequest,
    State,
    Status,
)

from ._receipts import derive, kst, opaque_signed_data

PERSONAL_DATA_KEY_BYTES = b"sandbox personal-data key: fake!"
"""The AES-256-CTR key of the receiver's data in the sandbox's verify answers (the real
service's comes with Kakao's verification module). Public, so worthless elsewhere."""
PERSONAL_DATA_IV_BYTES = b"sandbox-ctr-iv16"
"""The initial counter block (16 bytes) that goes with it."""
PERSONAL_DATA_KEY = base64.b64encode(PERSONAL_DATA_KEY_BYTES).decode("ascii")
PERSONAL_DATA_IV = base64.b64encode(PERSONAL_DATA_IV_BYTES).decode("ascii")

CALL_CENTER_NUM = "1600-0000"
"""``callCenterNum`` in every state (made up)."""


def _ctr(data: bytes) -> bytes:
    # CTR is its own inverse: the same call encrypts and decrypts.
    aes = algorithms.AES(PERSONAL_DATA_KEY_BYTES)
    context = Cipher(aes, modes.CTR(PERSONAL_DATA_IV_BYTES)).encryptor()
    return context.update(data) + context.finalize()


def encrypt_personal_data(text: str) -> str:
    """``base64(AES-256-CTR(text))`` with the sandbox's personal-data key and IV."""
    return base64.b64encode(_ctr(text.encode("utf-8"))).decode("ascii")


def decrypt_personal_data(value: str) -> str:
    """The plaintext of a ``ci`` or ``receiver*`` value in a sandbox verify answer."""
    return _ctr(base64.b64decode(value)).decode("utf-8")


@attrs.frozen(kw_only=True)
class Person:
    """Who signs (from the request, decrypted) or logs in (given to the control call)."""

    name: str
    phone: str
    birthday: str
    gender: str = "M"
    foreign: str = "N"
    telco: str = "SKT"

    def ci(self, key: bytes) -> str:
        """A made-up CI: 88 base64 characters, the same for the same person."""
        seed = derive(key, "ci", f"{self.name}\n{self.birthday}\n{self.phone}")
        return base64.b64encode(hashlib.shake_256(seed).digest(64)).decode("ascii")

    def verified(self, key: bytes) -> dict[str, Any]:
        """``ci`` and the ``receiver*`` fields of a verify answer, encrypted."""
        plain = {
            "ci": self.ci(key),
            "receiverName": self.name,
            "receiverYear": self.birthday[:4],
            "receiverDay": self.birthday[4:],
            "receiverHP": self.phone,
            "receiverGender": self.gender,
            "receiverForeign": self.foreign,
            "receiverTelcoType": self.telco,
        }
        return {name: encrypt_personal_data(value) for name, value in plain.items()}


@attrs.define(kw_only=True, slots=True)
class BarocertReceipt:
    """The sandbox's record of one request (times are sandbox-clock epoch seconds)."""

    kind: Kind
    receipt_id: str
    client_code: str
    request: Any
    """The request as the sandbox decrypted it (a ``kakaocert_async.barocert`` model)."""
    scheme: str | None
    requested_at: float
    expires_at: float
    sign_at: float | None
    viewed_at: float | None = None
    signed_at: float | None = None
    ended: State | None = None
    """``REFUSED`` or ``FAILED``, when the receiver (by command) did not sign."""
    verified_at: float | None = None

    @property
    def person(self) -> Person:
        request = self.request
        return Person(
            name=request.receiver_name,
            phone=request.receiver_hp,
            birthday=request.receiver_birthday,
        )

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

    def answer(self, now: float, ending: State | None) -> bool:
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
        """The receiver opens the message now; ``False`` if it is no longer waiting."""
        if self.settle(now) is not State.WAITING:
            return False
        self._viewed(now)
        return True

    def _viewed(self, when: float) -> None:
        if self.viewed_at is None or self.viewed_at > when:
            self.viewed_at = when

    def status(self, now: float, *, client_name: str) -> Status:
        """The state answer of this receipt at ``now``."""
        state = self.settle(now)
        request = self.request
        token_type = getattr(request, "token_type", None)
        return Status(
            receipt_id=self.receipt_id,
            client_code=self.client_code,
            state=state,
            expire_in=request.expire_in,
            call_center_name=client_name,
            call_center_num=CALL_CENTER_NUM,
            req_title=request.req_title or getattr(request, "sign_title", None),
            sign_title=getattr(request, "sign_title", None),
            auth_category=None,
            return_url=request.return_url,
            token_type=None if token_type is None else token_type.value,
            request_dt=kst(self.requested_at),
            view_dt=kst(self.viewed_at),
            complete_dt=kst(self.signed_at),
            expire_dt=kst(self.expires_at),
            verify_dt=kst(self.verified_at),
            scheme=self.scheme,
            app_to_app=request.app_to_app,
        )

    def verified(self, key: bytes) -> dict[str, Any]:
        """The verify answer (wire names), once the receipt is signed."""
        request = self.request
        answer: dict[str, Any] = {"receiptID": self.receipt_id, "state": int(State.COMPLETED)}
        if isinstance(request, IdentityRequest):
            # Identity: the signed data is the token; the caller compares the two.
            answer["signedData"] = request.token
        elif isinstance(request, MultiSignRequest):
            answer["multiSignedData"] = [
                opaque_signed_data(key, "multiSignedData", f"{self.receipt_id}\n{i}\n{doc.token}")
                for i, doc in enumerate(request.documents)
            ]
        else:
            token = request.token if isinstance(request, SignRequest) else self.kind.value
            answer["signedData"] = opaque_signed_data(
                key, "signedData", f"{self.receipt_id}\n{token}"
            )
        answer.update(self.person.verified(key))
        return answer


@attrs.define(kw_only=True, slots=True)
class Login:
    """A login (간편로그인) the receiver completed in KakaoTalk, waiting for its verify."""

    tx_id: str
    client_code: str
    person: Person
    signed_at: float
    verified_at: float | None = None

    def verified(self, key: bytes) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "txID": self.tx_id,
            "state": int(State.COMPLETED),
            "signedData": opaque_signed_data(key, "loginSignedData", self.tx_id),
        }
        answer.update(self.person.verified(key))
        return answer


class ReceiptIds:
    """Receipt ids shaped like the examples' (``02309110230400000010000000000003``):
    ``0`` + ``yyMMdd`` (KST) + the 12-digit client code + a 13-digit sequence."""

    __slots__ = ("_sequence",)

    def __init__(self) -> None:
        self._sequence = 0

    def next(self, now: float, client_code: str) -> str:
        self._sequence += 1
        day = dt.datetime.fromtimestamp(now, tz=KST).strftime("%y%m%d")
        return f"0{day}{client_code}{self._sequence:013d}"


def login_tx_id(key: bytes, sequence: int) -> str:
    """A login transaction id shaped like the examples' (``01`` + a UUID)."""
    return "01" + str(uuid.UUID(bytes=derive(key, "login", str(sequence))[:16], version=4))


def app_scheme(key: bytes, receipt_id: str) -> str:
    """The App to App scheme of a receipt (made up: the real one is KakaoTalk's)."""
    tx = uuid.UUID(bytes=derive(key, "scheme", receipt_id)[:16], version=4)
    return f"kakaotalk://kakaocert-sandbox/sign?tx_id={tx}"
