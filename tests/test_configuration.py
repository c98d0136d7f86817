"""Configuration: ``Client.from_env()`` (and Barocert's), and a client code bound once with
``for_client()``, against the in-process sandbox."""

from __future__ import annotations

import pytest

from kakaocert_async import (
    API_URL,
    BoundClient,
    Client,
    ESignStatus,
    SignState,
    ValidationError,
    VerifyAuthStatus,
    barocert,
)
from kakaocert_async.barocert import Kind, State
from kakaocert_async.sandbox import DEFAULT_SECRET_KEY, Sandbox
from tests._support import make_cms_request, make_request, make_verify_auth_request
from tests.barocert._requests import make_request as make_barocert_request

CODE = "020040000001"
OTHER_CODE = "020040000002"


def sandbox_env(sandbox: Sandbox, **extra: str) -> dict[str, str]:
    """What ``kakaocert-async sandbox`` tells you to export, for an in-process sandbox."""
    return {
        "KAKAOCERT_LINK_ID": sandbox.link_id,
        "KAKAOCERT_SECRET_KEY": sandbox.secret_key,
        "KAKAOCERT_API_URL": sandbox.url,
        "KAKAOCERT_AUTH_URL": sandbox.url,
        **extra,
    }


# from_env -------------------------------------------------------------------------


async def test_from_env_reads_the_credentials_urls_and_client_code() -> None:
    sandbox = Sandbox(sign_after=0)
    env = sandbox_env(sandbox, KAKAOCERT_CLIENT_CODE=CODE)
    async with sandbox, Client.from_env(env, transport=sandbox.transport()) as client:
        assert client.client_code == CODE
        assert repr(client) == f"<Client link_id='SANDBOX' base_url='{sandbox.url}'>"
        kakao = client.for_client()
        receipt = await kakao.request_esign(make_request())
        status = await kakao.await_signed(receipt, interval=0.01)
    assert status.state is SignState.SIGNED
    assert status.client_code == CODE
    assert sandbox.stats["request"] == 1


async def test_from_env_reads_os_environ_and_passes_options_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sandbox = Sandbox(sign_after=0)
    for name, value in sandbox_env(sandbox).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("KAKAOCERT_CLIENT_CODE", raising=False)
    client = Client.from_env(use_server_time=False, transport=sandbox.transport())
    async with sandbox, client:
        assert client.client_code is None  # optional for the SDK
        await client.request_esign(CODE, make_request())
    assert sandbox.stats["time"] == 0  # use_server_time=False reached the client
    assert sandbox.stats["request"] == 1


