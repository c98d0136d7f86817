"""An asyncio SDK for KakaoCert (Linkhub): e-signatures, identity verification and CMS
withdrawal consents; request, await, verify.

>>> from kakaocert_async import Client, ESignRequest, SignState
"""

import logging

from ._client import (
    API_URL,
    AUTH_URL,
    GA_API_URL,
    GA_AUTH_URL,
    STATIC_API_URL,
    STATIC_AUTH_URL,
    BoundClient,
    Client,
)
from ._connection import UnclaimedAnswer
from ._errors import (
    APIError,
    ClientClosed,
    KakaocertError,
    MalformedResponse,
    Progress,
    RawAnswer,
    RequestNotSent,
    ServiceUnreachable,
    SignTimeout,
    TransportError,
    ValidationError,
    VerifyOutcomeUnknown,
)
from ._http import RetryPolicy, set_testing
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
from ._public import publish
from ._version import __version__

# A library's logger: records reach the application's handlers if it configured
# logging, and are never printed on their own (not even WARNING) if it did not.
logging.getLogger("kakaocert_async").addHandler(logging.NullHandler())

__all__ = [
    "API_URL",
    "AUTH_URL",
    "GA_API_URL",
    "GA_AUTH_URL",
    "STATIC_API_URL",
    "STATIC_AUTH_URL",
    "APIError",
    "BoundClient",
    "CMSReceipt",
    "CMSRequest",
    "CMSStatus",
    "CMSVerification",
    "Client",
    "ClientClosed",
    "ESignReceipt",
    "ESignRequest",
    "ESignStatus",
    "ESignVerification",
    "KakaocertError",
    "MalformedResponse",
    "Progress",
    "RawAnswer",
    "RequestNotSent",
    "RetryPolicy",
    "ServiceUnreachable",
    "SignState",
    "SignTimeout",
    "TransportError",
    "UnclaimedAnswer",
    "ValidationError",
    "VerifyAuthReceipt",
    "VerifyAuthRequest",
    "VerifyAuthStatus",
    "VerifyAuthVerification",
    "VerifyOutcomeUnknown",
    "__version__",
    "set_testing",
]

# Public classes and functions named as imported, not by their private module (_public).
publish(globals(), __all__)
