"""An asyncio SDK for KakaoCert (Linkhub): e-signatures, identity verification and CMS
withdrawal consents; request, await, verify.

>>> from kakaocert_async import Client, ESignRequest, SignState

The names are imported from their modules when first used (PEP 562): importing the
package alone costs next to nothing (its pytest plugin, which every pytest run of a
project that installs it loads, stays cheap), and an HTTP library is loaded only when
a client that sends with it is made.
"""

import importlib
import logging
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:  # what type checkers see; at run time, __getattr__ below
    from ._client import API_URL, AUTH_URL, BoundClient, Client
    from ._connection import UnclaimedAnswer
    from ._errors import (
        APIError,
        ClientClosed,
        KakaocertError,
        MalformedResponse,
        Progress,
        RawAnswer,
        RequestNotSent,
        SignTimeout,
        TransportError,
        ValidationError,
        VerifyOutcomeUnknown,
    )
    from ._http import set_testing
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

# A library's logger: records reach the application's handlers if it configured
# logging, and are never printed on their own (not even WARNING) if it did not.
logging.getLogger("kakaocert_async").addHandler(logging.NullHandler())

__all__ = [
    "API_URL",
    "AUTH_URL",
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

_MODULES = ("._errors", "._models", "._http", "._connection", "._client")
"""Where the public names are defined (those in the block above), in the order of their
imports: a name costs the modules up to its own (an error class, ``._errors`` alone)."""


def __getattr__(name: str) -> Any:
    """A public name, imported from its module at its first use (then kept here)."""
    if name in __all__:
        for module in _MODULES:
            value = getattr(importlib.import_module(module, __name__), name, __getattr__)
            if value is not __getattr__:
                globals()[name] = value
                return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
