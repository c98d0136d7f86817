"""The objects of the service manual as frozen attrs classes, checked at their fields.

Field names are Pythonic; each field carries its wire name (:func:`wire`), which
``_wire`` reads. Each public class documents its fields in its docstring's
``Attributes:`` section, where ``help()`` and the API reference show them. Reprs
never show the receiver's name, phone or birthday, nor a session token.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import inspect
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs

from . import _validation as v
from ._errors import Status as Status  # defined with the errors (SignTimeout.last_status)
from ._errors import ValidationError
from ._secret import Secret, total_reprs_of_module

WIRE = "wire"
"""Field metadata key: the field's name on the wire (``None``: never on the wire)."""


def wire(name: str | None) -> dict[str, Any]:
    """A field's metadata: its name on the wire (``None``: it never travels)."""
    return {WIRE: name}


def _masked(value: object) -> str:
    return "None" if value is None else "'***'"


def _length_only(value: str | None) -> str:
    return "None" if value is None else f"<{len(value)} chars>"


class SignState(enum.IntEnum):
    """The state of a signature request (``state`` on the wire)."""

    PENDING = 0
    """미확인: not signed yet."""
    SIGNED = 1
    """서명완료: signed; verify it (once) to obtain the signed data."""
    EXPIRED = 2
    """만료: ``expires_in`` passed without a signature."""


DEFAULT_EXPIRES_IN = 300
"""Seconds a request waits for its signature unless told otherwise: the manual's
recommendation (권장 : 300) for ``Expires_in``."""
MAX_TEXT = 500
"""The longest text to sign (원문, ``Token``), in characters."""


# The three families of the API (e-signature, identity verification, CMS withdrawal
# consent) share most of their fields: each is declared once, in a base class, with
# its validator; the public classes add what is their own, and document them all.
# The bases are internal.


ReceiptT = TypeVar("ReceiptT", bound="ReceiptBase[Any, Any]")
StatusT = TypeVar("StatusT", bound="StatusBase")
VerificationT = TypeVar("VerificationT", bound="VerificationBase")


@attrs.frozen(kw_only=True)
class RequestBase(Generic[ReceiptT]):
    """The fields every request shares, by the ESign manual's limits (internal base).

    ``token`` is each family's own: required in two, optional in CMS.
    """

    call_center_num: str = attrs.field(validator=v.text(20), metadata=wire("CallCenterNum"))
    expires_in: int = attrs.field(
        default=DEFAULT_EXPIRES_IN, validator=v.by(v.check_expires_in), metadata=wire("Expires_in")
    )
    receiver_birthday: str = attrs.field(
        validator=v.by(v.check_birthday), repr=_masked, metadata=wire("ReceiverBirthDay")
    )
    receiver_hp: str = attrs.field(
        validator=v.by(v.check_phone), repr=_masked, metadata=wire("ReceiverHP")
    )
    receiver_name: str = attrs.field(
        validator=v.text(20), repr=_masked, metadata=wire("ReceiverName")
    )
    tms_title: str = attrs.field(validator=v.text(40), metadata=wire("TMSTitle"))
    allow_simple_regist: bool = attrs.field(
        default=False, validator=v.by(v.check_bool), metadata=wire("isAllowSimpleRegistYN")
    )
    verify_name: bool = attrs.field(
        default=True, validator=v.by(v.check_bool), metadata=wire("isVerifyNameYN")
    )
    tms_message: str | None = attrs.field(
        default=None, validator=v.text(500, required=False), metadata=wire("TMSMessage")
    )
    sub_client_id: str | None = attrs.field(
        default=None, validator=v.text(12, required=False), metadata=wire("SubClientID")
    )
    payload: str | None = attrs.field(
        default=None, validator=v.text(200, required=False), metadata=wire("PayLoad")
    )


# The text the receiver signs is ``Token`` on the wire, and so ``token`` here, a name
# easily taken for a credential: each request also takes it as ``text=`` and reads it
# as ``.text``.


