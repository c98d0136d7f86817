"""Every way the sandbox refuses a call: its error code, HTTP status and Korean message.

Each refusal answers ``{"code": <code>, "message": "<message>"}`` with the HTTP
status below, as the real service does. The codes are the sandbox's own (the
real service's table is not public); each kind of refusal has exactly one.
401 means "renew your token and try once more" to a client, so it is used only
for the token, the signatures and the date.

=======================  =========  ====  ==================================================
name                     code       HTTP  when
=======================  =========  ====  ==================================================
VERSION                  -11000001  400   ``x-lh-version`` (POST) or ``x-pb-version`` (GET) wrong
DATE_MISSING             -11000002  401   no ``x-lh-date``
DATE_MALFORMED           -11000003  401   ``x-lh-date`` not ``YYYY-MM-DDTHH:MM:SS[.fff]Z``
DATE_SKEWED              -11000004  401   ``x-lh-date`` over 300 s (the tolerance) off the clock
CONTENT_TYPE             -11000005  415   a POST body that is not ``application/json``
BODY_MALFORMED           -11000006  400   a POST body that is not a JSON object
LINKHUB_AUTH_MISSING     -11010001  401   token: no ``Authorization: LINKHUB <LinkID> <hmac>``
LINK_ID_UNKNOWN          -11010002  401   token: a LinkID the sandbox does not know
TOKEN_HMAC_MISMATCH      -11010003  401   token: the HMAC does not match the token target
FORWARDED_INVALID        -11010004  400   token: ``x-lh-forwarded`` is not ``*``
TOKEN_BODY_INVALID       -11010005  400   token: body not ``{"access_id": str, "scope": [str]}``
ACCESS_ID_INVALID        -11010006  400   token: ``access_id`` is not a 12-digit client code
BEARER_MISSING           -11020001  401   no ``Authorization: Bearer <token>``
TOKEN_UNKNOWN            -11020002  401   a session token the sandbox never issued (or revoked)
TOKEN_EXPIRED            -11020003  401   a session token past its expiration
TOKEN_IP_MISMATCH        -11020004  403   an IP-bound token used from another IP
SCOPE_MISSING            -11020005  403   a token without the call's scope (310, 320 or 330)
KC_AUTH_MISSING          -11020006  401   request: no ``x-kc-auth: <LinkID> <hmac>``
KC_AUTH_LINK_ID          -11020007  401   request: ``x-kc-auth``'s LinkID is not the token's
REQUEST_HMAC_MISMATCH    -11020008  401   request: the HMAC does not match the request target
FIELD_MISSING            -11030001  400   request: a required field is absent or null
FIELD_TYPE               -11030002  400   request: a field has the wrong JSON type
FIELD_INVALID            -11030003  400   request: a field breaks a length, format or range limit
RECEIPT_ID_INVALID       -11040001  400   a receipt id that is not 1 to 20 digits
RECEIPT_UNKNOWN          -11040002  404   a receipt id the sandbox never issued (in this family)
RECEIPT_OTHER_CLIENT     -11040003  403   a receipt of another client code
NOT_SIGNED               -11040004  409   verify while the receipt is pending
RECEIPT_EXPIRED          -11040005  409   verify after the receipt expired
ALREADY_VERIFIED         -11040006  409   a second verify of a receipt
SIGNATURE_MISSING        -11040007  400   verify of an App to App receipt without the signature
SIGNATURE_MISMATCH       -11040008  400   verify with the wrong App to App signature
SIGNATURE_UNEXPECTED     -11040009  400   verify of a KakaoTalk-message receipt with a signature
NOT_FOUND                -11090001  404   an unknown path
METHOD_NOT_ALLOWED       -11090002  405   a known path with the wrong method
STATE_CONFLICT           -11090003  409   control: sign/expire/open a receipt no longer pending
CONTROL_INVALID          -11090004  400   control: a malformed request (a fault spec, a bad limit)
INJECTED_FAULT           -11090005  5xx   an injected fault answering with an error JSON body
BODY_TOO_LARGE           -11090006  413   a request body over 1 MiB (any route, before any check)
FOREIGN_HOST             -11090007  403   control: a ``Host`` the sandbox does not serve
FOREIGN_ORIGIN           -11090008  403   control: an ``Origin`` other than the sandbox's own
BC_VERSION               -12000001  400   Barocert: ``x-bc-version``/``x-pb-version`` not ``2.1``
BC_DATE_MISSING          -12000002  401   Barocert: no ``x-bc-date``
BC_DATE_MALFORMED        -12000003  401   Barocert: ``x-bc-date`` not ``YYYY-MM-DDTHH:MM:SS[.fff]Z``
BC_DATE_SKEWED           -12000004  401   Barocert: ``x-bc-date`` over 300 s off the clock
BC_ACCESS_ID             -12010001  400   Barocert token: ``access_id`` is not empty
BC_SCOPE_MISSING         -12020001  403   Barocert: no scope ``401``..``405`` for the call
BC_AUTH_MISSING          -12020002  401   Barocert POST: no ``x-bc-auth``
BC_HMAC_MISMATCH         -12020003  401   Barocert POST: ``x-bc-auth`` does not match
BC_ENCRYPTION_MODE       -12030001  400   Barocert request: ``x-bc-encryptionmode`` not ``GCM``
BC_CIPHERTEXT_INVALID    -12030002  400   Barocert request: a plaintext where a ciphertext is due
BC_VERIFY_BODY           -12030003  400   Barocert verify: a body where none is due
BC_CLIENT_CODE_INVALID   -12040001  400   Barocert: a client code that is not 12 digits
BC_RECEIPT_ID_INVALID    -12040002  400   Barocert: a receipt id that is not 32 digits
BC_VERIFY_TOO_LATE       -12040003  409   Barocert verify: over 10 minutes after signing
BC_LOGIN_UNKNOWN         -12040004  404   Barocert login verify: an unknown transaction id
=======================  =========  ====  ==================================================

Barocert calls also answer the shared refusals where the rule is the same: the token
endpoint's (``VERSION`` to ``TOKEN_BODY_INVALID``, with ``x-lh-*`` headers), the
session token's (``BEARER_MISSING`` to ``TOKEN_IP_MISMATCH``), the body's
(``CONTENT_TYPE``, ``BODY_MALFORMED``, ``FIELD_*``) and the receipt's
(``RECEIPT_UNKNOWN`` to ``ALREADY_VERIFIED``).
"""

