"""Barocert: Linkhub's current Kakao certificate API (identity, sign, multi-sign, CMS, login).

Models take the receiver's data in plain text; the SDK encrypts the fields the
protocol requires (AES-256-GCM with your SecretKey) when it builds a request.

>>> from kakaocert_async.barocert import SignRequest, TokenType, hash_text
>>> request = SignRequest(
...     receiver_hp="01012341234", receiver_name="홍길동", receiver_birthday="19900108",
...     sign_title="계약서 서명", expire_in=300, token=hash_text("계약서 본문"),
...     token_type=TokenType.HASH,
... )
>>> request.token_type
<TokenType.HASH: 'HASH'>
"""

from . import _wire as _wire  # registers the models on the package's converter
from ._crypto import DecryptionError, hash_file, hash_text
from ._models import (
    BankServiceType,
    CMSRequest,
    IdentityRequest,
    Kind,
    LoginVerification,
    MultiSignRequest,
    MultiSignVerification,
    Receipt,
    SignDocument,
    SignRequest,
    State,
    Status,
    TokenType,
    Verification,
)
from ._validation import MAX_DOCUMENTS

__all__ = [
    "MAX_DOCUMENTS",
    "BankServiceType",
    "CMSRequest",
    "DecryptionError",
    "IdentityRequest",
    "Kind",
    "LoginVerification",
    "MultiSignRequest",
    "MultiSignVerification",
    "Receipt",
    "SignDocument",
    "SignRequest",
    "State",
    "Status",
    "TokenType",
    "Verification",
    "hash_file",
    "hash_text",
]
