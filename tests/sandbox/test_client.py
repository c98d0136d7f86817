"""The package's own Client against the in-process sandbox: whole flows, and what it counts."""

from __future__ import annotations

import asyncio

import pytest

from kakaocert_async import APIError, Client, ClientClosed, SignState
from kakaocert_async.sandbox import COUNTERS, Rejection, Sandbox
from tests._support import make_request
from tests.sandbox._raw import FakeClock


async def test_request_state_sign_verify(sandbox: Sandbox) -> None:
    async with sandbox.client() as client:
        code = sandbox.client_code
        receipt = await client.request_esign(code, make_request(payload="order-17"))
        assert receipt.tx_id is None
        status = await client.get_esign_state(code, receipt.receipt_id)
        assert status.state is SignState.PENDING
        assert status.payload == "order-17"
        await sandbox.sign(receipt.receipt_id)
        status = await client.get_esign_state(code, receipt.receipt_id)
        assert status.state is SignState.SIGNED
        verification = await client.verify_esign(code, receipt.receipt_id)
        assert verification.receipt_id == receipt.receipt_id
        assert verification.signed_data
        status = await client.get_esign_state(code, receipt.receipt_id)
        assert status.verify_dt is not None
    assert sandbox.stats == {
        **dict.fromkeys(COUNTERS, 0),
        "time": 1,
        "token": 1,
        "request": 1,
        "status": 3,
        "verify": 1,
    }


async def test_app_to_app_with_a_signature_of_plus_slash_and_equals(sandbox: Sandbox) -> None:
    async with sandbox.client() as client:
        code = sandbox.client_code
        receipt = await client.request_esign(code, make_request(), app_to_app=True)
        assert receipt.tx_id
        await sandbox.sign(receipt.receipt_id)
        signature = sandbox.signature(receipt.receipt_id)
        assert {"/", "+", "="} <= set(signature)
        verification = await client.verify_esign(code, receipt.receipt_id, signature)
        assert verification.receipt_id == receipt.receipt_id


async def test_await_signed_with_sign_after() -> None:
    async with Sandbox(sign_after=0.0) as sandbox, sandbox.client() as client:
        receipt = await client.request_esign(sandbox.client_code, make_request())
        status = await client.await_signed(sandbox.client_code, receipt, interval=0.01, timeout=5)
        assert status.state is SignState.SIGNED


async def test_any_12_digit_client_code_works(sandbox: Sandbox) -> None:
    async with sandbox.client() as client:
        for code in ("000000000001", "987654321098"):
            receipt = await client.request_esign(code, make_request())
            status = await client.get_esign_state(code, receipt.receipt_id)
            assert status.client_code == code
    assert sandbox.stats["token"] == 2


async def test_another_client_codes_receipt_reaches_the_client_as_403(sandbox: Sandbox) -> None:
    async with sandbox.client() as client:
        receipt = await client.request_esign("111111111111", make_request())
        with pytest.raises(APIError) as refused:
            await client.get_esign_state("222222222222", receipt.receipt_id)
    assert refused.value.code == Rejection.RECEIPT_OTHER_CLIENT.code
    assert refused.value.http_status == 403


async def test_an_expired_token_is_renewed_once(clock: FakeClock) -> None:
    sandbox = Sandbox(sign_after=None, clock=clock, token_ttl=60)
    async with sandbox, sandbox.client() as client:
        code = sandbox.client_code
        receipt = await client.request_esign(code, make_request())
        # The client's cache still thinks the token good (its clock did not move).
        clock.advance(61)
        status = await client.get_esign_state(code, receipt.receipt_id)
        assert status.state is SignState.PENDING
    assert sandbox.stats["token"] == 2
    assert sandbox.stats["status"] == 2  # refused once with 401, then answered


async def test_many_concurrent_flows_share_one_token(sandbox: Sandbox) -> None:
    async with sandbox.client() as client:
        code = sandbox.client_code

        async def flow() -> None:
            receipt = await client.request_esign(code, make_request())
            await sandbox.sign(receipt.receipt_id)
            await client.verify_esign(code, receipt.receipt_id)

        await asyncio.gather(*(flow() for _ in range(200)))
    assert sandbox.stats["token"] == 1
    assert sandbox.stats["request"] == 200
    assert sandbox.stats["verify"] == 200
    assert len(sandbox.service) == 200


async def test_client_options_pass_through(sandbox: Sandbox) -> None:
    async with sandbox.client(use_server_time=False, ip_restrict=False, timeout=3.0) as client:
        receipt = await client.request_esign(sandbox.client_code, make_request())
        assert receipt.receipt_id
    assert sandbox.stats["time"] == 0


async def test_a_client_from_another_ip_with_ip_restriction_off(sandbox: Sandbox) -> None:
    async with sandbox.client(client_ip="10.9.8.7", ip_restrict=False) as client:
        receipt = await client.request_esign(sandbox.client_code, make_request())
        assert receipt.receipt_id


async def test_closing_the_sandbox_closes_the_clients_left_open() -> None:
    sandbox = Sandbox(sign_after=None)
    client = sandbox.client()
    assert isinstance(client, Client)
    await sandbox.aclose()
    with pytest.raises(ClientClosed, match="closed"):
        await client.get_esign_state(sandbox.client_code, "1")
    await client.aclose()  # still fine


async def test_wrong_credentials_are_refused_through_the_client(sandbox: Sandbox) -> None:
    async with (
        sandbox.http_client() as http,
        Client(
            "OTHER",
            sandbox.secret_key,
            base_url=sandbox.url,
            auth_url=sandbox.url,
            http_client=http,
        ) as client,
    ):
        with pytest.raises(APIError) as refused:
            await client.request_esign(sandbox.client_code, make_request())
    assert refused.value.code == Rejection.LINK_ID_UNKNOWN.code
    assert refused.value.http_status == 401


async def test_a_stale_clock_offset_recovers_when_a_token_must_be_renewed(
    clock: FakeClock,
) -> None:
    sandbox = Sandbox(sign_after=None, clock=clock, token_ttl=600)
    async with sandbox, sandbox.client() as client:
        code = sandbox.client_code
        receipt = await client.request_esign(code, make_request())
        clock.advance(700)  # the token expires, and the synced offset is now 700 s stale
        status = await client.get_esign_state(code, receipt.receipt_id)
    assert status.state is SignState.EXPIRED


async def test_the_sandboxs_clients_are_bound_to_its_client_code() -> None:
    # A service written with Client.from_env() and client.for_client() takes the
    # sandbox's clients unchanged.
    async with Sandbox(sign_after=0) as sandbox:
        kakao = sandbox.client().for_client()
        receipt = await kakao.request_esign(make_request())
        assert (await kakao.await_signed(receipt, interval=0.01)).state is SignState.SIGNED
        assert sandbox.barocert_client().for_client().client_code == sandbox.client_code
        other = sandbox.client(client_code="020040000002").for_client()
        assert other.client_code == "020040000002"


def test_every_error_a_barocert_call_raises_is_importable_from_barocert() -> None:
    import kakaocert_async
    from kakaocert_async import barocert

    for name in ("SignTimeout", "VerifyOutcomeUnknown", "APIError", "RequestNotSent"):
        assert getattr(barocert, name) is getattr(kakaocert_async, name)
