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
import sys
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:  # what type checkers see; at run time, __getattr__ below
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

_MODULES = ("._errors", "._models", "._http", "._connection", "._client")
"""Where the public names are defined (those in the block above), in the order of their
imports: a name costs the modules up to its own (an error class, ``._errors`` alone)."""


def __getattr__(name: str) -> Any:
    """A public name, imported from its module at its first use (then kept here).

    Every public name of a module loaded by then is kept too, and shown under this
    package (:func:`~kakaocert_async._public.publish`): an error raised from within
    reads ``kakaocert_async.APIError``, as it is imported.
    """
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from ._public import publish

    namespace = globals()
    for module in _MODULES:  # imported up to the name's own; the others if loaded already
        if name not in namespace:
            importlib.import_module(module, __name__)
        loaded = sys.modules.get(__name__ + module)
        for public in __all__ if loaded is not None else ():
            if public not in namespace and hasattr(loaded, public):
                namespace[public] = getattr(loaded, public)
    publish(namespace, [public for public in __all__ if public in namespace])
    return namespace[name]


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
