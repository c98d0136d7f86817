"""The objects of the service manual as frozen attrs classes, checked at their fields.

Field names are Pythonic; the wire names live in ``_wire``. Reprs never show the
receiver's name, phone or birthday, nor a session token.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Protocol

import attrs

from . import _validation as v
from ._secret import Secret


def _masked(_: object) -> str:
    return "'***'"


def _length_only(value: str) -> str:
    return f"<{len(value)} chars>"


class Status(Protocol):
    """What every kind of status has in common: what the polling loop reads."""

    @property
    def receipt_id(self) -> str: ...
    @property
    def state(self) -> int: ...
    @property
    def is_final(self) -> bool:
        """True once the state will not change any more."""
        ...

    @property
    def expire_dt(self) -> dt.datetime | None: ...
    @property
    def request_dt(self) -> dt.datetime | None: ...
    @property
    def expires_in(self) -> int | None: ...


class SignState(enum.IntEnum):
    """The state of a signature request (``state`` on the wire)."""

    PENDING = 0
    """미확인: not signed yet."""
    SIGNED = 1
    """서명완료: signed; verify it (once) to obtain the signed data."""
    EXPIRED = 2
    """만료: ``expires_in`` passed without a signature."""


# The three families of the API (e-signature, identity verification, CMS withdrawal
# consent) share most of their fields: each is declared once, in a base class, with
# its validator; the public classes add what is their own. The bases are internal.


@attrs.frozen(kw_only=True)
class RequestBase:
    """The fields every request shares, by the ESign manual's limits (internal base).

    ``token`` is each family's own: required in two, optional in CMS.
    """

    call_center_num: str = attrs.field(validator=v.text(20))
    """고객센터 전화번호, shown in the KakaoTalk message (≤ 20)."""
    expires_in: int = attrs.field(validator=v.by(v.check_expires_in))
    """Seconds the receiver has to sign: 1..1000 (300 recommended)."""
    receiver_birthday: str = attrs.field(validator=v.by(v.check_birthday), repr=_masked)
    """수신자 생년월일, ``YYYYMMDD``."""
    receiver_hp: str = attrs.field(validator=v.by(v.check_phone), repr=_masked)
    """수신자 휴대폰번호: 10 or 11 digits, no hyphens."""
    receiver_name: str = attrs.field(validator=v.text(20), repr=_masked)
    """수신자 성명 (≤ 20)."""
    tms_title: str = attrs.field(validator=v.text(40))
    """인증요청 메시지 제목, shown as 요청구분 (≤ 40)."""
    allow_simple_regist: bool = attrs.field(validator=v.by(v.check_bool))
    """True: a certificate may be issued on a phone check alone."""
    verify_name: bool = attrs.field(validator=v.by(v.check_bool))
    """True: the service compares ``receiver_name`` with the verified real name."""
    tms_message: str | None = attrs.field(default=None, validator=v.text(500, required=False))
    """인증요청 메시지 부가내용 (≤ 500); not used with App to App."""
    sub_client_id: str | None = attrs.field(default=None, validator=v.text(12, required=False))
    """별칭코드 (≤ 12); not used with App to App."""
    payload: str | None = attrs.field(default=None, validator=v.text(200, required=False))
    """The partner's memo, echoed back in the state (≤ 200)."""


@attrs.frozen(kw_only=True)
class ESignRequest(RequestBase):
    """What to ask the receiver to sign (RequestESign). Checked when built.

    >>> request = ESignRequest(
    ...     call_center_num="1600-9854",
    ...     expires_in=300,
    ...     receiver_birthday="19900108",
    ...     receiver_hp="01012341234",
    ...     receiver_name="홍길동",
    ...     token="전자서명 원문",
    ...     tms_title="계약 서명",
    ...     allow_simple_regist=True,
    ...     verify_name=True,
    ... )
    >>> request.receiver_name
    '홍길동'
    >>> "홍길동" in repr(request)
    False
    """

    token: str = attrs.field(validator=v.text(500))
    """원문: the text the receiver signs (≤ 500)."""


@attrs.frozen(kw_only=True)
class NamedCallCenterRequestBase(RequestBase):
    """A request that may also name the call center (internal base)."""

    call_center_name: str | None = attrs.field(default=None, validator=v.text(None, required=False))
    """고객센터명, shown in the KakaoTalk message; sent only if given (no known limit)."""


@attrs.frozen(kw_only=True)
class VerifyAuthRequest(NamedCallCenterRequestBase):
    """An identity verification (본인인증, RequestVerifyAuth). Checked when built.

    The receiver signs ``token``: make it a one-time value (a nonce) and check it in
    the signed data, so that the signature proves who answered *this* request.
    No App to App mode.

    >>> request = VerifyAuthRequest(
    ...     call_center_num="1600-9854",
    ...     expires_in=300,
    ...     receiver_birthday="19900108",
    ...     receiver_hp="01012341234",
    ...     receiver_name="홍길동",
    ...     token="nonce-5f2b9c",
    ...     tms_title="본인인증",
    ...     allow_simple_regist=True,
    ...     verify_name=True,
    ... )
    >>> request.call_center_name is None
    True
    """

    token: str = attrs.field(validator=v.text(500))
    """원문: the one-time text the receiver signs (≤ 500)."""


