"""Verify is one shot: never repeated, and a lost answer is VerifyOutcomeUnknown, end to end.

The service answers a receipt's verify once; if that answer is lost, so is the
signed data. So a verify goes out once, and when it may have been processed
without its answer coming back, the caller is told plainly that the receipt may
be consumed; when it provably was not sent (or was refused), the error says that.
"""

from __future__ import annotations

import pytest

from kakaocert_async import (
    APIError,
    Client,
    RequestNotSent,
    SignState,
    TransportError,
    VerifyOutcomeUnknown,
)
from kakaocert_async.sandbox import Fault, Rejection, Sandbox
from tests._support import make_request
from tests.reliability._helpers import served_client, tapped_client


async def _signed(client: Client, sandbox: Sandbox, *, app_to_app: bool = False) -> str:
    receipt = await client.request_esign(sandbox.client_code, make_request(), app_to_app)
    await sandbox.sign(receipt.receipt_id)
    return receipt.receipt_id


LOST_ANSWERS = {
    # The connection breaks after the service consumed the receipt.
    "dropped-after-processing": Fault(action="drop", endpoints=["verify"]),
    # A gateway gives up after the service consumed the receipt.
    "504-html-after-processing": Fault(
        action="error", endpoints=["verify"], status=504, processed=True
    ),
    "502-empty-after-processing": Fault(
        action="error", endpoints=["verify"], status=502, body="empty", processed=True
    ),
    # A gateway fails before the service saw it: from outside, no different.
    "503-html-before-processing": Fault(action="error", endpoints=["verify"], status=503),
    "dropped-before-processing": Fault(action="drop", endpoints=["verify"], processed=False),
}


@pytest.mark.parametrize("failure", LOST_ANSWERS.values(), ids=LOST_ANSWERS.keys())
async def test_a_lost_verify_answer_is_an_unknown_outcome_and_never_repeated(
    failure: Fault,
) -> None:
    sandbox = Sandbox(sign_after=None)
    async with sandbox, sandbox.client() as client:
        receipt_id = await _signed(client, sandbox)
        sandbox.faults.add(failure)
        with pytest.raises(VerifyOutcomeUnknown) as lost:
            await client.verify_esign(sandbox.client_code, receipt_id)
        status = await client.get_esign_state(sandbox.client_code, receipt_id)
    assert sandbox.stats["verify"] == 1
    assert lost.value.receipt_id == receipt_id
    assert "may be consumed" in lost.value.message
    assert "verify_dt" in lost.value.message  # and how to find out
    assert isinstance(lost.value.__cause__, TransportError | APIError)
    # What get_esign_state says is the truth the message points to.
    assert (status.verify_dt is not None) is failure.processed


async def test_a_dropped_verify_reached_the_server_once_and_the_receipt_is_consumed() -> None:
    sandbox = Sandbox(sign_after=None)
    async with sandbox, sandbox.client() as client:
        receipt_id = await _signed(client, sandbox)
        sandbox.faults.add(Fault.parse("drop:endpoint=verify,times=1"))
        with pytest.raises(VerifyOutcomeUnknown):
            await client.verify_esign(sandbox.client_code, receipt_id)
        with pytest.raises(APIError) as again:
            await client.verify_esign(sandbox.client_code, receipt_id)
    assert again.value.code == Rejection.ALREADY_VERIFIED.code
    assert sandbox.stats["verify"] == 2  # the lost one, and the caller's own second try


async def test_a_verify_that_timed_out_is_an_unknown_outcome() -> None:
    sandbox = Sandbox(sign_after=None)
    with sandbox.serve_in_thread() as url:
        async with served_client(sandbox, url, timeout=0.2) as client:
            receipt_id = await _signed(client, sandbox)
            sandbox.faults.add(Fault(action="delay", seconds=0.5, endpoints=["verify"]))
            with pytest.raises(VerifyOutcomeUnknown, match="timed out"):
                await client.verify_esign(sandbox.client_code, receipt_id)
    assert sandbox.stats["verify"] == 1


