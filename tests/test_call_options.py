"""Retries and deadlines the caller controls: ``max_retries``, ``with_options()``, ``deadline``.

Attempts are counted on the server's side (a raw loopback server that never answers),
through both backends and both generations; the sibling's sharing (one token request,
one connection, one lifetime) likewise.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import attrs
import httpx
import pytest

from kakaocert_async import (
    APIError,
    BoundClient,
    Client,
    ClientClosed,
    ESignReceipt,
    RequestNotSent,
    RetryPolicy,
    SignTimeout,
    TransportError,
    ValidationError,
    barocert,
)
from kakaocert_async.sandbox import Sandbox
from tests._support import CLIENT_CODE, LINK_ID, SECRET_KEY, make_request
from tests.reliability._raw_server import (
    HANG,
    RawRequest,
    RawServer,
    Step,
    time_answer,
    token_answer,
)

AUTH_PATHS = ("/Time", "/KAKAOCERT/Token", "/BAROCERT/Token")
BAROCERT_RECEIPT = "0" * 31 + "1"


@attrs.define
class CountingServer(RawServer):
    """A raw server that also counts the connections made to it."""

    connections: int = 0

    async def _connection(self, reader: Any, writer: Any) -> None:
        self.connections += 1
        await super()._connection(reader, writer)


def _auth_or(steps: Sequence[Step]) -> Callable[[RawRequest], Sequence[Step]]:
    """Good auth answers (both generations' token paths), ``steps`` for the rest."""

    def script(request: RawRequest) -> Sequence[Step]:
        if request.path == "/Time":
            return [time_answer()]
        if request.path.endswith("/Token"):
            return [token_answer()]
        return steps

    return script


def _calls(server: RawServer) -> int:
    return sum(1 for r in server.requests if r.path not in AUTH_PATHS)


def _tokens(server: RawServer) -> int:
    return sum(1 for r in server.requests if r.path.endswith("/Token"))


@contextlib.asynccontextmanager
async def _client(
    generation: str, backend: str, url: str, **options: Any
) -> AsyncIterator[Client | barocert.Client]:
    cls = Client if generation == "2.x" else barocert.Client
    async with contextlib.AsyncExitStack() as stack:
        if backend == "httpx":
            options["http_client"] = await stack.enter_async_context(httpx.AsyncClient())
        client = cls(LINK_ID, SECRET_KEY, base_url=url, auth_url=url, **options)
        await stack.enter_async_context(client)
        assert client.http_backend == backend
        yield client


async def _read_state(client: Any) -> object:
    """A state read, by the client code given or bound."""
    code = () if isinstance(client, BoundClient | barocert.BoundClient) else (CLIENT_CODE,)
    if isinstance(client, barocert.Client):
        receipt = barocert.Receipt(receipt_id=BAROCERT_RECEIPT, kind=barocert.Kind.SIGN)
        return await client.get_status(*code, receipt)
    return await client.get_state(*code, ESignReceipt(receipt_id="022112815423700001"))


BOTH = pytest.mark.parametrize(
    ("generation", "backend"),
    [("2.x", "aiohttp"), ("2.x", "httpx"), ("barocert", "aiohttp"), ("barocert", "httpx")],
)


@BOTH
@pytest.mark.parametrize("how", ["constructor", "with_options"])
async def test_a_silent_server_with_no_retries_gets_one_attempt(
    generation: str, backend: str, how: str
) -> None:
    server = RawServer(_auth_or([HANG]))
    async with server.serve() as url:
        if how == "constructor":
            opened = _client(generation, backend, url, timeout=0.5, max_retries=0)
        else:
            opened = _client(generation, backend, url)  # 10 s and 4 retries by default
        async with opened as client:
            if how == "with_options":
                client = client.with_options(timeout=0.5, max_retries=0)
            with pytest.raises(TransportError, match="timed out") as failed:
                await _read_state(client)
    assert not isinstance(failed.value, RequestNotSent)  # sent, never answered
    assert _calls(server) == 1


@BOTH
async def test_max_retries_counts_the_extra_attempts(generation: str, backend: str) -> None:
    server = RawServer(_auth_or([HANG]))
    async with server.serve() as url, _client(generation, backend, url) as client:
        with pytest.raises(TransportError):
            await _read_state(client.with_options(timeout=0.5, max_retries=2))
    # (0.5 s an attempt: on a loaded machine a shorter one can end while connecting,
    # before its request reaches the server that counts it.)
    assert _calls(server) == 3


@BOTH
async def test_a_deadline_bounds_the_attempts_of_one_call(generation: str, backend: str) -> None:
    server = RawServer(_auth_or([HANG]))
    async with server.serve() as url, _client(generation, backend, url) as client:
        bounded = client.with_options(timeout=0.2, max_retries=10, deadline=0.5)
        with pytest.raises(TransportError, match="timed out"):
            await _read_state(bounded)
    # 0.5 s hold at most three attempts of 0.2 s (the backoff is off in tests), not eleven.
    assert 1 <= _calls(server) <= 3


@BOTH
async def test_a_sibling_shares_the_token_the_connection_and_the_lifetime(
    generation: str, backend: str
) -> None:
    pending = (
        b'{"receiptID": "022112815423700001", "state": 0}'
        if generation == "2.x"
        else b'{"receiptID": "' + BAROCERT_RECEIPT.encode() + b'", "state": 0}'
    )
    body = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(pending), pending)
    server = CountingServer(_auth_or([body]))
    async with server.serve() as url:
        async with _client(generation, backend, url) as client:
            await _read_state(client)
            sibling = client.with_options(timeout=5, max_retries=1, deadline=5)
            assert type(sibling) is type(client)
            await _read_state(sibling)
            await sibling.aclose()  # a sibling's close leaves the client's connections be
            async with sibling:
                pass
            await _read_state(client)
            await _read_state(sibling)
        with pytest.raises(ClientClosed):  # closing the client closed its sibling
            await _read_state(sibling)
    assert _calls(server) == 4
    assert _tokens(server) == 1  # one token for both
    assert server.connections <= 2  # the clock's and the token's, then one kept alive
    if backend == "aiohttp":
        assert server.connections == 1


