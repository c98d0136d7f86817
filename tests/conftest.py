"""Shared fixtures: a respx-mocked KakaoCert service and a Client pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import respx

import kakaocert_async
from kakaocert_async import Client
from tests._support import LINK_ID, SECRET_KEY, Service


@pytest.fixture(autouse=True)
def _no_retry_waits() -> Iterator[None]:
    """Retries keep their attempt counts but do not wait (the SDK's testing switch)."""
    with kakaocert_async.set_testing(True):
        yield


@pytest.fixture
def service() -> Iterator[Service]:
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        yield Service(router)


@pytest.fixture
async def client(service: Service) -> AsyncIterator[Client]:
    async with Client(LINK_ID, SECRET_KEY) as client:
        yield client
