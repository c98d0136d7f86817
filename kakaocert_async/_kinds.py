"""Every kind of receipt, described once: its paths, models, token scope and names.

A kind is what a request asks for (an e-signature, an identity verification, a
CMS consent, ...): each has the same three calls, request, state and verify, on
paths of the same shape, and differs in its models and names. The clients, the
polling loop, the command line, the fleet and the sandbox all read this one
description, so a new kind is an entry here (KakaoCert 2.x) or in
``barocert._kinds`` (Barocert), and its models: nothing else.
"""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

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
    VerifyAuthReceipt,
    VerifyAuthRequest,
    VerifyAuthStatus,
    VerifyAuthVerification,
)
from ._secret import total_repr
from ._validation import path_value

RequestT = TypeVar("RequestT")
ReceiptT = TypeVar("ReceiptT")
StatusT = TypeVar("StatusT")
VerificationT = TypeVar("VerificationT")


@attrs.frozen(kw_only=True)
class ReceiptKind(Generic[RequestT, ReceiptT, StatusT, VerificationT]):
    """One kind of receipt: all the SDK knows of it.

    Attributes:
        name: Its name in job ids, Redis keys, sandbox endpoints and command-line groups:
            ``esign``, ``identity``, ``cms`` (2.x); ``barocert.sign``, ... (Barocert).
        generation: ``"2.x"`` (KakaoCert 2.x) or ``"barocert"``.
        segment: What tells its paths apart: ``/SignToken`` (2.x), ``Sign`` (Barocert's
            ``/KAKAO/Sign/...``).
        request: The class of its request (``ESignRequest``, ``barocert.SignRequest``, ...).
        receipt: The class of the receipt its request returns (``ESignReceipt``, ...;
            ``barocert.Receipt`` for every Barocert kind).
        status: The class of its state (``ESignStatus``, ...; ``barocert.Status``).
        verification: The class of its verify's answer (``ESignVerification``, ...;
            ``barocert.Verification`` or ``barocert.MultiSignVerification``).
        scope: The token scope its calls need (the sandbox checks it).
        app_to_app: Whether its requests may be App to App (and the 2.x verify carry a
            signature).
        calls: The official SDKs' names of request, state and verify (``RequestESign``, ...).
        methods: The client's names of the same (``request_esign``, ...), named in errors.
        what: What the receiver does, in a few words (``sign a text``), for help texts.
        paths: Its request, status and verify paths, ``{client_code}`` and
            ``{receipt_id}`` standing for the values (the 2.x verify may have
            ``/<signature>`` after them): made once, with the kind.
    """

    name: str
    generation: Literal["2.x", "barocert"]
    segment: str
    request: type[RequestT]
    receipt: type[ReceiptT]
    status: type[StatusT]
    verification: type[VerificationT]
    scope: str
    app_to_app: bool
    calls: tuple[str, str, str]
    methods: tuple[str, str, str]
    what: str
    paths: tuple[str, str, str] = attrs.field(init=False, eq=False, repr=False)

    @paths.default
    def _paths(self) -> tuple[str, str, str]:
        # Made here, not per call: every request, state read and verify reads them.
        segment = self.segment
        if self.generation == "2.x":
            return (
                f"{segment}/Request",
                f"{segment}/Status/{{receipt_id}}",
                f"{segment}/Verify/{{receipt_id}}",
            )
        own = f"/KAKAO/{segment}/{{client_code}}"
        return (
            own,
            f"{own}/{{receipt_id}}",
            f"/KAKAO/{segment}/Verify/{{client_code}}/{{receipt_id}}",
        )

    def request_path(self, client_code: str) -> str:
        """Its request path, filled in.

        Args:
            client_code: The client code (이용기관코드); in Barocert's path only (the 2.x
                path has none, and it is not checked there).

        Returns:
            The path (``/SignToken/Request``, ``/KAKAO/Sign/<client code>``), each value as
                sent (percent-encoded only where no URI can hold it raw).

        Raises:
            ValidationError: A value in the path is not a non-empty string, or would change
                the URL's meaning (``?``, ``#``, ``\\``, a ``%XX`` escape, whitespace or
                control characters, a ``.`` or ``..`` segment): the rule of every path value.
        """
        return _filled(self.paths[0], client_code=client_code)

    def status_path(self, client_code: str, receipt_id: str) -> str:
        """Its status path for one receipt, filled in.

        Args:
            client_code: The client code (이용기관코드); in Barocert's path only (the 2.x
                path has none, and it is not checked there).
            receipt_id: The receipt's id.

        Returns:
            The path (``/SignToken/Status/<receipt id>``,
                ``/KAKAO/Sign/<client code>/<receipt id>``).

        Raises:
            ValidationError: A value in the path breaks the rule of every path value (as
                for :meth:`request_path`).
        """
        return _filled(self.paths[1], client_code=client_code, receipt_id=receipt_id)

    def verify_path(self, client_code: str, receipt_id: str) -> str:
        """Its verify path for one receipt, filled in.

        Args:
            client_code: The client code (이용기관코드); in Barocert's path only (the 2.x
                path has none, and it is not checked there).
            receipt_id: The receipt's id.

        Returns:
            The path (``/SignToken/Verify/<receipt id>``, without the App to App
                signature 2.x may append; ``/KAKAO/Sign/Verify/<client code>/<receipt id>``).

        Raises:
            ValidationError: A value in the path breaks the rule of every path value (as
                for :meth:`request_path`).
        """
        return _filled(self.paths[2], client_code=client_code, receipt_id=receipt_id)

    @property
    def get_state(self) -> str:
        """The client method that reads its state, named in errors."""
        return self.methods[1]


