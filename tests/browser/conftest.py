"""A headless Chromium for the whole session, and a served sandbox per test.

The browser tests skip, saying why, only when Chromium or its driver cannot be
found; with ``KAKAOCERT_BROWSER_TESTS=require`` (as CI sets it) they fail instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from kakaocert_async.sandbox import Sandbox
from tests.browser import _phone


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    try:
        _phone.find()
    except _phone.Unavailable as exc:
        if os.environ.get("KAKAOCERT_BROWSER_TESTS") == "require":
            pytest.fail(f"KAKAOCERT_BROWSER_TESTS=require, but {exc}")
        pytest.skip(str(exc))
    with _phone.chromium() as driver:
        yield driver


@pytest.fixture
def served() -> Iterator[tuple[Sandbox, str]]:
    """A sandbox whose receiver signs only by hand, served on a loopback port."""
    sandbox = Sandbox(sign_after=None)
    with sandbox.serve_in_thread() as url:
        yield sandbox, url


@pytest.fixture
def phone(chromium: Any, served: tuple[Sandbox, str]) -> Iterator[_phone.Phone]:
    """The virtual phone of ``served``, open in the browser. Afterwards, the console holds
    no error and none of the receiver's data."""
    phone = _phone.Phone(chromium)
    phone.console()  # what earlier tests left
    phone.load(served[1])
    yield phone
    chromium.get("about:blank")  # stop the page's polling before the sandbox stops
    entries = phone.console()
    assert [e for e in entries if e["level"] == "SEVERE"] == []
    assert [e for e in entries if "홍길동" in e["message"] or "01012341234" in e["message"]] == []
