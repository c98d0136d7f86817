"""Barocert's objects as frozen attrs classes, checked at their fields, plaintext in.

Requests take the receiver's data in plain text; the fields the protocol note
marks for encryption (``metadata[ENCRYPTED]``) are encrypted when the body is
built (``_wire.encode_request``), and every one of them is masked in reprs.
Field names are Pythonic; each field carries its wire name (``kakaocert_async._models.wire``).
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
from typing import Any

import attrs

from kakaocert_async import _validation as v
from kakaocert_async._errors import ValidationError
from kakaocert_async._models import WIRE, _length_only, _masked, wire
from kakaocert_async._secret import total_reprs_of_module

from . import _validation as bv

ENCRYPTED = "barocert.encrypted"
"""Field metadata key: the field travels AES-256-GCM encrypted."""


def _secret(name: str, validator: v.Validator, **kwargs: Any) -> Any:
    """A field encrypted on the wire, as ``name``: masked in reprs."""
    metadata = {WIRE: name, ENCRYPTED: True}
    return attrs.field(validator=validator, repr=_masked, metadata=metadata, **kwargs)


def _ciphertext(name: str) -> Any:
    """A verify answer's field that the service sends encrypted: masked in reprs."""
    return attrs.field(default=None, repr=_masked, metadata=wire(name))


def _member_of(kind: type[enum.Enum], **field: Any) -> Any:
    """An attrs field holding a member of the enum ``kind``: a member's value becomes the
    member (``_validation.to_member``); anything else is refused by name. ``field``: the rest of
    the field's arguments."""
    names = ", ".join(str(member.value) for member in kind)

    def validate(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, kind):
            raise ValidationError(attribute.name, f"must be one of {names}")

    return attrs.field(converter=functools.partial(bv.to_member, kind), validator=validate, **field)


def _count(items: tuple[str, ...]) -> str:
    return f"<{len(items)} items>"


class Kind(str, enum.Enum):
    """A kind of receipt; the value is its segment in the API paths (``/KAKAO/<value>/``)."""

    IDENTITY = "Identity"
    """본인인증: identity verification."""
    SIGN = "Sign"
    """전자서명(단건): one document signed."""
    MULTI_SIGN = "MultiSign"
    """전자서명(복수): up to 20 documents signed at once."""
    CMS = "CMS"
    """출금동의: consent to an automatic bank withdrawal."""


class TokenType(str, enum.Enum):
    """What ``token`` holds in a sign request (``tokenType``)."""

    TEXT = "TEXT"
    """The text the receiver signs."""
    HASH = "HASH"
    """A document's hash: :func:`hash_file` or :func:`hash_text` computes it."""


class BankServiceType(str, enum.Enum):
    """The kind of withdrawal a CMS request asks consent for (``bankServiceType``)."""

    CMS = "CMS"
    """CMS 자동이체."""
    FIRM = "FIRM"
    """펌뱅킹 (firm banking)."""
    GIRO = "GIRO"
    """지로."""


class State(enum.IntEnum):
    """The state of a receipt (``state`` on the wire).

    0, 1 and 2 are documented; 3 and 4 are reported by Barocert's documentation but
    not confirmed in a public source. A value this SDK does not know is kept, not
    refused: ``State(7)`` is ``<State.UNKNOWN: 7>`` (compare with ``==``; its
    :attr:`is_known` is false), so a new state reaches you instead of an error.
    """

    WAITING = 0
    """대기: not answered yet."""
    COMPLETED = 1
    """완료: signed; verify it (once, within 10 minutes) to obtain the signed data."""
    EXPIRED = 2
    """만료: ``expire_in`` passed without an answer."""
    REFUSED = 3
    """거부 (inferred): the receiver declined."""
    FAILED = 4
    """실패 (inferred): the signature failed."""

    @classmethod
    def _missing_(cls, value: object) -> State | None:
        if type(value) is not int:
            return None
        unknown = int.__new__(cls, value)
        unknown._name_ = "UNKNOWN"
        unknown._value_ = value
        return unknown

    @property
    def is_known(self) -> bool:
        """False for a value this SDK does not know."""
        return self._name_ != "UNKNOWN"