total_repr(ReceiptKind)  # public in kakaocert_async.arq: a half-built one's repr does not raise


def _filled(path: str, **values: str) -> str:
    """``path`` with the values it names, each by the rule of every path value."""
    return path.format_map(
        {name: _path_value(value, name) for name, value in values.items() if f"{{{name}}}" in path}
    )


def _path_value(value: str, name: str) -> str:
    # ASCII digits (every client code and receipt id) need no escaping and break no rule:
    # the full check is for what else a path may be given (every state read comes here).
    if isinstance(value, str) and value.isdigit() and value.isascii():
        return value
    return path_value(value, name)


AnyKind = ReceiptKind[Any, Any, Any, Any]

ESIGN: ReceiptKind[ESignRequest, ESignReceipt, ESignStatus, ESignVerification] = ReceiptKind(
    name="esign",
    generation="2.x",
    segment="/SignToken",
    request=ESignRequest,
    receipt=ESignReceipt,
    status=ESignStatus,
    verification=ESignVerification,
    scope="310",
    app_to_app=True,
    calls=("RequestESign", "GetESignState", "VerifyESign"),
    methods=("request_esign", "get_esign_state", "verify_esign"),
    what="sign a text",
)
IDENTITY: ReceiptKind[
    VerifyAuthRequest, VerifyAuthReceipt, VerifyAuthStatus, VerifyAuthVerification
]
IDENTITY = ReceiptKind(
    name="identity",
    generation="2.x",
    segment="/SignIdentity",
    request=VerifyAuthRequest,
    receipt=VerifyAuthReceipt,
    status=VerifyAuthStatus,
    verification=VerifyAuthVerification,
    scope="320",
    app_to_app=False,
    calls=("RequestVerifyAuth", "GetVerifyAuthState", "VerifyAuth"),
    methods=("request_verify_auth", "get_verify_auth_state", "verify_auth"),
    what="prove who they are, 본인인증",
)
CMS: ReceiptKind[CMSRequest, CMSReceipt, CMSStatus, CMSVerification] = ReceiptKind(
    name="cms",
    generation="2.x",
    segment="/SignDirectDebit",
    request=CMSRequest,
    receipt=CMSReceipt,
    status=CMSStatus,
    verification=CMSVerification,
    scope="330",
    app_to_app=True,
    calls=("RequestCMS", "GetCMSState", "VerifyCMS"),
    methods=("request_cms", "get_cms_state", "verify_cms"),
    what="consent to automatic withdrawals, CMS 출금동의",
)

KINDS: tuple[AnyKind, ...] = (ESIGN, IDENTITY, CMS)
"""KakaoCert 2.x's kinds (Barocert's are ``barocert._kinds.KINDS``)."""


def of_receipt(receipt: object, kinds: tuple[AnyKind, ...] = KINDS) -> AnyKind | None:
    """The kind whose receipt ``receipt`` is, if any."""
    return next((kind for kind in kinds if type(receipt) is kind.receipt), None)


def named(name: str, kinds: tuple[AnyKind, ...] = KINDS) -> AnyKind | None:
    return next((kind for kind in kinds if kind.name == name), None)