async def test_the_services_own_error_is_an_error_not_an_unknown_outcome() -> None:
    sandbox = Sandbox(sign_after=None)
    async with sandbox, sandbox.client() as client:
        receipt = await client.request_esign(sandbox.client_code, make_request())
        with pytest.raises(APIError) as pending:  # not signed yet
            await client.verify_esign(sandbox.client_code, receipt.receipt_id)
        await sandbox.sign(receipt.receipt_id)
        sandbox.faults.add(Fault(action="error", endpoints=["verify"], body="json", times=1))
        with pytest.raises(APIError) as unavailable:
            await client.verify_esign(sandbox.client_code, receipt.receipt_id)
        verification = await client.verify_esign(sandbox.client_code, receipt.receipt_id)
    assert not isinstance(pending.value, VerifyOutcomeUnknown)
    assert pending.value.code == Rejection.NOT_SIGNED.code
    assert unavailable.value.code == Rejection.INJECTED_FAULT.code
    assert verification.signed_data
    assert sandbox.stats["verify"] == 3  # one each: none was repeated


async def test_a_verify_whose_connection_is_refused_was_not_sent_and_goes_again() -> None:
    sandbox = Sandbox(sign_after=None)
    client, tap = tapped_client(sandbox)
    async with sandbox, client:
        receipt_id = await _signed(client, sandbox)
        tap.refuse["verify"] = 1
        verification = await client.verify_esign(sandbox.client_code, receipt_id)
        tap.refuse["verify"] = 5
        with pytest.raises(RequestNotSent) as refused:
            await client.verify_esign(sandbox.client_code, receipt_id)
    assert not isinstance(refused.value, VerifyOutcomeUnknown)
    assert not refused.value.answer_lost
    # Refused at connecting, it never left: tried again (five attempts in all).
    assert tap.refused == ["verify"] * 6
    assert sandbox.stats["verify"] == 1
    assert verification.receipt_id == receipt_id


@pytest.mark.parametrize(
    "failure",
    [Fault(action="drop", endpoints=["token"]), Fault(action="error", endpoints=["token"])],
    ids=["token-dropped", "token-503"],
)
async def test_a_verify_that_could_not_get_a_token_was_not_sent(failure: Fault) -> None:
    sandbox = Sandbox(sign_after=None)
    async with sandbox, sandbox.client() as client:
        receipt_id = await _signed(client, sandbox)
        sandbox.revoke_tokens()
        sandbox.faults.add(failure)
        with pytest.raises((APIError, TransportError)) as failed:
            await client.verify_esign(sandbox.client_code, receipt_id)
        sandbox.faults.clear()
        verification = await client.verify_esign(sandbox.client_code, receipt_id)
    # The verify was refused for its token (401), and the new token never came:
    # the receipt is untouched, and saying otherwise would send the caller chasing
    # signed data that was never at risk.
    assert not isinstance(failed.value, VerifyOutcomeUnknown)
    assert "/KAKAOCERT/Token" in failed.value.message
    assert verification.receipt_id == receipt_id
    assert sandbox.stats["verify"] == 2  # the refused one, and the one that worked


async def test_a_verify_refused_for_its_token_is_repeated_once_with_a_new_one() -> None:
    sandbox = Sandbox(sign_after=None)
    async with sandbox, sandbox.client() as client:
        receipt_id = await _signed(client, sandbox, app_to_app=True)
        sandbox.revoke_tokens()
        sandbox.reset_stats()
        verification = await client.verify_esign(
            sandbox.client_code, receipt_id, sandbox.signature(receipt_id)
        )
        status = await client.get_esign_state(sandbox.client_code, receipt_id)
    assert verification.signed_data
    assert status.state is SignState.SIGNED
    assert status.verify_dt is not None
    # Refused (401, nothing consumed), a new token, then the verify that counted.
    assert sandbox.stats["verify"] == 2
    assert sandbox.stats["token"] == 1
