"""Errors that say what to do: the hint a refusal a caller caused carries, beside the
service's own code and text (``_hints``)."""

from __future__ import annotations

import base64

import httpx
import pytest

from kakaocert_async import APIError, Client, barocert
from kakaocert_async._hints import HINTS, Call, Generation, hint_for
from kakaocert_async.barocert import Kind
from kakaocert_async.sandbox import Rejection, Sandbox
from tests._support import make_request
from tests.barocert._requests import make_request as make_barocert_request
from tests.reliability._raw_server import RawServer, answer, token_answer

OTHER_KEY = base64.b64encode(b"another key, 32 bytes long, too.").decode()


def assert_refused(error: APIError, rejection: Rejection, hint: str) -> None:
    """The service's code, status and Korean text as they came, then the hint."""
    assert (error.code, error.http_status) == (rejection.code, rejection.http_status)
    assert error.message.startswith(rejection.text)
    assert error.hint is not None
    assert hint in error.hint
    assert str(error) == (
        f"[{error.code}] {error.message} (HTTP {error.http_status}) Hint: {error.hint}."
    )


async def test_a_wrong_secret_key_names_the_setting() -> None:
    sandbox = Sandbox()
    url = sandbox.url
    transport = sandbox.transport()
    client = Client(sandbox.link_id, OTHER_KEY, base_url=url, auth_url=url, transport=transport)
    async with client:
        with pytest.raises(APIError) as refused:
            await client.request_esign(sandbox.client_code, make_request())
    assert_refused(
        refused.value, Rejection.TOKEN_HMAC_MISMATCH, "check the SecretKey (secret_key, or"
    )
    assert "KAKAOCERT_SECRET_KEY" in str(refused.value)
    assert OTHER_KEY not in str(refused.value)


async def test_a_wrong_secret_key_names_barocerts_variable() -> None:
    sandbox = Sandbox()
    url = sandbox.url
    client = barocert.Client(
        sandbox.link_id, OTHER_KEY, base_url=url, auth_url=url, transport=sandbox.transport()
    )
    async with client:
        with pytest.raises(APIError) as refused:
            await client.request_sign(sandbox.client_code, make_barocert_request(Kind.SIGN))
    assert_refused(refused.value, Rejection.TOKEN_HMAC_MISMATCH, "BAROCERT_SECRET_KEY")


async def test_an_unknown_link_id_names_the_setting() -> None:
    sandbox = Sandbox()
    url = sandbox.url
    client = Client(
        "NOT-SANDBOX", sandbox.secret_key, base_url=url, auth_url=url, transport=sandbox.transport()
    )
    async with client:
        with pytest.raises(APIError) as refused:
            await client.get_esign_state(sandbox.client_code, "1")
    assert_refused(refused.value, Rejection.LINK_ID_UNKNOWN, "KAKAOCERT_LINK_ID")


async def test_a_refused_clock_says_what_to_do() -> None:
    # With use_server_time=False and the clock too far off: the measured hint.
    skewed = Sandbox(clock_offset=900)
    async with skewed, skewed.client(use_server_time=False) as client:
        with pytest.raises(APIError) as refused:
            await client.get_esign_state(skewed.client_code, "1")
    assert_refused(refused.value, Rejection.DATE_SKEWED, "use_server_time=True")
    assert "900 s behind the auth server's" in str(refused.value)


async def test_verify_twice_unknown_and_unsigned_receipts_say_what_to_do() -> None:
    sandbox = Sandbox(sign_after=None)
    code = sandbox.client_code
    async with sandbox, sandbox.client() as client:
        pending = await client.request_esign(code, make_request())
        with pytest.raises(APIError) as unsigned:
            await client.verify_esign(code, pending.receipt_id)
        await sandbox.expire(pending.receipt_id)
        with pytest.raises(APIError) as expired:
            await client.verify_esign(code, pending.receipt_id)

        signed = await client.request_esign(code, make_request())
        await sandbox.sign(signed.receipt_id)
        await client.verify_esign(code, signed.receipt_id)
        with pytest.raises(APIError) as twice:
            await client.verify_esign(code, signed.receipt_id)

        with pytest.raises(APIError) as unknown:
            await client.get_esign_state(code, "123")
        with pytest.raises(APIError) as another:
            await client.get_esign_state("020040000002", signed.receipt_id)
    assert_refused(unsigned.value, Rejection.NOT_SIGNED, "wait with await_signed() first")
    assert_refused(expired.value, Rejection.RECEIPT_EXPIRED, "request a new one")
    assert_refused(twice.value, Rejection.ALREADY_VERIFIED, "its signed data came with the first")
    assert_refused(unknown.value, Rejection.RECEIPT_UNKNOWN, "check the receipt id, the client")
    assert_refused(another.value, Rejection.RECEIPT_OTHER_CLIENT, "another client code")
    assert sandbox.stats["verify"] == 4


async def test_barocert_hints_name_barocerts_calls() -> None:
    sandbox = Sandbox(sign_after=None)
    code = sandbox.client_code
    async with sandbox, sandbox.barocert_client() as client:
        receipt = await client.request_sign(code, make_barocert_request(Kind.SIGN))
        with pytest.raises(APIError) as unsigned:
            await client.verify_sign(code, receipt.receipt_id)
    assert_refused(unsigned.value, Rejection.NOT_SIGNED, "wait with await_completed() first")


