"""Sandbox fixtures: a sandbox on a fake clock, and raw hand-signed calls into it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kakaocert_async.sandbox import Sandbox

# The plugin's fixture, for the tests that check it (the entry point may not be
# installed in a development checkout).
from kakaocert_async.sandbox.pytest_plugin import (  # noqa: F401
    kakaocert_sandbox,
    pytest_configure,
)
from tests.sandbox._barocert_raw import BarocertRaw
from tests.sandbox._raw import FakeClock, Raw


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sandbox(clock: FakeClock) -> Sandbox:
    return Sandbox(sign_after=None, clock=clock)


@pytest.fixture
async def raw(sandbox: Sandbox) -> AsyncIterator[Raw]:
    calls = Raw(sandbox)
    yield calls
    await calls.aclose()


@pytest.fixture
async def bc(sandbox: Sandbox) -> AsyncIterator[BarocertRaw]:
    """Raw Barocert calls into the sandbox (fake clock)."""
    calls = BarocertRaw(sandbox)
    yield calls
    await calls.aclose()
