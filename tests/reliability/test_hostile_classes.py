"""Each class of hole the adversarial review found, closed and pinned (issue 10).

1. Decompression is bounded whatever the ``Content-Encoding`` list says.
2. Header values are checked before they are sent: a bad LinkID at construction,
   a session token that is not a printable ASCII word as ``MalformedResponse``.
3. No secret in any error text, even when the HTTP library quotes a header.
4. No secret in the locals of the frames of a failure (error trackers record them).
5. Numbers from the wire are parsed strictly (``Retry-After``, ``expires_in``).
6. An answer must be about the receipt asked for.
7. Verify never loses signed data to a surprise in the answer's shape, nor a request its
   receipt (an unreadable answer is kept).
8. Misuse (a second event loop, trio) is a clear ``KakaocertError``.
9. A token that arrives already expired is not asked for once per call.
10. The sandbox logs a client that hangs up mid-request in one line at most.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import logging
import socket
import time
import tracemalloc
import warnings
import zlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kakaocert_async import (
    APIError,
    Client,
    ESignReceipt,
    ESignRequest,
    KakaocertError,
    MalformedResponse,
    RawAnswer,
    ServiceUnreachable,
    ValidationError,
    VerifyOutcomeUnknown,
    _http,
)
from kakaocert_async.sandbox import Fault, Sandbox
from tests._support import (
    API,
    AUTH,
    CLIENT_CODE,
    LINK_ID,
    RECEIPT_ID,
    SECRET_KEY,
    Service,
    make_request,
    status_json,
    utc,
)
from tests.reliability._raw_server import RawRequest, RawServer, Step, answer, token_answer

# 1. Decompression ------------------------------------------------------------------------


def _zeros_deflated(size: int, *, wbits: int) -> bytes:
    """``size`` zero bytes compressed (gzip for wbits 31, zlib for 15), streamed."""
    packer = zlib.compressobj(9, zlib.DEFLATED, wbits)
    chunk = bytes(1 << 20)
    parts = [packer.compress(chunk) for _ in range(size >> 20)]
    return b"".join([*parts, packer.flush()])


INNER = _zeros_deflated(64 << 20, wbits=31)  # 64 MiB of zeros, as gzip: about 64 KiB
BOMBS: dict[str, tuple[str, bytes]] = {
    "gzip, gzip": ("gzip, gzip", gzip.compress(INNER)),
    "deflate, gzip": ("deflate, gzip", gzip.compress(_zeros_deflated(64 << 20, wbits=15))),
    "gzip, deflate": ("gzip, deflate", zlib.compress(INNER)),
    "identity, gzip": ("identity, gzip", INNER),
    "x-gzip": ("x-gzip", INNER),
    "two headers": ("gzip\r\nContent-Encoding: gzip", gzip.compress(INNER)),
    "unknown": ("br", b"\x1b\x00\x00\x00 brotli? no"),
    "gzip, unknown": ("gzip, zstd", gzip.compress(b"{}")),
    "five layers": ("gzip, gzip, gzip, gzip, gzip", b"x"),
}


def _backend_options(kind: str) -> dict[str, Any]:
    if kind == "httpx":
        return {"transport": httpx.AsyncHTTPTransport()}
    return {}


@pytest.mark.parametrize("backend", ["aiohttp", "httpx"])
@pytest.mark.parametrize("bomb", BOMBS, ids=BOMBS)
async def test_every_encoding_list_stays_under_the_cap_or_is_refused(
    bomb: str, backend: str
) -> None:
    encoding, body = BOMBS[bomb]

    def script(request: RawRequest) -> list[Step]:
        return [answer(200, body, headers=[("Content-Encoding", encoding)])]

    server = RawServer(script)
    async with server.serve() as url:
        client = Client(
            LINK_ID, SECRET_KEY, base_url=url, auth_url=url, **_backend_options(backend)
        )
        async with client:
            tracemalloc.start()
            try:
                with pytest.raises(MalformedResponse) as refused:
                    await client.get_esign_state(CLIENT_CODE, RECEIPT_ID)
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
    assert peak < 8 * _http.MAX_BODY_BYTES  # the answer inflates to 64 MiB: never held
    message = refused.value.message
    assert any(s in message for s in ("limit", "encoding", "broken", "cut short")), message
    assert server.count("/SignToken/Status/") == 1  # an unreadable answer is not asked again


# 2. Header values --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "link_id",
    [
        "LINK\nID",
        "LINK\r\nX-Evil: 1",
        "\uff2c\uff29\uff2e\uff2b\uff29\uff24",  # fullwidth LINKID
        "LINK\u200fID",
        "링크아이디",
        "LINK ID",
        "",
        "\x00",
    ],
    ids=["newline", "header-injection", "fullwidth", "rtl-mark", "hangul", "space", "empty", "nul"],
)
def test_a_link_id_that_cannot_be_a_header_is_refused_at_construction(link_id: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Client(link_id, SECRET_KEY)
    assert refused.value.field == "link_id"
    if link_id.strip():
        assert link_id not in str(refused.value)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(token=st.text(max_size=60) | st.sampled_from(["tok\nen", "토큰", "tok en", "", "a" * 5000]))
def test_a_session_token_that_cannot_be_a_header_is_malformed_and_never_echoed(
    token: str,
) -> None:
    printable_word = 0 < len(token) <= 4096 and all("!" <= c <= "~" for c in token)

    async def main() -> object:
        async with Client(LINK_ID, SECRET_KEY) as client:
            try:
                return await client.get_esign_state(CLIENT_CODE, RECEIPT_ID)
            except KakaocertError as error:
                return error

    with respx.mock(assert_all_called=False) as router:
        service = Service(router)
        service.token.side_effect = None
        service.token.respond(
            200, json={"session_token": token, "expiration": utc(time.time() + 3600)}
        )
        outcome = asyncio.run(main())
        sent = service.status.calls
    if printable_word:
        assert not isinstance(outcome, KakaocertError), outcome
        assert sent.last.request.headers["Authorization"] == f"Bearer {token}"
        return
    assert isinstance(outcome, MalformedResponse), outcome
    assert "POST /KAKAOCERT/Token" in outcome.message
    if len(token) >= 3:
        assert token not in str(outcome)
        assert token not in repr(outcome.args)
    assert len(sent) == 0


# 3. No secret in error text ----------------------------------------------------------------


class _Quoting(httpx.AsyncBaseTransport):
    """Fails like h11 does on an illegal header: quoting the header value."""

    def __init__(self, error: type[httpx.HTTPError]) -> None:
        self.error = error
        self.quoted: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/Time":
            return httpx.Response(200, text=utc(time.time()))
        if request.url.path == "/KAKAOCERT/Token":
            return httpx.Response(200, content=token_answer().split(b"\r\n\r\n", 1)[1])
        value = request.headers.get("x-kc-auth") or request.headers["authorization"]
        self.quoted.append(value)
        raise self.error(f"Illegal header value {value.encode()!r} in {dict(request.headers)}")


@pytest.mark.parametrize(
    "error", [httpx.LocalProtocolError, httpx.RemoteProtocolError, httpx.ReadError]
)
@pytest.mark.parametrize("operation", ["request", "state", "verify"])
async def test_an_error_quoting_a_header_value_never_shows_it(
    error: type[httpx.HTTPError], operation: str
) -> None:
    transport = _Quoting(error)
    client = Client(LINK_ID, SECRET_KEY, base_url=API, auth_url=AUTH, transport=transport)
    calls = {
        "request": lambda: client.request_esign(CLIENT_CODE, make_request()),
        "state": lambda: client.get_esign_state(CLIENT_CODE, RECEIPT_ID),
        "verify": lambda: client.verify_esign(CLIENT_CODE, RECEIPT_ID),
    }
    async with client:
        with pytest.raises(KakaocertError) as failed:
            await calls[operation]()
    assert transport.quoted
    secrets = {part for value in transport.quoted for part in (value, *value.split())}
    secrets = {s for s in secrets if len(s) >= 16}
    shown = _everything_shown(failed.value)
    assert [s for s in secrets if s in shown] == []


def _everything_shown(error: BaseException) -> str:
    """The text of an error, of its chain and notes, and the reprs of their arguments."""
    texts = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        texts += [str(current), repr(current), repr(current.args)]
        texts += getattr(current, "__notes__", [])
        current = current.__cause__ or current.__context__
    return "\n".join(texts)


# 4. No secret in frame locals --------------------------------------------------------------

NAME, PHONE, BIRTHDAY = "비밀순이", "01097318642", "19830917"


def _frames(error: BaseException) -> Iterator[dict[str, Any]]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        tb = current.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename != __file__:  # this test's own frames hold keys
                yield tb.tb_frame.f_locals
            tb = tb.tb_next
        current = current.__cause__ or current.__context__


async def test_no_secret_in_the_locals_of_a_failures_frames() -> None:
    raw_key = b"frames: a SecretKey of this test only."[:32]
    secret_key = base64.b64encode(raw_key).decode()
    sandbox = Sandbox(sign_after=None, secret_key=secret_key)
    issued: list[str] = []
    grant = sandbox.service.grant_token

    def recording_grant(*args: Any, **kwargs: Any) -> dict[str, Any]:
        answered = grant(*args, **kwargs)
        issued.append(answered["session_token"])
        return answered

    sandbox.service.grant_token = recording_grant  # type: ignore[method-assign]
    request = ESignRequest(
        call_center_num="1600-9854", expires_in=60, receiver_birthday=BIRTHDAY,
        receiver_hp=PHONE, receiver_name=NAME, token="원문", tms_title="제목",
        allow_simple_regist=True, verify_name=False,
    )  # fmt: skip
    failures: list[BaseException] = []
    with sandbox.serve_in_thread() as url:
        client = Client(sandbox.link_id, secret_key, base_url=url, auth_url=url, timeout=0.3)
        async with client:
            code = sandbox.client_code
            receipt = await client.request_esign(code, request)
            await sandbox.sign(receipt.receipt_id)
            for fault, call in [
                (Fault(action="drop", endpoints=["verify"], times=1), "verify"),
                (Fault(action="error", endpoints=["request"], times=5), "request"),
                (Fault(action="delay", seconds=1.0, endpoints=["request"], times=1), "request"),
                (Fault(action="error", endpoints=["status"]), "wait"),
            ]:
                sandbox.faults.clear()
                sandbox.faults.add(fault)
                try:
                    if call == "verify":
                        await client.verify_esign(code, receipt.receipt_id)
                    elif call == "request":
                        await client.request_esign(code, request)
                    else:
                        await client.await_signed(code, receipt, timeout=0.5)
                except KakaocertError as error:
                    failures.append(error)
            sandbox.faults.clear()
            sandbox.revoke_tokens()
            try:
                await client.verify_esign(code, receipt.receipt_id)  # twice: refused
            except KakaocertError as error:
                failures.append(error)
    assert len(failures) == 5
    assert {type(f) for f in failures} >= {VerifyOutcomeUnknown, APIError, ServiceUnreachable}
    assert len(issued) >= 2
    secrets = [*issued, secret_key, repr(raw_key), NAME, PHONE, BIRTHDAY]
    for failure in failures:
        for frame_locals in _frames(failure):
            for name, value in frame_locals.items():
                shown = repr(value)
                found = [s for s in secrets if s in shown]
                assert found == [], f"{name} = {shown[:200]}"


# 5. Numbers from the wire ----------------------------------------------------------------


STRANGE_RETRY_AFTER = ["²", "٣", "1e9", "-1", "9" * 30, "3600", "Fri, 31 Dec 9999 23:59:59 GMT"]


@settings(deadline=None)
@given(value=st.text(max_size=40) | st.sampled_from(STRANGE_RETRY_AFTER))
def test_retry_after_is_parsed_strictly(value: str) -> None:
    seconds = _http.parse_retry_after(value)
    assert seconds is None or 0.0 <= seconds <= _http.ABSURD_RETRY_AFTER
    if value.strip().isascii() and value.strip().isdigit() and int(value.strip()) <= 86400:
        assert seconds == float(int(value.strip()))


@pytest.mark.parametrize("retry_after", ["²", "٣", "1e9", "99999999999999999999", "soon"])
async def test_a_strange_retry_after_is_ignored(retry_after: str, service: Service) -> None:
    service.status.respond(503, headers=[(b"Retry-After", retry_after.encode())])
    async with Client(LINK_ID, SECRET_KEY) as client:
        with pytest.raises(APIError) as failed:
            await client.get_esign_state(CLIENT_CODE, RECEIPT_ID)
    assert failed.value.http_status == 503
    assert failed.value.retry_after is None
    assert service.status.call_count == 5  # retried as any 503, not waited out


@pytest.mark.parametrize("expires_in", [10**400, 10**20, -1, 86401])
async def test_an_absurd_expires_in_is_a_malformed_response(
    expires_in: int, service: Service
) -> None:
    body = json.dumps(status_json(0, expires_in=expires_in, expireDT=None)).encode()
    service.status.respond(200, content=body, headers={"Content-Type": "application/json"})
    async with Client(LINK_ID, SECRET_KEY) as client:
        with pytest.raises(MalformedResponse):
            await client.await_signed(
                CLIENT_CODE, ESignReceipt(receipt_id=RECEIPT_ID), timeout=1, interval=0.05
            )


# 6. The receipt asked for ----------------------------------------------------------------


async def test_a_state_of_another_receipt_never_ends_a_wait(service: Service) -> None:
    service.status.respond(200, json=status_json(1, receipt_id="022112815423799999"))
    async with Client(LINK_ID, SECRET_KEY) as client:
        with pytest.raises(MalformedResponse, match="another receipt"):
            await client.await_signed(
                CLIENT_CODE, ESignReceipt(receipt_id=RECEIPT_ID), interval=0.01
            )
    assert service.status.call_count == 1


async def test_a_verify_about_another_receipt_is_an_unknown_outcome_with_its_answer(
    service: Service,
) -> None:
    body = b'{"receiptId": "022112815423799999", "signedData": "c2lnbmVk"}'
    service.verify.respond(200, content=body)
    async with Client(LINK_ID, SECRET_KEY) as client:
        with pytest.raises(VerifyOutcomeUnknown) as unknown:
            await client.verify_esign(CLIENT_CODE, RECEIPT_ID)
    assert unknown.value.receipt_id == RECEIPT_ID
    assert isinstance(unknown.value.raw_answer, RawAnswer)
    assert unknown.value.raw_answer.body == body
    assert service.verify.call_count == 1


# 7. Verify never loses signed data ---------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"signedData": "c2lnbmVk"},
        {"receiptId": None, "signedData": "c2lnbmVk"},
        {"receiptId": int(RECEIPT_ID), "signedData": "c2lnbmVk"},
        {"receiptId": RECEIPT_ID, "signedData": "c2lnbmVk", "extra": [1, {"x": None}]},
        {"receiptID": RECEIPT_ID, "signedData": "c2lnbmVk", "result": "OK"},
    ],
    ids=["no-receipt-id", "null-receipt-id", "numeric-receipt-id", "extra-fields", "other-casing"],
)
async def test_signed_data_as_a_string_is_returned_whatever_else(
    body: dict[str, Any], service: Service
) -> None:
    service.verify.respond(200, json=body)
    async with Client(LINK_ID, SECRET_KEY) as client:
        verification = await client.verify_esign(CLIENT_CODE, RECEIPT_ID)
    assert verification.signed_data == "c2lnbmVk"
    assert verification.receipt_id == RECEIPT_ID


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"[]", b'{"receiptId": "022112815423700001"}', b'{"signedData": 12}',
     b'{"signedData": ["c2ln", "bmVk"]}', b'{"signedData": {"data": "c2lnbmVk"}}'],
    ids=["empty", "not-json", "array", "missing", "number", "list", "object"],
)  # fmt: skip
async def test_any_other_surprise_is_an_unknown_outcome_carrying_the_answer(
    body: bytes, service: Service
) -> None:
    service.verify.respond(200, content=body)
    async with Client(LINK_ID, SECRET_KEY) as client:
        with pytest.raises(VerifyOutcomeUnknown) as unknown:
            await client.verify_esign(CLIENT_CODE, RECEIPT_ID)
    raw = unknown.value.raw_answer
    assert raw is not None
    assert raw.body == body
    assert raw.text == body.decode()
    assert repr(raw) == f"<RawAnswer: {len(body)} bytes>"  # masked: no signed data shown
    if body:
        assert body.decode() not in repr(unknown.value)


@pytest.mark.parametrize("backend", ["aiohttp", "httpx"])
@pytest.mark.parametrize(
    "body",
    [b'{"receiptId": 22112815423700001}', b'{"receiptID": "022112815423700001"}',
     b'{"receiptId": "022112815423700001", "tx_id": 7}', b"<html>OK</html>"],
    ids=["numeric-receipt-id", "other-casing", "numeric-tx-id", "not-json"],
)  # fmt: skip
async def test_a_request_whose_answer_is_unreadable_keeps_the_answer(
    body: bytes, backend: str
) -> None:
    # The service made the receipt and messaged the receiver: its id may be in the answer.
    server = RawServer(lambda request: [answer(200, body)])
    async with server.serve() as url:
        options = _backend_options(backend)
        async with Client(LINK_ID, SECRET_KEY, base_url=url, auth_url=url, **options) as client:
            with pytest.raises(MalformedResponse) as unreadable:
                await client.request_esign(CLIENT_CODE, make_request())
    assert server.count("/SignToken/Request") == 1  # never sent again
    assert unreadable.value.answer_lost
    raw = unreadable.value.raw_answer
    assert raw is not None
    assert raw.body == body
    assert body.decode() not in repr(unreadable.value)


# 8. Misuse ----------------------------------------------------------------------------------


def test_a_client_used_from_a_second_event_loop_says_so_without_a_resource_warning() -> None:
    sandbox = Sandbox(sign_after=None)
    with sandbox.serve_in_thread() as url, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client = Client(sandbox.link_id, sandbox.secret_key, base_url=url, auth_url=url)

        async def read() -> object:
            return await client.request_esign(sandbox.client_code, make_request())

        first = asyncio.run(read())
        with pytest.raises(KakaocertError, match="one Client per event loop"):
            asyncio.run(read())
        assert sandbox.stats["request"] == 1
    assert first is not None
    assert [str(w.message) for w in caught] == []


def test_a_client_used_under_trio_says_it_is_asyncio_only() -> None:
    trio = pytest.importorskip("trio")
    client = Client(LINK_ID, SECRET_KEY)

    async def read() -> object:
        try:
            return await client.get_esign_state(CLIENT_CODE, RECEIPT_ID)
        except KakaocertError as error:
            return error

    outcome = trio.run(read)
    assert isinstance(outcome, KakaocertError)
    assert "asyncio" in outcome.message


# 9. Tokens that arrive already expired ----------------------------------------------------


async def test_a_token_that_arrives_expired_is_not_asked_for_once_per_call(
    service: Service,
) -> None:
    service.token.side_effect = None
    service.token.respond(
        200, json={"session_token": "stale-token", "expiration": utc(time.time() - 60)}
    )
    async with Client(LINK_ID, SECRET_KEY) as client:
        for _ in range(5):
            with pytest.raises(MalformedResponse, match="expires at once"):
                await client.get_esign_state(CLIENT_CODE, RECEIPT_ID)
    assert service.token.call_count == 1
    assert service.status.call_count == 0


# 10. The sandbox and a client that hangs up --------------------------------------------------


@pytest.mark.parametrize("http", ["sandbox", "h11"], ids=["sandbox-protocol", "uvicorn-h11"])
def test_the_sandbox_logs_a_client_hanging_up_mid_request_in_one_line_at_most(
    http: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sandbox = Sandbox(sign_after=None)
    options = {} if http == "sandbox" else {"http": http}
    with sandbox.serve_in_thread(**options) as url:
        port = int(url.rsplit(":", 1)[1])
        for path in ["/SignToken/Request", "/KAKAOCERT/Token", "/_sandbox/faults"]:
            with socket.create_connection(("127.0.0.1", port)) as raw:
                head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"
                raw.sendall(head.encode() + b'{"half": ')
                time.sleep(0.1)
            time.sleep(0.2)
        with httpx.Client(base_url=url) as http_client:  # and it serves on
            assert http_client.get("/Time").status_code == 200
    server_records = [r for r in caplog.records if r.name.startswith("uvicorn")]
    hang_ups = [r for r in server_records if "hung up" in r.getMessage()]
    assert len(hang_ups) <= 3  # one line each at most
    assert all(r.exc_info is None and r.levelno <= logging.INFO for r in server_records)
    assert not any("Exception in ASGI" in r.getMessage() for r in server_records)


# 6 and 7, for Barocert's client too ----------------------------------------------------


class _OtherReceipt(httpx.AsyncBaseTransport):
    """The sandbox in-process, with Barocert status or verify answers rewritten by
    ``rewrite(answer JSON)`` (a confused gateway), or replaced by ``body``."""

    def __init__(self, sandbox: Sandbox, operation: str) -> None:
        self._inner = sandbox.transport()
        self._operation = operation
        self.body: bytes | None = None
        self.changes: dict[str, object] | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        path = request.url.path
        verifying = "/Verify/" in path
        is_status = request.method == "GET" and path.startswith("/KAKAO/")
        if (self._operation == "verify" and verifying) or (
            self._operation == "status" and is_status
        ):
            await response.aread()
            if self.body is not None:
                return httpx.Response(200, content=self.body)
            data = response.json()
            if self.changes is None:
                data["receiptID"] = "9" * 32
            else:
                data.update(self.changes)
            return httpx.Response(200, json=data)
        return response


async def _barocert_signed(sandbox: Sandbox, operation: str) -> tuple[Any, _OtherReceipt, str]:
    from kakaocert_async import barocert
    from tests.barocert._requests import make_request as barocert_request

    transport = _OtherReceipt(sandbox, operation)
    client = barocert.Client(
        sandbox.link_id, sandbox.secret_key, base_url=sandbox.url, auth_url=sandbox.url,
        transport=transport,
    )  # fmt: skip
    receipt = await client.request_sign(CLIENT_CODE, barocert_request(barocert.Kind.SIGN))
    sandbox.barocert.sign(receipt.receipt_id)
    return client, transport, receipt.receipt_id


async def test_a_barocert_status_of_another_receipt_never_ends_a_wait() -> None:
    sandbox = Sandbox(sign_after=None)
    client, _, receipt_id = await _barocert_signed(sandbox, "status")
    async with client:
        with pytest.raises(MalformedResponse, match="another receipt"):
            await client.await_completed(CLIENT_CODE, receipt_id, kind="Sign", interval=0.01)


@pytest.mark.parametrize("body", [None, b'{"receiptID": 1', b"[]"], ids=["other", "cut", "array"])
async def test_a_barocert_verify_surprise_is_an_unknown_outcome_carrying_the_answer(
    body: bytes | None,
) -> None:
    sandbox = Sandbox(sign_after=None)
    client, transport, receipt_id = await _barocert_signed(sandbox, "verify")
    transport.body = body
    async with client:
        with pytest.raises(VerifyOutcomeUnknown) as unknown:
            await client.verify_sign(CLIENT_CODE, receipt_id)
    raw = unknown.value.raw_answer
    assert raw is not None
    if body is None:
        assert b'"receiptID": "99999' in raw.body or b'"receiptID":"99999' in raw.body
    else:
        assert raw.body == body
    assert sandbox.stats["barocert.sign.verify"] == 1


@pytest.mark.parametrize(
    "changes",
    [{"receiverYear": 1990}, {"state": "COMPLETED"}, {"receiverForeign": False, "ci": 7}],
    ids=["a number", "a state by name", "a boolean"],
)
async def test_a_barocert_verify_keeps_its_signed_data_when_another_field_surprises(
    changes: dict[str, object],
) -> None:
    """As the 2.x client reads verify answers: the signed data is what must not be lost."""
    sandbox = Sandbox(sign_after=None)
    client, transport, receipt_id = await _barocert_signed(sandbox, "verify")
    transport.changes = changes
    async with client:
        verified = await client.verify_sign(CLIENT_CODE, receipt_id)
    assert verified.receipt_id == receipt_id
    assert verified.signed_data
    assert (verified.receiver_name, verified.state) == (None, None)  # the rest left out
    assert sandbox.stats["barocert.sign.verify"] == 1


async def test_a_barocert_verify_without_signed_data_is_still_an_unknown_outcome() -> None:
    sandbox = Sandbox(sign_after=None)
    client, transport, receipt_id = await _barocert_signed(sandbox, "verify")
    transport.changes = {"signedData": None, "receiverYear": 1990}
    async with client:
        with pytest.raises(VerifyOutcomeUnknown) as unknown:
            await client.verify_sign(CLIENT_CODE, receipt_id)
    assert unknown.value.raw_answer is not None
