"""A local KakaoCert: Linkhub auth, the 2.x API (e-sign, identity, CMS) and Barocert on one
origin, as strict as the real ones.

>>> from kakaocert_async.sandbox import Sandbox
>>> sandbox = Sandbox()
>>> sandbox.link_id, sandbox.client_code
('SANDBOX', '020040000001')

Importing this package needs neither starlette nor uvicorn (the ``sandbox``
extra); using :attr:`Sandbox.app` or serving does, and says how to install them.
See ``docs/sandbox.md``.
"""

from ._barocert_records import PERSONAL_DATA_IV, PERSONAL_DATA_KEY, decrypt_personal_data
from ._barocert_service import BarocertService
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
    DEFAULT_SIGN_AFTER,
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
    "DEFAULT_SIGN_AFTER",
    "DEFAULT_TOKEN_TTL",
    "ENDPOINTS",
    "ESIGN_SCOPE",
    "IDENTITY_SCOPE",
    "INSTALL_HINT",
    "IN_PROCESS_URL",
    "PERSONAL_DATA_IV",
    "PERSONAL_DATA_KEY",
    "Action",
    "BarocertService",
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
    "decrypt_personal_data",
    "require_extra",
]
