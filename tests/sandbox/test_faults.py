"""Fault injection: latency, 5xx answers on a schedule, and connections dropped after verify."""

from __future__ import annotations

import httpx
import pytest

from kakaocert_async import APIError, SignState, TransportError, VerifyOutcomeUnknown
from kakaocert_async.sandbox import Fault, FaultSpecError, Rejection, Sandbox
from kakaocert_async.sandbox._faults import Action, Body
from kakaocert_async.sandbox._transport import SandboxTransport
from tests._support import make_request
from tests.sandbox._raw import FakeClock, Raw, assert_refused


async def _statuses(raw: Raw, token: str, receipt_id: str, calls: int) -> list[int]:
    return [(await raw.status(token, receipt_id)).status_code for _ in range(calls)]


async def _receipt(raw: Raw) -> tuple[str, str]:
    token = await raw.session()
    return token, (await raw.receipt(token))["receiptId"]


# The schedule ----------------------------------------------------------------------


async def test_every_nth_call_of_one_endpoint(raw: Raw, sandbox: Sandbox) -> None:
    token, receipt_id = await _receipt(raw)
    sandbox.faults.add(Fault(action="error", endpoints={"status"}, every=3))
    assert await _statuses(raw, token, receipt_id, 7) == [200, 200, 503, 200, 200, 503, 200]
    # Other endpoints are untouched.
    assert (await raw.request(token)).status_code == 200


async def test_the_next_n_calls(raw: Raw, sandbox: Sandbox) -> None:
    token, receipt_id = await _receipt(raw)
    sandbox.faults.add(Fault(action="error", status=502, times=2))
    assert await _statuses(raw, token, receipt_id, 4) == [502, 502, 200, 200]
    assert len(sandbox.faults) == 0  # spent


async def test_every_nth_for_n_times(raw: Raw, sandbox: Sandbox) -> None:
    token, receipt_id = await _receipt(raw)
    sandbox.faults.add(Fault.parse("error:endpoint=status,every=2,times=2"))
    assert await _statuses(raw, token, receipt_id, 6) == [200, 503, 200, 503, 200, 200]


async def test_a_time_window(raw: Raw, sandbox: Sandbox, clock: FakeClock) -> None:
    token, receipt_id = await _receipt(raw)
    sandbox.faults.add(Fault(action="error", window=(10, 20)))
    assert await _statuses(raw, token, receipt_id, 1) == [200]
    clock.advance(10)
    assert await _statuses(raw, token, receipt_id, 2) == [503, 503]
    clock.advance(9.9)
    assert await _statuses(raw, token, receipt_id, 1) == [503]
    clock.advance(0.1)
    assert await _statuses(raw, token, receipt_id, 1) == [200]


@pytest.mark.parametrize(
    ("body", "content_type", "check"),
    [
        (Body.HTML, "text/html", lambda r: "<html>" in r.text and "503" in r.text),
        (Body.EMPTY, None, lambda r: r.content == b""),
        (
            Body.JSON,
            "application/json",
            lambda r: r.json()["code"] == Rejection.INJECTED_FAULT.code,
        ),
    ],
)
async def test_error_bodies(
    raw: Raw, sandbox: Sandbox, body: Body, content_type: str | None, check: object
) -> None:
    sandbox.faults.add(Fault(action=Action.ERROR, body=body, retry_after=2))
    response = await raw.http.get("/Time")
    assert response.status_code == 503
    assert response.headers.get("retry-after") == "2"
    if content_type is not None:
        assert response.headers["content-type"].startswith(content_type)
    assert check(response)  # type: ignore[operator]


async def test_an_error_before_processing_changes_nothing(raw: Raw, sandbox: Sandbox) -> None:
    token = await raw.session()
    sandbox.faults.add(Fault(action="error", endpoints=["request"], times=1))
    assert (await raw.request(token)).status_code == 503
    assert len(sandbox.service) == 0


