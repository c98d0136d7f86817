"""The official barocert SDK and our Barocert client put the same requests on the wire.

Our client makes every Kakao operation with the inputs the official SDK was given for
the stored capture (``data/barocert_official_requests.json``, which
``test_barocert_official`` checks against the official SDK itself), through a recorder
in front of the in-process sandbox. Per operation, the two agree on the method, the
path, every header that matters (versions, date, bearer token, content type, the
encryption mode, and no signature where none is due), a valid HMAC over each body,
date and path, and the same plaintext behind the ciphertexts (which differ: a fresh IV
each). What may differ: JSON spacing, ``User-Agent``, ``Accept-Encoding`` (we never
advertise ``deflate``, which the official SDK cannot decode), header order, and the
``/Time`` reads (the official SDK reads the clock before every call; we read it once).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from kakaocert_async import barocert
from kakaocert_async.barocert import Kind, _crypto
from kakaocert_async.barocert import _wire as barocert_wire
from kakaocert_async.sandbox import Sandbox
from kakaocert_async.sandbox._server import serve_in_thread
from kakaocert_async.sandbox._transport import SandboxTransport
from tests.sandbox._barocert_official import (
    METHOD,
    PLAINTEXT,
    Call,
    Recorder,
    normalize,
    official_service,
    stored,
)
from tests.sandbox._raw import FakeClock

MATTER = (
    "x-lh-date",
    "x-lh-version",
    "x-lh-forwarded",
    "x-bc-date",
    "x-bc-version",
    "x-pb-version",
    "authorization",
    "content-type",
    "x-bc-auth",
    "x-bc-encryptionmode",
)
"""The headers the service reads; any other may differ."""

Operation = Callable[[barocert.Client, str, Any], Awaitable[Any]]
CALLS: dict[Kind, tuple[Operation, Operation, Operation]] = {
    Kind.IDENTITY: (
        lambda c, code, arg: c.request_identity(code, arg),
        lambda c, code, arg: c.get_identity_status(code, arg),
        lambda c, code, arg: c.verify_identity(code, arg),
    ),
    Kind.SIGN: (
        lambda c, code, arg: c.request_sign(code, arg),
        lambda c, code, arg: c.get_sign_status(code, arg),
        lambda c, code, arg: c.verify_sign(code, arg),
    ),
    Kind.MULTI_SIGN: (
        lambda c, code, arg: c.request_multi_sign(code, arg),
        lambda c, code, arg: c.get_multi_sign_status(code, arg),
        lambda c, code, arg: c.verify_multi_sign(code, arg),
    ),
    Kind.CMS: (
        lambda c, code, arg: c.request_cms(code, arg),
        lambda c, code, arg: c.get_cms_status(code, arg),
        lambda c, code, arg: c.verify_cms(code, arg),
    ),
}


async def run_every_operation(
    sandbox: Sandbox, recorder: Recorder, **options: Any
) -> dict[str, list[Call]]:
    """Our client makes every operation of the capture, in its order; the calls each made."""
    calls: dict[str, list[Call]] = {}
    code = sandbox.client_code
    transport = SandboxTransport(recorder)
    client = barocert.Client(
        sandbox.link_id,
        sandbox.secret_key,
        base_url=sandbox.url,
        auth_url=sandbox.url,
        transport=transport,
        **options,
    )

    async def run(name: str, operation: Operation, argument: Any) -> Any:
        start = len(recorder.calls)
        answer = await operation(client, code, argument)
        calls[name] = recorder.calls[start:]
        return answer

    async with client:
        for kind, (request, status, verify) in CALLS.items():
            method = METHOD[kind]
            receipt = await run(f"request{method}", request, PLAINTEXT[kind])
            await run(f"get{method}Status", status, receipt.receipt_id)
            sandbox.barocert.sign(receipt.receipt_id)
            await run(f"get{method}Status (signed)", status, receipt.receipt_id)
            await run(f"verify{method}", verify, receipt.receipt_id)
        await run(
            "verifyLogin", lambda c, code, tx: c.verify_login(code, tx), sandbox.barocert.login()
        )
    return calls


def that_matter(call: dict[str, Any]) -> dict[str, str]:
    """The headers of a normalized call that the service reads (content type in any case)."""
    headers = dict(header.split(": ", 1) for header in call["headers"])
    kept = {name: headers[name] for name in MATTER if name in headers}
    if "content-type" in kept:
        kept["content-type"] = kept["content-type"].lower()
    return kept


def but_the_clock(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [call for call in calls if call["path"] != "/Time"]


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox(sign_after=None, clock=FakeClock())


async def test_every_operation_sends_what_the_official_sdk_sends(sandbox: Sandbox) -> None:
    recorder = Recorder(sandbox.app)
    # ip_restrict=False: the official SDK's default, x-lh-forwarded: * on the token call.
    calls = await run_every_operation(sandbox, recorder, ip_restrict=False)
    key = sandbox.settings.key
    # normalize() checks every HMAC (token and x-bc-auth) over the body, date and path
    # as sent, and decrypts every field the protocol marks encrypted.
    ours = {name: but_the_clock([normalize(c, key) for c in made]) for name, made in calls.items()}
    theirs = {name: but_the_clock(made) for name, made in stored().items()}
    assert list(ours) == list(theirs)

    for name, official in theirs.items():
        mine = ours[name]
        # The official SDK asks for its token on its first call; so do we.
        assert [(c["method"], c["path"]) for c in mine] == [
            (c["method"], c["path"]) for c in official
        ], name
        for sent, expected in zip(mine, official, strict=True):
            assert that_matter(sent) == that_matter(expected), (name, sent["path"])
            assert sent.get("json") == expected.get("json"), name
            assert sent.get("encrypted") == expected.get("encrypted"), name
    assert any(c["path"] == "/BAROCERT/Token" for made in ours.values() for c in made)


async def test_verify_sends_an_empty_signed_body(sandbox: Sandbox) -> None:
    recorder = Recorder(sandbox.app)
    await run_every_operation(sandbox, recorder)
    verifies = [c for c in recorder.calls if "/Verify/" in c.path]
    assert len(verifies) == 5
    for call in verifies:
        headers = dict(call.headers)
        assert call.method == "POST"
        assert call.body == b""
        assert headers["content-length"] == "0"
        assert headers["x-bc-auth"]


async def test_tokens_are_ip_restricted_unless_asked(sandbox: Sandbox) -> None:
    recorder = Recorder(sandbox.app)
    await run_every_operation(sandbox, recorder)
    token_calls = [c for c in recorder.calls if c.path == "/BAROCERT/Token"]
    assert len(token_calls) == 1  # one token for the LinkID, every operation
    headers = dict(token_calls[0].headers)
    assert "x-lh-forwarded" not in headers
    normalize(token_calls[0], sandbox.settings.key)  # the HMAC without the forwarded line


async def test_every_encrypted_value_has_a_fresh_iv(sandbox: Sandbox) -> None:
    recorder = Recorder(sandbox.app)
    request = PLAINTEXT[Kind.MULTI_SIGN]
    async with barocert.Client(
        sandbox.link_id,
        sandbox.secret_key,
        base_url=sandbox.url,
        auth_url=sandbox.url,
        transport=SandboxTransport(recorder),
    ) as client:
        for _ in range(2):
            await client.request_multi_sign(sandbox.client_code, request)
    bodies = [c.body for c in recorder.calls if c.path.startswith("/KAKAO/MultiSign/")]
    assert len(bodies) == 2
    cipher = _crypto.Cipher(sandbox.settings.key)
    values: list[str] = []
    plain: list[dict[str, Any]] = []
    for body in bodies:
        data = barocert_wire._wire.loads(body)

        def decrypt(value: str, _: str) -> str:
            values.append(value)
            return cipher.decrypt(value)

        barocert_wire.map_encrypted(barocert.MultiSignRequest, data, decrypt)
        plain.append(data)
    assert plain[0] == plain[1]
    assert len(values) == 2 * 7  # receiver (3), extra message, 3 document tokens
    ivs = {base64_iv(value) for value in values}
    assert len(ivs) == len(values)


def base64_iv(value: str) -> bytes:
    import base64

    return base64.b64decode(value)[: _crypto.IV_SIZE]


# Login verify: the txID as the official SDK appends it -------------------------------

LOGIN_TX_IDS = [
    "01a1ce28b1-5a7f-45fb-807b-def79b6e63a2",  # the examples' shape
    "01ab+cd=ef-1",
    "01ab/cd//ef==",
    "+/8vW9qk//Z3+Ab/Xy1Q==",
]
TIME_FORM = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z")
"""The auth server's /Time answer, which the official SDK sends as its dates as it came."""


