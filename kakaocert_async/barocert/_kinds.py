"""Barocert's kinds of receipt, described once (the entries of ``_kinds.ReceiptKind``).

Identity verification, sign (one document, or up to 20), and CMS consent: the
same three calls each, on ``/KAKAO/<segment>/...``. Login verify has no receipt
to wait on, and is the client's fifth operation.
"""

from __future__ import annotations

import re
from typing import Any

from kakaocert_async._kinds import ReceiptKind, RequestT, VerificationT

from ._models import (
    CMSRequest,
    IdentityRequest,
    Kind,
    MultiSignRequest,
    MultiSignVerification,
    Receipt,
    SignRequest,
    Status,
    Verification,
)


def _kind(
    kind: Kind,
    request: type[RequestT],
    verification: type[VerificationT],
    *,
    scope: str,
    what: str,
) -> ReceiptKind[RequestT, Receipt, Status, VerificationT]:
    """The entry of ``kind``: every Barocert kind has the same receipt and status, may be
    App to App, and is named after its segment, as the official SDK names its calls
    (``MultiSign``: ``requestMultiSign``, ``getMultiSignStatus``, ``verifyMultiSign``)."""
    segment = kind.value
    snake = re.sub(r"(?<=[a-z])(?=[A-Z])", "_", segment).lower()  # MultiSign: multi_sign
    return ReceiptKind(
        name=f"barocert.{snake}",
        generation="barocert",
        segment=segment,
        request=request,
        receipt=Receipt,
        status=Status,
        verification=verification,
        scope=scope,
        app_to_app=True,
        calls=(f"request{segment}", f"get{segment}Status", f"verify{segment}"),
        methods=(f"request_{snake}", f"get_{snake}_status", f"verify_{snake}"),
        what=what,
    )


IDENTITY = _kind(
    Kind.IDENTITY, IdentityRequest, Verification, scope="401", what="prove who they are, 본인인증"
)
SIGN = _kind(Kind.SIGN, SignRequest, Verification, scope="402", what="sign one document, 전자서명")
MULTI_SIGN = _kind(
    Kind.MULTI_SIGN,
    MultiSignRequest,
    MultiSignVerification,
    scope="403",
    what="sign up to 20 documents at once, 전자서명(복수)",
)
CMS = _kind(
    Kind.CMS, CMSRequest, Verification, scope="404", what="consent to a bank withdrawal, 출금동의"
)

KINDS: tuple[ReceiptKind[Any, Receipt, Status, Any], ...] = (IDENTITY, SIGN, MULTI_SIGN, CMS)
LOGIN_SCOPE = "405"
"""The token scope login verify needs."""


def of(kind: Kind) -> ReceiptKind[Any, Receipt, Status, Any]:
    """The entry of a :class:`Kind`."""
    return next(entry for entry in KINDS if entry.segment == kind.value)