async def test_an_error_after_processing_keeps_the_effect(raw: Raw, sandbox: Sandbox) -> None:
    token = await raw.session()
    sandbox.faults.add(Fault(action="error", endpoints=["request"], times=1, processed=True))
    assert (await raw.request(token)).status_code == 503
    assert len(sandbox.service) == 1  # a gateway timed out, but the message went out


async def test_faulted_calls_are_counted(raw: Raw, sandbox: Sandbox) -> None:
    sandbox.faults.add(Fault(action="error", endpoints=["time"]))
    for _ in range(3):
        await raw.http.get("/Time")
    assert sandbox.stats["time"] == 3


async def test_latency(raw: Raw, sandbox: Sandbox) -> None:
    sandbox.faults.add(Fault.parse("delay:0.01"))
    sandbox.faults.add(Fault(action="delay", seconds=0.01, endpoints=["time"]))
    decision = sandbox.faults.decide("time")
    assert decision.delay == pytest.approx(0.02)
    assert decision.fault is None
    assert (await raw.http.get("/Time")).status_code == 200


async def test_the_first_error_added_wins_and_delays_add_up(sandbox: Sandbox) -> None:
    sandbox.faults.add(Fault(action="delay", seconds=0.5))
    sandbox.faults.add(Fault(action="error", status=500))
    sandbox.faults.add(Fault(action="drop"))
    sandbox.faults.add(Fault(action="delay", seconds=0.25))
    decision = sandbox.faults.decide("status")
    assert decision.delay == 0.75
    assert decision.fault is not None
    assert decision.fault.status == 500


async def test_remove_and_clear(sandbox: Sandbox) -> None:
    first = sandbox.faults.add(Fault(action="error"))
    sandbox.faults.add(Fault(action="drop"))
    assert sandbox.faults.remove(first)
    assert not sandbox.faults.remove(first)
    assert [f["action"] for f in sandbox.faults.listing()] == ["drop"]
    sandbox.faults.clear()
    assert sandbox.faults.decide("verify").fault is None


# Through the Client ------------------------------------------------------------------


async def test_the_client_retries_a_status_through_5xx(sandbox: Sandbox) -> None:
    async with sandbox.client() as client:
        receipt = await client.request_esign(sandbox.client_code, make_request())
        sandbox.faults.add(Fault(action="error", endpoints=["status"], times=2, body="empty"))
        status = await client.get_esign_state(sandbox.client_code, receipt.receipt_id)
    assert status.state is SignState.PENDING
    assert sandbox.stats["status"] == 3


async def test_the_client_does_not_repeat_a_request_after_a_5xx(sandbox: Sandbox) -> None:
    async with sandbox.client() as client:
        sandbox.faults.add(Fault(action="error", endpoints=["request"], every=1))
        with pytest.raises(APIError) as failed:
            await client.request_esign(sandbox.client_code, make_request())
    assert failed.value.http_status == 503
    assert sandbox.stats["request"] == 1


# Drops ---------------------------------------------------------------------------------


async def test_a_drop_after_verify_consumes_the_receipt_and_breaks_the_connection(
    sandbox: Sandbox,
) -> None:
    raw = Raw(sandbox)
    token, receipt_id = await _receipt(raw)
    await sandbox.sign(receipt_id)
    sandbox.faults.add(Fault(action="drop", endpoints=["verify"], times=1))
    async with httpx.AsyncClient(
        transport=SandboxTransport(sandbox.app), base_url=sandbox.url
    ) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.get(
                f"/SignToken/Verify/{receipt_id}",
                headers={"Authorization": f"Bearer {token}", "x-pb-version": "2.0"},
            )
    assert sandbox.state(receipt_id).verify_dt is not None
    assert_refused(await raw.verify(token, receipt_id), Rejection.ALREADY_VERIFIED)
    await raw.aclose()


