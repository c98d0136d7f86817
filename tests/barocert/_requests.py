"""Valid plaintext Barocert requests of each kind, to change one field at a time."""

from __future__ import annotations

from typing import Any

from kakaocert_async.barocert import (
    BankServiceType,
    CMSRequest,
    IdentityRequest,
    Kind,
    MultiSignRequest,
    SignDocument,
    SignRequest,
    TokenType,
)

RECEIVER = {
    "receiver_hp": "01012341234",
    "receiver_name": "홍길동",
    "receiver_birthday": "19900108",
}


def make_request(kind: Kind, **changes: Any) -> Any:
    """A valid plaintext request of ``kind``."""
    common: dict[str, Any] = {**RECEIVER, "expire_in": 300, "extra_message": "추가 메시지"}
    if kind is Kind.IDENTITY:
        fields = {**common, "req_title": "본인인증 요청", "token": "nonce-81f3"}
        return IdentityRequest(**{**fields, **changes})
    if kind is Kind.SIGN:
        fields = {
            **common,
            "sign_title": "계약서 서명",
            "req_title": "전자서명 요청",
            "token": "전자서명 원문",
            "token_type": TokenType.TEXT,
        }
        return SignRequest(**{**fields, **changes})
    if kind is Kind.MULTI_SIGN:
        documents = [SignDocument(title=f"문서 {i}", token=f"원문 {i}") for i in range(3)]
        fields = {
            **common,
            "req_title": "복수 서명 요청",
            "documents": documents,
            "token_type": TokenType.TEXT,
        }
        return MultiSignRequest(**{**fields, **changes})
    fields = {
        **common,
        "req_title": "출금동의 요청",
        "request_corp": "링크허브",
        "bank_name": "국민은행",
        "bank_account_num": "19-321442-1231",
        "bank_account_name": "홍길동",
        "bank_account_birthday": "19900108",
        "bank_service_type": BankServiceType.CMS,
    }
    return CMSRequest(**{**fields, **changes})
