"""Sandbox settings: the documented defaults, and bad values refused by name."""

from __future__ import annotations

import base64
from typing import Any

import attrs
import pytest

from kakaocert_async import ValidationError
from kakaocert_async.sandbox import (
    DEFAULT_CLIENT_CODE,
    DEFAULT_LINK_ID,
    DEFAULT_SECRET_KEY,
    DEFAULT_SIGN_AFTER,
    Sandbox,
)
from kakaocert_async.sandbox._settings import DEFAULT_SECRET_KEY_BYTES, Settings, SettingsOptions


def test_the_documented_defaults() -> None:
    sandbox = Sandbox()
    assert sandbox.link_id == DEFAULT_LINK_ID == "SANDBOX"
    assert sandbox.client_code == DEFAULT_CLIENT_CODE == "020040000001"
    assert sandbox.secret_key == DEFAULT_SECRET_KEY
    assert base64.b64decode(DEFAULT_SECRET_KEY) == DEFAULT_SECRET_KEY_BYTES
    assert b"not a real" in DEFAULT_SECRET_KEY_BYTES
    assert len(DEFAULT_SECRET_KEY_BYTES) == 32  # an AES-256 key, for Barocert
    assert DEFAULT_SECRET_KEY == "a2FrYW9jZXJ0LWFzeW5jOiBub3QgYSByZWFsIGtleS4="  # as documented
    assert sandbox.settings.sign_after == DEFAULT_SIGN_AFTER == 1.0  # one default everywhere
    assert sandbox.settings.token_ttl == 3600
    assert DEFAULT_SECRET_KEY not in repr(sandbox.settings)
    assert "SANDBOX" in repr(sandbox)


def test_the_clock_offset_moves_the_sandbox_clock() -> None:
    sandbox = Sandbox(clock=lambda: 1000.0, clock_offset=-250.5)
    assert sandbox.now() == 749.5


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("link_id", ""),
        ("link_id", "TWO WORDS"),
        ("secret_key", "not base64!"),
        ("secret_key", ""),
        ("client_code", "12345"),
        ("token_ttl", 0.5),
        ("token_ttl", float("inf")),
        ("sign_after", -1),
        ("sign_after", True),
        ("sign_after", "3"),
        ("clock_offset", float("nan")),
        ("date_tolerance", -1),
        ("clock", 1234.0),
    ],
)
def test_bad_settings_are_refused_by_name(setting: str, value: Any) -> None:
    with pytest.raises(ValidationError) as refused:
        Sandbox(**{setting: value})
    assert refused.value.field == setting


def test_zero_sign_after_and_zero_offset_are_fine() -> None:
    sandbox = Sandbox(sign_after=0, clock_offset=0)
    assert sandbox.settings.sign_after == 0


def test_every_setting_is_a_keyword_of_the_sandbox() -> None:
    # Sandbox(...) types its settings by SettingsOptions (secret_key it takes apart).
    fields = {field.name for field in attrs.fields(Settings)}
    assert {*SettingsOptions.__annotations__, "secret_key"} == fields
    assert Sandbox(required_scope="399").settings.required_scope == "399"