# Requests ------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class _Request:
    """What every request has: who is asked, for how long, and how it reaches them."""

    receiver_hp: str = _secret("receiverHP", v.by(v.check_phone))
    receiver_name: str = _secret("receiverName", v.text(80))
    receiver_birthday: str = _secret("receiverBirthday", v.by(v.check_birthday))
    extra_message: str | None = _secret(
        "extraMessage", v.text(None, required=False, blank=False), default=None
    )
    expire_in: int = attrs.field(validator=v.by(v.check_expires_in), metadata=wire("expireIn"))
    app_to_app: bool = attrs.field(
        default=False, validator=v.by(v.check_bool), metadata=wire("appUseYN")
    )
    return_url: str | None = attrs.field(
        default=None,
        validator=v.text(None, required=False, blank=False),
        metadata=wire("returnURL"),
    )


@v.frameless_errors
@attrs.frozen(kw_only=True)
class IdentityRequest(_Request):
    """본인인증 요청 (KakaoIdentity): ask the receiver to prove who they are.

    Plaintext in: the SDK encrypts ``receiver_*``, ``extra_message`` and ``token``.
    Verify gives back ``signed_data``: compare it with the ``token`` you sent.

    >>> request = IdentityRequest(
    ...     receiver_hp="01012341234", receiver_name="홍길동", receiver_birthday="19900108",
    ...     req_title="본인인증 요청", expire_in=300, token="login-nonce-81f3",
    ... )
    >>> "홍길동" in repr(request) or "nonce" in repr(request)
    False

    Attributes:
        receiver_hp: 수신자 휴대폰번호: 10 or 11 digits, no hyphens.
        receiver_name: 수신자 성명 (≤ 80).
        receiver_birthday: 수신자 생년월일, ``YYYYMMDD``.
        extra_message: 인증요청 메시지 부가내용 (no public limit).
        expire_in: Seconds the receiver has to answer: 1..1000.
        app_to_app: App to App (``appUseYN``): your app opens KakaoTalk with the
            answer's ``scheme``.
        return_url: App to App: where KakaoTalk returns to (no public limit).
        req_title: 인증요청 메시지 제목 (≤ 40).
        token: 토큰 원문 (≤ 40): a one-time value you make (a nonce, not a credential),
            which the receiver signs and verify returns as ``signed_data``: compare the
            two.
    """

    req_title: str = attrs.field(validator=v.text(40), metadata=wire("reqTitle"))
    token: str = _secret("token", v.text(40))


@v.frameless_errors
@attrs.frozen(kw_only=True)
class SignRequest(_Request):
    """전자서명(단건) 요청 (KakaoSign): ask the receiver to sign one document.

    Give ``sign_title`` or ``req_title`` (or both). Plaintext in: the SDK encrypts
    ``receiver_*``, ``extra_message`` and ``token``.

    Attributes:
        receiver_hp: 수신자 휴대폰번호: 10 or 11 digits, no hyphens.
        receiver_name: 수신자 성명 (≤ 80).
        receiver_birthday: 수신자 생년월일, ``YYYYMMDD``.
        extra_message: 인증요청 메시지 부가내용 (no public limit).
        expire_in: Seconds the receiver has to answer: 1..1000.
        app_to_app: App to App (``appUseYN``): your app opens KakaoTalk with the
            answer's ``scheme``.
        return_url: App to App: where KakaoTalk returns to (no public limit).
        sign_title: 서명 요청 제목 (≤ 40); required unless ``req_title`` is given.
        req_title: 인증요청 메시지 제목 (≤ 40); required unless ``sign_title`` is given.
        token: 서명 원문 (≤ 2800): what the receiver signs, the text itself, or with
            ``TokenType.HASH`` the document's hash (:func:`hash_file`); not a
            credential.
        token_type: ``TokenType.TEXT`` or ``TokenType.HASH`` (``"TEXT"``/``"HASH"`` are
            accepted).
    """

    sign_title: str | None = attrs.field(
        default=None, validator=v.text(40, required=False), metadata=wire("signTitle")
    )
    req_title: str | None = attrs.field(
        default=None, validator=v.text(40, required=False), metadata=wire("reqTitle")
    )
    token: str = _secret("token", v.text(2800))
    token_type: TokenType = _member_of(TokenType, metadata=wire("tokenType"))  # noqa: RUF009

    def __attrs_post_init__(self) -> None:
        if self.sign_title is None and self.req_title is None:
            raise ValidationError("sign_title", "give sign_title or req_title (≤ 40)")


@v.frameless_errors
@attrs.frozen(kw_only=True)
class SignDocument:
    """One document of a multi-sign request: its title and what is signed.

    Attributes:
        title: 서명 요청 제목 (≤ 40), shown for this document.
        token: 서명 원문 (≤ 2800): the text, or with ``TokenType.HASH`` the document's
            hash.
    """

    title: str = attrs.field(validator=v.text(40), metadata=wire("signTitle"))
    token: str = _secret("token", v.text(2800))