from __future__ import annotations

import enum

from kakaocert_async._secret import total_repr


class Rejection(enum.Enum):
    """A kind of refusal: ``code``, ``http_status`` and the Korean ``text``.

    Each member's value is its three arguments.

    Args:
        code: The error code in the answer's JSON (negative, the sandbox's own).
        http_status: The HTTP status of the answer.
        text: The Korean message in the answer's JSON.
    """

    code: int
    http_status: int
    text: str

    def __init__(self, code: int, http_status: int, text: str) -> None:
        self.code = code
        self.http_status = http_status
        self.text = text

    # Headers and bodies common to every call
    VERSION = (-11000001, 400, "API 버전 헤더가 없거나 지원하지 않는 버전입니다. (2.0)")
    DATE_MISSING = (-11000002, 401, "x-lh-date 헤더가 없습니다.")
    DATE_MALFORMED = (-11000003, 401, "x-lh-date 형식이 올바르지 않습니다. (YYYY-MM-DDTHH:MM:SSZ)")
    DATE_SKEWED = (-11000004, 401, "x-lh-date가 서버 시간과 허용 범위 이상 차이가 납니다.")
    CONTENT_TYPE = (-11000005, 415, "Content-Type은 application/json 이어야 합니다.")
    BODY_MALFORMED = (-11000006, 400, "요청 본문이 JSON 객체가 아닙니다.")
    # Linkhub: POST /KAKAOCERT/Token
    LINKHUB_AUTH_MISSING = (
        -11010001,
        401,
        "Authorization 헤더가 'LINKHUB <LinkID> <서명>' 형식이 아닙니다.",
    )
    LINK_ID_UNKNOWN = (-11010002, 401, "등록되지 않은 LinkID 입니다.")
    TOKEN_HMAC_MISMATCH = (-11010003, 401, "토큰 요청의 서명(HMAC)이 일치하지 않습니다.")
    FORWARDED_INVALID = (-11010004, 400, "x-lh-forwarded 값이 올바르지 않습니다. ('*'만 허용)")
    TOKEN_BODY_INVALID = (-11010005, 400, "토큰 요청 본문이 올바르지 않습니다.")
    ACCESS_ID_INVALID = (-11010006, 400, "access_id가 12자리 이용기관코드가 아닙니다.")
    # The session token and the request signature
    BEARER_MISSING = (-11020001, 401, "Authorization: Bearer 세션토큰이 없습니다.")
    TOKEN_UNKNOWN = (-11020002, 401, "유효하지 않은 세션토큰입니다.")
    TOKEN_EXPIRED = (-11020003, 401, "만료된 세션토큰입니다.")
    TOKEN_IP_MISMATCH = (-11020004, 403, "세션토큰이 발급된 IP가 아닌 곳에서 호출했습니다.")
    SCOPE_MISSING = (-11020005, 403, "세션토큰에 이 API의 권한(scope)이 없습니다.")
    KC_AUTH_MISSING = (-11020006, 401, "x-kc-auth 헤더가 '<LinkID> <서명>' 형식이 아닙니다.")
    KC_AUTH_LINK_ID = (-11020007, 401, "x-kc-auth의 LinkID가 세션토큰의 LinkID와 다릅니다.")
    REQUEST_HMAC_MISMATCH = (-11020008, 401, "요청 서명(x-kc-auth)이 일치하지 않습니다.")
    # The body of POST {SignToken,SignIdentity,SignDirectDebit}/Request
    FIELD_MISSING = (-11030001, 400, "필수 항목이 없습니다.")
    FIELD_TYPE = (-11030002, 400, "항목의 자료형이 올바르지 않습니다.")
    FIELD_INVALID = (-11030003, 400, "항목의 값이 길이 또는 형식 제한을 벗어났습니다.")
    # Receipts: status and verify
    RECEIPT_ID_INVALID = (-11040001, 400, "접수아이디 형식이 올바르지 않습니다.")
    RECEIPT_UNKNOWN = (-11040002, 404, "존재하지 않는 접수아이디입니다.")
    RECEIPT_OTHER_CLIENT = (-11040003, 403, "다른 이용기관의 접수아이디입니다.")
    NOT_SIGNED = (
        -11040004,
        409,
        "서명이 완료되지 않은 요청입니다. 상태가 1(서명완료)일 때 검증하세요.",
    )
    RECEIPT_EXPIRED = (-11040005, 409, "만료된 전자서명 요청입니다.")
    ALREADY_VERIFIED = (-11040006, 409, "이미 검증된 요청입니다. 검증은 1회만 호출할 수 있습니다.")
    SIGNATURE_MISSING = (-11040007, 400, "App to App 방식의 검증에는 서명값이 필요합니다.")
    SIGNATURE_MISMATCH = (-11040008, 400, "서명값이 일치하지 않습니다.")
    SIGNATURE_UNEXPECTED = (
        -11040009,
        400,
        "Talk Message 방식의 검증에는 서명값을 보내지 않습니다.",
    )
    # Everything else
    NOT_FOUND = (-11090001, 404, "존재하지 않는 API 입니다.")
    METHOD_NOT_ALLOWED = (-11090002, 405, "허용되지 않는 HTTP 메서드입니다.")
    STATE_CONFLICT = (-11090003, 409, "현재 상태에서는 할 수 없는 작업입니다.")
    CONTROL_INVALID = (-11090004, 400, "샌드박스 제어 요청이 올바르지 않습니다.")
    INJECTED_FAULT = (-11090005, 503, "일시적인 서비스 장애입니다. (샌드박스 장애 주입)")
    BODY_TOO_LARGE = (-11090006, 413, "요청 본문이 너무 큽니다.")
    FOREIGN_HOST = (-11090007, 403, "이 샌드박스의 주소가 아닌 Host로 온 제어 요청입니다.")
    FOREIGN_ORIGIN = (-11090008, 403, "다른 출처(Origin)의 페이지가 보낸 제어 요청입니다.")
    # Barocert: headers and the token
    BC_VERSION = (-12000001, 400, "API 버전 헤더가 없거나 지원하지 않는 버전입니다. (2.1)")
    BC_DATE_MISSING = (-12000002, 401, "x-bc-date 헤더가 없습니다.")
    BC_DATE_MALFORMED = (
        -12000003,
        401,
        "x-bc-date 형식이 올바르지 않습니다. (YYYY-MM-DDTHH:MM:SSZ)",
    )
    BC_DATE_SKEWED = (-12000004, 401, "x-bc-date가 서버 시간과 허용 범위 이상 차이가 납니다.")
    BC_ACCESS_ID = (-12010001, 400, "바로써트 토큰 요청의 access_id는 빈 문자열이어야 합니다.")
    # Barocert: the session token's scope and the request signature
    BC_SCOPE_MISSING = (-12020001, 403, "세션토큰에 이 API의 권한(401~405)이 없습니다.")
    BC_AUTH_MISSING = (-12020002, 401, "x-bc-auth 헤더가 없습니다.")
    BC_HMAC_MISMATCH = (-12020003, 401, "요청 서명(x-bc-auth)이 일치하지 않습니다.")
    # Barocert: bodies
    BC_ENCRYPTION_MODE = (-12030001, 400, "x-bc-encryptionmode 헤더는 GCM 이어야 합니다.")
    BC_CIPHERTEXT_INVALID = (
        -12030002,
        400,
        "암호화 대상 항목이 올바른 암호문이 아닙니다. (AES-256-GCM, 비밀키)",
    )
    BC_VERIFY_BODY = (-12030003, 400, "검증 요청에는 본문을 보내지 않습니다.")
    # Barocert: paths, receipts and login transactions
    BC_CLIENT_CODE_INVALID = (-12040001, 400, "이용기관코드는 12자리 숫자입니다.")
    BC_RECEIPT_ID_INVALID = (-12040002, 400, "접수아이디는 32자리 숫자입니다.")
    BC_VERIFY_TOO_LATE = (
        -12040003,
        409,
        "서명 완료 후 10분이 지나 검증할 수 없습니다.",
    )
    BC_LOGIN_UNKNOWN = (-12040004, 404, "존재하지 않는 트랜잭션 아이디입니다.")


