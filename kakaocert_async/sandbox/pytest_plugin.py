"""The pytest plugin: a ``kakaocert_sandbox`` fixture giving a ready in-process :class:`Sandbox`.

Registered as the ``pytest11`` entry point ``kakaocert_sandbox``, so installing
``kakaocert-async[sandbox]`` is enough::

    async def test_signing(kakaocert_sandbox):
        async with kakaocert_sandbox.client() as client: ...

    async def test_barocert(kakaocert_sandbox):
        async with kakaocert_sandbox.barocert_client() as client: ...

Its receiver signs every request one second after it is made (the sandbox's
default everywhere), so a test that awaits a signature passes as written;
settings come from a marker: ``@pytest.mark.kakaocert_sandbox(sign_after=None)``
signs only on command. The fixture is synchronous (the sandbox needs no running
loop), so it works with pytest-asyncio in strict or auto mode and with anyio
alike; an ``async def`` test that nothing would run on an event loop fails with
what to install and configure, rather than pytest's generic message. Importing
this module needs neither starlette nor uvicorn; using the fixture without them
fails the test with the install hint. See ``docs/testing.md``.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from kakaocert_async.sandbox import Sandbox

MARKER = "kakaocert_sandbox"
FIXTURE = "kakaocert_sandbox"
_ASYNC_RUNNERS = ("asyncio", "anyio", "trio")
"""Markers by which pytest-asyncio (older versions), anyio or pytest-trio run a test."""

NO_EVENT_LOOP = """\
this test is `async def`, and nothing runs it on an event loop. \
Install pytest-asyncio (pip install 'pytest-asyncio>=0.24') and add to pyproject.toml:

[tool.pytest.ini_options]
asyncio_mode = "auto"
asyncio_default_fixture_loop_scope = "function"

(or, in pytest-asyncio's strict mode, mark the test @pytest.mark.asyncio). \
See the kakaocert-async testing guide (docs/testing.md)."""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**settings): settings of the kakaocert_sandbox fixture's Sandbox,"
        " e.g. sign_after=None (only on command), token_ttl=60, clock=...",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    """Fail an ``async def`` test of the fixture that no plugin runs, saying how to fix it."""
    if (
        type(item) is pytest.Function  # pytest-asyncio >= 0.23 runs its own subclass
        and FIXTURE in item.fixturenames
        and inspect.iscoroutinefunction(item.obj)
        and not any(item.get_closest_marker(name) for name in _ASYNC_RUNNERS)
    ):
        pytest.fail(f"{item.name}: {NO_EVENT_LOOP}", pytrace=False)


@pytest.fixture
def kakaocert_sandbox(request: pytest.FixtureRequest) -> Sandbox:
    """An in-process KakaoCert sandbox whose receiver signs one second after each request
    (``@pytest.mark.kakaocert_sandbox(...)`` changes any setting); ``.client()`` gives a
    Client wired to it, and ``.barocert_client()`` a Barocert client
    (``kakaocert_async.barocert.Client``)."""
    from kakaocert_async.sandbox._sandbox import Sandbox, SandboxUnavailable, require_extra

    try:
        require_extra()
    except SandboxUnavailable as exc:
        # From None: the hint once, not again as the context of pytest's Failed.
        raise pytest.fail.Exception(str(exc), pytrace=False) from None
    marker = request.node.get_closest_marker(MARKER)
    # Nothing to release after the test: in-process clients hold no sockets, and
    # servers started with serve() / serve_in_thread() stop with their blocks.
    return Sandbox(**(marker.kwargs if marker is not None else {}))
