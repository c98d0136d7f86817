"""Models that explain themselves: every public field documented where ``help()`` and the
API reference show it, the manual's defaults, and the text to sign also taken as ``text=``."""

from __future__ import annotations

import inspect
import json
import pydoc
from typing import Any

import attrs
import griffe
import pytest

import kakaocert_async
from kakaocert_async import (
    CMSRequest,
    ESignRequest,
    ESignStatus,
    ValidationError,
    VerifyAuthRequest,
    _wire,
    barocert,
)
from tests._support import BANK_FIELDS

PUBLIC_MODELS = [
    getattr(module, name)
    for module in (kakaocert_async, barocert)
    for name in module.__all__
    if attrs.has(getattr(module, name))
]
RECEIVER: dict[str, Any] = {
    "call_center_num": "1600-9854",
    "receiver_name": "홍길동",
    "receiver_hp": "01012341234",
    "receiver_birthday": "19900108",
    "tms_title": "계약 서명",
}
TEXT = "본인은 위 계약 내용에 동의합니다."


def test_there_are_models_to_check() -> None:
    names = {cls.__name__ for cls in PUBLIC_MODELS}
    assert {"ESignRequest", "ESignStatus", "CMSVerification", "SignRequest", "Status"} <= names
    assert len(PUBLIC_MODELS) == 24  # RetryPolicy included


def field_docs(cls: type[Any]) -> dict[str, str]:
    """Name -> meaning, from the ``Attributes:`` section of ``cls``'s docstring, as the API
    reference's parser (mkdocstrings' griffe, Google style) reads it."""
    docstring = griffe.Docstring(inspect.getdoc(cls) or "")
    sections = docstring.parse("google", warnings=False)
    found = [s for s in sections if s.kind is griffe.DocstringSectionKind.attributes]
    return {item.name: item.description for section in found for item in section.value}


@pytest.mark.parametrize("cls", PUBLIC_MODELS, ids=lambda cls: f"{cls.__module__}.{cls.__name__}")
def test_every_public_field_is_documented_where_help_shows_it(cls: type[Any]) -> None:
    # Every keyword of the constructor (text= too), in its order: every field.
    fields = list(inspect.signature(cls).parameters)
    docs = field_docs(cls)
    assert list(docs) == fields
    assert {field.name for field in attrs.fields(cls)} <= set(docs)
    shown = pydoc.render_doc(cls, renderer=pydoc.plaintext)
    assert "Attributes:" in shown
    for name, doc in docs.items():
        assert doc.strip()
        assert f"{name}: {doc.splitlines()[0]}" in shown


def test_a_field_without_a_meaning_would_be_found() -> None:
    @attrs.frozen(kw_only=True)
    class Half:
        """A model that forgets one.

        Attributes:
            first: Documented.
        """

        first: str
        second: str

    assert list(field_docs(Half)) == ["first"] != list(inspect.signature(Half).parameters)


def test_help_of_a_status_explains_its_22_fields() -> None:
    shown = pydoc.render_doc(ESignStatus, renderer=pydoc.plaintext)
    assert len(attrs.fields(ESignStatus)) == 22
    assert "verify_dt: 서명 검증일시: when the signature was verified" in shown
    assert "state: 상태: ``PENDING``, ``SIGNED`` (verify it now, once) or ``EXPIRED``." in shown


# Defaults ---------------------------------------------------------------------------


def test_a_request_needs_only_what_has_no_sensible_default() -> None:
    request = ESignRequest(**RECEIVER, text=TEXT)
    assert request.expires_in == 300  # the manual's recommendation
    assert request.allow_simple_regist is False  # the stronger way to a certificate
    assert request.verify_name is True  # only the named person may sign
    for cls, extra in ((VerifyAuthRequest, {"text": "nonce-1"}), (CMSRequest, BANK_FIELDS)):
        other = cls(**RECEIVER, **extra)
        assert (other.expires_in, other.allow_simple_regist, other.verify_name) == (
            300,
            False,
            True,
        )


def test_the_defaults_go_on_the_wire() -> None:
    body = json.loads(_wire.encode_request(ESignRequest(**RECEIVER, text=TEXT), app_to_app=False))
    assert body["Expires_in"] == 300
    assert body["isAllowSimpleRegistYN"] is False
    assert body["isVerifyNameYN"] is True
    assert body["Token"] == TEXT
    # The sandbox still refuses a body without them, as the manual requires them
    # (tests/sandbox/test_request.py::test_a_missing_required_field_is_refused_by_wire_name).


# text= and token= -------------------------------------------------------------------


@pytest.mark.parametrize("cls", [ESignRequest, VerifyAuthRequest, CMSRequest])
def test_text_and_token_are_one_field(cls: type[Any]) -> None:
    extra = BANK_FIELDS if cls is CMSRequest else {}
    by_text = cls(**RECEIVER, **extra, text=TEXT)
    by_token = cls(**RECEIVER, **extra, token=TEXT)
    assert by_text == by_token
    assert by_text.text == by_text.token == TEXT
    assert cls(**RECEIVER, **extra, text=TEXT, token=TEXT) == by_text
    assert attrs.evolve(by_text, token="바뀐 원문").text == "바뀐 원문"
    with pytest.raises(ValidationError) as both:
        cls(**RECEIVER, **extra, text=TEXT, token="another")
    assert both.value.field == "text"
    assert "not both" in both.value.message


@pytest.mark.parametrize("cls", [ESignRequest, VerifyAuthRequest])
def test_the_text_is_required_and_checked_under_the_name_given(cls: type[Any]) -> None:
    with pytest.raises(ValidationError) as missing:
        cls(**RECEIVER)
    assert missing.value.field == "token"
    assert "text= or token=" in missing.value.message
    with pytest.raises(ValidationError) as long_text:
        cls(**RECEIVER, text="가" * 501)
    assert (long_text.value.field, long_text.value.message) == (
        "text",
        "text: must be at most 500 characters, got 501",
    )
    with pytest.raises(ValidationError) as long_token:
        cls(**RECEIVER, token="가" * 501)
    assert long_token.value.field == "token"


def test_cms_text_stays_optional() -> None:
    request = CMSRequest(**RECEIVER, **BANK_FIELDS)
    assert request.text is None
    assert "Token" not in _wire.converter.unstructure(request)
    assert CMSRequest(**RECEIVER, **BANK_FIELDS, text="동의").token == "동의"