class Rejected(Exception):
    """The sandbox refuses a call; ``body()`` is the error JSON it answers with.

    ``detail`` (English, never a secret nor a personal value) follows the Korean
    text; ``field`` names the offending wire field, when there is one.

    Args:
        rejection: The kind of refusal: the code, HTTP status and Korean text.
        detail: What exactly is wrong, if anything more is to be said.
        field: The offending wire field (e.g. ``access_id``), if there is one.
    """

    rejection: Rejection
    detail: str | None
    field: str | None

    def __init__(
        self, rejection: Rejection, detail: str | None = None, *, field: str | None = None
    ) -> None:
        self.rejection = rejection
        self.code = rejection.code
        self.http_status = rejection.http_status
        self.detail = detail
        self.field = field
        super().__init__(self.message)

    @property
    def message(self) -> str:
        text = self.rejection.text
        if self.field is not None:
            text = f"{text} [{self.field}]"
        if self.detail:
            text = f"{text} ({self.detail})"
        return text

    def __str__(self) -> str:
        return f"[{self.code}] {self.message} (HTTP {self.http_status}, {self.rejection.name})"

    def body(self) -> dict[str, object]:
        """``{"code": ..., "message": ...}``.

        Returns:
            The error JSON: ``code``, and ``message``: the Korean text, then the field
                in brackets and the detail in parentheses, when given.
        """
        return {"code": self.code, "message": self.message}


total_repr(Rejected)  # a half-built one's str does not raise
