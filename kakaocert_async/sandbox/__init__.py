"""A local KakaoCert: Linkhub auth and the API (e-sign, identity, CMS) on one origin, as strict
as the real one.

>>> from kakaocert_async.sandbox import Sandbox
>>> sandbox = Sandbox()
>>> sandbox.link_id, sandbox.client_code
('SANDBOX', '020040000001')

Importing this package needs neither starlette nor uvicorn (the ``sandbox``
extra); using :attr:`Sandbox.app` or serving does, and says how to install them.
See ``docs/sandbox.md``.
"""

from ._faults import Action, Body, ConnectionDropped, Decision, Fault, FaultPlan, FaultSpecError
from ._rejections import Rejected, Rejection
from ._sandbox import IN_PROCESS_URL, INSTALL_HINT, Sandbox, SandboxUnavailable, require_extra
from ._service import COUNTERS, ENDPOINTS, Service
from ._settings import (
    CMS_SCOPE,
    DATE_TOLERANCE,
    DEFAULT_CLIENT_CODE,
    DEFAULT_LINK_ID,
    DEFAULT_SECRET_KEY,
    DEFAULT_SECRET_KEY_BYTES,
    DEFAULT_TOKEN_TTL,
    ESIGN_SCOPE,
    IDENTITY_SCOPE,
    Settings,
)
from ._transport import SandboxTransport

__all__ = [
    "CMS_SCOPE",
    "COUNTERS",
    "DATE_TOLERANCE",
    "DEFAULT_CLIENT_CODE",
    "DEFAULT_LINK_ID",
    "DEFAULT_SECRET_KEY",
    "DEFAULT_SECRET_KEY_BYTES",
    "DEFAULT_TOKEN_TTL",
    "ENDPOINTS",
    "ESIGN_SCOPE",
    "IDENTITY_SCOPE",
    "INSTALL_HINT",
    "IN_PROCESS_URL",
    "Action",
    "Body",
    "ConnectionDropped",
    "Decision",
    "Fault",
    "FaultPlan",
    "FaultSpecError",
    "Rejected",
    "Rejection",
    "Sandbox",
    "SandboxTransport",
    "SandboxUnavailable",
    "Service",
    "Settings",
    "require_extra",
]
