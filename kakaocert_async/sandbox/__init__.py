"""A local KakaoCert: Linkhub auth, the 2.x API (e-sign, identity, CMS) and Barocert on one
origin, as strict as the real ones.

>>> from kakaocert_async.sandbox import Sandbox
>>> sandbox = Sandbox()
>>> sandbox.link_id, sandbox.client_code
('SANDBOX', '020040000001')

Importing this package needs neither starlette nor uvicorn (the ``sandbox``
extra); using :attr:`Sandbox.app` or serving does, and says how to install them.
See ``docs/sandbox.md``.

``__all__`` is what a test uses: the :class:`Sandbox` (and its :class:`Settings`),
:class:`Fault`, the refusals (:class:`Rejection`, :class:`Rejected`), the endpoint
names of stats and faults, the default credentials, and the types of the objects a
sandbox hands out (``sandbox.service``, ``sandbox.barocert``, ``sandbox.faults``).
Everything else is internal: importable from its private module, and liable to change.
"""

from __future__ import annotations

import importlib
import warnings
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what type checkers see; at run time, __getattr__ below
    from ._faults import Fault, FaultPlan, FaultSpecError
    from ._receipts import decrypt_personal_data
    from ._rejections import Rejected, Rejection
    from ._sandbox import Sandbox, SandboxUnavailable
    from ._service import COUNTERS, ENDPOINTS, BarocertService, Service
    from ._settings import (
        DEFAULT_CLIENT_CODE,
        DEFAULT_LINK_ID,
        DEFAULT_SECRET_KEY,
        DEFAULT_SIGN_AFTER,
        Settings,
    )

__all__ = [
    "COUNTERS",
    "DEFAULT_CLIENT_CODE",
    "DEFAULT_LINK_ID",
    "DEFAULT_SECRET_KEY",
    "DEFAULT_SIGN_AFTER",
    "ENDPOINTS",
    "BarocertService",
    "Fault",
    "FaultPlan",
    "FaultSpecError",
    "Rejected",
    "Rejection",
    "Sandbox",
    "SandboxUnavailable",
    "Service",
    "Settings",
    "decrypt_personal_data",
]

_DEPRECATED = {
    # name: what to use instead
    "CMS_SCOPE": 'the scope "330" (docs/sandbox.md)',
    "ESIGN_SCOPE": "sandbox.settings.required_scope",
    "IDENTITY_SCOPE": 'the scope "320"',
    "DATE_TOLERANCE": "sandbox.settings.date_tolerance",
    "DEFAULT_SECRET_KEY_BYTES": "sandbox.settings.key (base64.b64decode(DEFAULT_SECRET_KEY))",
    "DEFAULT_TOKEN_TTL": "sandbox.settings.token_ttl",
    "INSTALL_HINT": "the message of SandboxUnavailable",
    "IN_PROCESS_URL": "sandbox.url",
    "PERSONAL_DATA_IV": "decrypt_personal_data()",
    "PERSONAL_DATA_KEY": "decrypt_personal_data()",
    "Action": 'its value as a string: Fault(action="error")',
    "Body": 'its value as a string: Fault(body="json")',
    "ConnectionDropped": "httpx.RemoteProtocolError, which a client sees for a dropped connection",
    "Decision": "nothing: it is the fault plan's inner working",
    "SandboxTransport": "sandbox.transport()",
    "require_extra": "the pytest fixture, or SandboxUnavailable",
}
"""Names this package exported before ``__all__`` was cut to what a test uses: importable
from it for one more release, with a DeprecationWarning. Each is found as the names of
``__all__`` are, but the ``*_SCOPE`` ones, which are their kinds' (``_kinds.ESIGN.scope``)."""


_MODULES = (
    "._settings",
    "._faults",
    "._rejections",
    "._receipts",
    "._service",
    "._sandbox",
    "._transport",
)
"""Where the names of ``__all__`` (those in the block above) and of ``_DEPRECATED`` are
defined, searched in this order: imported at a name's first use, so that importing this
package (as its pytest plugin does, in every pytest run) loads neither the sandbox nor
the SDK."""


def __getattr__(name: str) -> Any:
    if name not in __all__ and name not in _DEPRECATED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name.endswith("_SCOPE"):
        from kakaocert_async import _kinds

        value = getattr(_kinds, name.removesuffix("_SCOPE")).scope
    else:
        modules = (importlib.import_module(module, __name__) for module in _MODULES)
        value = next(getattr(module, name) for module in modules if hasattr(module, name))
    if name in __all__:
        globals()[name] = value
        from kakaocert_async._public import publish

        publish(globals(), [name])  # shown as kakaocert_async.sandbox.<name>
        return value
    warnings.warn(
        f"kakaocert_async.sandbox.{name} is internal and will not be importable from"
        f" kakaocert_async.sandbox in the next release; use {_DEPRECATED[name]}",
        DeprecationWarning,
        stacklevel=2,
    )
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
