"""The send path: deadlines that hold, clean cancels and closes, quiet retries, fairness.

- With the service unreachable or hung, ``await_signed(timeout=T)`` and the
  CLI's ``wait --timeout T`` end by T plus a small grace, token and clock reads
  included; a server that trickles its answer cannot hold an exchange past
  ``timeout``.
- A thousand calls cancelled at random points leave no connection in use and no
  task behind, and the next call works at once.
- Closing a Client ends every call in flight (token fetch, state read, wait
  between polls, a polling iterator) with ``ClientClosed``.
- A 401 after an outage longer than a token's life is ridden out.
- A retry prints nothing when the application has not configured logging.
- Callers beyond the pool's size are served in arrival order.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import subprocess
import sys
import textwrap
import time
import urllib.parse
from collections.abc import Awaitable, Callable

import httpx
import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st

from kakaocert_async import (
    Client,
    ClientClosed,
    ESignReceipt,
    ESignVerification,
    KakaocertError,
    Progress,
    RequestNotSent,
    ServiceUnreachable,
    SignState,
    SignTimeout,
    TransportError,
    UnclaimedAnswer,
    ValidationError,
    VerifyOutcomeUnknown,
    barocert,
)
from kakaocert_async._cli import EXIT_ERROR, main
from kakaocert_async._http import Gate
from kakaocert_async._transports import AiohttpBackend
from kakaocert_async._validation import path_value
from kakaocert_async.sandbox import Fault, Sandbox
from tests._served import SERVICE_VARS
from tests._support import CLIENT_CODE, LINK_ID, SECRET_KEY, make_request
from tests.reliability._helpers import Tap, served_client
from tests.reliability._raw_server import (
    HANG,
    RawRequest,
    RawServer,
    Step,
    answer,
    time_answer,
    token_answer,
)

RECEIPT = "022112815423700001"
GRACE = 0.5
"""What the issue allows past a deadline: await_signed(timeout=2) ends within 2.5 s."""


def _closed_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def _client(url: str, *, timeout: float = 10.0) -> Client:
    return Client(LINK_ID, SECRET_KEY, base_url=url, auth_url=url, timeout=timeout)


# Deadlines ------------------------------------------------------------------------------


async def test_await_signed_ends_by_its_timeout_with_the_service_unreachable() -> None:
    async with Client(LINK_ID, SECRET_KEY, base_url=_closed_port(), auth_url=_closed_port()) as c:
        started = time.monotonic()
        with pytest.raises(ServiceUnreachable) as unreachable:
            await c.await_signed(CLIENT_CODE, ESignReceipt(receipt_id=RECEIPT), timeout=2)
        elapsed = time.monotonic() - started
    assert 2 <= elapsed < 2 + GRACE
    # No state was ever read: the token could not be had, poll after poll.
    assert not isinstance(unreachable.value, SignTimeout)
    assert isinstance(unreachable.value.__cause__, RequestNotSent)
    assert unreachable.value.last_error is unreachable.value.__cause__


@pytest.mark.parametrize("hung", ["Time", "KAKAOCERT/Token", "SignToken/Status"])
async def test_await_signed_ends_by_its_timeout_when_the_service_hangs(hung: str) -> None:
    """Whatever hangs (the clock, the token, the state), the caller's deadline holds:
    token and clock reads are bounded by it too, not by their own schedule."""

    def script(request: RawRequest) -> list[Step]:
        return [HANG]

    def auth(request: RawRequest) -> list[Step]:
        if request.path == f"/{hung}":
            return [HANG]
        return [time_answer() if request.path == "/Time" else token_answer()]

    server = RawServer(script, auth=auth)
    async with server.serve() as url, _client(url) as c:
        started = time.monotonic()
        with pytest.raises(ServiceUnreachable):  # no state was ever read
            await c.await_signed(
                CLIENT_CODE, ESignReceipt(receipt_id=RECEIPT), timeout=1.5, interval=0.1
            )
        elapsed = time.monotonic() - started
    assert 1.5 <= elapsed < 1.5 + GRACE
    assert server.count(f"/{hung}") >= 1


def test_the_cli_wait_ends_by_its_timeout_with_the_service_unreachable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in SERVICE_VARS:
        monkeypatch.delenv(name, raising=False)
    url = _closed_port()
    monkeypatch.setenv("KAKAOCERT_LINK_ID", LINK_ID)
    monkeypatch.setenv("KAKAOCERT_SECRET_KEY", SECRET_KEY)
    monkeypatch.setenv("KAKAOCERT_CLIENT_CODE", CLIENT_CODE)
    monkeypatch.setenv("KAKAOCERT_API_URL", url)
    monkeypatch.setenv("KAKAOCERT_AUTH_URL", url)
    started = time.monotonic()
    # Not a timeout while pending (exit 3): no state was read at all, an error.
    assert main(["wait", RECEIPT, "--timeout", "2", "--quiet"]) == EXIT_ERROR
    elapsed = time.monotonic() - started
    assert elapsed < 2 + GRACE
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1  # one line, however many retries
    assert "kakaocert-async: service unreachable: " in err


def _trickle(request: RawRequest) -> list[Step]:
    """Headers at once, then the body one byte every 50 ms: each read is quick."""
    body = b'{"receiptID": "022112815423700001", "state": 0}'
    head = answer(200, body)[: -len(body)]
    steps: list[Step] = [head]
    for byte in body:
        steps += [bytes([byte]), 0.05]
    return steps


@pytest.mark.parametrize("operation", ["request", "verify", "state"])
async def test_a_trickling_server_cannot_hold_an_exchange_past_its_timeout(operation: str) -> None:
    server = RawServer(_trickle)
    timeout = 0.3
    async with server.serve() as url, _client(url, timeout=timeout) as client:
        calls = {
            "request": lambda: client.request_esign(CLIENT_CODE, make_request()),
            "verify": lambda: client.verify_esign(CLIENT_CODE, RECEIPT),
            "state": lambda: client.get_esign_state(CLIENT_CODE, RECEIPT),
        }
        started = time.monotonic()
        with pytest.raises(TransportError, match="timed out"):
            await calls[operation]()
        elapsed = time.monotonic() - started
    api_calls = len(server.requests) - server.count("/Time") - server.count("/KAKAOCERT")
    if operation == "state":
        # Reading is safe to repeat: five attempts, each cut at the timeout.
        assert api_calls == 5
        assert elapsed < 5 * timeout + 2.0  # the attempts, and the backoff between them
    else:
        # Request and verify are never repeated once sent.
        assert api_calls == 1
        assert elapsed < timeout + 0.2


async def test_a_lost_verify_on_a_trickling_server_is_an_unknown_outcome() -> None:
    server = RawServer(_trickle)
    async with server.serve() as url, _client(url, timeout=0.3) as client:
        with pytest.raises(VerifyOutcomeUnknown):
            await client.verify_esign(CLIENT_CODE, RECEIPT)


# Cancellation -----------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["aiohttp", "httpx client", "httpx transport"])
async def test_a_thousand_calls_cancelled_at_random_points_leave_nothing_behind(
    backend: str,
) -> None:
    sandbox = Sandbox(sign_after=0.05)
    rng = random.Random(20261128)
    limits = httpx.Limits(max_connections=20)
    options: dict[str, object] = {
        "aiohttp": {},
        "httpx client": {"http_client": httpx.AsyncClient(limits=limits)},
        "httpx transport": {"transport": httpx.AsyncHTTPTransport(limits=limits)},
    }[backend]
    with sandbox.serve_in_thread() as url:
        # A little latency on every endpoint, so that cancels land everywhere:
        # queued for a connection, connecting, sending, awaiting and reading.
        sandbox.faults.add(Fault(action="delay", seconds=0.002))
        unclaimed: list[UnclaimedAnswer] = []
        async with served_client(
            sandbox, url, max_connections=20, on_unclaimed=unclaimed.append, **options
        ) as client:
            receipts = [
                (await client.request_esign(sandbox.client_code, make_request())).receipt_id
                for _ in range(5)
            ]
            before = asyncio.all_tasks()

            made = len(sandbox.service)
            returned: list[str] = []

            async def call(number: int) -> None:
                receipt_id = receipts[number % len(receipts)]
                kind = number % 3
                if kind == 0:
                    await client.get_esign_state(sandbox.client_code, receipt_id)
                elif kind == 1:
                    await client.await_signed(
                        sandbox.client_code, ESignReceipt(receipt_id=receipt_id), interval=0.01
                    )
                else:
                    receipt = await client.request_esign(sandbox.client_code, make_request())
                    returned.append(receipt.receipt_id)

            async def cancelled(number: int) -> bool:
                try:  # (wait_for, not asyncio.timeout: Python 3.10 has no asyncio.timeout)
                    await asyncio.wait_for(call(number), rng.uniform(0.0, 0.03))
                except asyncio.TimeoutError:
                    return True
                return False

            outcomes = []
            for batch in range(10):  # 100 at a time: more callers than connections
                outcomes += await asyncio.gather(*(cancelled(batch * 100 + n) for n in range(100)))
            assert sum(outcomes) >= 500  # most were cut short somewhere
            # Requests cut short after they were sent run to their end, and are
            # handed over: soon.
            for _ in range(500):
                if not client._calls._kept:
                    break
                await asyncio.sleep(0.01)
            # No receipt the service made was lost: each went to its caller, or,
            # its caller gone, to on_unclaimed.
            assert all(answer.error is None for answer in unclaimed)
            handed = [answer.receipt_id for answer in unclaimed]
            assert len(sandbox.service) - made == len(returned) + len(handed)
            made_now = {status.receipt_id for _, status in sandbox.service.receipts()}
            assert {*returned, *handed} == made_now - {*receipts}
            if backend != "aiohttp":
                # httpx exchanges of cancelled calls finish in the background
                # (cancelling httpcore mid-exchange corrupts its pool): soon.
                for _ in range(500):
                    if client._backend.running == 0:  # type: ignore[attr-defined]
                        break
                    await asyncio.sleep(0.01)
            # aiohttp finishes a cancelled connect's clean-up in the background: soon
            # (a leaked connection would stay in use for good).
            for _ in range(200):
                if client._backend.connections_in_use() == 0:
                    break
                await asyncio.sleep(0.01)
            assert client._backend.connections_in_use() == 0
            assert client._sender.waiting == 0
            assert asyncio.all_tasks() == before
            sandbox.faults.clear()
            started = time.monotonic()
            status = await client.get_esign_state(sandbox.client_code, receipts[0])
            assert time.monotonic() - started < 0.5  # at once: no pool to wait for
            assert status.state is SignState.SIGNED
        if backend == "httpx client":
            await options["http_client"].aclose()  # type: ignore[attr-defined]


class _Interposed(httpx.AsyncHTTPTransport):
    """httpx's own pooled transport, which runs ``action`` once, when the next request
    whose path holds ``part`` reaches httpcore's trace event ``event``: a moment the
    random cancels above land on only now and then, made certain."""

    at: tuple[str, str, Callable[[], Awaitable[None]]] | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.at is not None and self.at[0] in request.url.path:
            (_, event, action), self.at = self.at, None
            ours = request.extensions["trace"]

            async def trace(name: str, info: dict[str, object]) -> None:
                if name.endswith(event):
                    await action()
                await ours(name, info)

            request.extensions["trace"] = trace
        return await super().handle_async_request(request)


def _through(transport: _Interposed, how: str) -> dict[str, object]:
    if how == "httpx transport":
        return {"transport": transport}
    return {"http_client": httpx.AsyncClient(transport=transport)}


async def _close(options: dict[str, object]) -> None:
    client = options.get("http_client")
    if isinstance(client, httpx.AsyncClient):  # (given, so not the SDK's to close)
        await client.aclose()


@pytest.mark.parametrize("how", ["httpx transport", "httpx client"])
@pytest.mark.parametrize("call", ["request", "verify"])
async def test_a_call_whose_caller_is_cancelled_as_httpx_is_about_to_write_it_is_not_sent(
    call: str, how: str
) -> None:
    # httpx writes in a task of its own: ready to run between the caller's cancel and
    # its exchange's, it used to send a request (or a verify) that the caller had
    # judged unsent, and its answer (a receipt, signed data) went to no one.
    sandbox = Sandbox(sign_after=None)
    transport = _Interposed()
    unclaimed: list[UnclaimedAnswer] = []
    with sandbox.serve_in_thread() as url:
        options = _through(transport, how)
        async with served_client(sandbox, url, on_unclaimed=unclaimed.append, **options) as client:
            code = sandbox.client_code
            receipt = await client.request_esign(code, make_request())  # a pooled connection
            sandbox.service.sign(receipt.receipt_id)
            made = len(sandbox.service)
            if call == "request":
                caller = asyncio.ensure_future(client.request_esign(code, make_request()))
            else:
                caller = asyncio.ensure_future(client.verify_esign(code, receipt.receipt_id))

            async def cancel_the_caller() -> None:
                caller.cancel()
                await asyncio.sleep(0)  # httpx goes on right behind the caller's cancel

            part = "/Request" if call == "request" else "/Verify"
            transport.at = (part, "send_request_headers.started", cancel_the_caller)
            with pytest.raises(asyncio.CancelledError):
                await caller
            for _ in range(200):
                if client._backend.running == 0:  # type: ignore[attr-defined]
                    break
                await asyncio.sleep(0.01)
            assert client._backend.running == 0  # type: ignore[attr-defined]
            # Never sent, so nothing to hand over:
            assert (len(sandbox.service), sandbox.service.verifies) == (made, {})
            assert unclaimed == []
            # The pool is sound, and the receipt can still be verified, once.
            assert (await client.verify_esign(code, receipt.receipt_id)).signed_data
            await client.request_esign(code, make_request())
            assert len(sandbox.service) == made + 1
        await _close(options)


@pytest.mark.parametrize("how", ["httpx transport", "httpx client"])
async def test_a_request_timed_out_between_its_head_and_body_counts_as_sent_and_never_goes_twice(
    how: str,
) -> None:
    # httpx goes on writing in the background what it began: the half-written request
    # used to be judged not sent whole, so it was sent again, and then twice.
    sandbox = Sandbox(sign_after=None)
    transport = _Interposed()
    released = asyncio.Event()
    with sandbox.serve_in_thread() as url:
        options = _through(transport, how)
        async with served_client(sandbox, url, timeout=0.2, **options) as client:
            await client.request_esign(sandbox.client_code, make_request())
            made = len(sandbox.service)
            transport.at = ("/Request", "send_request_body.started", released.wait)
            with pytest.raises(TransportError) as caught:
                await client.request_esign(sandbox.client_code, make_request())
            released.set()
            for _ in range(200):
                if client._backend.running == 0:  # type: ignore[attr-defined]
                    break
                await asyncio.sleep(0.01)
            assert type(caught.value) is TransportError  # not RequestNotSent
            assert caught.value.progress is Progress.SENT
            assert "timed out: no answer within 0.2 s" in str(caught.value)
            assert len(sandbox.service) == made + 1  # once: the first attempt's, finished
        await _close(options)


@pytest.mark.parametrize("how", ["httpx transport", "httpx client"])
@pytest.mark.parametrize("call", ["request", "verify"])
async def test_the_answer_httpx_reads_after_its_caller_timed_out_goes_to_on_unclaimed(
    call: str, how: str
) -> None:
    # The caller is told the outcome is unknown at its timeout; httpx goes on reading
    # in the background, and the receipt (or the signed data, the verify consumed) that
    # comes used to be dropped.
    sandbox = Sandbox(sign_after=None)
    transport = _Interposed()
    released = asyncio.Event()
    unclaimed: list[UnclaimedAnswer] = []
    with sandbox.serve_in_thread() as url:
        options = _through(transport, how)
        client = served_client(sandbox, url, timeout=0.2, on_unclaimed=unclaimed.append, **options)
        async with client:
            code = sandbox.client_code
            receipt = await client.request_esign(code, make_request())
            sandbox.service.sign(receipt.receipt_id)
            made = len(sandbox.service)
            part = "/Request" if call == "request" else "/Verify"
            transport.at = (part, "receive_response_headers.started", released.wait)
            expected: type[TransportError] = TransportError
            if call == "request":
                calling = client.request_esign(code, make_request())
            else:
                calling = client.verify_esign(code, receipt.receipt_id)
                expected = VerifyOutcomeUnknown
            with pytest.raises(expected) as caught:
                await calling
            assert caught.value.progress is Progress.SENT
            assert unclaimed == []
            released.set()
            for _ in range(200):
                if unclaimed and client._backend.running == 0:  # type: ignore[attr-defined]
                    break
                await asyncio.sleep(0.01)
        (handed,) = unclaimed
        assert handed.error is None
        if call == "request":
            assert len(sandbox.service) == made + 1  # sent once; its receipt handed over
            assert isinstance(handed.result, ESignReceipt)
            assert handed.receipt_id == handed.result.receipt_id
            assert handed.receipt_id != receipt.receipt_id
            assert handed.call == "POST /SignToken/Request"
        else:
            assert isinstance(handed.result, ESignVerification)
            assert handed.result.signed_data  # the signed data, not lost
            assert handed.receipt_id == receipt.receipt_id
            assert sandbox.service.verifies == {receipt.receipt_id: 1}
        await _close(options)


# Closing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("endpoint", "warm"),
    [("token", False), ("time", False), ("status", True), ("", True)],
    ids=["first token fetch", "first clock read", "state read", "between polls"],
)
async def test_closing_ends_calls_in_flight_with_a_kakaocert_error(
    endpoint: str, warm: bool
) -> None:
    sandbox = Sandbox(sign_after=None)
    with sandbox.serve_in_thread() as url:
        async with sandbox.client() as setup:
            signed = await setup.request_esign(sandbox.client_code, make_request())
        receipt = signed.receipt_id
        client = served_client(sandbox, url)
        if warm:
            await client.get_esign_state(sandbox.client_code, receipt)
        if endpoint:
            sandbox.faults.add(Fault(action="delay", seconds=0.5, endpoints=[endpoint]))
        before = asyncio.all_tasks()
        waits = [
            asyncio.ensure_future(client.await_signed(sandbox.client_code, signed, interval=60))
            for _ in range(3)
        ]
        # Single reads are in flight only while something holds them up.
        reads = [
            asyncio.ensure_future(client.get_esign_state(sandbox.client_code, receipt))
            for _ in range(3 if endpoint else 0)
        ]
        watch = client.watch_esign_state(sandbox.client_code, receipt, interval=60)
        first = await watch.__anext__() if not endpoint else None
        await asyncio.sleep(0.1)
        await client.aclose(grace=0)
        for call in [*waits, *reads]:
            with pytest.raises(ClientClosed, match="closed"):
                await call
        with pytest.raises(ClientClosed):
            await watch.__anext__()
        assert first is None or first.state is SignState.PENDING
        assert asyncio.all_tasks() == before
        # Closed means closed: a new call says so too.
        with pytest.raises(ClientClosed):
            await client.get_esign_state(sandbox.client_code, receipt)
        sandbox.faults.clear()


async def test_a_polling_iterator_made_before_the_close_ends_with_client_closed() -> None:
    sandbox = Sandbox(sign_after=None)
    async with sandbox:
        client = sandbox.client()
        watch = client.watch_esign_state(sandbox.client_code, "1", interval=60)
        await client.aclose()
        with pytest.raises(ClientClosed):
            await watch.__anext__()


@pytest.mark.xfail(
    sys.version_info < (3, 11),
    reason="Python 3.10 has no Task.cancelling(): a cancel that meets a close is ClientClosed",
    strict=True,
)
async def test_the_callers_own_cancel_is_still_a_cancel_during_a_close() -> None:
    sandbox = Sandbox(sign_after=None)
    async with sandbox, sandbox.client() as setup:
        receipt = await setup.request_esign(sandbox.client_code, make_request())
        client = sandbox.client()
        await client.get_esign_state(sandbox.client_code, receipt.receipt_id)
        task = asyncio.ensure_future(client.await_signed(sandbox.client_code, receipt, interval=60))
        await asyncio.sleep(0.05)
        task.cancel()
        await client.aclose()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_a_close_cancelled_while_calls_unwind_still_closes_the_connections() -> None:
    sandbox = Sandbox(sign_after=None)
    with sandbox.serve_in_thread() as url:
        client = served_client(sandbox, url)
        receipt = (await client.request_esign(sandbox.client_code, make_request())).receipt_id
        sandbox.faults.add(Fault(action="delay", seconds=0.5, endpoints=["status"]))
        read = asyncio.ensure_future(client.get_esign_state(sandbox.client_code, receipt))
        await asyncio.sleep(0.05)
        closing = asyncio.ensure_future(client.aclose(grace=0))
        await asyncio.sleep(0)  # the close has ended the read and waits for it to unwind
        closing.cancel()
        with pytest.raises(asyncio.CancelledError):
            await closing
        with pytest.raises(ClientClosed):
            await read
        backend = client._backend
        assert isinstance(backend, AiohttpBackend)
        assert backend._session is not None
        assert backend._session.closed
        sandbox.faults.clear()


# Tokens and outages ------------------------------------------------------------------------


class _RevokeAfter(httpx.AsyncBaseTransport):
    """Revokes every token just before the first state read from ``when`` on."""

    def __init__(self, sandbox: Sandbox) -> None:
        self._sandbox = sandbox
        self._inner = sandbox.transport()
        self.when = float("inf")
        self.revoked = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        status_read = request.url.path.startswith("/SignToken/Status/")
        if status_read and not self.revoked and time.monotonic() >= self.when:
            self._sandbox.revoke_tokens()
            self.revoked = True
        return await self._inner.handle_async_request(request)


async def test_a_401_after_an_outage_longer_than_a_token_is_ridden_out(real_backoff: None) -> None:
    # Tokens live 2 s (renewed about every second); state reads fail for 2.3 s;
    # as they come back, the token in use is refused (revoked): the first read
    # after the outage gets a 401, the token is renewed, and the wait goes on.
    sandbox = Sandbox(sign_after=2.9, token_ttl=2)
    revoking = _RevokeAfter(sandbox)
    tap = Tap(revoking)
    client = Client(
        sandbox.link_id, sandbox.secret_key, base_url=sandbox.url, auth_url=sandbox.url,
        transport=tap,
    )  # fmt: skip
    async with sandbox, client:
        receipt = await client.request_esign(sandbox.client_code, make_request())
        sandbox.faults.add(Fault(action="error", endpoints=["status"], window=(0.3, 2.6)))
        revoking.when = time.monotonic() + 2.6 + 0.01  # just after the outage
        status = await client.await_signed(sandbox.client_code, receipt, interval=0.1)
    assert status.state is SignState.SIGNED
    assert tap.count("status", 503) >= 10  # the outage was real, and outlived a token
    assert revoking.revoked
    assert tap.count("status", 401) == 1  # the stale token, refused once, then replaced


# Quiet unless asked --------------------------------------------------------------------------


def test_a_retried_call_prints_nothing_when_logging_is_not_configured() -> None:
    script = textwrap.dedent(
        """
        import asyncio
        from kakaocert_async import Client
        from kakaocert_async.sandbox import Fault, Sandbox

        async def main():
            sandbox = Sandbox(sign_after=None)
            with sandbox.serve_in_thread() as url:
                async with Client(sandbox.link_id, sandbox.secret_key,
                                  base_url=url, auth_url=url) as client:
                    async with sandbox.client() as setup:
                        receipt = await setup.request_esign(sandbox.client_code, REQUEST)
                    sandbox.faults.add(Fault(action="error", endpoints=["status"], times=3))
                    status = await client.get_esign_state(sandbox.client_code,
                                                          receipt.receipt_id)
                    print(status.state.name, sandbox.stats["status"])

        from tests._support import make_request
        REQUEST = make_request()
        asyncio.run(main())
        """
    )
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    done = subprocess.run(  # noqa: S603 -- our own interpreter and script
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=root, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["PENDING", "4"]  # three failures, retried, then read
    assert done.stderr == ""


# Fairness -------------------------------------------------------------------------------------


async def test_callers_beyond_the_pool_are_served_in_arrival_order() -> None:
    gate = Gate(2)
    order: list[int] = []

    async def caller(number: int) -> None:
        await gate.acquire()
        try:
            order.append(number)
            await asyncio.sleep(0.001)
        finally:
            gate.release()

    tasks = []
    for number in range(50):
        tasks.append(asyncio.ensure_future(caller(number)))
        await asyncio.sleep(0)  # each arrives before the next
    await asyncio.gather(*tasks)
    assert order == list(range(50))


async def test_a_queued_caller_that_gives_up_leaves_the_queue_and_passes_nothing_by() -> None:
    gate = Gate(1)
    await gate.acquire()
    waiting = [asyncio.ensure_future(gate.acquire()) for _ in range(3)]
    await asyncio.sleep(0)
    waiting[0].cancel()  # gives up while queued
    await asyncio.sleep(0)
    gate.release()  # the place goes to the next one still waiting
    await asyncio.sleep(0)
    assert waiting[0].cancelled()
    assert waiting[1].done()
    assert not waiting[2].done()
    # Handed a place just as it is cancelled: it passes the place on.
    gate.release()
    waiting[2].cancel()
    await asyncio.sleep(0)
    await gate.acquire()  # would wait forever had the place been lost
    assert gate.waiting == 0


# Which path ----------------------------------------------------------------------------------


async def test_the_default_client_sends_with_aiohttp_and_httpx_when_asked() -> None:
    sandbox = Sandbox(sign_after=None)
    with sandbox.serve_in_thread() as url:
        async with Client(sandbox.link_id, sandbox.secret_key, base_url=url, auth_url=url) as c:
            assert c.http_backend == "aiohttp"
            with pytest.raises(KakaocertError):  # an unknown receipt, refused by the sandbox
                await c.get_esign_state(sandbox.client_code, "1")
        async with (
            httpx.AsyncClient() as http,
            Client(
                sandbox.link_id, sandbox.secret_key, base_url=url, auth_url=url, http_client=http
            ) as c,
        ):
            assert c.http_backend == "httpx"
            with pytest.raises(KakaocertError):  # an unknown receipt, refused by the sandbox
                await c.get_esign_state(sandbox.client_code, "1")
        assert sandbox.stats["status"] == 2


async def test_respx_sees_the_default_client() -> None:
    """While respx mocks httpx, a default Client sends through httpx, so that a test's
    mock sees its calls instead of their going to the network around it."""
    async with Client(LINK_ID, SECRET_KEY) as plain:
        assert plain.http_backend == "aiohttp"
    with respx.mock(assert_all_called=False) as router:
        route = router.get("https://auth.linkhub.co.kr/Time").respond(500)
        async with Client(LINK_ID, SECRET_KEY) as mocked:
            assert mocked.http_backend == "httpx"
            with pytest.raises(KakaocertError):
                await mocked.request_esign(CLIENT_CODE, make_request())
        assert route.call_count == 5


@settings(max_examples=40, deadline=None)
@given(
    signature=st.text(min_size=1, max_size=12)
    | st.sampled_from(["ab+/=cd", "é한", 'a<b>"c', "a{b}`c", "a|b^c[d]", "x!$&'()*,;:@y"])
)
def test_both_backends_send_the_same_verify_path(signature: str) -> None:
    """A signature goes into the verify path as given, and what a request line cannot
    hold raw is escaped the same way on the aiohttp and the httpx paths."""
    try:
        path_value(signature, "signature")
    except ValidationError:
        return  # refused before anything is sent, on any path

    async def sent_path(options: dict[str, object]) -> str:
        def script(request: RawRequest) -> list[Step]:
            return [answer(200, {"receiptId": "1", "signedData": "x"})]

        server = RawServer(script)
        async with server.serve() as url:
            client = Client(LINK_ID, SECRET_KEY, base_url=url, auth_url=url, **options)  # type: ignore[arg-type]
            async with client:
                await client.verify_esign(CLIENT_CODE, "1", signature)
        (verify,) = [r for r in server.requests if r.path.startswith("/SignToken/Verify/")]
        return verify.path

    aiohttp_path = asyncio.run(sent_path({}))
    httpx_path = asyncio.run(sent_path({"transport": httpx.AsyncHTTPTransport()}))
    assert aiohttp_path == httpx_path
    assert aiohttp_path.isascii()
    assert urllib.parse.unquote(aiohttp_path) == f"/SignToken/Verify/1/{signature}"


@settings(max_examples=40, deadline=None)
@given(
    tx_id=st.text(min_size=1, max_size=12)
    | st.sampled_from(["01ab+cd=ef", "+/a//b==", "/x/", "a%zz%", "é한", "a{b}`|^"])
)
def test_both_backends_send_the_same_login_verify_path(tx_id: str) -> None:
    """Barocert's login tx id follows the rule of every path value, as the signature:
    as given, but what no URI can hold raw, escaped the same on both paths."""
    try:
        path_value(tx_id, "tx_id")
    except ValidationError:
        return  # refused before anything is sent, on any path

    async def sent_path(options: dict[str, object]) -> str:
        def script(request: RawRequest) -> list[Step]:
            if request.path == "/BAROCERT/Token":
                return [token_answer()]
            return [answer(200, {"txID": tx_id, "signedData": "x"})]

        server = RawServer(script)
        async with server.serve() as url:
            client = barocert.Client(LINK_ID, SECRET_KEY, base_url=url, auth_url=url, **options)  # type: ignore[arg-type]
            async with client:
                await client.verify_login(CLIENT_CODE, tx_id)
        (verify,) = [r for r in server.requests if r.path.startswith("/KAKAO/Login/")]
        return verify.path

    aiohttp_path = asyncio.run(sent_path({}))
    httpx_path = asyncio.run(sent_path({"transport": httpx.AsyncHTTPTransport()}))
    assert aiohttp_path == httpx_path
    assert aiohttp_path.isascii()
    assert urllib.parse.unquote(aiohttp_path) == f"/KAKAO/Login/Verify/{CLIENT_CODE}/{tx_id}"