def _text_to_sign(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """``token``'s validator where the text to sign is required."""
    if value is None:
        rule = "must be a string: the text the receiver signs (give it as text= or token=)"
        raise ValidationError(attribute.name, rule)
    v.check_text(attribute.name, value, max_length=MAX_TEXT)


R = TypeVar("R", bound="RequestBase[Any]")


def _takes_text(cls: type[R]) -> type[R]:
    """``cls``, its constructor taking the text to sign as ``text=`` too: ``token=`` by a
    name no one takes for a credential (the same field; give one, or the same twice).
    ``_Typed`` declares ``text=`` for type checkers."""
    init = cls.__init__

    @functools.wraps(init)
    def __init__(self: R, *, text: str | None = None, **fields: Any) -> None:
        if text is not None:
            if fields.get("token") not in (None, text):
                raise ValidationError("text", "give text or token (the same field), not both")
            v.check_text("text", text, max_length=MAX_TEXT)
            fields["token"] = text
        init(self, **fields)

    # help() and inspect show text= just before token=.
    signature = inspect.signature(init)
    keyword = inspect.Parameter.KEYWORD_ONLY
    text = inspect.Parameter("text", keyword, default=None, annotation="str | None")
    parameters = list(signature.parameters.values())
    parameters.insert(list(signature.parameters).index("token"), text)
    __init__.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    setattr(cls, "__init__", __init__)  # noqa: B010 (mypy refuses assigning a method)
    return cls


if TYPE_CHECKING:

    @attrs.frozen(kw_only=True)
    class _Typed(RequestBase[ReceiptT]):
        """A request as type checkers see it: its constructor takes ``text=`` too (which
        :func:`_takes_text` adds at run time; the one attrs field is ``token``)."""

        _text: str | None = attrs.field(default=None)

else:
    _Typed = RequestBase


@attrs.frozen(kw_only=True)
class _TextRequired(_Typed[ReceiptT]):
    """A request whose text to sign is required (internal base)."""

    token: str = attrs.field(default=None, validator=_text_to_sign, metadata=wire("Token"))

    @property
    def text(self) -> str:
        """The text the receiver signs: :attr:`token`, by a name no one takes for a secret."""
        return self.token


@v.frameless_errors
@_takes_text
@attrs.frozen(kw_only=True)
class ESignRequest(_TextRequired["ESignReceipt"]):
    """What to ask the receiver to sign (전자서명, RequestESign). Checked when built.

    ``text`` is what the receiver signs; ``token`` is the same field under its
    wire name (``Token``), kept for compatibility: give one. The repr masks the
    receiver's name, phone and birthday.

    >>> request = ESignRequest(
    ...     call_center_num="1600-9854",
    ...     receiver_name="홍길동",
    ...     receiver_hp="01012341234",
    ...     receiver_birthday="19900108",
    ...     tms_title="계약 서명",
    ...     text="본인은 위 계약 내용에 동의합니다.",
    ... )
    >>> request.expires_in, request.allow_simple_regist, request.verify_name
    (300, False, True)
    >>> request.text == request.token
    True
    >>> "홍길동" in repr(request)
    False

    Attributes:
        call_center_num: 고객센터 전화번호: your customer-service number, shown in the
            KakaoTalk message as "고객센터" (≤ 20 characters, e.g. ``"1600-9854"``).
        expires_in: 인증요청 만료시간: seconds the receiver has to sign, 1 to 1000; 300
            (the manual's recommendation) by default. Unsigned by then, the state
            becomes ``EXPIRED``.
        receiver_birthday: 수신자 생년월일: the receiver's date of birth, ``YYYYMMDD``.
            Masked in reprs.
        receiver_hp: 수신자 휴대폰번호: the receiver's mobile number, 10 or 11 digits
            without hyphens (``"01012341234"``). Masked in reprs.
        receiver_name: 수신자 성명: the receiver's name (≤ 20 characters). Masked in reprs.
        tms_title: 인증요청 메시지 제목: the message's title, shown as "요청구분" (≤ 40
            characters).
        allow_simple_regist: 인증서 발급유형: how a receiver without a Kakao certificate
            gets one. ``False`` (the default): by proving they hold a bank account in
            their name (본인계좌 점유 인증); ``True``: by a phone identity check alone
            (휴대폰 본인인증), easier and weaker.
        verify_name: 수신자 실명확인: ``True`` (the default): Kakao Pay compares
            :attr:`receiver_name` with the real name it verified, so that only the
            named person can sign; ``False``: anyone holding the phone can.
        tms_message: 인증요청 메시지 부가내용: extra text shown at the top of the message
            (≤ 500); not used with App to App.
        sub_client_id: 별칭코드: the code of an alias registered on the partner site,
            shown as "요청기관" instead of your name (≤ 12); not used with App to App.
        payload: 메모: your own note (an order number, say), returned in the state as
            ``payload`` (≤ 200).
        text: 원문: the text the receiver signs (≤ 500 characters): the document's
            wording, not a credential. Also read as :attr:`token`.
        token: :attr:`text` under its wire name (``Token``): give one of the two.
    """


@v.frameless_errors
@_takes_text
@attrs.frozen(kw_only=True)
class VerifyAuthRequest(_TextRequired["VerifyAuthReceipt"]):
    """An identity verification (본인인증, RequestVerifyAuth). Checked when built.

    The receiver signs ``text``: make it a one-time value (a nonce) and check it in
    the signed data, so that the signature proves who answered *this* request.
    ``token`` is the same field under its wire name. No App to App mode.

    >>> request = VerifyAuthRequest(
    ...     call_center_num="1600-9854",
    ...     receiver_name="홍길동",
    ...     receiver_hp="01012341234",
    ...     receiver_birthday="19900108",
    ...     tms_title="본인인증",
    ...     text="nonce-5f2b9c",
    ... )
    >>> request.call_center_name is None
    True

    Attributes:
        call_center_num: 고객센터 전화번호: your customer-service number, shown in the
            KakaoTalk message as "고객센터" (≤ 20 characters, e.g. ``"1600-9854"``).
        expires_in: 인증요청 만료시간: seconds the receiver has to sign, 1 to 1000; 300
            (the manual's recommendation) by default. Unsigned by then, the state
            becomes ``EXPIRED``.
        receiver_birthday: 수신자 생년월일: the receiver's date of birth, ``YYYYMMDD``.
            Masked in reprs.
        receiver_hp: 수신자 휴대폰번호: the receiver's mobile number, 10 or 11 digits
            without hyphens (``"01012341234"``). Masked in reprs.
        receiver_name: 수신자 성명: the receiver's name (≤ 20 characters). Masked in reprs.
        tms_title: 인증요청 메시지 제목: the message's title, shown as "요청구분" (≤ 40
            characters).
        allow_simple_regist: 인증서 발급유형: how a receiver without a Kakao certificate
            gets one. ``False`` (the default): by proving they hold a bank account in
            their name (본인계좌 점유 인증); ``True``: by a phone identity check alone
            (휴대폰 본인인증), easier and weaker.
        verify_name: 수신자 실명확인: ``True`` (the default): Kakao Pay compares
            :attr:`receiver_name` with the real name it verified, so that only the
            named person can sign; ``False``: anyone holding the phone can.
        tms_message: 인증요청 메시지 부가내용: extra text shown at the top of the message
            (≤ 500).
        sub_client_id: 별칭코드: the code of an alias registered on the partner site,
            shown as "요청기관" instead of your name (≤ 12).
        payload: 메모: your own note (an order number, say), returned in the state as
            ``payload`` (≤ 200).
        text: 원문: the one-time text the receiver signs (≤ 500 characters): a nonce you
            keep, not a credential. Also read as :attr:`token`.
        token: :attr:`text` under its wire name (``Token``): give one of the two.
        call_center_name: 고객센터명: your customer service's name, shown in the
            KakaoTalk message; sent only if given (no limit is public). Only identity
            verification's request has it.
    """

    call_center_name: str | None = attrs.field(
        default=None, validator=v.text(None, required=False), metadata=wire("CallCenterName")
    )


@v.frameless_errors
@_takes_text
@attrs.frozen(kw_only=True)
class CMSRequest(_Typed["CMSReceipt"]):
    """A CMS automatic-transfer withdrawal consent (자동이체 출금동의, RequestCMS).

    The receiver consents to withdrawals from the bank account named here; the
    signed data is the evidence to keep (and to submit to 금융결제원). The official
    SDKs' examples send no text to sign for it, so ``text`` (``token``) is
    optional. The bank fields' limits are not public: each must be a non-empty
    string. The repr masks the account holder, the account number and the payer
    number.

    >>> request = CMSRequest(
    ...     call_center_num="1600-9854",
    ...     receiver_name="홍길동",
    ...     receiver_hp="01012341234",
    ...     receiver_birthday="19900108",
    ...     tms_title="자동이체 출금동의",
    ...     bank_account_name="홍길동",
    ...     bank_account_num="371-02-6***85",
    ...     bank_code="004",
    ...     client_user_id="member-1042",
    ... )
    >>> "371-02" in repr(request), request.text is None
    (False, True)

    Attributes:
        call_center_num: 고객센터 전화번호: your customer-service number, shown in the
            KakaoTalk message as "고객센터" (≤ 20 characters, e.g. ``"1600-9854"``).
        expires_in: 인증요청 만료시간: seconds the receiver has to sign, 1 to 1000; 300
            (the manual's recommendation) by default. Unsigned by then, the state
            becomes ``EXPIRED``.
        receiver_birthday: 수신자 생년월일: the receiver's date of birth, ``YYYYMMDD``.
            Masked in reprs.
        receiver_hp: 수신자 휴대폰번호: the receiver's mobile number, 10 or 11 digits
            without hyphens (``"01012341234"``). Masked in reprs.
        receiver_name: 수신자 성명: the receiver's name (≤ 20 characters). Masked in reprs.
        tms_title: 인증요청 메시지 제목: the message's title, shown as "요청구분" (≤ 40
            characters).
        allow_simple_regist: 인증서 발급유형: how a receiver without a Kakao certificate
            gets one. ``False`` (the default): by proving they hold a bank account in
            their name (본인계좌 점유 인증); ``True``: by a phone identity check alone
            (휴대폰 본인인증), easier and weaker.
        verify_name: 수신자 실명확인: ``True`` (the default): Kakao Pay compares
            :attr:`receiver_name` with the real name it verified, so that only the
            named person can sign; ``False``: anyone holding the phone can.
        tms_message: 인증요청 메시지 부가내용: extra text shown at the top of the message
            (≤ 500); not used with App to App.
        sub_client_id: 별칭코드: the code of an alias registered on the partner site,
            shown as "요청기관" instead of your name (≤ 12); not used with App to App.
        payload: 메모: your own note (an order number, say), returned in the state as
            ``payload`` (≤ 200).
        text: 원문 (≤ 500 characters), also read as :attr:`token`: optional here; sent
            only if given.
        token: :attr:`text` under its wire name (``Token``): give one of the two, or
            neither.
        bank_account_name: 예금주명: the account holder's name. Masked in reprs.
        bank_account_num: 출금계좌번호, as shown to the receiver: it may be partly masked
            (``371-02-6***85``). Masked in reprs.
        bank_code: 은행코드: the bank's code (참가기관코드, e.g. ``004``).
        client_user_id: 납부자번호: the number you gave the payer (고객식별번호). Masked in
            reprs.
    """

    token: str | None = attrs.field(
        default=None, validator=v.text(MAX_TEXT, required=False), metadata=wire("Token")
    )
    bank_account_name: str = attrs.field(
        validator=v.text(None), repr=_masked, metadata=wire("BankAccountName")
    )
    bank_account_num: str = attrs.field(
        validator=v.text(None), repr=_masked, metadata=wire("BankAccountNum")
    )
    bank_code: str = attrs.field(validator=v.text(None), metadata=wire("BankCode"))
    client_user_id: str = attrs.field(
        validator=v.text(None), repr=_masked, metadata=wire("ClientUserID")
    )

    @property
    def text(self) -> str | None:
        """The text the receiver signs, if any: :attr:`token`, by a clearer name."""
        return self.token


@attrs.frozen(kw_only=True)
class ReceiptBase(Generic[StatusT, VerificationT]):
    """The answer to a request (internal base)."""

    receipt_id: str = attrs.field(metadata=wire("receiptId"))


@attrs.frozen(kw_only=True)
class VerifyAuthReceipt(ReceiptBase["VerifyAuthStatus", "VerifyAuthVerification"]):
    """The answer to an identity verification request.

    Keep ``receipt_id``; ``VerifyAuthReceipt(receipt_id=...)`` rebuilds it, to wait
    for it with :meth:`Client.await_signed` later (a worker that stored the id).

    Attributes:
        receipt_id: 접수아이디: the request's id (up to 20 digits), for its state and its
            verify.
    """


@attrs.frozen(kw_only=True)
class AppToAppReceiptBase(ReceiptBase[StatusT, VerificationT]):
    """The answer to a request that may be App to App (internal base)."""

    tx_id: str | None = attrs.field(default=None, metadata=wire("tx_id"))


@attrs.frozen(kw_only=True)
class ESignReceipt(AppToAppReceiptBase["ESignStatus", "ESignVerification"]):
    """The answer to an e-signature request (ResponseESign).

    Attributes:
        receipt_id: 접수아이디: the request's id (up to 20 digits), for its state and its
            verify. Store it: ``ESignReceipt(receipt_id=...)`` rebuilds the receipt.
        tx_id: 카카오톡 트랜잭션아이디, App to App only (else ``None``): what your app
            passes to KakaoTalk's app scheme.
    """


@attrs.frozen(kw_only=True)
class CMSReceipt(AppToAppReceiptBase["CMSStatus", "CMSVerification"]):
    """The answer to a CMS withdrawal consent request (``CMSReceipt(receipt_id=...)``
    rebuilds it from a stored id).

    Attributes:
        receipt_id: 접수아이디: the request's id (up to 20 digits), for its state and its
            verify.
        tx_id: 카카오톡 트랜잭션아이디, App to App only (else ``None``): what your app
            passes to KakaoTalk's app scheme.
    """


@attrs.frozen(kw_only=True)
class VerificationBase:
    """The answer to a verify: the signed data, given only once (internal base)."""

    receipt_id: str = attrs.field(metadata=wire("receiptId"))
    signed_data: str = attrs.field(repr=_length_only, metadata=wire("signedData"))


@attrs.frozen(kw_only=True)
class ESignVerification(VerificationBase):
    """The answer to ``verify_esign`` (ResponseVerify): the signed data, given only once.

    Attributes:
        receipt_id: 접수아이디: the receipt verified.
        signed_data: 전자서명 데이터 전문: the signed data (up to 4096 characters), the
            evidence to store. The service gives it once: keep it now. Reprs show only
            its length.
    """


@attrs.frozen(kw_only=True)
class VerifyAuthVerification(VerificationBase):
    """The answer to ``verify_auth``: the signed data (of the one-time token), given once.

    Attributes:
        receipt_id: 접수아이디: the receipt verified.
        signed_data: 전자서명 데이터 전문: the signed data (up to 4096 characters), the
            evidence to store. The service gives it once: keep it now. Reprs show only
            its length.
    """


@attrs.frozen(kw_only=True)
class CMSVerification(VerificationBase):
    """The answer to ``verify_cms``: the signed withdrawal consent, given only once.

    Attributes:
        receipt_id: 접수아이디: the receipt verified.
        signed_data: 전자서명 데이터 전문: the signed data (up to 4096 characters), the
            evidence to store. The service gives it once: keep it now. Reprs show only
            its length.
    """


@attrs.frozen(kw_only=True)
class StatusBase:
    """The state of a request: the fields every family shares (internal base)."""

    receipt_id: str = attrs.field(metadata=wire("receiptID"))
    client_code: str | None = attrs.field(default=None, metadata=wire("clientCode"))
    client_name: str | None = attrs.field(default=None, metadata=wire("clientName"))
    sub_client_name: str | None = attrs.field(default=None, metadata=wire("subClientName"))
    sub_client_code: str | None = attrs.field(default=None, metadata=wire("subClientCode"))
    state: SignState = attrs.field(metadata=wire("state"))
    expires_in: int | None = attrs.field(default=None, metadata=wire("expires_in"))
    call_center_num: str | None = attrs.field(default=None, metadata=wire("callCenterNum"))
    tms_title: str | None = attrs.field(default=None, metadata=wire("tmstitle"))
    tms_message: str | None = attrs.field(default=None, metadata=wire("tmsmessage"))
    allow_simple_regist: bool | None = attrs.field(
        default=None, metadata=wire("allowSimpleRegistYN")
    )
    verify_name: bool | None = attrs.field(default=None, metadata=wire("verifyNameYN"))
    request_dt: dt.datetime | None = attrs.field(default=None, metadata=wire("requestDT"))
    expire_dt: dt.datetime | None = attrs.field(default=None, metadata=wire("expireDT"))
    reg_dt: dt.datetime | None = attrs.field(default=None, metadata=wire("regDT"))
    view_dt: dt.datetime | None = attrs.field(default=None, metadata=wire("viewDT"))
    complete_dt: dt.datetime | None = attrs.field(default=None, metadata=wire("completeDT"))
    verify_dt: dt.datetime | None = attrs.field(default=None, metadata=wire("verifyDT"))
    payload: str | None = attrs.field(default=None, metadata=wire("payload"))
    call_center_name: str | None = attrs.field(default=None, metadata=wire("callCenterName"))

    @property
    def is_final(self) -> bool:
        """True once the state will not change any more (signed or expired)."""
        return self.state is not SignState.PENDING


@attrs.frozen(kw_only=True)
class ESignStatus(StatusBase):
    """The state of an e-signature request (ResultESignObj).

    The ``*_dt`` fields are timezone-aware datetimes in Korea time (UTC+9), or
    ``None`` while the event has not happened. Fields the service leaves out are
    ``None``; fields it adds are ignored.

    Attributes:
        receipt_id: 접수아이디: the request this is the state of.
        client_code: 이용기관코드: the client code the request was made for.
        client_name: 이용기관명: the name registered for that client code.
        sub_client_name: 별칭: the name of the alias given as ``sub_client_id``, if any.
        sub_client_code: 별칭코드: the request's ``sub_client_id``; ``None`` if it gave none.
        state: 상태: ``PENDING``, ``SIGNED`` (verify it now, once) or ``EXPIRED``.
        expires_in: 인증요청 만료시간: the request's ``expires_in``, in seconds.
        call_center_num: 고객센터 전화번호: the request's ``call_center_num``.
        tms_title: 인증요청 메시지 제목: the request's ``tms_title``.
        tms_message: 인증요청 메시지 부가내용: the request's ``tms_message``.
        allow_simple_regist: 인증서 발급유형: the request's ``allow_simple_regist``.
        verify_name: 수신자 실명확인 여부: the request's ``verify_name``.
        request_dt: 카카오 인증서버 등록일시: when Kakao's server registered the request.
        expire_dt: 인증 만료일시: when the request expires (or expired).
        reg_dt: 인증요청 등록일시: when the request was made.
        view_dt: 수신자 카카오톡 인증메시지 확인일시: when the receiver opened the message.
        complete_dt: 수신자 카카오톡 전자서명 완료일시: when the receiver signed.
        verify_dt: 서명 검증일시: when the signature was verified; set once a verify went
            through.
        payload: 메모: the request's ``payload``, as you sent it.
        call_center_name: 고객센터명: an e-signature request has none; the official
            models carry the field, so it is kept if the service sends it.
        app_to_app: App to App 방식 이용 여부: whether the request was App to App
            (``False`` if the request said nothing).
        tx_id: 카카오톡 트랜잭션아이디, App to App only: what your app passes to KakaoTalk.
    """

    app_to_app: bool | None = attrs.field(default=None, metadata=wire("appUseYN"))
    tx_id: str | None = attrs.field(default=None, metadata=wire("tx_id"))


@attrs.frozen(kw_only=True)
class VerifyAuthStatus(StatusBase):
    """The state of an identity verification request (ResultVerifyAuth).

    The ``*_dt`` fields are timezone-aware datetimes in Korea time (UTC+9), or
    ``None`` while the event has not happened. Fields the service leaves out are
    ``None``; fields it adds are ignored.

    Attributes:
        receipt_id: 접수아이디: the request this is the state of.
        client_code: 이용기관코드: the client code the request was made for.
        client_name: 이용기관명: the name registered for that client code.
        sub_client_name: 별칭: the name of the alias given as ``sub_client_id``, if any.
        sub_client_code: 별칭코드: the request's ``sub_client_id``; ``None`` if it gave none.
        state: 상태: ``PENDING``, ``SIGNED`` (verify it now, once) or ``EXPIRED``.
        expires_in: 인증요청 만료시간: the request's ``expires_in``, in seconds.
        call_center_num: 고객센터 전화번호: the request's ``call_center_num``.
        tms_title: 인증요청 메시지 제목: the request's ``tms_title``.
        tms_message: 인증요청 메시지 부가내용: the request's ``tms_message``.
        allow_simple_regist: 인증서 발급유형: the request's ``allow_simple_regist``.
        verify_name: 수신자 실명확인 여부: the request's ``verify_name``.
        request_dt: 카카오 인증서버 등록일시: when Kakao's server registered the request.
        expire_dt: 인증 만료일시: when the request expires (or expired).
        reg_dt: 인증요청 등록일시: when the request was made.
        view_dt: 수신자 카카오톡 인증메시지 확인일시: when the receiver opened the message.
        complete_dt: 수신자 카카오톡 전자서명 완료일시: when the receiver signed.
        verify_dt: 서명 검증일시: when the signature was verified; set once a verify went
            through.
        payload: 메모: the request's ``payload``, as you sent it.
        call_center_name: 고객센터명: the request's ``call_center_name``.
    """


@attrs.frozen(kw_only=True)
class CMSStatus(StatusBase):
    """The state of a CMS withdrawal consent request (ResultCMS).

    The ``*_dt`` fields are timezone-aware datetimes in Korea time (UTC+9), or
    ``None`` while the event has not happened. Fields the service leaves out are
    ``None``; fields it adds are ignored.

    Attributes:
        receipt_id: 접수아이디: the request this is the state of.
        client_code: 이용기관코드: the client code the request was made for.
        client_name: 이용기관명: the name registered for that client code.
        sub_client_name: 별칭: the name of the alias given as ``sub_client_id``, if any.
        sub_client_code: 별칭코드: the request's ``sub_client_id``; ``None`` if it gave none.
        state: 상태: ``PENDING``, ``SIGNED`` (verify it now, once) or ``EXPIRED``.
        expires_in: 인증요청 만료시간: the request's ``expires_in``, in seconds.
        call_center_num: 고객센터 전화번호: the request's ``call_center_num``.
        tms_title: 인증요청 메시지 제목: the request's ``tms_title``.
        tms_message: 인증요청 메시지 부가내용: the request's ``tms_message``.
        allow_simple_regist: 인증서 발급유형: the request's ``allow_simple_regist``.
        verify_name: 수신자 실명확인 여부: the request's ``verify_name``.
        request_dt: 카카오 인증서버 등록일시: when Kakao's server registered the request.
        expire_dt: 인증 만료일시: when the request expires (or expired).
        reg_dt: 인증요청 등록일시: when the request was made.
        view_dt: 수신자 카카오톡 인증메시지 확인일시: when the receiver opened the message.
        complete_dt: 수신자 카카오톡 전자서명 완료일시: when the receiver signed.
        verify_dt: 서명 검증일시: when the signature was verified; set once a verify went
            through.
        payload: 메모: the request's ``payload``, as you sent it.
        call_center_name: 고객센터명: the service's name for the requester (a CMS
            request names none: the client's registered name).
        app_to_app: App to App 방식 이용 여부: whether the request was App to App.
        tx_id: 카카오톡 트랜잭션아이디, App to App only: what your app passes to KakaoTalk.
    """

    app_to_app: bool | None = attrs.field(default=None, metadata=wire("appUseYN"))
    tx_id: str | None = attrs.field(default=None, metadata=wire("tx_id"))


@attrs.frozen(kw_only=True)
class TokenRequest:
    """The body of a session-token request (internal)."""

    access_id: str = attrs.field(metadata=wire("access_id"))
    """The client code the token is for."""
    scope: tuple[str, ...] = attrs.field(metadata=wire("scope"))


@attrs.frozen(kw_only=True)
class TokenGrant:
    """A Linkhub session token, as the auth service grants it (internal)."""

    session_token: Secret[str] = attrs.field(metadata=wire("session_token"))
    """Masked everywhere; a printable ASCII word (checked by ``_wire``)."""
    expiration: dt.datetime = attrs.field(metadata=wire("expiration"))
    """When the token stops working (UTC, by the auth server's clock)."""


# A half-built model's repr does not raise.
total_reprs_of_module(globals())