async def test_a_drop_after_verify_is_an_unknown_outcome_to_the_client(sandbox: Sandbox) -> None:
    async with sandbox.client() as client:
        code = sandbox.client_code
        receipt = await client.request_esign(code, make_request())
        await sandbox.sign(receipt.receipt_id)
        sandbox.faults.add(Fault.parse("drop:endpoint=verify,times=1"))
        with pytest.raises(VerifyOutcomeUnknown) as lost:
            await client.verify_esign(code, receipt.receipt_id)
        assert lost.value.receipt_id == receipt.receipt_id
        status = await client.get_esign_state(code, receipt.receipt_id)
        assert status.verify_dt is not None
        with pytest.raises(APIError) as again:
            await client.verify_esign(code, receipt.receipt_id)
    assert again.value.code == Rejection.ALREADY_VERIFIED.code
    assert sandbox.stats["verify"] == 2


async def test_a_drop_on_status_is_a_transport_error_retried_by_the_client(
    sandbox: Sandbox,
) -> None:
    async with sandbox.client() as client:
        receipt = await client.request_esign(sandbox.client_code, make_request())
        sandbox.faults.add(Fault(action="drop", endpoints=["status"], times=1))
        await client.get_esign_state(sandbox.client_code, receipt.receipt_id)
        sandbox.faults.add(Fault(action="drop", endpoints=["status"]))
        with pytest.raises(TransportError):
            await client.get_esign_state(sandbox.client_code, receipt.receipt_id)


# Specs -----------------------------------------------------------------------------------


def test_parse_reads_every_option() -> None:
    fault = Fault.parse(
        "error:endpoint=status+verify,endpoint=token,every=3,times=4,window=1.5-9,"
        "status=502,body=json,retry_after=7,processed=true"
    )
    assert fault == Fault(
        action=Action.ERROR,
        endpoints=frozenset({"status", "verify", "token"}),
        every=3,
        times=4,
        window=(1.5, 9.0),
        status=502,
        body=Body.JSON,
        retry_after=7.0,
        processed=True,
    )
    assert (
        Fault.from_options("error", {k: v for k, v in fault.to_dict().items() if k != "action"})
        == fault
    )


@pytest.mark.parametrize(
    "spec",
    [
        "drop",
        "delay:seconds=0.25",
        "error:endpoint=status+verify,every=3,times=2,window=1.5-9,status=502,body=json,"
        "retry_after=7,processed=true",
        "drop:endpoint=verify,processed=false",
    ],
)
def test_spec_round_trips(spec: str) -> None:
    assert Fault.parse(spec).spec() == spec
    assert Fault.parse(Fault.parse(spec).spec()) == Fault.parse(spec)


def test_drop_is_processed_by_default_and_error_is_not() -> None:
    assert Fault.parse("drop").processed
    assert not Fault.parse("error").processed
    assert Fault.parse("delay:0.5").seconds == 0.5


@pytest.mark.parametrize(
    "spec",
    [
        "explode",
        "error:endpoint=nowhere",
        "error:every=0",
        "error:every=two",
        "error:times=-1",
        "error:window=5",
        "error:window=9-3",
        "error:status=200",
        "error:status=600",
        "error:body=xml",
        "error:processed=maybe",
        "error:color=red",
        "error:every",
        "delay:seconds=-1",
    ],
)
def test_bad_specs_say_what_is_wrong(spec: str) -> None:
    with pytest.raises(FaultSpecError):
        Fault.parse(spec)


def test_bad_json_options_are_refused() -> None:
    with pytest.raises(FaultSpecError):
        Fault.from_options("error", {"every": True})
    with pytest.raises(FaultSpecError):
        Fault.from_options("error", {"endpoints": [1]})
    with pytest.raises(FaultSpecError):
        Fault.from_options("error", {"window": [1, 2, 3]})


async def test_a_drop_before_processing_changes_nothing(raw: Raw, sandbox: Sandbox) -> None:
    token = await raw.session()
    sandbox.faults.add(Fault(action="drop", endpoints=["request"], processed=False, times=1))
    async with sandbox.http_client() as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.post("/SignToken/Request", content=b"{}")
    assert len(sandbox.service) == 0
    assert (await raw.request(token)).status_code == 200
