"""The Barocert client against the in-process sandbox: every operation's flow, App to App,
20 documents, waits, errors, validation with nothing sent, verify once and within 10
minutes, and the close."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from kakaocert_async import (
    APIError,
    ClientClosed,
    RequestNotSent,
    SignTimeout,
    ValidationError,
    VerifyOutcomeUnknown,
    barocert,
)
from kakaocert_async.barocert import (
    MAX_DOCUMENTS,
    IdentityRequest,
    Kind,
    LoginVerification,
    MultiSignRequest,
    MultiSignVerification,
    Receipt,
    SignDocument,
    State,
    TokenType,
    Verification,
    VerifyTooLate,
)
from kakaocert_async.sandbox import Fault, Rejection, Sandbox, decrypt_personal_data
from tests.barocert._requests import RECEIVER, make_request
from tests.sandbox._raw import FakeClock

CODE = "020040000001"
RID = "0" * 32

REQUEST = {
    Kind.IDENTITY: "request_identity",
    Kind.SIGN: "request_sign",
    Kind.MULTI_SIGN: "request_multi_sign",
    Kind.CMS: "request_cms",
}
STATUS = {
    Kind.IDENTITY: "get_identity_status",
    Kind.SIGN: "get_sign_status",
    Kind.MULTI_SIGN: "get_multi_sign_status",
    Kind.CMS: "get_cms_status",
}
VERIFY = {
    Kind.IDENTITY: "verify_identity",
    Kind.SIGN: "verify_sign",
    Kind.MULTI_SIGN: "verify_multi_sign",
    Kind.CMS: "verify_cms",
}


@pytest.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[barocert.Client]:
    """A Barocert client into the sandbox (fake clock), in-process."""
    async with sandbox.barocert_client() as client:
        yield client


def endpoint(kind: Kind, operation: str) -> str:
    return f"barocert.{kind.name.lower()}.{operation}"


def arrivals(sandbox: Sandbox) -> int:
    """Every call the sandbox received, of any endpoint."""
    return sum(sandbox.stats.values())


async def call(client: barocert.Client, table: dict[Kind, str], kind: Kind, *args: Any) -> Any:
    return await getattr(client, table[kind])(CODE, *args)


# request -> wait -> verify, for every kind ------------------------------------------


@pytest.mark.parametrize("kind", list(Kind))
async def test_request_wait_verify(client: barocert.Client, sandbox: Sandbox, kind: Kind) -> None:
    request = make_request(kind)
    receipt = await call(client, REQUEST, kind, request)
    assert receipt.kind is kind
    assert len(receipt.receipt_id) == 32
    assert receipt.scheme is None
    # The sandbox decrypted every encrypted field back to the plaintext model.
    assert sandbox.barocert.request_of(receipt.receipt_id) == request

    waiting = await call(client, STATUS, kind, receipt.receipt_id)
    assert waiting.state is State.WAITING
    assert waiting.expires_in == waiting.expire_in == 300
    sandbox.barocert.sign(receipt.receipt_id)
    completed = await client.await_completed(CODE, receipt, interval=0.01)
    assert completed.state is State.COMPLETED
    assert completed.complete_dt is not None

    verified = await call(client, VERIFY, kind, receipt.receipt_id)
    assert verified.receipt_id == receipt.receipt_id
    assert verified.state is State.COMPLETED
    assert decrypt_personal_data(verified.receiver_name) == RECEIVER["receiver_name"]
    if kind is Kind.MULTI_SIGN:
        assert isinstance(verified, MultiSignVerification)
        assert len(verified.multi_signed_data) == len(request.documents)
    else:
        assert isinstance(verified, Verification)
    if kind is Kind.IDENTITY:
        assert verified.signed_data == request.token  # what the caller compares

    stats = sandbox.stats
    assert stats["barocert.token"] == 1
    assert stats[endpoint(kind, "request")] == 1
    assert stats[endpoint(kind, "status")] == 2
    assert stats[endpoint(kind, "verify")] == 1
    assert stats["other"] == 0


async def test_verify_login(client: barocert.Client, sandbox: Sandbox) -> None:
    tx_id = sandbox.barocert.login(receiver_name="김철수")
    verified = await client.verify_login(CODE, tx_id)
    assert isinstance(verified, LoginVerification)
    assert verified.tx_id == tx_id
    assert verified.signed_data
    assert decrypt_personal_data(verified.receiver_name) == "김철수"
    assert sandbox.stats["barocert.login.verify"] == 1


async def test_one_token_for_every_client_code(client: barocert.Client, sandbox: Sandbox) -> None:
    for code in (CODE, "020040000002", "020040000003"):
        await client.request_sign(code, make_request(Kind.SIGN))
    assert sandbox.stats["barocert.token"] == 1
    assert sandbox.stats["barocert.sign.request"] == 3


async def test_multi_sign_with_twenty_documents(client: barocert.Client, sandbox: Sandbox) -> None:
    documents = [
        SignDocument(title=f"계약서 {i}", token=barocert.hash_text(f"계약서 {i} 본문"))
        for i in range(MAX_DOCUMENTS)
    ]
    request = make_request(Kind.MULTI_SIGN, documents=documents, token_type=TokenType.HASH)
    receipt = await client.request_multi_sign(CODE, request)
    assert sandbox.barocert.request_of(receipt.receipt_id) == request
    sandbox.barocert.sign(receipt.receipt_id)
    verified = await client.verify_multi_sign(CODE, receipt.receipt_id)
    assert len(verified.multi_signed_data) == MAX_DOCUMENTS
    assert len(set(verified.multi_signed_data)) == MAX_DOCUMENTS

    with pytest.raises(ValidationError) as too_many:
        MultiSignRequest(**{**_fields(request), "documents": [*documents, documents[0]]})
    assert too_many.value.field == "documents"


def _fields(request: MultiSignRequest) -> dict[str, Any]:
    return {
        "receiver_hp": request.receiver_hp,
        "receiver_name": request.receiver_name,
        "receiver_birthday": request.receiver_birthday,
        "req_title": request.req_title,
        "expire_in": request.expire_in,
        "token_type": request.token_type,
    }


@pytest.mark.parametrize("kind", list(Kind))
async def test_app_to_app(client: barocert.Client, sandbox: Sandbox, kind: Kind) -> None:
    request = make_request(kind, app_to_app=True, return_url="https://shop.example/back")
    receipt = await call(client, REQUEST, kind, request)
    assert receipt.scheme is not None
    assert receipt.scheme.startswith("kakaotalk://")
    sent = sandbox.barocert.request_of(receipt.receipt_id)
    assert (sent.app_to_app, sent.return_url) == (True, "https://shop.example/back")
    status = await call(client, STATUS, kind, receipt.receipt_id)
    assert status.app_to_app is True
    assert status.return_url == "https://shop.example/back"
    assert status.scheme == receipt.scheme
    sandbox.barocert.sign(receipt.receipt_id)
    assert (await call(client, VERIFY, kind, receipt.receipt_id)).receipt_id == receipt.receipt_id


# Waiting ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "state"),
    [("refuse", State.REFUSED), ("fail", State.FAILED), ("expire", State.EXPIRED)],
)
async def test_await_returns_any_final_state(
    client: barocert.Client, sandbox: Sandbox, answer: str, state: State
) -> None:
    receipt = await client.request_cms(CODE, make_request(Kind.CMS))
    getattr(sandbox.barocert, answer)(receipt.receipt_id)
    final = await client.await_completed(CODE, receipt, interval=0.01)
    assert final.state is state
    assert final.is_final


async def test_await_a_stored_receipt_id(client: barocert.Client, sandbox: Sandbox) -> None:
    receipt = await client.request_identity(CODE, make_request(Kind.IDENTITY))
    sandbox.barocert.sign(receipt.receipt_id)
    stored = receipt.receipt_id
    by_value = await client.await_completed(CODE, stored, kind="Identity", interval=0.01)
    by_kind = await client.await_completed(CODE, stored, kind=Kind.IDENTITY, interval=0.01)
    rebuilt = Receipt(receipt_id=stored, kind=Kind.IDENTITY)
    by_receipt = await client.await_completed(CODE, rebuilt, interval=0.01)
    assert by_value.state is by_kind.state is by_receipt.state is State.COMPLETED
    assert sandbox.stats["barocert.identity.status"] == 3


async def test_watch_status_yields_every_status_read(
    client: barocert.Client, sandbox: Sandbox
) -> None:
    receipt = await client.request_sign(CODE, make_request(Kind.SIGN))
    seen: list[State] = []
    async for status in client.watch_status(CODE, receipt, interval=0.01):
        seen.append(status.state)
        if len(seen) == 2:
            sandbox.barocert.sign(receipt.receipt_id)
    assert seen[:2] == [State.WAITING, State.WAITING]
    assert seen[-1] is State.COMPLETED
    assert sandbox.stats["barocert.sign.status"] == len(seen)


async def test_await_times_out_with_the_last_status(
    client: barocert.Client, sandbox: Sandbox
) -> None:
    receipt = await client.request_sign(CODE, make_request(Kind.SIGN))
    with pytest.raises(SignTimeout) as timed_out:
        await client.await_completed(CODE, receipt, timeout=0.05, interval=0.01)
    assert timed_out.value.last_status is not None
    assert timed_out.value.last_status.state is State.WAITING
    assert receipt.receipt_id in str(timed_out.value)


async def test_a_wait_that_reads_no_status_says_the_service_was_unreachable(
    client: barocert.Client, sandbox: Sandbox
) -> None:
    receipt = await client.request_sign(CODE, make_request(Kind.SIGN))
    sandbox.faults.add(Fault(action="error", endpoints=["barocert.sign.status"]))
    with pytest.raises(barocert.ServiceUnreachable) as unreachable:
        await client.await_completed(CODE, receipt, timeout=0.05, interval=0.01)
    assert not isinstance(unreachable.value, SignTimeout)  # one except clause each
    assert isinstance(unreachable.value.last_error, APIError)
    assert unreachable.value.last_error is unreachable.value.__cause__
    assert unreachable.value.receipt_id == receipt.receipt_id


async def test_a_wait_rides_out_a_flaky_status(client: barocert.Client, sandbox: Sandbox) -> None:
    receipt = await client.request_sign(CODE, make_request(Kind.SIGN))
    sandbox.barocert.sign(receipt.receipt_id)
    sandbox.faults.add(Fault(action="error", endpoints=["barocert.sign.status"], times=2))
    final = await client.await_completed(CODE, receipt, interval=0.01)
    assert final.state is State.COMPLETED
    assert sandbox.stats["barocert.sign.status"] == 3  # one attempt per poll


async def test_closing_the_client_ends_a_wait(sandbox: Sandbox) -> None:
    client = sandbox.barocert_client()
    receipt = await client.request_sign(CODE, make_request(Kind.SIGN))
    waiting = asyncio.create_task(client.await_completed(CODE, receipt, interval=0.01))
    for _ in range(2000):  # until the wait has polled twice
        if sandbox.stats["barocert.sign.status"] >= 2:
            break
        await asyncio.sleep(0.005)
    await client.aclose()
    with pytest.raises(ClientClosed):
        await waiting
    with pytest.raises(ClientClosed):
        await client.get_sign_status(CODE, receipt.receipt_id)


# Verify: once, and within 10 minutes ---------------------------------------------------


async def test_a_lost_verify_answer_is_never_sent_again(
    client: barocert.Client, sandbox: Sandbox
) -> None:
    receipt = await client.request_sign(CODE, make_request(Kind.SIGN))
    sandbox.barocert.sign(receipt.receipt_id)
    sandbox.faults.add(Fault(action="drop", endpoints=["barocert.sign.verify"], times=1))
    with pytest.raises(VerifyOutcomeUnknown) as lost:
        await client.verify_sign(CODE, receipt.receipt_id)
    assert lost.value.receipt_id == receipt.receipt_id
    assert "get_sign_status()" in lost.value.message
    assert sandbox.stats["barocert.sign.verify"] == 1
    # It went through: the status says so, and a second verify is refused.
    assert (await client.get_sign_status(CODE, receipt.receipt_id)).verify_dt is not None
    with pytest.raises(APIError) as again:
        await client.verify_sign(CODE, receipt.receipt_id)
    assert again.value.code == Rejection.ALREADY_VERIFIED.code
    assert not isinstance(again.value, VerifyTooLate)
    assert sandbox.stats["barocert.sign.verify"] == 2


async def test_a_lost_login_verify_says_what_can_be_done(
    client: barocert.Client, sandbox: Sandbox
) -> None:
    tx_id = sandbox.barocert.login()
    sandbox.faults.add(Fault(action="drop", endpoints=["barocert.login.verify"], times=1))
    with pytest.raises(VerifyOutcomeUnknown) as lost:
        await client.verify_login(CODE, tx_id)
    assert lost.value.receipt_id == tx_id
    # A login has no status (no verify_dt) to check: the advice must not send one there.
    assert "verify_dt" not in lost.value.message
    assert "log in again" in lost.value.message
    assert sandbox.stats["barocert.login.verify"] == 1


@pytest.mark.parametrize(
    "fault",
    [
        Fault(action="error", endpoints=["barocert.cms.verify"], status=502, processed=True),
        Fault(action="delay", endpoints=["barocert.cms.verify"], seconds=1.0),
    ],
    ids=["gateway-5xx", "timeout"],
)
async def test_verify_is_sent_once_whatever_goes_wrong(sandbox: Sandbox, fault: Fault) -> None:
    async with sandbox.barocert_client(timeout=0.2) as client:
        receipt = await client.request_cms(CODE, make_request(Kind.CMS))
        sandbox.barocert.sign(receipt.receipt_id)
        sandbox.faults.add(fault)
        with pytest.raises(VerifyOutcomeUnknown):
            await client.verify_cms(CODE, receipt.receipt_id)
    assert sandbox.stats["barocert.cms.verify"] == 1


async def test_an_unreadable_verify_answer_is_an_unknown_outcome(sandbox: Sandbox) -> None:
    import httpx

    async def garbled(request: httpx.Request) -> httpx.Response:
        answer = await transport.handle_async_request(request)
        if "/Verify/" in request.url.path:
            await answer.aread()
            return httpx.Response(200, content=b'{"receiptID": 7}')
        return answer

    transport = sandbox.transport()
    client = barocert.Client(
        sandbox.link_id,
        sandbox.secret_key,
        base_url=sandbox.url,
        auth_url=sandbox.url,
        transport=httpx.MockTransport(garbled),
    )
    async with client:
        receipt = await client.request_identity(CODE, make_request(Kind.IDENTITY))
        sandbox.barocert.sign(receipt.receipt_id)
        with pytest.raises(VerifyOutcomeUnknown) as unknown:
            await client.verify_identity(CODE, receipt.receipt_id)
    assert "does not fit Verification" in unknown.value.message
    assert sandbox.stats["barocert.identity.verify"] == 1


@pytest.mark.parametrize("kind", list(Kind))
async def test_verify_after_ten_minutes_is_too_late(clock: FakeClock, kind: Kind) -> None:
    # A date tolerance over the jump: the client's date, ten minutes behind, is not
    # refused first (which would make it read the server's clock and send again).
    sandbox = Sandbox(sign_after=None, clock=clock, date_tolerance=3600)
    async with sandbox.barocert_client() as client:
        receipt = await call(client, REQUEST, kind, make_request(kind))
        completed = sandbox.barocert.sign(receipt.receipt_id)
        clock.advance(601)
        before = sandbox.stats
        with pytest.raises(VerifyTooLate) as late:
            await call(client, VERIFY, kind, receipt.receipt_id)
    error = late.value
    assert isinstance(error, APIError)
    assert (error.code, error.http_status) == (Rejection.BC_VERIFY_TOO_LATE.code, 409)
    assert error.receipt_id == receipt.receipt_id
    assert error.complete_dt == completed.complete_dt
    assert "within 10 minutes of the signature" in error.message
    assert "10 min 1 s ago" in error.message
    after = sandbox.stats
    # One verify (refused), then one status read and one clock read to explain it.
    assert {name: after[name] - before[name] for name in after if after[name] != before[name]} == {
        endpoint(kind, "verify"): 1,
        endpoint(kind, "status"): 1,
        "time": 1,
    }


async def test_verify_within_ten_minutes_succeeds(
    client: barocert.Client, sandbox: Sandbox, clock: FakeClock
) -> None:
    receipt = await client.request_sign(CODE, make_request(Kind.SIGN))
    sandbox.barocert.sign(receipt.receipt_id)
    clock.advance(599)
    verified = await client.verify_sign(CODE, receipt.receipt_id)
    assert verified.receipt_id == receipt.receipt_id


async def test_other_verify_refusals_stay_what_they_are(
    client: barocert.Client, sandbox: Sandbox, clock: FakeClock
) -> None:
    receipt = await client.request_sign(CODE, make_request(Kind.SIGN))
    with pytest.raises(APIError) as early:
        await client.verify_sign(CODE, receipt.receipt_id)
    assert type(early.value) is APIError
    assert early.value.code == Rejection.NOT_SIGNED.code
    sandbox.barocert.sign(receipt.receipt_id)
    await client.verify_sign(CODE, receipt.receipt_id)
    clock.advance(900)
    with pytest.raises(APIError) as twice:  # verified already: not "too late"
        await client.verify_sign(CODE, receipt.receipt_id)
    assert type(twice.value) is APIError
    assert twice.value.code == Rejection.ALREADY_VERIFIED.code
    with pytest.raises(APIError) as unknown:
        await client.verify_sign(CODE, RID)
    assert type(unknown.value) is APIError
    assert unknown.value.code == Rejection.RECEIPT_UNKNOWN.code


async def test_a_login_verified_too_late_is_the_services_refusal(
    client: barocert.Client, sandbox: Sandbox, clock: FakeClock
) -> None:
    tx_id = sandbox.barocert.login()
    clock.advance(601)
    with pytest.raises(APIError) as late:
        await client.verify_login(CODE, tx_id)
    assert late.value.code == Rejection.BC_VERIFY_TOO_LATE.code
    assert sandbox.stats["barocert.login.verify"] == 1


# Errors -----------------------------------------------------------------------------


async def test_service_errors(client: barocert.Client, sandbox: Sandbox) -> None:
    with pytest.raises(APIError) as unknown:
        await client.get_cms_status(CODE, RID)
    assert (unknown.value.code, unknown.value.http_status) == (
        Rejection.RECEIPT_UNKNOWN.code,
        404,
    )
    receipt = await client.request_sign(CODE, make_request(Kind.SIGN))
    with pytest.raises(APIError) as other_kind:
        await client.get_identity_status(CODE, receipt.receipt_id)
    assert other_kind.value.code == Rejection.RECEIPT_UNKNOWN.code
    with pytest.raises(APIError) as other_client:
        await client.get_sign_status("020040000009", receipt.receipt_id)
    assert other_client.value.code == Rejection.RECEIPT_OTHER_CLIENT.code
    with pytest.raises(APIError) as no_login:
        await client.verify_login(CODE, "01unknown-transaction")
    assert no_login.value.code == Rejection.BC_LOGIN_UNKNOWN.code


async def test_a_request_is_not_repeated_once_it_may_have_left(
    client: barocert.Client, sandbox: Sandbox
) -> None:
    sandbox.faults.add(Fault(action="error", endpoints=["barocert.sign.request"], times=1))
    with pytest.raises(APIError) as failed:
        await client.request_sign(CODE, make_request(Kind.SIGN))
    assert failed.value.http_status == 503
    assert sandbox.stats["barocert.sign.request"] == 1


async def test_a_request_that_never_left_is_sent_again(sandbox: Sandbox) -> None:
    import httpx

    refusals = [1]
    inner = sandbox.transport()

    async def refuse_once(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/KAKAO/") and refusals:
            refusals.pop()
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        return await inner.handle_async_request(request)

    client = barocert.Client(
        sandbox.link_id,
        sandbox.secret_key,
        base_url=sandbox.url,
        auth_url=sandbox.url,
        transport=httpx.MockTransport(refuse_once),
    )
    async with client:
        receipt = await client.request_cms(CODE, make_request(Kind.CMS))
    assert len(receipt.receipt_id) == 32
    assert sandbox.stats["barocert.cms.request"] == 1
    assert not refusals


async def test_a_service_that_cannot_be_reached(sandbox: Sandbox) -> None:
    client = barocert.Client(
        sandbox.link_id,
        sandbox.secret_key,
        base_url="http://127.0.0.1:9",
        auth_url="http://127.0.0.1:9",
        timeout=1.0,
    )
    async with client:
        with pytest.raises(RequestNotSent):
            await client.get_sign_status(CODE, RID)


async def test_tokens_renewed_after_a_revocation(client: barocert.Client, sandbox: Sandbox) -> None:
    receipt = await client.request_sign(CODE, make_request(Kind.SIGN))
    sandbox.barocert.revoke_tokens()
    status = await client.get_sign_status(CODE, receipt.receipt_id)
    assert status.state is State.WAITING
    assert sandbox.stats["barocert.token"] == 2


# Validation: nothing is sent ------------------------------------------------------------

SIGN = make_request(Kind.SIGN)
BAD_CALLS: list[tuple[str, str, tuple[Any, ...], dict[str, Any]]] = [
    ("client_code", "request_sign", ("12345", SIGN), {}),
    ("client_code", "get_sign_status", ("02004000000a", RID), {}),
    ("client_code", "verify_login", ("", "tx"), {}),
    ("request", "request_sign", (CODE, make_request(Kind.IDENTITY)), {}),
    ("request", "request_identity", (CODE, {"receiverHP": "01012341234"}), {}),
    ("receipt_id", "get_identity_status", (CODE, "1" * 20), {}),
    ("receipt_id", "verify_cms", (CODE, "1" * 33), {}),
    ("receipt_id", "verify_multi_sign", (CODE, "\uff11" * 32), {}),
    ("receipt_id", "verify_sign", (CODE, 7), {}),
    ("tx_id", "verify_login", (CODE, ""), {}),
    ("tx_id", "verify_login", (CODE, "tx id\n"), {}),
    ("kind", "await_completed", (CODE, RID), {}),
    ("kind", "await_completed", (CODE, RID), {"kind": "Naver"}),
    ("kind", "await_completed", (CODE, Receipt(receipt_id=RID, kind=Kind.SIGN)), {"kind": "CMS"}),
    ("receipt", "await_completed", (CODE, 12), {"kind": Kind.SIGN}),
    ("receipt_id", "await_completed", (CODE, "12"), {"kind": Kind.SIGN}),
    ("interval", "await_completed", (CODE, RID), {"kind": Kind.SIGN, "interval": 0.001}),
    ("timeout", "await_completed", (CODE, RID), {"kind": Kind.SIGN, "timeout": -1}),
]


@pytest.mark.parametrize(
    ("field", "method", "args", "kwargs"), BAD_CALLS, ids=[f"{c[1]}-{c[0]}" for c in BAD_CALLS]
)
async def test_bad_arguments_are_refused_before_anything_is_sent(
    client: barocert.Client,
    sandbox: Sandbox,
    field: str,
    method: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> None:
    with pytest.raises(ValidationError) as invalid:
        await getattr(client, method)(*args, **kwargs)
    assert invalid.value.field == field
    assert arrivals(sandbox) == 0


async def test_watch_status_checks_its_arguments_at_once(
    client: barocert.Client, sandbox: Sandbox
) -> None:
    with pytest.raises(ValidationError) as invalid:
        client.watch_status(CODE, "12", kind=Kind.SIGN)
    assert invalid.value.field == "receipt_id"
    assert arrivals(sandbox) == 0


@pytest.mark.parametrize(
    ("key", "rule"),
    [
        ("a2FrYW9jZXJ0LWFzeW5jOiBub3QgYSByZWFsIGtleQ==", "32 bytes"),  # 31 bytes
        ("not base64!", "base64"),
    ],
)
def test_the_secret_key_must_be_an_aes_256_key(key: str, rule: str) -> None:
    with pytest.raises(ValidationError) as invalid:
        barocert.Client("SANDBOX", key)
    assert invalid.value.field == "secret_key"
    assert rule in invalid.value.message
    assert key not in invalid.value.message


def test_defaults_and_repr() -> None:
    key = "a2FrYW9jZXJ0LWFzeW5jOiBub3QgYSByZWFsIGtleS4="
    client = barocert.Client("SANDBOX", key)
    assert repr(client) == (
        "<Client link_id='SANDBOX' base_url='https://static-barocert.linkhub.co.kr'>"
    )
    assert key not in repr(client)
    assert client.http_backend == "aiohttp"
    assert isinstance(SIGN, barocert.SignRequest)
    assert not isinstance(make_request(Kind.IDENTITY), barocert.SignRequest)
    assert isinstance(make_request(Kind.IDENTITY), IdentityRequest)
