"""Each family as the sandbox serves it: the token scope it needs, its endpoints' names.

Stats and fault targets name endpoints. The e-sign family, the first served, keeps
the bare names it always had (``request``, ``status``, ``verify``); every other
family's are ``<family>.<call>`` (``identity.verify``, ``cms.request``), so a new
family (or generation) adds names without touching the old ones.
"""

from __future__ import annotations

import attrs

from kakaocert_async import _kinds
from kakaocert_async._kinds import AnyKind

from ._settings import CMS_SCOPE, IDENTITY_SCOPE


@attrs.frozen(kw_only=True)
class ServedFamily:
    """A family of the API with what the sandbox adds to it."""

    family: AnyKind
    scope: str | None
    """The scope a token needs for its calls; ``None``: ``Settings.required_scope``."""
    prefix: str
    """Before each endpoint name: ``""`` for e-sign, else ``"<family>."``."""

    @property
    def request_endpoint(self) -> str:
        return f"{self.prefix}request"

    @property
    def status_endpoint(self) -> str:
        return f"{self.prefix}status"

    @property
    def verify_endpoint(self) -> str:
        return f"{self.prefix}verify"

    @property
    def endpoints(self) -> tuple[str, str, str]:
        return (self.request_endpoint, self.status_endpoint, self.verify_endpoint)


ESIGN = ServedFamily(family=_kinds.ESIGN, scope=None, prefix="")
IDENTITY = ServedFamily(family=_kinds.IDENTITY, scope=IDENTITY_SCOPE, prefix="identity.")
CMS = ServedFamily(family=_kinds.CMS, scope=CMS_SCOPE, prefix="cms.")
SERVED = (ESIGN, IDENTITY, CMS)

FAMILY_ENDPOINTS = tuple(name for served in SERVED for name in served.endpoints)
"""``request, status, verify, identity.request, ..., cms.verify``."""