@attrs.frozen(kw_only=True)
class CMSRequest(NamedCallCenterRequestBase):
    """A CMS automatic-transfer withdrawal consent (자동이체 출금동의, RequestCMS).

    The receiver consents to withdrawals from the bank account named here; the
    signed data is the evidence to keep (and to submit to 금융결제원). The official
    SDKs' examples send no ``token`` for it, so it is optional. The bank fields'
    limits are not public: each must be a non-empty string. The repr masks the
    account holder, the account number and the payer number.

    >>> request = CMSRequest(
    ...     call_center_num="1600-9854",
    ...     expires_in=300,
    ...     receiver_birthday="19900108",
    ...     receiver_hp="01012341234",
    ...     receiver_name="홍길동",
    ...     tms_title="자동이체 출금동의",
    ...     allow_simple_regist=True,
    ...     verify_name=True,
    ...     bank_account_name="홍길동",
    ...     bank_account_num="371-02-6***85",
    ...     bank_code="004",
    ...     client_user_id="member-1042",
    ... )
    >>> "371-02" in repr(request)
    False
    """

    token: str | None = attrs.field(default=None, validator=v.text(500, required=False))
    """원문 (≤ 500): optional here; sent only if given."""
    bank_account_name: str = attrs.field(validator=v.text(None), repr=_masked)
    """예금주명: the account holder's name."""
    bank_account_num: str = attrs.field(validator=v.text(None), repr=_masked)
    """출금계좌번호, as shown to the receiver: it may be partly masked (``371-02-6***85``)."""
    bank_code: str = attrs.field(validator=v.text(None))
    """은행코드: the bank's code (참가기관코드, e.g. ``004``)."""
    client_user_id: str = attrs.field(validator=v.text(None), repr=_masked)
    """납부자번호: the number you gave the payer (고객식별번호)."""


@attrs.frozen(kw_only=True)
class ReceiptBase:
    """The answer to a request (internal base)."""

    receipt_id: str
    """접수아이디: use it for state and verify."""


@attrs.frozen(kw_only=True)
class VerifyAuthReceipt(ReceiptBase):
    """The answer to an identity verification request.

    Keep ``receipt_id``; ``VerifyAuthReceipt(receipt_id=...)`` rebuilds it, to wait
    for it with :meth:`Client.await_signed` later (a worker that stored the id).
    """


@attrs.frozen(kw_only=True)
class AppToAppReceiptBase(ReceiptBase):
    """The answer to a request that may be App to App (internal base)."""

    tx_id: str | None = None
    """App to App only: the KakaoTalk transaction id your app passes to KakaoTalk."""


@attrs.frozen(kw_only=True)
class ESignReceipt(AppToAppReceiptBase):
    """The answer to an e-signature request (ResponseESign)."""


@attrs.frozen(kw_only=True)
class CMSReceipt(AppToAppReceiptBase):
    """The answer to a CMS withdrawal consent request (``CMSReceipt(receipt_id=...)``
    rebuilds it from a stored id)."""


@attrs.frozen(kw_only=True)
class VerificationBase:
    """The answer to a verify: the signed data, given only once (internal base)."""

    receipt_id: str
    signed_data: str = attrs.field(repr=_length_only)
    """전자서명 데이터 전문 (up to 4096 characters)."""


@attrs.frozen(kw_only=True)
class ESignVerification(VerificationBase):
    """The answer to ``verify_esign`` (ResponseVerify): the signed data, given only once."""


@attrs.frozen(kw_only=True)
class VerifyAuthVerification(VerificationBase):
    """The answer to ``verify_auth``: the signed data (of the one-time token), given once."""


@attrs.frozen(kw_only=True)
class CMSVerification(VerificationBase):
    """The answer to ``verify_cms``: the signed withdrawal consent, given only once."""


@attrs.frozen(kw_only=True)
class StatusBase:
    """The state of a request: the fields every family shares (internal base).

    The ``*_dt`` fields are timezone-aware datetimes in Korea time (UTC+9), or
    ``None`` while the event has not happened.
    """

    receipt_id: str
    client_code: str | None = None
    client_name: str | None = None
    sub_client_name: str | None = None
    sub_client_code: str | None = None
    state: SignState
    expires_in: int | None = None
    call_center_num: str | None = None
    tms_title: str | None = None
    tms_message: str | None = None
    allow_simple_regist: bool | None = None
    verify_name: bool | None = None
    request_dt: dt.datetime | None = None
    expire_dt: dt.datetime | None = None
    reg_dt: dt.datetime | None = None
    view_dt: dt.datetime | None = None
    complete_dt: dt.datetime | None = None
    verify_dt: dt.datetime | None = None
    payload: str | None = None

    @property
    def is_final(self) -> bool:
        """True once the state will not change any more (signed or expired)."""
        return self.state is not SignState.PENDING


@attrs.frozen(kw_only=True)
class ESignStatus(StatusBase):
    """The state of an e-signature request (ResultESignObj)."""

    app_to_app: bool | None = None
    tx_id: str | None = None


@attrs.frozen(kw_only=True)
class NamedCallCenterStatusBase(StatusBase):
    """A state that names the call center (internal base)."""

    call_center_name: str | None = None


@attrs.frozen(kw_only=True)
class VerifyAuthStatus(NamedCallCenterStatusBase):
    """The state of an identity verification request (ResultVerifyAuth)."""


@attrs.frozen(kw_only=True)
class CMSStatus(NamedCallCenterStatusBase):
    """The state of a CMS withdrawal consent request (ResultCMS)."""

    app_to_app: bool | None = None


@attrs.frozen(kw_only=True)
class TokenRequest:
    """The body of a session-token request (internal)."""

    access_id: str
    """The client code the token is for."""
    scope: tuple[str, ...]


@attrs.frozen(kw_only=True)
class TokenGrant:
    """A Linkhub session token, as the auth service grants it (internal)."""

    session_token: Secret[str]
    """Masked everywhere; a printable ASCII word (checked by ``_wire``)."""
    expiration: dt.datetime
    """When the token stops working (UTC, by the auth server's clock)."""
