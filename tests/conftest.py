"""Shared fixtures: a respx-mocked KakaoCert service and a Client pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import respx

import kakaocert_async
from kakaocert_async import Client
from tests import _leaks, _support
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


# The guard: no KakaocertError made in a test shows a secret in its frames (tests/_leaks.py).
_leaks.install()
_leaks.add_module_keys(_support)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    _leaks.new_test()
    module = getattr(item, "module", None)
    if module is not None:
        _leaks.add_module_keys(module)
    hypothesis = getattr(getattr(item, "obj", None), "hypothesis", None)
    if hypothesis is not None and not hasattr(hypothesis.inner_test, "_per_example"):
        # Each example is a test of its own for the guard: one example's token (drawn,
        # say, as "Authorization") is no secret of the next one's, whose headers show it.
        hypothesis.inner_test = _leaks.per_example(hypothesis.inner_test)
    try:
        return (yield)
    finally:
        _leaks.check(_leaks.take_made())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    try:
        return (yield)
    finally:
        _leaks.check(_leaks.take_made())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    try:
        return (yield)
    finally:
        _leaks.check(_leaks.take_made())