def _official_login_verify(tx_id: str) -> list[Call]:
    sandbox = Sandbox(sign_after=None)
    with official_service(sandbox) as (service, recorder):
        sandbox.barocert.login(tx_id=tx_id)
        assert service.verifyLogin(sandbox.client_code, tx_id).txID == tx_id
    return but_the_clock_calls(recorder.calls)


def _our_login_verify(tx_id: str, **options: Any) -> list[Call]:
    sandbox = Sandbox(sign_after=None)
    sandbox.barocert.login(tx_id=tx_id)
    recorder = Recorder(sandbox.app)

    async def verify(url: str) -> None:
        async with barocert.Client(
            sandbox.link_id, sandbox.secret_key, base_url=url, auth_url=url, **options
        ) as client:
            assert (await client.verify_login(sandbox.client_code, tx_id)).tx_id == tx_id

    with serve_in_thread(recorder, host="127.0.0.1", port=0) as url:
        asyncio.run(verify(url))
    return but_the_clock_calls(recorder.calls)


def but_the_clock_calls(calls: list[Call]) -> list[Call]:
    return [call for call in calls if call.path != "/Time"]


@pytest.mark.parametrize("tx_id", LOGIN_TX_IDS)
def test_a_login_verify_sends_the_official_sdks_path_and_dates(tx_id: str) -> None:
    theirs = _official_login_verify(tx_id)
    code = Sandbox().client_code
    assert [c.path for c in theirs] == ["/BAROCERT/Token", f"/KAKAO/Login/Verify/{code}/{tx_id}"]
    # On either HTTP path, the same bytes: "+", "=", "/" and "//" as given.
    for options in ({}, {"transport": httpx.AsyncHTTPTransport()}):
        mine = _our_login_verify(tx_id, **options)
        assert [c.path for c in mine] == [c.path for c in theirs], options
        # The token's x-lh-date and the verify's x-bc-date: the /Time answer's form.
        for call in mine + theirs:
            headers = dict(call.headers)
            date = headers.get("x-bc-date", headers.get("x-lh-date", ""))
            assert TIME_FORM.fullmatch(date), (call.path, date)
