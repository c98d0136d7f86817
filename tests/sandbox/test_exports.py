"""``kakaocert_async.sandbox.__all__`` is what a test uses; the names it no longer exports
stay importable from it for one release, with a DeprecationWarning naming the replacement."""

from __future__ import annotations

import importlib

import pytest

import kakaocert_async.sandbox as sandbox
from kakaocert_async import _kinds
from kakaocert_async.sandbox import _faults, _receipts, _sandbox, _settings, _transport

PUBLIC = {
    "Sandbox",
    "Settings",
    "Fault",
    "FaultSpecError",
    "Rejected",
    "Rejection",
    "SandboxUnavailable",
    "COUNTERS",
    "ENDPOINTS",
    "DEFAULT_CLIENT_CODE",
    "DEFAULT_LINK_ID",
    "DEFAULT_SECRET_KEY",
    "DEFAULT_SIGN_AFTER",
    "decrypt_personal_data",
    # The types of what a sandbox hands out: sandbox.service, .barocert, .faults.
    "Service",
    "BarocertService",
    "FaultPlan",
}
DEPRECATED = {
    "CMS_SCOPE": "330",
    "ESIGN_SCOPE": "310",
    "IDENTITY_SCOPE": "320",
    "DATE_TOLERANCE": _settings.DATE_TOLERANCE,
    "DEFAULT_SECRET_KEY_BYTES": _settings.DEFAULT_SECRET_KEY_BYTES,
    "DEFAULT_TOKEN_TTL": _settings.DEFAULT_TOKEN_TTL,
    "INSTALL_HINT": _sandbox.INSTALL_HINT,
    "IN_PROCESS_URL": _sandbox.IN_PROCESS_URL,
    "PERSONAL_DATA_IV": _receipts.PERSONAL_DATA_IV,
    "PERSONAL_DATA_KEY": _receipts.PERSONAL_DATA_KEY,
    "Action": _faults.Action,
    "Body": _faults.Body,
    "ConnectionDropped": _faults.ConnectionDropped,
    "Decision": _faults.Decision,
    "SandboxTransport": _transport.SandboxTransport,
    "require_extra": _sandbox.require_extra,
}


def test_all_is_what_a_test_uses() -> None:
    assert set(sandbox.__all__) == PUBLIC
    assert all(hasattr(sandbox, name) for name in PUBLIC)


@pytest.mark.parametrize("name", sorted(DEPRECATED))
def test_a_name_no_longer_exported_still_imports_with_a_warning(name: str) -> None:
    with pytest.warns(DeprecationWarning, match=rf"kakaocert_async\.sandbox\.{name} .* use ") as w:
        value = getattr(sandbox, name)
    assert value == DEPRECATED[name]
    assert w[0].filename == __file__  # it points at the line that imported it
    assert name not in sandbox.__all__


def test_from_import_warns_too() -> None:
    with pytest.warns(DeprecationWarning, match="sandbox.IN_PROCESS_URL"):
        from kakaocert_async.sandbox import IN_PROCESS_URL  # noqa: F401


def test_the_scopes_are_the_kinds() -> None:
    with pytest.warns(DeprecationWarning, match="_SCOPE is internal"):
        scopes = (sandbox.ESIGN_SCOPE, sandbox.IDENTITY_SCOPE, sandbox.CMS_SCOPE)
    assert scopes == tuple(kind.scope for kind in _kinds.KINDS)
    assert _settings.Settings().required_scope == _kinds.ESIGN.scope


def test_any_other_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'NOTHING'"):
        sandbox.NOTHING  # noqa: B018
    assert importlib.import_module("kakaocert_async.sandbox") is sandbox
