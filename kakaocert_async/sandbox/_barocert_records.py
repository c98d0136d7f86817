"""What a Barocert verify answers: the signed data and the receiver's data, and logins.

The answers' opaque values (signed data, CI) are derived from the sandbox key and
the receipt, so they are the same every time. The receiver's data in verify answers
is encrypted the way Barocert documents it (base64 of AES-256-CTR), under the
sandbox's published personal-data key: :func:`decrypt_personal_data` reads it.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from typing import Any

import attrs
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from kakaocert_async.barocert._models import IdentityRequest, MultiSignRequest, SignRequest, State

from ._receipts import Receipt, derive, opaque_signed_data

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


def verified(receipt: Receipt, key: bytes) -> dict[str, Any]:
    """The verify answer of a signed receipt (wire names)."""
    request = receipt.request
    receipt_id = receipt.receipt_id
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
        token = request.token if isinstance(request, SignRequest) else receipt.kind.segment
        answer["signedData"] = opaque_signed_data(key, "signedData", f"{receipt_id}\n{token}")
    person = Person(
        name=request.receiver_name, phone=request.receiver_hp, birthday=request.receiver_birthday
    )
    answer.update(person.verified(key))
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


def login_tx_id(key: bytes, sequence: int) -> str:
    """A login transaction id shaped like the examples' (``01`` + a UUID)."""
    return "01" + str(uuid.UUID(bytes=derive(key, "login", str(sequence))[:16], version=4))


def app_scheme(key: bytes, receipt_id: str) -> str:
    """The App to App scheme of a receipt (made up: the real one is KakaoTalk's)."""
    tx = uuid.UUID(bytes=derive(key, "scheme", receipt_id)[:16], version=4)
    return f"kakaotalk://kakaocert-sandbox/sign?tx_id={tx}"
