"""Barocert client fixtures: the in-process sandbox on a fake clock and a client into it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kakaocert_async import barocert
from kakaocert_async.sandbox import Sandbox
from tests.sandbox._raw import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sandbox(clock: FakeClock) -> Sandbox:
    return Sandbox(clock=clock)


@pytest.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[barocert.Client]:
    async with sandbox.barocert_client() as client:
        yield client
