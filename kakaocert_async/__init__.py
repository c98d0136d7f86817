"""An asyncio SDK for KakaoCert (Linkhub): e-signatures, identity verification and CMS
withdrawal consents; request, await, verify.

>>> from kakaocert_async import Client, ESignRequest, SignState
"""

from ._client import API_URL, AUTH_URL, Client
from ._errors import (
    APIError,
    KakaocertError,
    MalformedResponse,
    RequestNotSent,
    SignTimeout,
    TransportError,
    ValidationError,
    VerifyOutcomeUnknown,
)
from ._models import (
    CMSReceipt,
    CMSRequest,
    CMSStatus,
    CMSVerification,
    ESignReceipt,
    ESignRequest,
    ESignStatus,
    ESignVerification,
    SignState,
    VerifyAuthReceipt,
    VerifyAuthRequest,
    VerifyAuthStatus,
    VerifyAuthVerification,
)
from ._version import __version__

__all__ = [
    "API_URL",
    "AUTH_URL",
    "APIError",
    "CMSReceipt",
    "CMSRequest",
    "CMSStatus",
    "CMSVerification",
    "Client",
    "ESignReceipt",
    "ESignRequest",
    "ESignStatus",
    "ESignVerification",
    "KakaocertError",
    "MalformedResponse",
    "RequestNotSent",
    "SignState",
    "SignTimeout",
    "TransportError",
    "ValidationError",
    "VerifyAuthReceipt",
    "VerifyAuthRequest",
    "VerifyAuthStatus",
    "VerifyAuthVerification",
    "VerifyOutcomeUnknown",
    "__version__",
]
