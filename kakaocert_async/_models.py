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


@attrs.frozen(kw_only=True)
class ESignRequest:
    """What to ask the receiver to sign (RequestESignObj). Checked when built.

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
    token: str = attrs.field(validator=v.text(500))
    """원문: the text the receiver signs (≤ 500)."""
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
class ESignReceipt:
    """The answer to a request (ResponseESign)."""

    receipt_id: str
    """접수아이디: use it for state and verify."""
    tx_id: str | None = None
    """App to App only: the KakaoTalk transaction id your app passes to KakaoTalk."""


@attrs.frozen(kw_only=True)
class ESignVerification:
    """The answer to a verify (ResponseVerify): the signed data, given only once."""

    receipt_id: str
    signed_data: str = attrs.field(repr=_length_only)
    """전자서명 데이터 전문 (up to 4096 characters)."""


@attrs.frozen(kw_only=True)
class ESignStatus:
    """The state of a request (ResultESignObj).

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
    app_to_app: bool | None = None
    tx_id: str | None = None

    @property
    def is_final(self) -> bool:
        """True once the state will not change any more (signed or expired)."""
        return self.state is not SignState.PENDING


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