@pytest.mark.parametrize("generation", ["2.x", "barocert"])
async def test_with_options_on_a_bound_client_stays_bound(generation: str) -> None:
    sandbox = Sandbox(sign_after=None)
    make = sandbox.client if generation == "2.x" else sandbox.barocert_client
    async with sandbox, make(client_code=CLIENT_CODE) as client:
        bound = client.for_client()
        sibling = bound.with_options(max_retries=0)
        assert type(sibling) is type(bound)
        assert sibling.client_code == CLIENT_CODE
        if generation == "2.x":
            assert isinstance(sibling, BoundClient)
            await sibling.get_state(await sibling.request_esign(make_request()))
        else:
            assert isinstance(sibling, barocert.BoundClient)
        # ... and a sibling's bound client is the sibling's too: its close is no one's.
        await client.with_options(deadline=1).for_client().aclose()
        with pytest.raises(APIError) as unknown:  # an answer: the client is open
            await _read_state(bound)
        assert unknown.value.http_status in (400, 404)
    tokens = [count for endpoint, count in sandbox.stats.items() if endpoint.endswith("token")]
    assert sum(tokens) == 1  # never one per sibling


async def test_a_deadline_ends_a_wait_as_its_timeout_would() -> None:
    sandbox = Sandbox(sign_after=None)
    async with sandbox, sandbox.client() as client:
        receipt = await client.request_esign(sandbox.client_code, make_request())
        with pytest.raises(SignTimeout) as timed_out:
            await client.with_options(deadline=0.2).await_signed(
                sandbox.client_code, receipt, interval=0.05
            )
    assert timed_out.value.last_status is not None  # still pending, by its deadline


BAD_OPTIONS: list[tuple[dict[str, Any], str]] = [
    ({"max_retries": -1}, "max_retries"),
    ({"max_retries": 11}, "max_retries"),
    ({"max_retries": True}, "max_retries"),
    ({"max_retries": 1.0}, "max_retries"),
    ({"timeout": 0}, "timeout"),
    ({"deadline": 0}, "deadline"),
    ({"deadline": float("nan")}, "deadline"),
]


@pytest.mark.parametrize(
    ("options", "field", "where"),
    [
        (options, field, where)
        for options, field in BAD_OPTIONS
        for where in ("constructor", "with_options", "from_env")
        if where == "with_options" or "deadline" not in options  # deadline is with_options'
    ],
)
def test_bad_options_are_named(options: dict[str, Any], field: str, where: str) -> None:
    environ = {"KAKAOCERT_LINK_ID": LINK_ID, "KAKAOCERT_SECRET_KEY": SECRET_KEY}

    def make() -> object:
        if where == "constructor":
            return Client(LINK_ID, SECRET_KEY, **options)
        if where == "from_env":
            return Client.from_env(environ, **options)
        return Client(LINK_ID, SECRET_KEY).with_options(**options)

    with pytest.raises(ValidationError) as refused:
        make()
    assert refused.value.field == field


def test_retry_policy_is_exported_and_max_retries_sets_its_attempts() -> None:
    client = Client.from_env(
        {"KAKAOCERT_LINK_ID": LINK_ID, "KAKAOCERT_SECRET_KEY": SECRET_KEY}, max_retries=0
    )
    from kakaocert_async._http import ONE_SHOT, SAFE_TO_REPEAT, SINGLE

    options = client._session.options
    assert isinstance(SAFE_TO_REPEAT, RetryPolicy)
    assert options.policy(SAFE_TO_REPEAT).attempts == 1
    assert options.policy(ONE_SHOT).repeat_up_to is ONE_SHOT.repeat_up_to  # safety unchanged
    assert client.with_options(max_retries=7)._session.options.policy(ONE_SHOT).attempts == 8
    assert options.policy(SINGLE) is SINGLE  # a poll is one attempt, whatever max_retries
