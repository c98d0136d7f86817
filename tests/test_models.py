"""ESignRequest is checked at its fields against the manual's limits; reprs hide personal data."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest

from kakaocert_async import (
    ESignRequest,
    ESignStatus,
    ESignVerification,
    KakaocertError,
    SignState,
    ValidationError,
)
from tests._support import make_request

# (field, bad value, words the message must hold)
BAD_FIELDS = [
    ("call_center_num", "", "required"),
    ("call_center_num", "   ", "required"),
    ("call_center_num", "1" * 21, "at most 20"),
    ("call_center_num", 16009854, "string"),
    ("expires_in", 0, "between 1 and 1000"),
    ("expires_in", 1001, "between 1 and 1000"),
    ("expires_in", -5, "between 1 and 1000"),
    ("expires_in", True, "int"),
    ("expires_in", 300.0, "int"),
    ("expires_in", "300", "int"),
    ("receiver_birthday", "1990018", "YYYYMMDD"),
    ("receiver_birthday", "19900230", "real calendar date"),
    ("receiver_birthday", "19901301", "real calendar date"),
    ("receiver_birthday", "1990-01-08", "YYYYMMDD"),
    ("receiver_birthday", "18991231", "between 1900"),
    ("receiver_birthday", "29990101", "between 1900"),
    ("receiver_birthday", "١٩٩٠٠١٠٨", "YYYYMMDD"),  # Arabic-Indic digits are not digits here
    ("receiver_hp", "010-1234-1234", "10 or 11 digits"),
    ("receiver_hp", "010123412345", "10 or 11 digits"),
    ("receiver_hp", "010123412", "10 or 11 digits"),
    ("receiver_hp", 1012341234, "string"),
    ("receiver_name", "", "required"),
    ("receiver_name", "가" * 21, "at most 20"),
    ("receiver_name", "홍\x00길동", "control characters"),
    ("token", "", "required"),
    ("token", "x" * 501, "at most 500"),
    ("token", "\ud800", "lone surrogates"),
    ("tms_title", "", "required"),
    ("tms_title", "t" * 41, "at most 40"),
    ("allow_simple_regist", 1, "True or False"),
    ("allow_simple_regist", "true", "True or False"),
    ("verify_name", None, "True or False"),
    ("tms_message", "m" * 501, "at most 500"),
    ("sub_client_id", "s" * 13, "at most 12"),
    ("payload", "p" * 201, "at most 200"),
    ("payload", 5, "string"),
]


@pytest.mark.parametrize(("field", "value", "words"), BAD_FIELDS)
def test_a_bad_field_is_named_with_its_rule(field: str, value: object, words: str) -> None:
    with pytest.raises(ValidationError) as caught:
        make_request(**{field: value})
    error = caught.value
    assert error.field == field
    assert words in error.message
    assert str(error).startswith(f"[-99999999] {field}: ")
    assert error.code == -99999999
    assert isinstance(error, ValueError)
    assert isinstance(error, KakaocertError)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("call_center_num", "1" * 20),
        ("expires_in", 1),
        ("expires_in", 1000),
        ("receiver_birthday", "20000229"),
        ("receiver_hp", "0101234123"),
        ("receiver_name", "가" * 20),
        ("token", "줄\n바꿈\t탭" + "x" * 494),
        ("tms_title", "t" * 40),
        ("tms_message", "m" * 500),
        ("sub_client_id", "s" * 12),
        ("payload", "p" * 200),
        ("payload", ""),
    ],
)
def test_values_at_the_limits_are_accepted(field: str, value: object) -> None:
    assert getattr(make_request(**{field: value}), field) == value


def test_personal_data_never_shows_in_repr() -> None:
    request = make_request(
        receiver_name="홍길동", receiver_hp="01099998888", receiver_birthday="19751231"
    )
    for text in (repr(request), str(request)):
        assert "홍길동" not in text
        assert "01099998888" not in text
        assert "19751231" not in text
        assert "receiver_name='***'" in text
        assert "전자서명 원문" in text  # the rest stays visible for debugging


def test_signed_data_shows_only_its_length() -> None:
    verification = ESignVerification(receipt_id="1", signed_data="secret-signed-bytes")
    assert "secret-signed-bytes" not in repr(verification)
    assert "<19 chars>" in repr(verification)


def test_models_are_frozen_and_keyword_only() -> None:
    request = make_request()
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        request.token = "changed"  # type: ignore[misc]
    with pytest.raises(TypeError):
        ESignRequest("1600-9854", 300)  # type: ignore[misc]


def test_evolve_checks_again() -> None:
    with pytest.raises(ValidationError, match="expires_in"):
        attrs.evolve(make_request(), expires_in=5000)


def test_sign_state_values_and_finality() -> None:
    assert [int(s) for s in SignState] == [0, 1, 2]
    pending = ESignStatus(receipt_id="1", state=SignState.PENDING)
    assert not pending.is_final
    assert ESignStatus(receipt_id="1", state=SignState.SIGNED).is_final
    assert ESignStatus(receipt_id="1", state=SignState.EXPIRED).is_final


def test_birthday_tomorrow_is_tolerated_for_time_zones() -> None:
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).strftime("%Y%m%d")
    assert make_request(receiver_birthday=tomorrow).receiver_birthday == tomorrow
