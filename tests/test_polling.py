"""await_signed and watch_esign_state: when they poll, when they stop, what they leave behind."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import time

import httpx
import pytest

from kakaocert_async import (
    APIError,
    Client,
    ESignReceipt,
    ESignStatus,
    SignState,
    SignTimeout,
    _polling,
)
from tests._support import CLIENT_CODE, RECEIPT_ID, Service, kst, status_json

KST = dt.timezone(dt.timedelta(hours=9))


def answers(*states: int | Exception | httpx.Response) -> list[httpx.Response | Exception]:
    return [
        s if isinstance(s, Exception | httpx.Response) else httpx.Response(200, json=status_json(s))
        for s in states
    ]


async def test_returns_as_soon_as_signed(client: Client, service: Service) -> None:
    service.status.side_effect = answers(0, 0, 1)
    status = await client.await_signed(
        CLIENT_CODE, ESignReceipt(receipt_id=RECEIPT_ID), interval=0.01
    )
    assert status.state is SignState.SIGNED
    assert service.status.call_count == 3


async def test_returns_the_expired_state(client: Client, service: Service) -> None:
    service.status.side_effect = answers(0, 2)
    status = await client.await_signed(
        CLIENT_CODE, ESignReceipt(receipt_id=RECEIPT_ID), interval=0.01
    )
    assert status.state is SignState.EXPIRED
    assert service.status.call_count == 2


async def test_the_first_poll_is_immediate(client: Client, service: Service) -> None:
    service.status.side_effect = answers(1)
    # An hour-long interval would hang the test if the first poll waited for it.
    status = await client.await_signed(
        CLIENT_CODE, ESignReceipt(receipt_id=RECEIPT_ID), interval=3600
    )
    assert status.state is SignState.SIGNED
    assert service.status.call_count == 1


async def test_times_out_while_pending(client: Client, service: Service) -> None:
    with pytest.raises(SignTimeout) as caught:
        await client.await_signed(
            CLIENT_CODE, ESignReceipt(receipt_id=RECEIPT_ID), timeout=0.05, interval=0.01
        )
    error = caught.value
    assert isinstance(error, TimeoutError)
    assert error.last_status is not None
    assert error.last_status.state is SignState.PENDING
    assert RECEIPT_ID in error.message
    assert service.status.call_count >= 3  # first poll, some in between, one at the deadline


async def test_the_deadline_defaults_to_the_expiry_plus_a_grace(
    client: Client, service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_polling, "EXPIRY_GRACE", 0.05)
    # The receipt expired a second ago, but the service has not flipped the state yet.
    service.status.respond(200, json=status_json(0, expireDT=kst(time.time() - 1)))
    with pytest.raises(SignTimeout):
        await client.await_signed(CLIENT_CODE, ESignReceipt(receipt_id=RECEIPT_ID), interval=0.01)
    assert 2 <= service.status.call_count < 50


def test_seconds_left_reads_expire_dt_by_the_server_clock() -> None:
    expires = dt.datetime(2026, 11, 28, 14, 0, 0, tzinfo=KST)
    status = ESignStatus(receipt_id="1", state=SignState.PENDING, expire_dt=expires)
    server_now = expires.timestamp() - 100
    assert _polling.seconds_left(status, server_now) == 100 + _polling.EXPIRY_GRACE
    assert _polling.seconds_left(status, expires.timestamp() + 30) == _polling.EXPIRY_GRACE


def test_seconds_left_falls_back_to_request_dt_then_the_longest_life() -> None:
    requested = dt.datetime(2026, 11, 28, 14, 0, 0, tzinfo=KST)
    status = ESignStatus(
        receipt_id="1", state=SignState.PENDING, request_dt=requested, expires_in=300
    )
    assert _polling.seconds_left(status, requested.timestamp() + 100) == 200 + _polling.EXPIRY_GRACE
    bare = ESignStatus(receipt_id="1", state=SignState.PENDING)
    assert _polling.seconds_left(bare, 0.0) == 1000 + _polling.EXPIRY_GRACE


async def test_failed_polls_are_ridden_out(client: Client, service: Service) -> None:
    service.status.side_effect = answers(
        0,
        httpx.Response(503, text="<html>busy</html>"),
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        httpx.Response(502),
        0,
        1,
    )
    status = await client.await_signed(
        CLIENT_CODE, ESignReceipt(receipt_id=RECEIPT_ID), interval=0.01, timeout=30
    )
    assert status.state is SignState.SIGNED
    assert service.status.call_count == 7


async def test_an_error_answer_that_will_not_pass_ends_the_wait(
    client: Client, service: Service
) -> None:
    service.status.side_effect = answers(
        0,
        httpx.Response(404, json={"code": -11000009, "message": "접수아이디가 존재하지 않습니다."}),
    )
    with pytest.raises(APIError) as caught:
        await client.await_signed(CLIENT_CODE, ESignReceipt(receipt_id=RECEIPT_ID), interval=0.01)
    assert caught.value.code == -11000009
    assert service.status.call_count == 2


async def test_watch_yields_every_poll_and_ends_after_the_final_one(
    client: Client, service: Service
) -> None:
    service.status.side_effect = answers(0, 0, 0, 1, 0)
    seen = [s.state async for s in client.watch_esign_state(CLIENT_CODE, RECEIPT_ID, interval=0.01)]
    assert seen == [SignState.PENDING] * 3 + [SignState.SIGNED]
    assert service.status.call_count == 4


async def test_breaking_out_of_watch_stops_polling(client: Client, service: Service) -> None:
    async for status in client.watch_esign_state(CLIENT_CODE, RECEIPT_ID, interval=0.01):
        assert status.state is SignState.PENDING
        break
    await asyncio.sleep(0.05)
    assert service.status.call_count == 1


async def test_cancelling_stops_at_once_and_leaves_nothing_running(
    client: Client, service: Service
) -> None:
    third_poll = asyncio.Event()

    def answer(request: httpx.Request) -> httpx.Response:
        if service.status.call_count >= 3:
            third_poll.set()
        return httpx.Response(200, json=status_json(0))

    service.status.side_effect = answer
    waiter = asyncio.create_task(
        client.await_signed(CLIENT_CODE, ESignReceipt(receipt_id=RECEIPT_ID), interval=0.01)
    )
    await third_poll.wait()
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    polls = service.status.call_count
    await asyncio.sleep(0.05)
    assert service.status.call_count == polls
    assert asyncio.all_tasks() == {asyncio.current_task()}


async def test_cancelling_during_the_first_token_request_cancels_it(
    client: Client, service: Service
) -> None:
    started = asyncio.Event()

    async def slow_token(request: httpx.Request) -> httpx.Response:
        started.set()
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    service.token.side_effect = slow_token
    waiter = asyncio.create_task(
        client.await_signed(CLIENT_CODE, ESignReceipt(receipt_id=RECEIPT_ID))
    )
    await started.wait()
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    await asyncio.sleep(0)
    assert asyncio.all_tasks() == {asyncio.current_task()}
    assert service.status.call_count == 0


async def test_many_waiters_each_get_their_answer(client: Client, service: Service) -> None:
    polls: dict[str, int] = {}

    def answer(request: httpx.Request) -> httpx.Response:
        receipt_id = request.url.path.rsplit("/", 1)[1]
        polls[receipt_id] = polls.get(receipt_id, 0) + 1
        signed_after = int(receipt_id) % 3  # 0, 1 or 2 pending polls first
        state = 1 if polls[receipt_id] > signed_after else 0
        return httpx.Response(200, json=status_json(state, receipt_id=receipt_id))

    service.status.side_effect = answer
    ids = [str(n) for n in range(1, 201)]
    results = await asyncio.gather(
        *(
            client.await_signed(CLIENT_CODE, ESignReceipt(receipt_id=rid), interval=0.01)
            for rid in ids
        )
    )
    assert [r.receipt_id for r in results] == ids
    assert all(r.state is SignState.SIGNED for r in results)
    assert all(polls[rid] == int(rid) % 3 + 1 for rid in ids)
    assert service.token.call_count == 1


async def test_polls_are_never_closer_than_the_interval(client: Client, service: Service) -> None:
    seen: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(asyncio.get_running_loop().time())
        return httpx.Response(200, json=status_json(1 if len(seen) == 6 else 0))

    service.status.side_effect = answer
    await client.await_signed(CLIENT_CODE, ESignReceipt(receipt_id=RECEIPT_ID), interval=0.02)
    gaps = [later - earlier for earlier, later in itertools.pairwise(seen)]
    assert len(gaps) == 5
    assert min(gaps) >= 0.02
