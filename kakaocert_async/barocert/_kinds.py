"""Barocert's kinds of receipt, described once (the entries of ``_kinds.ReceiptKind``).

Identity verification, sign (one document, or up to 20), and CMS consent: the
same three calls each, on ``/KAKAO/<segment>/...``. Login verify has no receipt
to wait on, and is the client's fifth operation.
"""

from __future__ import annotations

from typing import Any

from kakaocert_async._kinds import AnyKind, ReceiptKind

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

IDENTITY: ReceiptKind[IdentityRequest, Receipt, Status, Verification] = ReceiptKind(
    name="barocert.identity",
    generation="barocert",
    segment=Kind.IDENTITY.value,
    request=IdentityRequest,
    receipt=Receipt,
    status=Status,
    verification=Verification,
    scope="401",
    app_to_app=True,
    calls=("requestIdentity", "getIdentityStatus", "verifyIdentity"),
    methods=("request_identity", "get_identity_status", "verify_identity"),
    what="prove who they are, 본인인증",
)
SIGN: ReceiptKind[SignRequest, Receipt, Status, Verification] = ReceiptKind(
    name="barocert.sign",
    generation="barocert",
    segment=Kind.SIGN.value,
    request=SignRequest,
    receipt=Receipt,
    status=Status,
    verification=Verification,
    scope="402",
    app_to_app=True,
    calls=("requestSign", "getSignStatus", "verifySign"),
    methods=("request_sign", "get_sign_status", "verify_sign"),
    what="sign one document, 전자서명",
)
MULTI_SIGN: ReceiptKind[MultiSignRequest, Receipt, Status, MultiSignVerification] = ReceiptKind(
    name="barocert.multi_sign",
    generation="barocert",
    segment=Kind.MULTI_SIGN.value,
    request=MultiSignRequest,
    receipt=Receipt,
    status=Status,
    verification=MultiSignVerification,
    scope="403",
    app_to_app=True,
    calls=("requestMultiSign", "getMultiSignStatus", "verifyMultiSign"),
    methods=("request_multi_sign", "get_multi_sign_status", "verify_multi_sign"),
    what="sign up to 20 documents at once, 전자서명(복수)",
)
CMS: ReceiptKind[CMSRequest, Receipt, Status, Verification] = ReceiptKind(
    name="barocert.cms",
    generation="barocert",
    segment=Kind.CMS.value,
    request=CMSRequest,
    receipt=Receipt,
    status=Status,
    verification=Verification,
    scope="404",
    app_to_app=True,
    calls=("requestCMS", "getCMSStatus", "verifyCMS"),
    methods=("request_cms", "get_cms_status", "verify_cms"),
    what="consent to a bank withdrawal, 출금동의",
)

KINDS: tuple[AnyKind, ...] = (IDENTITY, SIGN, MULTI_SIGN, CMS)
LOGIN_SCOPE = "405"
"""The token scope login verify needs."""


def of(kind: Kind) -> ReceiptKind[Any, Receipt, Status, Any]:
    """The entry of a :class:`Kind`."""
    return next(entry for entry in KINDS if entry.segment == kind.value)
