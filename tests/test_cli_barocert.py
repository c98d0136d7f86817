"""``kakaocert-async barocert ...`` in-process, against a sandbox on a loopback port.

Every kind's request, state, wait and verify, verify-login, App to App, documents
by hash, the ``BAROCERT_*`` variables and their fallback, exit statuses, one-line
errors (a verify too late among them), and nothing personal printed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from kakaocert_async._cli import EXIT_ERROR, EXIT_EXPIRED, EXIT_OK, EXIT_TIMEOUT, main
from kakaocert_async.barocert import (
    BankServiceType,
    CMSRequest,
    IdentityRequest,
    Kind,
    MultiSignRequest,
    SignDocument,
    SignRequest,
    State,
    TokenType,
    hash_file,
)
from kakaocert_async.sandbox import Rejection, Sandbox
from tests._served import RECEIVER, RECEIVER_FLAGS, SERVICE_VARS, barocert_env, served_sandbox
from tests.sandbox._raw import FakeClock
from tests.test_cli import assert_no_personal_data, one_error_line

PLAIN = {
    "receiver_name": RECEIVER["name"],
    "receiver_hp": RECEIVER["phone"],
    "receiver_birthday": RECEIVER["birthday"],
}
BANK_FLAGS = [
    "--request-corp", "링크허브",
    "--bank-name", "국민은행",
    "--bank-account-num", "19-321442-1231",
    "--bank-account-name", "예금주",
    "--bank-account-birthday", "19850304",
    "--bank-service-type", "GIRO",
]  # fmt: skip
FLAGS = {
    Kind.IDENTITY: ["--title", "본인인증", "--token", "nonce-7f3a"],
    Kind.SIGN: ["--sign-title", "계약서", "--token", "계약 내용에 동의합니다"],
    Kind.MULTI_SIGN: [
        "--title", "복수 서명",
        "--document", "약관", "약관에 동의합니다",
        "--document", "개인정보", "개인정보 수집에 동의합니다",
    ],
    Kind.CMS: ["--title", "출금동의", *BANK_FLAGS],
}  # fmt: skip
EXPECTED = {
    Kind.IDENTITY: IdentityRequest(
        **PLAIN, expire_in=300, req_title="본인인증", token="nonce-7f3a"
    ),
    Kind.SIGN: SignRequest(
        **PLAIN,
        expire_in=300,
        sign_title="계약서",
        token="계약 내용에 동의합니다",
        token_type=TokenType.TEXT,
    ),
    Kind.MULTI_SIGN: MultiSignRequest(
        **PLAIN,
        expire_in=300,
        req_title="복수 서명",
        documents=[
            SignDocument(title="약관", token="약관에 동의합니다"),
            SignDocument(title="개인정보", token="개인정보 수집에 동의합니다"),
        ],
        token_type=TokenType.TEXT,
    ),
    Kind.CMS: CMSRequest(
        **PLAIN,
        expire_in=300,
        req_title="출금동의",
        request_corp="링크허브",
        bank_name="국민은행",
        bank_account_num="19-321442-1231",
        bank_account_name="예금주",
        bank_account_birthday="19850304",
        bank_service_type=BankServiceType.GIRO,
    ),
}
GROUP = {
    Kind.IDENTITY: "identity",
    Kind.SIGN: "sign",
    Kind.MULTI_SIGN: "multi-sign",
    Kind.CMS: "cms",
}


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Sandbox, str]]:
    with served_sandbox(sign_after=None) as served:
        yield served


@pytest.fixture
def sandbox(served: tuple[Sandbox, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """The served sandbox, with ``BAROCERT_*`` pointing the CLI at it."""
    sandbox, url = served
    for name in SERVICE_VARS:
        monkeypatch.delenv(name, raising=False)
    for name, value in barocert_env(sandbox, url).items():
        monkeypatch.setenv(name, value)
    yield sandbox
    sandbox.faults.clear()


def barocert(kind: Kind, *argv: str) -> list[str]:
    return ["barocert", GROUP[kind], *argv]


def request(kind: Kind, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    assert main(barocert(kind, "request", *RECEIVER_FLAGS, *FLAGS[kind], *extra)) == EXIT_OK
    out, err = capsys.readouterr()
    assert err == ""
    assert_no_personal_data(out)
    return out.strip()


# request, state, wait, verify -----------------------------------------------------------


@pytest.mark.parametrize("kind", list(Kind))
def test_request_state_wait_verify(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str], kind: Kind
) -> None:
    receipt_id = request(kind, capsys)
    assert len(receipt_id) == 32
    # The flags became this request, encrypted on the way and decrypted by the sandbox.
    assert sandbox.barocert.request_of(receipt_id) == EXPECTED[kind]

    assert main(barocert(kind, "state", receipt_id)) == EXIT_OK
    fields = dict(line.split(None, 1) for line in capsys.readouterr().out.splitlines())
    assert (fields["receipt_id"], fields["state"]) == (receipt_id, "waiting")
    assert fields["expire_in"] == "300"

    sandbox.barocert.sign(receipt_id)
    assert main(barocert(kind, "wait", receipt_id, "--interval", "0.05")) == EXIT_OK
    out, err = capsys.readouterr()
    assert out == "completed\n"
    assert err == f"{receipt_id}  completed\n"

    assert main(barocert(kind, "verify", receipt_id)) == EXIT_OK
    out, err = capsys.readouterr()
    assert err == ""
    signed = out.splitlines()
    documents = len(EXPECTED[kind].documents) if kind is Kind.MULTI_SIGN else 1
    assert len(signed) == documents
    if kind is Kind.IDENTITY:
        assert signed == ["nonce-7f3a"]  # identity: the token signed comes back
    else:
        assert all(len(line) > 100 for line in signed)
    assert_no_personal_data(out)


def test_json_output(sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    body = json.loads(request(Kind.SIGN, capsys, "--json"))
    assert body == {"receipt_id": body["receipt_id"], "scheme": None, "kind": "Sign"}
    receipt_id = body["receipt_id"]
    assert main(barocert(Kind.SIGN, "state", receipt_id, "--json")) == EXIT_OK
    state = json.loads(capsys.readouterr().out)
    assert (state["state"], state["expire_in"], state["token_type"]) == ("waiting", 300, "TEXT")
    assert state["request_dt"].endswith("+09:00")
    sandbox.barocert.sign(receipt_id)
    assert main(barocert(Kind.SIGN, "verify", receipt_id, "--json")) == EXIT_OK
    verified = json.loads(capsys.readouterr().out)
    assert verified["receipt_id"] == receipt_id
    assert verified["state"] == "completed"
    assert verified["signed_data"]
    assert verified["ci"]  # as the service sends it: a ciphertext, kept for the caller


def test_app_to_app_prints_the_scheme(sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    out = request(Kind.CMS, capsys, "--app-to-app", "--return-url", "https://shop.example/back")
    receipt_id, scheme = out.splitlines()
    assert scheme.startswith("kakaotalk://")
    sent = sandbox.barocert.request_of(receipt_id)
    assert (sent.app_to_app, sent.return_url) == (True, "https://shop.example/back")


def test_documents_by_their_hash(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    contract = tmp_path / "contract.pdf"
    contract.write_bytes(b"%PDF-1.7 the contract")
    terms = tmp_path / "terms.pdf"
    terms.write_bytes(b"%PDF-1.7 the terms")
    argv = barocert(
        Kind.SIGN, "request", *RECEIVER_FLAGS, "--title", "계약", "--file", str(contract)
    )
    assert main(argv) == EXIT_OK
    sign = sandbox.barocert.request_of(capsys.readouterr().out.strip())
    assert (sign.token, sign.token_type) == (hash_file(contract), TokenType.HASH)
    assert (sign.req_title, sign.sign_title) == ("계약", None)

    argv = barocert(Kind.MULTI_SIGN, "request", *RECEIVER_FLAGS, "--title", "서명")
    argv += ["--document-file", "계약서", str(contract), "--document-file", "약관", str(terms)]
    assert main(argv) == EXIT_OK
    multi = sandbox.barocert.request_of(capsys.readouterr().out.strip())
    assert multi.token_type is TokenType.HASH
    assert [d.token for d in multi.documents] == [hash_file(contract), hash_file(terms)]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--document", "a", "b", "--document-file", "c", "d"], "--document TITLE TEXT or"),
        ([], "--document TITLE TEXT or"),
        (
            ["--document-file", "계약서", "/nonexistent/contract.pdf"],
            "--document-file: cannot read",
        ),
    ],
)
def test_multi_sign_documents_are_checked(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    before = sandbox.stats["barocert.multi_sign.request"]
    argv = barocert(Kind.MULTI_SIGN, "request", *RECEIVER_FLAGS, "--title", "서명", *extra)
    assert main(argv) == EXIT_ERROR
    assert message in one_error_line(capsys.readouterr().err)
    assert sandbox.stats["barocert.multi_sign.request"] == before


def test_verify_login(sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    tx_id = sandbox.barocert.login()
    assert main(["barocert", "verify-login", tx_id]) == EXIT_OK
    assert len(capsys.readouterr().out.strip()) > 100
    assert main(["barocert", "verify-login", tx_id, "--json"]) == EXIT_ERROR
    line = one_error_line(capsys.readouterr().err)
    assert line.startswith(f"kakaocert-async: service error: [{Rejection.ALREADY_VERIFIED.code}]")


# Endings and errors ------------------------------------------------------------------------


@pytest.mark.parametrize("answer", ["refuse", "fail", "expire"])
def test_wait_for_a_request_that_ended_unsigned_exits_2(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str], answer: str
) -> None:
    receipt_id = request(Kind.IDENTITY, capsys)
    final = getattr(sandbox.barocert, answer)(receipt_id).state
    assert main(barocert(Kind.IDENTITY, "wait", receipt_id, "--interval", "0.05")) == EXIT_EXPIRED
    out, err = capsys.readouterr()
    assert out == f"{final.name.lower()}\n"
    assert err == f"{receipt_id}  {final.name.lower()}\n"


def test_wait_past_its_timeout_exits_3(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    receipt_id = request(Kind.SIGN, capsys)
    argv = barocert(Kind.SIGN, "wait", receipt_id, "--interval", "0.05", "--timeout", "0.2")
    assert main([*argv, "--json"]) == EXIT_TIMEOUT
    out, err = capsys.readouterr()
    assert json.loads(out)["state"] == "waiting"
    assert err.splitlines()[-1].startswith(
        f"kakaocert-async: timed out: receipt {receipt_id} is still pending"
    )


def test_verify_twice_is_the_services_error(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    receipt_id = request(Kind.CMS, capsys)
    sandbox.barocert.sign(receipt_id)
    assert main(barocert(Kind.CMS, "verify", receipt_id)) == EXIT_OK
    capsys.readouterr()
    assert main(barocert(Kind.CMS, "verify", receipt_id)) == EXIT_ERROR
    out, err = capsys.readouterr()
    assert out == ""
    line = one_error_line(err)
    assert "(HTTP 409) Hint: a receipt is verified once" in line
    assert "get_sign_status() or its kin shows verify_dt" in line  # Barocert's calls
    assert sandbox.stats["barocert.cms.verify"] >= 2


def test_verify_too_late_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = FakeClock()
    with served_sandbox(clock=clock, date_tolerance=3600) as (late_sandbox, url):
        for name in SERVICE_VARS:
            monkeypatch.delenv(name, raising=False)
        for name, value in barocert_env(late_sandbox, url).items():
            monkeypatch.setenv(name, value)
        receipt_id = request(Kind.SIGN, capsys)
        late_sandbox.barocert.sign(receipt_id)
        clock.advance(660)
        assert main(barocert(Kind.SIGN, "verify", receipt_id)) == EXIT_ERROR
    line = one_error_line(capsys.readouterr().err)
    assert line.startswith(f"kakaocert-async: service error: [{Rejection.BC_VERIFY_TOO_LATE.code}]")
    assert "verify comes too late" in line
    assert "11 min 0 s ago" in line


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            barocert(Kind.SIGN, "request", "--name", "홍길동", "--phone", "010-1234-1234",
                     "--birthday", "19900108", "--token", "x", "--title", "t"),
            "kakaocert-async: receiver_hp: must be 10 or 11 digits without hyphens (--phone)",
        ),
        (
            barocert(Kind.SIGN, "request", *RECEIVER_FLAGS, "--token", "x"),
            "kakaocert-async: sign_title: give sign_title or req_title (≤ 40) (--sign-title)",
        ),
        (
            barocert(Kind.IDENTITY, "request", *RECEIVER_FLAGS, "--title", "t", "--token", "x",
                     "--expire-in", "1001"),
            "kakaocert-async: expire_in: must be between 1 and 1000 seconds, got 1001"
            " (--expire-in)",
        ),
        (
            barocert(Kind.CMS, "state", "1234"),
            "kakaocert-async: receipt_id: must be exactly 32 digits (접수아이디) (ID)",
        ),
        (
            ["barocert", "verify-login", "tx\tid"],
            "kakaocert-async: tx_id: must not contain whitespace or control characters (TXID)",
        ),
    ],
)  # fmt: skip
def test_bad_input_names_its_flag_and_sends_nothing(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    before = sum(sandbox.stats.values())
    assert main(argv) == EXIT_ERROR
    out, err = capsys.readouterr()
    assert out == ""
    assert one_error_line(err) == expected
    assert "010-1234-1234" not in err
    assert sum(sandbox.stats.values()) == before


def test_credentials_fall_back_to_kakaocert_variables(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for role in ("LINK_ID", "SECRET_KEY", "CLIENT_CODE"):
        monkeypatch.setenv(f"KAKAOCERT_{role}", os.environ[f"BAROCERT_{role}"])
        monkeypatch.delenv(f"BAROCERT_{role}")
    receipt_id = request(Kind.SIGN, capsys)
    assert sandbox.barocert.state(receipt_id).state is State.WAITING


def test_missing_credentials_are_named(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("BAROCERT_LINK_ID")
    monkeypatch.delenv("BAROCERT_CLIENT_CODE")
    assert main(barocert(Kind.SIGN, "state", "0" * 32)) == EXIT_ERROR
    assert one_error_line(capsys.readouterr().err) == (
        "kakaocert-async: BAROCERT_LINK_ID (or KAKAOCERT_LINK_ID) and BAROCERT_CLIENT_CODE"
        " (or KAKAOCERT_CLIENT_CODE) are not set (the partner's LinkID, SecretKey and"
        " 12-digit client code); to try without credentials, run `kakaocert-async sandbox`"
        " and paste the export lines it prints"
    )
    monkeypatch.setenv("BAROCERT_LINK_ID", "SANDBOX")
    monkeypatch.setenv("BAROCERT_CLIENT_CODE", "020040000001")
    monkeypatch.setenv("BAROCERT_SECRET_KEY", "c2hvcnQ=")
    assert main(barocert(Kind.SIGN, "state", "0" * 32)) == EXIT_ERROR
    line = one_error_line(capsys.readouterr().err)
    assert line.startswith("kakaocert-async: BAROCERT_SECRET_KEY (or KAKAOCERT_SECRET_KEY): ")
    assert "32 bytes" in line


def test_the_default_urls_are_barocerts(monkeypatch: pytest.MonkeyPatch) -> None:
    from kakaocert_async._env import Environment
    from kakaocert_async.barocert import Client as BarocertClient

    env = {"BAROCERT_LINK_ID": "L", "BAROCERT_SECRET_KEY": "k", "KAKAOCERT_CLIENT_CODE": "0" * 12}
    env["KAKAOCERT_API_URL"] = "http://not-barocert.invalid"  # never read for Barocert
    service = Environment.from_env(env, variables=BarocertClient.variables)
    assert (service.api_url, service.auth_url) == (
        "https://static-barocert.linkhub.co.kr",
        "https://static-auth.linkhub.co.kr",
    )
    assert service.client_code == "0" * 12


def test_help_lists_the_kinds(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["barocert", "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    for word in ("identity", "sign", "multi-sign", "cms", "verify-login", "BAROCERT_LINK_ID"):
        assert word in out
