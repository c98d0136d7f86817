"""Per-call overhead: the SDK against raw httpx making the same HTTP call, in memory.

Both sides send over one ``httpx.MockTransport`` that answers canned JSON. The
raw side replays the exact request the SDK sent (URL, headers, body) and parses
the JSON answer; the SDK side also checks its arguments, signs, and converts the
answer into a model. Rounds alternate between the two; each figure is the median
of the rounds' mean microseconds per call.
"""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Awaitable, Callable

import httpx

from kakaocert_async import Client, ESignRequest

from ._figures import Figure, at_most, median
from .canned import CLIENT_CODE, LINK_ID, RECEIPT, RECEIPT_ID, SECRET_KEY, STATUS

REQUEST = ESignRequest(
    call_center_num="1600-9854",
    expires_in=300,
    receiver_birthday="19900108",
    receiver_hp="01012341234",
    receiver_name="홍길동",
    token="본인은 위 계약 내용에 동의합니다.",
    tms_title="계약 동의",
    allow_simple_regist=True,
    verify_name=True,
)


class _Service:
    """Canned answers; keeps the last API request so the raw side can replay it."""

    def __init__(self) -> None:
        self.last: httpx.Request | None = None
        expires = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() + 3600))
        self.token = json.dumps({"session_token": "bench-token", "expiration": expires}).encode()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/Time":
            now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            return httpx.Response(200, content=now.encode())
        if path == "/KAKAOCERT/Token":
            return httpx.Response(200, content=self.token)
        self.last = request
        if path == "/SignToken/Request":
            return httpx.Response(200, content=RECEIPT)
        return httpx.Response(200, content=STATUS)


Call = Callable[[], Awaitable[object]]


async def _per_call_us(call: Call, calls: int) -> float:
    gc.collect()
    started = time.perf_counter()
    for _ in range(calls):
        await call()
    return (time.perf_counter() - started) / calls * 1e6


async def _compare(sdk: Call, raw: Call, *, calls: int, rounds: int) -> tuple[float, float]:
    for _ in range(calls // 10 + 1):  # warm up both
        await sdk()
        await raw()
    sdk_us, raw_us = [], []
    for _ in range(rounds):
        raw_us.append(await _per_call_us(raw, calls))
        sdk_us.append(await _per_call_us(sdk, calls))
    return median(sdk_us), median(raw_us)


def _replay(http: httpx.AsyncClient, request: httpx.Request) -> Call:
    method, url, content = request.method, str(request.url), request.content
    headers = {k: v for k, v in request.headers.items() if k not in {"host", "content-length"}}

    async def raw() -> object:
        response = await http.request(method, url, headers=headers, content=content or None)
        return json.loads(response.content)

    return raw


async def run(*, calls: int, rounds: int) -> list[Figure]:
    service = _Service()
    transport = httpx.MockTransport(service)
    async with (
        Client(
            LINK_ID,
            SECRET_KEY,
            base_url="http://api.bench",
            auth_url="http://auth.bench",
            transport=transport,
        ) as client,
        httpx.AsyncClient(transport=transport) as http,
    ):
        await client.get_esign_state(CLIENT_CODE, RECEIPT_ID)
        assert service.last is not None
        state_sdk, state_raw = await _compare(
            lambda: client.get_esign_state(CLIENT_CODE, RECEIPT_ID),
            _replay(http, service.last),
            calls=calls,
            rounds=rounds,
        )
        await client.request_esign(CLIENT_CODE, REQUEST)
        request_sdk, request_raw = await _compare(
            lambda: client.request_esign(CLIENT_CODE, REQUEST),
            _replay(http, service.last),
            calls=calls,
            rounds=rounds,
        )
    name = "overhead (in-memory transport)"
    return [
        Figure(name, "get_esign_state via SDK", state_sdk, "µs/call"),
        Figure(name, "same call, raw httpx + json", state_raw, "µs/call"),
        at_most(name, "state: SDK / raw", state_sdk / state_raw, "×", 1.15),
        Figure(name, "request_esign via SDK", request_sdk, "µs/call"),
        Figure(name, "same call, raw httpx + json", request_raw, "µs/call"),
        at_most(name, "request: SDK / raw", request_sdk / request_raw, "×", 1.4),
    ]
