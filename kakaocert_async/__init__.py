"""An asyncio SDK for KakaoCert e-signatures (Linkhub): request, await, verify.

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
from ._models import ESignReceipt, ESignRequest, ESignStatus, ESignVerification, SignState
from ._version import __version__

__all__ = [
    "API_URL",
    "AUTH_URL",
    "APIError",
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
    "VerifyOutcomeUnknown",
    "__version__",
]
