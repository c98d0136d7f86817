"""The pytest plugin: a ``kakaocert_sandbox`` fixture giving a ready in-process :class:`Sandbox`.

Registered as the ``pytest11`` entry point ``kakaocert_sandbox``, so installing
``kakaocert-async[sandbox]`` is enough::

    async def test_signing(kakaocert_sandbox):
        async with kakaocert_sandbox.client() as client: ...

    async def test_barocert(kakaocert_sandbox):
        async with kakaocert_sandbox.barocert_client() as client: ...

Settings come from a marker: ``@pytest.mark.kakaocert_sandbox(sign_after=0)``.
The fixture is synchronous (the sandbox needs no running loop), so it works
with pytest-asyncio in strict or auto mode and with anyio alike. Importing this
module needs neither starlette nor uvicorn; using the fixture without them
fails the test with the install hint.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from kakaocert_async.sandbox import Sandbox

MARKER = "kakaocert_sandbox"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**settings): settings of the kakaocert_sandbox fixture's Sandbox,"
        " e.g. sign_after=0, token_ttl=60, clock=...",
    )


@pytest.fixture
def kakaocert_sandbox(request: pytest.FixtureRequest) -> Sandbox:
    """An in-process KakaoCert sandbox; ``.client()`` gives a Client wired to it, and
    ``.barocert_client()`` a Barocert client (``kakaocert_async.barocert.Client``)."""
    from kakaocert_async.sandbox import Sandbox, SandboxUnavailable, require_extra

    try:
        require_extra()
    except SandboxUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    marker = request.node.get_closest_marker(MARKER)
    # Nothing to release after the test: in-process clients hold no sockets, and
    # servers started with serve() / serve_in_thread() stop with their blocks.
    return Sandbox(**(marker.kwargs if marker is not None else {}))
