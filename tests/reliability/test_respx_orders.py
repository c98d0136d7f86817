"""No call goes around an active respx mock, whatever the order of making the Client and
starting or stopping the mock: made while respx is active, a call goes through httpx (the
mock sees it) and never reaches the network.

The "network" is a sandbox served on loopback, which counts every arrival.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
import respx

import kakaocert_async
from kakaocert_async import Client, KakaocertError, barocert
from kakaocert_async.barocert import Kind
from kakaocert_async.sandbox import Sandbox
from tests._support import make_request
from tests.barocert._requests import make_request as barocert_request

Call = Callable[[Any, Sandbox], Awaitable[object]]
CALLS: dict[str, tuple[type[Any], Call]] = {
    "2.x request": (Client, lambda c, s: c.request_esign(s.client_code, make_request())),
    "2.x state": (Client, lambda c, s: c.get_esign_state(s.client_code, "1" * 20)),
    "barocert request": (
        barocert.Client,
        lambda c, s: c.request_sign(s.client_code, barocert_request(Kind.SIGN)),
    ),
    "barocert status": (
        barocert.Client,
        lambda c, s: c.get_sign_status(s.client_code, "1" * 32),
    ),
}


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Sandbox, str]]:
    sandbox = Sandbox(sign_after=None)
    with sandbox.serve_in_thread() as url:
        yield sandbox, url


def _mock() -> respx.MockRouter:
    router = respx.mock(assert_all_called=False)
    router.route().respond(503, text="mocked")
    return router


async def _call_mocked(client: Any, sandbox: Sandbox, call: Call, router: respx.MockRouter) -> None:
    """Make ``call`` while ``router`` is active: respx sees it, the network does not."""
    arrived, seen = sum(sandbox.stats.values()), router.calls.call_count
    assert client.http_backend == "httpx"
    with kakaocert_async.set_testing(True), pytest.raises(KakaocertError):
        await call(client, sandbox)
    assert router.calls.call_count > seen
    assert sum(sandbox.stats.values()) == arrived


async def _call_real(client: Any, sandbox: Sandbox, call: Call) -> None:
    """Make ``call`` with no mock active: it reaches the network."""
    arrived = sum(sandbox.stats.values())
    assert client.http_backend == "aiohttp"
    with contextlib.suppress(KakaocertError):  # an unknown receipt: refused, but it arrived
        await call(client, sandbox)
    assert sum(sandbox.stats.values()) > arrived


ORDERS = [
    "made, then mocked",
    "made and used, then mocked",
    "made while mocked, used after",
    "mocked, stopped, mocked again",
    "made in one mock, used in the next",
]


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("name", CALLS)
async def test_no_call_goes_around_an_active_mock(
    served: tuple[Sandbox, str], name: str, order: str
) -> None:
    sandbox, url = served
    cls, call = CALLS[name]

    def make() -> Any:
        return cls(sandbox.link_id, sandbox.secret_key, base_url=url, auth_url=url)

    if order == "made, then mocked":
        async with make() as client:
            with _mock() as router:
                await _call_mocked(client, sandbox, call, router)
            await _call_real(client, sandbox, call)
    elif order == "made and used, then mocked":
        async with make() as client:
            await _call_real(client, sandbox, call)  # a kept-alive connection in the pool
            with _mock() as router:
                await _call_mocked(client, sandbox, call, router)
            await _call_real(client, sandbox, call)
    elif order == "made while mocked, used after":
        with _mock() as router:
            client = make()
            await _call_mocked(client, sandbox, call, router)
        async with client:
            await _call_real(client, sandbox, call)
    elif order == "mocked, stopped, mocked again":
        async with make() as client:
            for _ in range(2):
                with _mock() as router:
                    await _call_mocked(client, sandbox, call, router)
                await _call_real(client, sandbox, call)
    else:
        with _mock() as first:
            client = make()
            await _call_mocked(client, sandbox, call, first)
        with _mock() as second:
            await _call_mocked(client, sandbox, call, second)
        await client.aclose()


async def test_a_client_given_an_http_client_is_mocked_like_it() -> None:
    async with httpx.AsyncClient() as http:
        client = Client("LINK", "c2VjcmV0", base_url="http://127.0.0.1:9", http_client=http)
        with _mock() as router, kakaocert_async.set_testing(True):
            with pytest.raises(KakaocertError):
                await client.get_esign_state("020040000001", "1" * 20)
            assert router.calls.call_count > 0
        await client.aclose()
