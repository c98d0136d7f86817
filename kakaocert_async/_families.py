"""The three families of the KakaoCert 2.x API in one table: their paths and their models.

E-signature (``SignToken``), identity verification (``SignIdentity``) and CMS
withdrawal consent (``SignDirectDebit``) have the same three calls — request,
state, verify — on the same host, with the same token, headers and signatures;
they differ in paths, models and whether App to App exists. The client and the
sandbox both read this table, so a family is described once.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import attrs

from ._models import (
    CMSReceipt,
    CMSRequest,
    CMSStatus,
    CMSVerification,
    ESignReceipt,
    ESignRequest,
    ESignStatus,
    ESignVerification,
    ReceiptBase,
    RequestBase,
    StatusBase,
    VerificationBase,
    VerifyAuthReceipt,
    VerifyAuthRequest,
    VerifyAuthStatus,
    VerifyAuthVerification,
)

RequestT = TypeVar("RequestT", bound=RequestBase)
ReceiptT = TypeVar("ReceiptT", bound=ReceiptBase)
StatusT = TypeVar("StatusT", bound=StatusBase)
VerificationT = TypeVar("VerificationT", bound=VerificationBase)


@attrs.frozen(kw_only=True)
class Family(Generic[RequestT, ReceiptT, StatusT, VerificationT]):
    """One family: where its calls go and what they carry."""

    name: str
    """Short name: ``esign``, ``identity`` or ``cms``."""
    path: str
    """The paths' common prefix, e.g. ``/SignToken``."""
    request: type[RequestT]
    receipt: type[ReceiptT]
    status: type[StatusT]
    verification: type[VerificationT]
    app_to_app: bool
    """Whether requests may be App to App (and verify may carry a signature)."""
    get_state: str
    """The ``Client`` method that reads a state, named in errors."""

    @property
    def request_path(self) -> str:
        return f"{self.path}/Request"

    @property
    def status_prefix(self) -> str:
        """``{path}/Status/``: the receipt id follows."""
        return f"{self.path}/Status/"

    @property
    def verify_prefix(self) -> str:
        """``{path}/Verify/``: the receipt id (and App to App, ``/`` and the signature) follow."""
        return f"{self.path}/Verify/"


AnyFamily = Family[Any, Any, Any, Any]

ESIGN: Family[ESignRequest, ESignReceipt, ESignStatus, ESignVerification] = Family(
    name="esign",
    path="/SignToken",
    request=ESignRequest,
    receipt=ESignReceipt,
    status=ESignStatus,
    verification=ESignVerification,
    app_to_app=True,
    get_state="get_esign_state",
)
IDENTITY: Family[VerifyAuthRequest, VerifyAuthReceipt, VerifyAuthStatus, VerifyAuthVerification]
IDENTITY = Family(
    name="identity",
    path="/SignIdentity",
    request=VerifyAuthRequest,
    receipt=VerifyAuthReceipt,
    status=VerifyAuthStatus,
    verification=VerifyAuthVerification,
    app_to_app=False,
    get_state="get_verify_auth_state",
)
CMS: Family[CMSRequest, CMSReceipt, CMSStatus, CMSVerification] = Family(
    name="cms",
    path="/SignDirectDebit",
    request=CMSRequest,
    receipt=CMSReceipt,
    status=CMSStatus,
    verification=CMSVerification,
    app_to_app=True,
    get_state="get_cms_state",
)

FAMILIES: tuple[AnyFamily, ...] = (ESIGN, IDENTITY, CMS)


def of_receipt(receipt: ReceiptBase) -> AnyFamily | None:
    """The family whose receipt class ``receipt`` is an instance of, if any."""
    for family in FAMILIES:
        if isinstance(receipt, family.receipt):
            return family
    return None