@v.frameless_errors
@attrs.frozen(kw_only=True)
class MultiSignRequest(_Request):
    """전자서명(복수) 요청 (KakaoMultiSign): ask the receiver to sign 1 to 20 documents.

    Plaintext in: the SDK encrypts ``receiver_*``, ``extra_message`` and every
    document's ``token``.

    Attributes:
        receiver_hp: 수신자 휴대폰번호: 10 or 11 digits, no hyphens.
        receiver_name: 수신자 성명 (≤ 80).
        receiver_birthday: 수신자 생년월일, ``YYYYMMDD``.
        extra_message: 인증요청 메시지 부가내용 (no public limit).
        expire_in: Seconds the receiver has to answer: 1..1000.
        app_to_app: App to App (``appUseYN``): your app opens KakaoTalk with the
            answer's ``scheme``.
        return_url: App to App: where KakaoTalk returns to (no public limit).
        req_title: 인증요청 메시지 제목 (≤ 40).
        documents: The documents (``tokens``): 1 to 20, signed in this order.
        token_type: ``TokenType.TEXT`` or ``TokenType.HASH``, for every document.
    """

    req_title: str = attrs.field(validator=v.text(40), metadata=wire("reqTitle"))
    documents: tuple[SignDocument, ...] = attrs.field(
        converter=bv.as_tuple,
        validator=bv.documents(SignDocument),
        repr=_count,
        metadata=wire("tokens"),
    )
    token_type: TokenType = _member_of(TokenType, metadata=wire("tokenType"))  # noqa: RUF009


@v.frameless_errors
@attrs.frozen(kw_only=True)
class CMSRequest(_Request):
    """출금동의 요청 (KakaoCMS): ask the receiver to consent to a bank withdrawal.

    Plaintext in: the SDK encrypts ``receiver_*``, ``extra_message``, ``request_corp``
    and every ``bank_*`` field.

    Attributes:
        receiver_hp: 수신자 휴대폰번호: 10 or 11 digits, no hyphens.
        receiver_name: 수신자 성명 (≤ 80).
        receiver_birthday: 수신자 생년월일, ``YYYYMMDD``.
        extra_message: 인증요청 메시지 부가내용 (no public limit).
        expire_in: Seconds the receiver has to answer: 1..1000.
        app_to_app: App to App (``appUseYN``): your app opens KakaoTalk with the
            answer's ``scheme``.
        return_url: App to App: where KakaoTalk returns to (no public limit).
        req_title: 인증요청 메시지 제목 (≤ 40).
        request_corp: 청구기관명 (≤ 100).
        bank_name: 은행명 (≤ 100).
        bank_account_num: 계좌번호 (≤ 32; hyphens allowed).
        bank_account_name: 예금주명 (≤ 100).
        bank_account_birthday: 예금주 생년월일, ``YYYYMMDD``.
        bank_service_type: 출금 유형: ``CMS``, ``FIRM`` or ``GIRO`` (sent encrypted, as
            the examples do).
    """

    req_title: str = attrs.field(validator=v.text(40), metadata=wire("reqTitle"))
    request_corp: str = _secret("requestCorp", v.text(100))
    bank_name: str = _secret("bankName", v.text(100))
    bank_account_num: str = _secret("bankAccountNum", v.text(32))
    bank_account_name: str = _secret("bankAccountName", v.text(100))
    bank_account_birthday: str = _secret("bankAccountBirthday", v.by(v.check_birthday))
    bank_service_type: BankServiceType = _member_of(  # noqa: RUF009 (an attrs field)
        BankServiceType, repr=_masked, metadata={WIRE: "bankServiceType", ENCRYPTED: True}
    )


Request = IdentityRequest | SignRequest | MultiSignRequest | CMSRequest
"""Any request (``_kinds`` says which kind of receipt each makes)."""


# Answers ---------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Receipt:
    """The answer to a request: ``{"receiptID", "scheme"}``, and which kind of request it
    answers.

    Rebuild one from a stored id to wait on it: ``Receipt(receipt_id=..., kind=Kind.SIGN)``.

    Attributes:
        receipt_id: 접수아이디 (32 digits): use it for status and verify.
        scheme: App to App only: the KakaoTalk app scheme your app opens.
        kind: The kind of request it answers: set by the client, never sent nor read on
            the wire (``await_completed`` reads it).
    """

    receipt_id: str = attrs.field(metadata=wire("receiptID"))
    scheme: str | None = attrs.field(default=None, metadata=wire("scheme"))
    kind: Kind | None = attrs.field(default=None, metadata=wire(None))


