"""One request's life in the sandbox, of any kind and generation, computed lazily from the
clock, and what its verify (or a Barocert login's) answers.

A receipt waits until it is signed (``sign_at`` reached, or a command), expires
(``expires_at`` reached, or a command) or, Barocert's only, is refused or fails (a
command); nothing runs in the background: each look at a receipt first settles what
the clock says has happened since. The states are numbered alike in both generations
(0 waiting, 1 signed, 2 expired; Barocert's 3 refused, 4 failed): a record speaks
Barocert's :class:`State`, the 2.x service reads it as a ``SignState``. The App to
App values and the verify answers' opaque values (signed data, CI) are derived from
the sandbox key and the receipt, so they are the same every time they are asked for.
The receiver's data in Barocert's verify answers is encrypted the way Barocert
documents it (base64 of AES-256-CTR), under the sandbox's published personal-data
key: :func:`decrypt_personal_data` reads it.
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
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from kakaocert_async import _wire
from kakaocert_async._kinds import AnyKind
from kakaocert_async._wire import KST
from kakaocert_async.barocert._models import IdentityRequest, MultiSignRequest, SignRequest, State

PERSONAL_DATA_KEY_BYTES = b"sandbox personal-data key: fake!"
"""The AES-256-CTR key of the receiver's data in the sandbox's verify answers (the real
service's comes with Kakao's verification module). Public, so worthless elsewhere."""
PERSONAL_DATA_IV_BYTES = b"sandbox-ctr-iv16"
"""The initial counter block (16 bytes) that goes with it."""
PERSONAL_DATA_KEY = base64.b64encode(PERSONAL_DATA_KEY_BYTES).decode("ascii")
PERSONAL_DATA_IV = base64.b64encode(PERSONAL_DATA_IV_BYTES).decode("ascii")

CALL_CENTER_NUM = "1600-0000"
"""``callCenterNum`` in every Barocert state (made up)."""


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
                self.open(sign_at)
            elif now >= self.expires_at:
                return State.EXPIRED
            else:
                return State.WAITING
        return State.COMPLETED

    # The receiver's commands, on a receipt still waiting (the service checks it first).

    def answer(self, now: float, ending: State | None = None) -> None:
        """The receiver answers now: signs (``ending`` ``None``), refuses or fails."""
        if ending is None:
            self.signed_at = now
        else:
            self.ended = ending
        self.open(now)

    def expire(self, now: float) -> None:
        """The request expires now."""
        self.expires_at = now

    def open(self, when: float) -> None:
        """The receiver opens the KakaoTalk message at ``when`` (unless seen before)."""
        if self.viewed_at is None or self.viewed_at > when:
            self.viewed_at = when

    def verified(self, key: bytes) -> dict[str, Any]:
        """The verify answer of this signed receipt (wire names)."""
        request, receipt_id = self.request, self.receipt_id
        if self.kind.generation == "2.x":
            made = self.kind.verification(receipt_id=receipt_id, signed_data=signed_data(key, self))
            verification: dict[str, Any] = _wire.converter.unstructure(made)
            return verification
        answer: dict[str, Any] = {"receiptID": receipt_id, "state": int(State.COMPLETED)}
        if isinstance(request, IdentityRequest):
            # Identity: the signed data is the token; the caller compares the two.
            answer["signedData"] = request.token
        elif isinstance(request, MultiSignRequest):
            answer["multiSignedData"] = [
                opaque_signed_data(key, "multiSignedData", f"{receipt_id}\n{i}\n{doc.token}")
                for i, doc in enumerate(request.documents)
            ]
        else:
            token = request.token if isinstance(request, SignRequest) else self.kind.segment
            answer["signedData"] = opaque_signed_data(key, "signedData", f"{receipt_id}\n{token}")
        person = Person(
            name=request.receiver_name,
            phone=request.receiver_hp,
            birthday=request.receiver_birthday,
        )
        answer.update(person.verified(key))
        return answer

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


def _ctr(data: bytes) -> bytes:
    # CTR is its own inverse: the same call encrypts and decrypts.
    aes = algorithms.AES(PERSONAL_DATA_KEY_BYTES)
    context = Cipher(aes, modes.CTR(PERSONAL_DATA_IV_BYTES)).encryptor()
    return context.update(data) + context.finalize()


def encrypt_personal_data(text: str) -> str:
    """``base64(AES-256-CTR(text))`` with the sandbox's personal-data key and IV."""
    return base64.b64encode(_ctr(text.encode("utf-8"))).decode("ascii")


def decrypt_personal_data(value: str) -> str:
    """The plaintext of a ``ci`` or ``receiver*`` value in a sandbox verify answer.

    Args:
        value: The value as answered (base64).

    Returns:
        The plaintext.

    Raises:
        ValueError: ``value`` is not base64 (``binascii.Error``), or does not decrypt to
            UTF-8 (``UnicodeDecodeError``).
    """
    return _ctr(base64.b64decode(value)).decode("utf-8")


@attrs.frozen(kw_only=True)
class Person:
    """Who signs (from the request, decrypted) or logs in (given to the control call)."""

    name: str
    phone: str
    birthday: str

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
            # Made up alike for everyone: neither a request nor a login gives them.
            "receiverGender": "M",
            "receiverForeign": "N",
            "receiverTelcoType": "SKT",
        }
        return {name: encrypt_personal_data(value) for name, value in plain.items()}


@attrs.define(kw_only=True, slots=True)
class Login:
    """A login (간편로그인) the receiver completed in KakaoTalk, waiting for its verify."""

    tx_id: str
    client_code: str
    person: Person
    signed_at: float
    verified_at: float | None = None

    def verified(self, key: bytes) -> dict[str, Any]:
        return {
            "txID": self.tx_id,
            "state": int(State.COMPLETED),
            "signedData": opaque_signed_data(key, "loginSignedData", self.tx_id),
            **self.person.verified(key),
        }


def login_tx_id(key: bytes, sequence: int) -> str:
    """A login transaction id shaped like the examples' (``01`` + a UUID)."""
    return "01" + str(uuid.UUID(bytes=derive(key, "login", str(sequence))[:16], version=4))


def app_scheme(key: bytes, receipt_id: str) -> str:
    """The App to App scheme of a receipt (made up: the real one is KakaoTalk's)."""
    tx = uuid.UUID(bytes=derive(key, "scheme", receipt_id)[:16], version=4)
    return f"kakaotalk://kakaocert-sandbox/sign?tx_id={tx}"