def test_from_env_defaults_to_the_service() -> None:
    env = {"KAKAOCERT_LINK_ID": "PARTNER", "KAKAOCERT_SECRET_KEY": DEFAULT_SECRET_KEY}
    client = Client.from_env(env)
    assert repr(client) == f"<Client link_id='PARTNER' base_url='{API_URL}'>"
    assert client.http_backend == "aiohttp"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "KAKAOCERT_LINK_ID and KAKAOCERT_SECRET_KEY are not set"),
        ({"KAKAOCERT_LINK_ID": "PARTNER"}, "KAKAOCERT_SECRET_KEY is not set"),
        ({"KAKAOCERT_SECRET_KEY": "c2VjcmV0", "KAKAOCERT_LINK_ID": "  "}, "KAKAOCERT_LINK_ID is"),
    ],
)
def test_from_env_names_what_is_missing_and_suggests_the_sandbox(
    env: dict[str, str], named: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        Client.from_env(env)
    message = refused.value.message
    assert message.startswith(named)
    assert "(the partner's LinkID and SecretKey)" in message
    assert "run `kakaocert-async sandbox` and paste the export lines it prints" in message
    assert refused.value.field.startswith("KAKAOCERT_")


@pytest.mark.parametrize(
    ("name", "value", "rule"),
    [
        ("KAKAOCERT_SECRET_KEY", "not base64!", "KAKAOCERT_SECRET_KEY: must be the SecretKey"),
        ("KAKAOCERT_CLIENT_CODE", "1234", "KAKAOCERT_CLIENT_CODE: must be exactly 12 digits"),
        ("KAKAOCERT_API_URL", "ftp://x", "KAKAOCERT_API_URL: must be an http:// or https:// URL"),
        ("KAKAOCERT_LINK_ID", "two words", "KAKAOCERT_LINK_ID: must be printable ASCII"),
    ],
)
def test_from_env_names_a_bad_variable(name: str, value: str, rule: str) -> None:
    env = {"KAKAOCERT_LINK_ID": "PARTNER", "KAKAOCERT_SECRET_KEY": DEFAULT_SECRET_KEY}
    env[name] = value
    if name == "KAKAOCERT_API_URL":
        env["KAKAOCERT_AUTH_URL"] = "http://127.0.0.1:8000"  # both URLs, or neither
    with pytest.raises(ValidationError) as refused:
        Client.from_env(env)
    assert refused.value.message.startswith(rule)
    assert value not in refused.value.message or name == "KAKAOCERT_API_URL"


async def test_barocert_from_env_reads_barocert_variables_falling_back_to_kakaocerts() -> None:
    sandbox = Sandbox(sign_after=0)
    env = {
        "KAKAOCERT_LINK_ID": sandbox.link_id,  # the fallback
        "BAROCERT_SECRET_KEY": sandbox.secret_key,
        "KAKAOCERT_CLIENT_CODE": CODE,  # the fallback
        "BAROCERT_API_URL": sandbox.url,
        "BAROCERT_AUTH_URL": sandbox.url,
        "KAKAOCERT_API_URL": "http://never-read.invalid",
    }
    client = barocert.Client.from_env(env, transport=sandbox.transport())
    async with sandbox, client:
        assert client.client_code == CODE
        kakao = client.for_client()
        receipt = await kakao.request_sign(make_barocert_request(Kind.SIGN))
        status = await kakao.await_completed(receipt, interval=0.01)
        verified = await kakao.verify_sign(receipt.receipt_id)
    assert status.state is State.COMPLETED
    assert verified.receipt_id == receipt.receipt_id
    assert sandbox.stats["barocert.sign.verify"] == 1


def test_barocert_from_env_names_both_variables() -> None:
    with pytest.raises(ValidationError) as refused:
        barocert.Client.from_env({"BAROCERT_LINK_ID": "PARTNER"})
    assert refused.value.message.startswith(
        "BAROCERT_SECRET_KEY (or KAKAOCERT_SECRET_KEY) is not set"
    )
    assert "kakaocert-async sandbox" in refused.value.message


# for_client -----------------------------------------------------------------------


async def test_for_client_binds_the_code_for_every_family() -> None:
    sandbox = Sandbox(sign_after=0)
    async with sandbox, sandbox.client() as client:
        kakao = client.for_client(OTHER_CODE)
        assert isinstance(kakao, BoundClient)
        assert kakao.client_code == OTHER_CODE
        assert kakao._backend is client._backend  # the same pool, tokens and lifetime
        assert kakao._session is client._session
        assert kakao._calls is client._calls
        assert repr(kakao) == f"{client!r}"[:-1].replace("<Client", "<BoundClient") + (
            f" client_code='{OTHER_CODE}'>"
        )

        esign = await kakao.request_esign(make_request())
        status: ESignStatus = await kakao.await_signed(esign, interval=0.01)
        assert (await kakao.get_esign_state(esign.receipt_id)).client_code == OTHER_CODE
        assert (await kakao.verify_esign(esign.receipt_id)).signed_data

        identity = await kakao.request_verify_auth(make_verify_auth_request())
        identity_status: VerifyAuthStatus = await kakao.await_signed(identity, interval=0.01)
        assert (await kakao.get_verify_auth_state(identity.receipt_id)).is_final
        assert (await kakao.verify_auth(identity.receipt_id)).signed_data

        cms = await kakao.request_cms(make_cms_request(), app_to_app=True)
        seen = [state async for state in kakao.watch_state(cms, interval=0.01)]
        assert (await kakao.get_cms_state(cms.receipt_id)).app_to_app is True
        signature = sandbox.signature(cms.receipt_id)
        assert (await kakao.verify_cms(cms.receipt_id, signature)).signed_data

        again = [s async for s in kakao.watch_esign_state(esign.receipt_id, interval=0.01)]
    assert status.state is identity_status.state is SignState.SIGNED
    assert seen[-1].state is SignState.SIGNED
    assert again[-1].verify_dt is not None
    for receipt_id in (esign.receipt_id, identity.receipt_id, cms.receipt_id):
        assert sandbox.state(receipt_id).client_code == OTHER_CODE
    stats = sandbox.stats
    assert (stats["request"], stats["identity.request"], stats["cms.request"]) == (1, 1, 1)
    assert (stats["verify"], stats["identity.verify"], stats["cms.verify"]) == (1, 1, 1)


async def test_for_client_without_a_code_binds_the_clients() -> None:
    sandbox = Sandbox(sign_after=None)
    async with sandbox, sandbox.client(client_code=OTHER_CODE) as client:
        kakao = client.for_client()
        receipt = await kakao.request_esign(make_request())
        await sandbox.expire(receipt.receipt_id)
        status = await kakao.await_signed(receipt)
    assert kakao.client_code == client.client_code == OTHER_CODE
    assert status.state is SignState.EXPIRED
    assert sandbox.state(receipt.receipt_id).client_code == OTHER_CODE


async def test_for_client_checks_the_code_at_once() -> None:
    async with Sandbox().client(client_code=None) as client:
        with pytest.raises(ValidationError) as missing:
            client.for_client()
        with pytest.raises(ValidationError, match="exactly 12 digits"):
            client.for_client("1234")
    assert missing.value.field == "client_code"
    assert "create the client with client_code=" in missing.value.message
    assert "KAKAOCERT_CLIENT_CODE" in missing.value.message
    with pytest.raises(ValidationError, match="client_code: must be exactly 12 digits"):
        Client("PARTNER", DEFAULT_SECRET_KEY, client_code="12")


async def test_barocert_for_client_binds_the_code_for_every_kind() -> None:
    sandbox = Sandbox(sign_after=0)
    async with sandbox, sandbox.barocert_client(client_code=OTHER_CODE) as client:
        kakao = client.for_client()
        assert isinstance(kakao, barocert.BoundClient)
        assert repr(kakao).startswith("<BoundClient link_id=")
        assert repr(kakao).endswith(f" client_code='{OTHER_CODE}'>")
        requests = {
            Kind.IDENTITY: (kakao.request_identity, kakao.get_identity_status),
            Kind.SIGN: (kakao.request_sign, kakao.get_sign_status),
            Kind.MULTI_SIGN: (kakao.request_multi_sign, kakao.get_multi_sign_status),
            Kind.CMS: (kakao.request_cms, kakao.get_cms_status),
        }
        receipts = {}
        for kind, (request, status) in requests.items():
            receipt = await request(make_barocert_request(kind))  # type: ignore[operator]
            assert (await kakao.await_completed(receipt, interval=0.01)).is_final
            assert (await status(receipt.receipt_id)).client_code == OTHER_CODE
            receipts[kind] = receipt.receipt_id
        seen = [s async for s in kakao.watch_status(receipts[Kind.SIGN], kind=Kind.SIGN)]
        await kakao.verify_identity(receipts[Kind.IDENTITY])
        await kakao.verify_sign(receipts[Kind.SIGN])
        await kakao.verify_multi_sign(receipts[Kind.MULTI_SIGN])
        await kakao.verify_cms(receipts[Kind.CMS])
        tx_id = sandbox.barocert.login(client_code=OTHER_CODE)
        assert (await kakao.verify_login(tx_id)).tx_id == tx_id
    assert seen[-1].state is State.COMPLETED
    stats = sandbox.stats
    verifies = [stats[f"barocert.{k}.verify"] for k in ("identity", "sign", "multi_sign", "cms")]
    assert verifies == [1, 1, 1, 1]
    assert stats["barocert.login.verify"] == 1


@pytest.mark.parametrize("given", ["API_URL", "AUTH_URL"])
@pytest.mark.parametrize("cls", [Client, barocert.Client])
def test_one_url_without_the_other_is_refused_rather_than_sent_to_the_real_service(
    cls: type[Client] | type[barocert.Client], given: str
) -> None:
    # Only the API pointed at a sandbox: the token requests (with the real credentials
    # of the environment) would go to the real auth service, unseen.
    prefix = cls.variables.prefix
    environ = {
        f"{prefix}LINK_ID": "PARTNER",
        f"{prefix}SECRET_KEY": DEFAULT_SECRET_KEY,
        f"{prefix}{given}": "http://127.0.0.1:8000",
    }
    other = "AUTH_URL" if given == "API_URL" else "API_URL"
    with pytest.raises(ValidationError) as refused:
        cls.from_env(environ)
    assert refused.value.field == f"{prefix}{other}"
    assert f"{prefix}{given} is" in refused.value.message
    assert "http://127.0.0.1:8000" in refused.value.message
    assert "https://" in refused.value.message  # where it would have gone


def test_the_official_sdks_named_hosts_are_there_to_pass() -> None:
    # kakaocert 2.52.0's ServiceURL_Static / _GA, linkhub 1.6.0's LINKHUB_ServiceURL_Static / _GA.
    import kakaocert_async

    assert kakaocert_async.STATIC_API_URL == "https://static-kakaocert-api.linkhub.co.kr"
    assert kakaocert_async.STATIC_AUTH_URL == "https://static-auth.linkhub.co.kr"
    assert kakaocert_async.GA_API_URL == "https://ga-kakaocert-api.linkhub.co.kr"
    assert kakaocert_async.GA_AUTH_URL == "https://ga-auth.linkhub.co.kr"
    client = Client("PARTNER", DEFAULT_SECRET_KEY, base_url=kakaocert_async.STATIC_API_URL)
    assert "static-kakaocert-api" in repr(client)