@attrs.frozen(kw_only=True)
class Status:
    """The state of a receipt (any kind). The ``*_dt`` fields are timezone-aware
    datetimes in Korea time (UTC+9), or ``None`` while the event has not happened.

    Attributes:
        receipt_id: 접수아이디 (32 digits): the receipt this is the status of.
        client_code: 이용기관코드: the client code the request was made for.
        state: 상태: ``WAITING``, ``COMPLETED`` (verify it now: once, within 10
            minutes), ``EXPIRED``, ``REFUSED`` or ``FAILED`` (or an unknown value, kept).
        expire_in: 만료시간: the request's ``expire_in``, in seconds.
        call_center_name: 이용기관명: the name shown to the receiver as the requester.
        call_center_num: 고객센터 연락처: the customer-service number shown to the
            receiver.
        req_title: 인증요청 메시지 제목 (or a sign request's ``sign_title``).
        sign_title: 서명 요청 제목: a sign request's ``sign_title`` (the Java SDK's
            ``SignStatus``), what was signed; ``None`` for other kinds or when the
            service leaves it out.
        auth_category: 인증분류: as the service sends it (its values are not public).
        return_url: App to App: the request's ``return_url``.
        token_type: ``TEXT`` or ``HASH`` for sign receipts (kept as text: informational).
        request_dt: 요청일시: when the request was made.
        view_dt: 조회일시: when the receiver opened the message.
        complete_dt: 완료일시: when the receiver signed; verify within 10 minutes of it.
        expire_dt: 만료일시: when the request expires (or expired).
        verify_dt: 서명검증일시: when the signature was verified; set once a verify went
            through.
        scheme: App to App only: the KakaoTalk app scheme your app opens.
        app_to_app: App to App 방식 이용 여부: whether the request was App to App.
    """

    receipt_id: str = attrs.field(metadata=wire("receiptID"))
    client_code: str | None = attrs.field(default=None, metadata=wire("clientCode"))
    state: State = attrs.field(metadata=wire("state"))
    expire_in: int | None = attrs.field(default=None, metadata=wire("expireIn"))
    call_center_name: str | None = attrs.field(default=None, metadata=wire("callCenterName"))
    call_center_num: str | None = attrs.field(default=None, metadata=wire("callCenterNum"))
    req_title: str | None = attrs.field(default=None, metadata=wire("reqTitle"))
    sign_title: str | None = attrs.field(default=None, metadata=wire("signTitle"))
    auth_category: str | None = attrs.field(default=None, metadata=wire("authCategory"))
    return_url: str | None = attrs.field(default=None, metadata=wire("returnURL"))
    token_type: str | None = attrs.field(default=None, metadata=wire("tokenType"))
    request_dt: dt.datetime | None = attrs.field(default=None, metadata=wire("requestDT"))
    view_dt: dt.datetime | None = attrs.field(default=None, metadata=wire("viewDT"))
    complete_dt: dt.datetime | None = attrs.field(default=None, metadata=wire("completeDT"))
    expire_dt: dt.datetime | None = attrs.field(default=None, metadata=wire("expireDT"))
    verify_dt: dt.datetime | None = attrs.field(default=None, metadata=wire("verifyDT"))
    scheme: str | None = attrs.field(default=None, metadata=wire("scheme"))
    app_to_app: bool | None = attrs.field(default=None, metadata=wire("appUseYN"))

    @property
    def is_final(self) -> bool:
        """True once waiting is over: completed, expired, refused, failed, or a state this
        SDK does not know (reported rather than waited on until a timeout)."""
        return self.state != State.WAITING

    @property
    def expires_in(self) -> int | None:
        """:attr:`expire_in` under the name every status of this SDK shares (the polling
        loop reads it)."""
        return self.expire_in


@attrs.frozen(kw_only=True)
class _Verified:
    """What every verify answer carries besides its signed data."""

    state: State | None = attrs.field(default=None, metadata=wire("state"))
    ci: str | None = _ciphertext("ci")
    receiver_name: str | None = _ciphertext("receiverName")
    receiver_year: str | None = _ciphertext("receiverYear")
    receiver_day: str | None = _ciphertext("receiverDay")
    receiver_hp: str | None = _ciphertext("receiverHP")
    receiver_gender: str | None = _ciphertext("receiverGender")
    receiver_foreign: str | None = _ciphertext("receiverForeign")
    receiver_telco_type: str | None = _ciphertext("receiverTelcoType")


