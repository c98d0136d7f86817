"""Fixtures of the reliability tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import kakaocert_async


@pytest.fixture
def real_backoff() -> Iterator[None]:
    """Retries wait for real (exponential backoff with jitter), for the tests of
    outages in real time and of deadlines; the rest of the suite runs them without
    waiting (the SDK's testing switch, see ``tests/conftest.py``)."""
    with kakaocert_async.set_testing(False):
        yield
