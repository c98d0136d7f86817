"""Barocert models: limits checked at the fields (never echoing a value), masked reprs,
token types, and states that tolerate values this SDK does not know."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import pytest

from kakaocert_async import ValidationError
from kakaocert_async.barocert import (
    MAX_DOCUMENTS,
    BankServiceType,
    CMSRequest,
    IdentityRequest,
    Kind,
    LoginVerification,
    MultiSignRequest,
    MultiSignVerification,
    SignDocument,
    SignRequest,
    State,
    Status,
    TokenType,
    Verification,
)
from kakaocert_async.barocert._models import ENCRYPTED
from tests.barocert._requests import make_request

PERSONAL = ("01012341234", "홍길동", "19900108", "nonce-81f3", "19-321442-1231", "국민은행")


@pytest.mark.parametrize("kind", list(Kind))
def test_reprs_mask_every_encrypted_field(kind: Kind) -> None:
    request = make_request(kind)
    text = repr(request)
    for value in PERSONAL:
        assert value not in text
    for field in attrs.fields(type(request)):
        if field.metadata.get(ENCRYPTED) and getattr(request, field.name) is not None:
            assert f"{field.name}='***'" in text
    assert "req_title=" in text  # plain fields show


def test_the_documents_of_a_multi_sign_never_show() -> None:
    request = make_request(Kind.MULTI_SIGN)
    assert "documents=<3 items>" in repr(request)
    assert "원문" not in repr(request.documents[0])


@pytest.mark.parametrize(
    ("kind", "field", "value", "rule"),
    [
        (Kind.IDENTITY, "receiver_hp", "010-1234-1234", "10 or 11 digits"),
        (Kind.IDENTITY, "receiver_hp", 1012341234, "must be a string"),
        (Kind.IDENTITY, "receiver_name", "가" * 81, "at most 80"),
        (Kind.IDENTITY, "receiver_name", "  ", "required"),
        (Kind.IDENTITY, "receiver_birthday", "19901332", "real calendar date"),
        (Kind.IDENTITY, "req_title", "제" * 41, "at most 40"),
        (Kind.IDENTITY, "token", "x" * 41, "at most 40"),
        (Kind.IDENTITY, "expire_in", 0, "between 1 and 1000"),
        (Kind.IDENTITY, "expire_in", 1001, "between 1 and 1000"),
        (Kind.IDENTITY, "expire_in", True, "int of seconds"),
        (Kind.IDENTITY, "extra_message", "", "required"),
        (Kind.IDENTITY, "extra_message", "line\x00", "control characters"),
        (Kind.IDENTITY, "app_to_app", "false", "True or False"),
        (Kind.IDENTITY, "return_url", "", "required"),
        (Kind.SIGN, "token", "x" * 2801, "at most 2800"),
        (Kind.SIGN, "sign_title", "제" * 41, "at most 40"),
        (Kind.SIGN, "token_type", "PDF", "one of TEXT, HASH"),
        (Kind.SIGN, "token_type", 1, "one of TEXT, HASH"),
        (Kind.MULTI_SIGN, "documents", [], "1 to 20 documents, got 0"),
        (Kind.MULTI_SIGN, "documents", "abc", "list of SignDocument"),
        (Kind.MULTI_SIGN, "documents", [{"title": "a", "token": "b"}], "must be a SignDocument"),
        (Kind.CMS, "request_corp", "가" * 101, "at most 100"),
        (Kind.CMS, "bank_name", "가" * 101, "at most 100"),
        (Kind.CMS, "bank_account_num", "1" * 33, "at most 32"),
        (Kind.CMS, "bank_account_name", "가" * 101, "at most 100"),
        (Kind.CMS, "bank_account_birthday", "900108", "YYYYMMDD"),
        (Kind.CMS, "bank_service_type", "cms", "one of CMS, FIRM, GIRO"),
    ],
)
def test_limits_are_checked_by_field_name(kind: Kind, field: str, value: Any, rule: str) -> None:
    with pytest.raises(ValidationError) as refused:
        make_request(kind, **{field: value})
    error = refused.value
    assert error.field.startswith(field)
    assert rule in error.message
    if isinstance(value, str) and len(value) > 3:
        assert value not in str(error)


def test_the_largest_valid_values_pass() -> None:
    request = make_request(
        Kind.SIGN,
        receiver_name="가" * 80,
        sign_title="제" * 40,
        token="x" * 2800,
        expire_in=1000,
        extra_message="부" * 5000,  # no public limit
    )
    assert request.expire_in == 1000
    documents = [SignDocument(title=f"{i}", token="x" * 2800) for i in range(MAX_DOCUMENTS)]
    assert len(make_request(Kind.MULTI_SIGN, documents=documents).documents) == 20
    with pytest.raises(ValidationError, match="got 21"):
        make_request(Kind.MULTI_SIGN, documents=[*documents, documents[0]])


def test_a_sign_request_needs_one_of_its_titles() -> None:
    assert make_request(Kind.SIGN, req_title=None).sign_title == "계약서 서명"
    assert make_request(Kind.SIGN, sign_title=None).req_title == "전자서명 요청"
    with pytest.raises(ValidationError) as refused:
        make_request(Kind.SIGN, sign_title=None, req_title=None)
    assert refused.value.field == "sign_title"


def test_enum_fields_take_members_or_their_values() -> None:
    sign = make_request(Kind.SIGN, token_type="HASH")
    assert sign.token_type is TokenType.HASH
    cms = make_request(Kind.CMS, bank_service_type="GIRO")
    assert cms.bank_service_type is BankServiceType.GIRO
    documents = (SignDocument(title="a", token="b"),)
    assert make_request(Kind.MULTI_SIGN, documents=list(documents)).documents == documents


def test_models_are_frozen_and_keyword_only() -> None:
    request = make_request(Kind.IDENTITY)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        request.token = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        IdentityRequest("01012341234")  # type: ignore[call-arg,misc]
    for cls in (IdentityRequest, SignRequest, MultiSignRequest, CMSRequest, SignDocument):
        assert all(field.kw_only for field in attrs.fields(cls))


# States --------------------------------------------------------------------------


def test_the_states() -> None:
    assert [(s.name, int(s)) for s in State] == [
        ("WAITING", 0),
        ("COMPLETED", 1),
        ("EXPIRED", 2),
        ("REFUSED", 3),
        ("FAILED", 4),
    ]
    assert all(state.is_known for state in State)


def test_an_unknown_state_is_kept_not_refused() -> None:
    unknown = State(7)
    assert unknown == 7
    assert isinstance(unknown, State)
    assert not unknown.is_known
    assert repr(unknown) == "<State.UNKNOWN: 7>"
    assert State(1) is State.COMPLETED
    with pytest.raises(ValueError, match="not a valid State"):
        State("1")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("state", "final"),
    [
        (State.WAITING, False),
        (State.COMPLETED, True),
        (State.EXPIRED, True),
        (State.REFUSED, True),
        (State.FAILED, True),
        (State(9), True),
    ],
)
def test_is_final_ends_waiting_on_anything_but_waiting(state: State, final: bool) -> None:
    assert Status(receipt_id="1" * 32, state=state).is_final is final


def test_verify_answers_mask_personal_data() -> None:
    verification = Verification(
        receipt_id="1" * 32,
        state=State.COMPLETED,
        signed_data="s" * 100,
        ci="c2VjcmV0",
        receiver_name="7JWU7Zi4",
        receiver_hp="MDEw",
    )
    text = repr(verification)
    assert "<100 chars>" in text
    for secret in ("s" * 100, "c2VjcmV0", "7JWU7Zi4", "MDEw"):
        assert secret not in text
    assert "receiver_day=None" in text
    multi = MultiSignVerification(receipt_id="1" * 32, multi_signed_data=("a", "b"))
    assert "<2 items>" in repr(multi)
    login = LoginVerification(tx_id="01abc", signed_data="xyz", ci="c2VjcmV0")
    assert "c2VjcmV0" not in repr(login)
    assert login.state is None


def test_status_datetimes_are_aware() -> None:
    when = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    status = Status(receipt_id="1" * 32, state=State.WAITING, request_dt=when)
    assert status.request_dt is not None
    assert status.request_dt.utcoffset() is not None