@attrs.frozen(kw_only=True)
class Verification(_Verified):
    """The answer to verifying an identity, sign or CMS receipt: given only once.

    Identity: compare ``signed_data`` with the ``token`` you sent.

    ``ci`` and the ``receiver_*`` fields come as the service sends them: base64
    ciphertexts (AES-256-CTR) that Kakao's verification module decrypts with a
    key of its own (not the SecretKey). The SDK passes them through untouched.

    Attributes:
        state: 상태: ``COMPLETED`` for a verified receipt.
        ci: 연계정보 (CI), encrypted; present only for partners approved to collect it.
        receiver_name: 수신자 성명 of the person who signed, encrypted. Masked in reprs.
        receiver_year: 수신자 출생연도 (``YYYY``), encrypted. Masked in reprs.
        receiver_day: 수신자 출생월일 (``MMDD``), encrypted. Masked in reprs.
        receiver_hp: 수신자 휴대폰번호, encrypted. Masked in reprs.
        receiver_gender: 수신자 성별, encrypted. Masked in reprs.
        receiver_foreign: 외국인 여부, encrypted. Masked in reprs.
        receiver_telco_type: 통신사 유형, encrypted. Masked in reprs.
        receipt_id: 접수아이디: the receipt verified.
        signed_data: 전자서명 데이터 전문: the evidence to store (identity: compare it with
            the token you sent). Given once: keep it now. Reprs show only its length.
    """

    receipt_id: str = attrs.field(metadata=wire("receiptID"))
    signed_data: str = attrs.field(repr=_length_only, metadata=wire("signedData"))


@attrs.frozen(kw_only=True)
class MultiSignVerification(_Verified):
    """The answer to verifying a multi-sign receipt: one signed data per document.

    ``ci`` and the ``receiver_*`` fields come as the service sends them: base64
    ciphertexts (AES-256-CTR) that Kakao's verification module decrypts with a
    key of its own (not the SecretKey). The SDK passes them through untouched.

    Attributes:
        state: 상태: ``COMPLETED`` for a verified receipt.
        ci: 연계정보 (CI), encrypted; present only for partners approved to collect it.
        receiver_name: 수신자 성명 of the person who signed, encrypted. Masked in reprs.
        receiver_year: 수신자 출생연도 (``YYYY``), encrypted. Masked in reprs.
        receiver_day: 수신자 출생월일 (``MMDD``), encrypted. Masked in reprs.
        receiver_hp: 수신자 휴대폰번호, encrypted. Masked in reprs.
        receiver_gender: 수신자 성별, encrypted. Masked in reprs.
        receiver_foreign: 외국인 여부, encrypted. Masked in reprs.
        receiver_telco_type: 통신사 유형, encrypted. Masked in reprs.
        receipt_id: 접수아이디: the receipt verified.
        multi_signed_data: 전자서명 데이터 전문, in the order of the request's documents.
    """

    receipt_id: str = attrs.field(metadata=wire("receiptID"))
    multi_signed_data: tuple[str, ...] = attrs.field(repr=_count, metadata=wire("multiSignedData"))


@attrs.frozen(kw_only=True)
class LoginVerification(_Verified):
    """The answer to verifying a login (간편로그인) transaction: given only once.

    ``ci`` and the ``receiver_*`` fields come as the service sends them: base64
    ciphertexts (AES-256-CTR) that Kakao's verification module decrypts with a
    key of its own (not the SecretKey). The SDK passes them through untouched.

    Attributes:
        state: 상태: ``COMPLETED`` for a verified receipt.
        ci: 연계정보 (CI), encrypted; present only for partners approved to collect it.
        receiver_name: 수신자 성명 of the person who signed, encrypted. Masked in reprs.
        receiver_year: 수신자 출생연도 (``YYYY``), encrypted. Masked in reprs.
        receiver_day: 수신자 출생월일 (``MMDD``), encrypted. Masked in reprs.
        receiver_hp: 수신자 휴대폰번호, encrypted. Masked in reprs.
        receiver_gender: 수신자 성별, encrypted. Masked in reprs.
        receiver_foreign: 외국인 여부, encrypted. Masked in reprs.
        receiver_telco_type: 통신사 유형, encrypted. Masked in reprs.
        tx_id: 트랜잭션 아이디: the login verified.
        signed_data: 전자서명 데이터 전문: the evidence of the login. Given once: keep it
            now. Reprs show only its length.
    """

    tx_id: str = attrs.field(metadata=wire("txID"))
    signed_data: str = attrs.field(repr=_length_only, metadata=wire("signedData"))


# A half-built model's repr does not raise.
total_reprs_of_module(globals())