@pytest.mark.parametrize(
    ("call", "generation", "status", "words"),
    [
        # POST /KAKAOCERT/Token, POST /BAROCERT/Token
        ("token", "2.x", 401, "refused the token request: check link_id and secret_key"),
        ("token", "barocert", 401, "(BAROCERT_LINK_ID, BAROCERT_SECRET_KEY)"),
        # POST /SignToken/Request, POST /KAKAO/Sign/020040000001
        ("request", "2.x", 401, "refused the request's signature: check secret_key"),
        ("request", "barocert", 401, "check secret_key (BAROCERT_SECRET_KEY)"),
        # GET /SignIdentity/Status/1, POST /KAKAO/CMS/Verify/020040000001/1
        ("state", "2.x", 404, "no such receipt for this client code"),
        ("verify", "barocert", 404, "no such receipt"),
        # GET /SignToken/Verify/1, POST /KAKAO/Sign/Verify/020040000001/1
        ("verify", "2.x", 409, "(get_esign_state() or its kin: state, verify_dt)"),
        ("verify", "barocert", 409, "get_sign_status() or its kin"),
    ],
)
def test_any_service_is_hinted_by_call_and_status(
    call: Call, generation: Generation, status: int, words: str
) -> None:
    hint = hint_for(call, generation, status, -98765432)  # a code the SDK does not know
    assert hint is not None
    assert words in hint


@pytest.mark.parametrize(
    ("call", "status"),
    [
        ("state", 400),
        ("request", 400),
        ("request", 503),
        ("state", 401),  # a GET's 401: the token, renewed by the SDK
        ("time", 404),
        ("token", 403),
    ],
)
def test_no_hint_rather_than_a_guess(call: Call, status: int) -> None:
    assert hint_for(call, "2.x", status, -98765432) is None


def test_the_sandbox_rows_match_the_sandboxs_codes() -> None:
    by_code = {rejection.code: rejection for rejection in Rejection}
    exact = [hint for hint in HINTS if hint.codes is not None]
    assert exact
    for hint in exact:
        assert hint.codes is not None
        for code in hint.codes:
            assert by_code[code].http_status == hint.status, by_code[code].name


def test_an_ip_bound_token_names_ip_restrict() -> None:
    rejection = Rejection.TOKEN_IP_MISMATCH
    hint = hint_for("state", "2.x", rejection.http_status, rejection.code)
    assert hint is not None
    assert "ip_restrict=False" in hint


async def test_an_app_to_app_verify_without_its_signature_says_so_in_english() -> None:
    sandbox = Sandbox(sign_after=None)
    async with sandbox, sandbox.client() as client:
        code = sandbox.client_code
        receipt = await client.request_esign(code, make_request(), app_to_app=True)
        await sandbox.sign(receipt.receipt_id)
        with pytest.raises(APIError) as refused:
            await client.verify_esign(code, receipt.receipt_id)
        signed = await client.verify_esign(
            code, receipt.receipt_id, sandbox.signature(receipt.receipt_id)
        )
    assert_refused(refused.value, Rejection.SIGNATURE_MISSING, "requested App to App: pass the")
    assert signed.signed_data  # the refusal consumed nothing


def _another_web_app(api: bool) -> RawServer:
    """A web app of someone else's: FastAPI's 404 for every path (the auth's too if not
    ``api``)."""
    not_found = [answer(404, {"detail": "Not Found"})]
    if not api:
        return RawServer(lambda _: not_found, auth=lambda _: not_found)
    # The auth service answers (Barocert's token path too); the API's paths are not found.
    return RawServer(lambda r: [token_answer()] if r.path.endswith("/Token") else not_found)


@pytest.mark.parametrize("backend", ["aiohttp", "httpx"])
@pytest.mark.parametrize(
    ("generation", "api", "words"),
    [
        (
            "2.x",
            True,
            "no KakaoCert API answered this path at {url}: check the client's"
            " base_url (or KAKAOCERT_API_URL)",
        ),
        (
            "2.x",
            False,
            "no Linkhub auth service answered this path at {url}: check the"
            " client's auth_url (or KAKAOCERT_AUTH_URL)",
        ),
        ("barocert", True, "(or BAROCERT_API_URL)"),
    ],
)
async def test_a_404_from_another_web_app_names_the_url_and_its_variable(
    backend: str, generation: str, api: bool, words: str
) -> None:
    server = _another_web_app(api)
    async with server.serve() as url:
        options = {"transport": httpx.AsyncHTTPTransport()} if backend == "httpx" else {}
        cls = Client if generation == "2.x" else barocert.Client
        async with cls("LINK", OTHER_KEY, base_url=url, auth_url=url, **options) as client:
            if isinstance(client, Client):
                reading = client.get_esign_state("023040000001", "1")
            else:
                receipt = barocert.Receipt(receipt_id="0" * 32, kind=Kind.SIGN)
                reading = client.get_status("023040000001", receipt)
            with pytest.raises(APIError) as refused:
                await reading
    assert refused.value.http_status == 404
    assert words.format(url=url) in str(refused.value)
    assert client.http_backend == backend
