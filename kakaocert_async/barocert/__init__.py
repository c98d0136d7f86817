"""Barocert: Linkhub's current Kakao certificate API (identity, sign, multi-sign, CMS, login).

:class:`Client` makes every call of the official SDK's ``KakaocertService``, in
asyncio. Models take the receiver's data in plain text; the client encrypts the
fields the protocol requires (AES-256-GCM with your SecretKey) when it sends.

>>> from kakaocert_async.barocert import SignRequest, TokenType, hash_text
>>> request = SignRequest(
...     receiver_hp="01012341234", receiver_name="홍길동", receiver_birthday="19900108",
...     sign_title="계약서 서명", expire_in=300, token=hash_text("계약서 본문"),
...     token_type=TokenType.HASH,
... )
>>> request.token_type
<TokenType.HASH: 'HASH'>
"""

from kakaocert_async._errors import (
    APIError,
    ClientClosed,
    KakaocertError,
    MalformedResponse,
    Progress,
    RequestNotSent,
    ServiceUnreachable,
    SignTimeout,
    TransportError,
    ValidationError,
    VerifyOutcomeUnknown,
)
from kakaocert_async._public import publish

from ._client import (
    API_URL,
    AUTH_URL,
    NON_STATIC_API_URL,
    NON_STATIC_AUTH_URL,
    BoundClient,
    Client,
)
from ._crypto import DecryptionError, hash_file, hash_text
from ._errors import VERIFY_WINDOW, VerifyTooLate
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
    "API_URL",
    "AUTH_URL",
    "MAX_DOCUMENTS",
    "NON_STATIC_API_URL",
    "NON_STATIC_AUTH_URL",
    "VERIFY_WINDOW",
    "APIError",
    "BankServiceType",
    "BoundClient",
    "CMSRequest",
    "Client",
    "ClientClosed",
    "DecryptionError",
    "IdentityRequest",
    "KakaocertError",
    "Kind",
    "LoginVerification",
    "MalformedResponse",
    "MultiSignRequest",
    "MultiSignVerification",
    "Progress",
    "Receipt",
    "RequestNotSent",
    "ServiceUnreachable",
    "SignDocument",
    "SignRequest",
    "SignTimeout",
    "State",
    "Status",
    "TokenType",
    "TransportError",
    "ValidationError",
    "Verification",
    "VerifyOutcomeUnknown",
    "VerifyTooLate",
    "hash_file",
    "hash_text",
]

# Public classes and functions named as imported, not by their private module (_public).
publish(globals(), __all__)
