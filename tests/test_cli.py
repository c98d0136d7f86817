"""The command line in-process: ``main([...])`` against a sandbox on a loopback port.

Every command, its output (plain and ``--json``), its exit status (0, 1, 2, 3)
and its one-line errors; the progress display; and ``demo``.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import attrs
import pytest

from kakaocert_async import (
    Client,
    ESignReceipt,
    ESignStatus,
    MalformedResponse,
    SignState,
    _cli,
    _wire,
)
from kakaocert_async._cli import EXIT_ERROR, EXIT_EXPIRED, EXIT_OK, EXIT_TIMEOUT, main
from kakaocert_async._env import Environment
from kakaocert_async._wire import KST
from kakaocert_async.sandbox import Fault, Sandbox
from tests._served import (
    CALL_CENTER,
    RECEIVER,
    RECEIVER_FLAGS,
    SERVICE_VARS,
    expected_signed_data,
    served_sandbox,
    service_env,
)

TOKEN = "전자서명 원문"


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Sandbox, str]]:
    """One sandbox for the module: it signs only on command."""
    with served_sandbox(sign_after=None) as served:
        yield served


@pytest.fixture
def sandbox(served: tuple[Sandbox, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """The served sandbox, with the environment pointing the CLI at it."""
    sandbox, url = served
    for name in SERVICE_VARS:
        monkeypatch.delenv(name, raising=False)
    for name, value in service_env(sandbox, url).items():
        monkeypatch.setenv(name, value)
    yield sandbox
    sandbox.faults.clear()


def request_args(*extra: str) -> list[str]:
    return ["request", *RECEIVER_FLAGS, "--title", "계약 서명", "--token", TOKEN, *extra]


def new_receipt(capsys: pytest.CaptureFixture[str]) -> str:
    assert main(request_args()) == EXIT_OK
    return capsys.readouterr().out.strip()


def one_error_line(err: str) -> str:
    """The single stderr line of a failed command (and no traceback)."""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert lines[0].startswith("kakaocert-async")
    return lines[0]


def assert_no_personal_data(text: str) -> None:
    for value in RECEIVER.values():
        assert value not in text


# request ---------------------------------------------------------------------------


def test_request_prints_the_receipt_id(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(request_args("--payload", "order-42", "--expires-in", "120")) == EXIT_OK
    out, err = capsys.readouterr()
    receipt_id = out.strip()
    assert receipt_id.isdigit()
    assert err == ""
    status = sandbox.state(receipt_id)
    assert status.state is SignState.PENDING
    assert (status.payload, status.expires_in, status.call_center_num) == (
        "order-42",
        120,
        CALL_CENTER,
    )
    assert_no_personal_data(out + err)


def test_request_json_is_one_object(sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(request_args("--json")) == EXIT_OK
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    body = json.loads(out)
    assert set(body) == {"receipt_id", "tx_id"}
    assert body["tx_id"] is None
    assert sandbox.state(body["receipt_id"]).state is SignState.PENDING


def test_request_app_to_app_then_verify_with_the_signature(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(request_args("--app-to-app")) == EXIT_OK
    receipt_id, tx_id = capsys.readouterr().out.split()
    assert tx_id == sandbox.state(receipt_id).tx_id
    sandbox.service.sign(receipt_id)
    assert main(["verify", receipt_id, "--signature", sandbox.signature(receipt_id)]) == EXIT_OK
    assert capsys.readouterr().out.strip() == expected_signed_data(sandbox, receipt_id, TOKEN)


def test_a_bad_phone_names_the_field_and_sends_nothing(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    before = sandbox.stats["request"]
    argv = request_args()
    argv[argv.index("--phone") + 1] = "010-1234-5678"
    assert main(argv) == EXIT_ERROR
    out, err = capsys.readouterr()
    line = one_error_line(err)
    assert line == (
        "kakaocert-async: receiver_hp: must be 10 or 11 digits without hyphens (--phone)"
    )
    assert out == ""
    assert "010-1234-5678" not in err
    assert sandbox.stats["request"] == before


@pytest.mark.parametrize(
    ("flag", "value", "field"),
    [
        ("--birthday", "19901301", "receiver_birthday"),
        ("--expires-in", "1001", "expires_in"),
        ("--title", "x" * 41, "tms_title"),
        ("--name", " ", "receiver_name"),
    ],
)
def test_each_bad_field_is_named(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str], flag: str, value: str, field: str
) -> None:
    argv = request_args()
    if flag in argv:
        argv[argv.index(flag) + 1] = value
    else:
        argv += [flag, value]
    assert main(argv) == EXIT_ERROR
    line = one_error_line(capsys.readouterr().err)
    assert line.startswith(f"kakaocert-async: {field}: ")
    assert line.endswith(f"({flag})")


def test_a_missing_flag_is_a_usage_error_exiting_1(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["request", "--name", "홍길동", "--title", "t", "--token", "t"])
    assert exited.value.code == EXIT_ERROR
    line = one_error_line(capsys.readouterr().err)
    assert "the following arguments are required: --phone, --birthday" in line


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["nonsense"],
        ["wait"],
        ["wait", "1", "--interval", "soon"],
        ["request", "--expires-in", "ten"],
        ["state", "1", "--colour"],
    ],
)
def test_usage_errors_exit_1_with_one_line(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == EXIT_ERROR
    assert "error:" in one_error_line(capsys.readouterr().err)


def test_the_call_center_comes_from_the_flag_or_the_environment(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("KAKAOCERT_CALL_CENTER")
    assert main(request_args()) == EXIT_ERROR
    line = one_error_line(capsys.readouterr().err)
    assert "--call-center" in line
    assert "KAKAOCERT_CALL_CENTER" in line
    assert main(request_args("--call-center", "02-123-4567")) == EXIT_OK
    receipt_id = capsys.readouterr().out.strip()
    assert sandbox.state(receipt_id).call_center_num == "02-123-4567"


# The environment -----------------------------------------------------------------


@pytest.mark.parametrize("command", [["state", "1"], ["wait", "1"], ["verify", "1"]])
def test_missing_credentials_are_named(
    command: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in SERVICE_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KAKAOCERT_LINK_ID", "SANDBOX")
    assert main(command) == EXIT_ERROR
    line = one_error_line(capsys.readouterr().err)
    assert line == (
        "kakaocert-async: KAKAOCERT_SECRET_KEY and KAKAOCERT_CLIENT_CODE are not set"
        " (the partner's LinkID, SecretKey and 12-digit client code); to try without"
        " credentials, run `kakaocert-async sandbox` and paste the export lines it prints"
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("KAKAOCERT_CLIENT_CODE", "1234"),
        ("KAKAOCERT_API_URL", "ftp://example"),
        ("KAKAOCERT_AUTH_URL", "localhost"),
        ("KAKAOCERT_SECRET_KEY", "not base64!"),
    ],
)
def test_a_bad_variable_is_named(
    sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    value: str,
) -> None:
    monkeypatch.setenv(name, value)
    assert main(["state", "1"]) == EXIT_ERROR
    assert one_error_line(capsys.readouterr().err).startswith(f"kakaocert-async: {name}: ")


def test_a_service_that_cannot_be_reached(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    monkeypatch.setenv("KAKAOCERT_API_URL", url)
    monkeypatch.setenv("KAKAOCERT_AUTH_URL", url)
    assert main(["state", "1"]) == EXIT_ERROR
    assert one_error_line(capsys.readouterr().err).startswith("kakaocert-async: cannot connect: ")


# state -----------------------------------------------------------------------------


def test_state_prints_the_fields_that_are_set(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    receipt_id = new_receipt(capsys)
    assert main(["state", receipt_id]) == EXIT_OK
    out = capsys.readouterr().out
    fields = dict(line.split(None, 1) for line in out.splitlines())
    assert fields["receipt_id"] == receipt_id
    assert fields["state"] == "pending"
    assert fields["tms_title"] == "계약 서명"
    assert "complete_dt" not in fields  # not signed: None is left out
    dt.datetime.fromisoformat(fields["expire_dt"])
    assert_no_personal_data(out)


def test_state_json_has_the_models_field_names(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    receipt_id = new_receipt(capsys)
    sandbox.service.sign(receipt_id)
    assert main(["state", receipt_id, "--json"]) == EXIT_OK
    body = json.loads(capsys.readouterr().out)
    assert list(body) == [field.name for field in attrs.fields(ESignStatus)]
    assert body["state"] == "signed"
    assert body["receipt_id"] == receipt_id
    assert body["verify_dt"] is None
    complete = dt.datetime.fromisoformat(body["complete_dt"])
    assert complete.utcoffset() == dt.timedelta(hours=9)


def test_an_unknown_receipt_is_the_services_error(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["state", "99999999999"]) == EXIT_ERROR
    line = one_error_line(capsys.readouterr().err)
    assert line.startswith("kakaocert-async: service error: [-11040002] ")
    assert "(HTTP 404) Hint: no such receipt for this client code" in line


def test_a_bad_receipt_id_names_it(sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    before = sandbox.stats["status"]
    assert main(["state", "12ab"]) == EXIT_ERROR
    line = one_error_line(capsys.readouterr().err)
    assert line == "kakaocert-async: receipt_id: must be 1 to 20 digits (접수아이디) (ID)"
    assert sandbox.stats["status"] == before


# wait ------------------------------------------------------------------------------


def sign_after_a_poll(sandbox: Sandbox, receipt_id: str) -> threading.Thread:
    """Sign from another thread once the state has been read while pending."""
    polls = sandbox.stats["status"]

    def receiver() -> None:
        deadline = time.monotonic() + 10
        while sandbox.stats["status"] <= polls and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(0.05)
        sandbox.service.sign(receipt_id)

    thread = threading.Thread(target=receiver, daemon=True)
    thread.start()
    return thread


def test_wait_until_signed_shows_plain_progress(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    receipt_id = new_receipt(capsys)
    receiver = sign_after_a_poll(sandbox, receipt_id)
    assert main(["wait", receipt_id, "--interval", "0.05"]) == EXIT_OK
    receiver.join()
    out, err = capsys.readouterr()
    assert out == "signed\n"
    lines = err.splitlines()
    assert lines[0].startswith(f"{receipt_id}  pending, ")
    assert lines[0].endswith(" s left")
    assert lines[-1] == f"{receipt_id}  signed"
    assert len(lines) == 2  # a line per change, not per poll


def test_wait_json_prints_the_final_state(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    receipt_id = new_receipt(capsys)
    sandbox.service.sign(receipt_id)
    assert main(["wait", receipt_id, "--json", "--quiet"]) == EXIT_OK
    out, err = capsys.readouterr()
    assert err == ""
    body = json.loads(out)
    assert (body["receipt_id"], body["state"]) == (receipt_id, "signed")


def test_wait_for_an_expired_request_exits_2(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    receipt_id = new_receipt(capsys)
    sandbox.service.expire(receipt_id)
    assert main(["wait", receipt_id, "--interval", "0.05"]) == EXIT_EXPIRED
    out, err = capsys.readouterr()
    assert out == "expired\n"
    assert err == f"{receipt_id}  expired\n"


def test_wait_past_its_timeout_exits_3(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    receipt_id = new_receipt(capsys)
    started = time.monotonic()
    argv = ["wait", receipt_id, "--interval", "0.05", "--timeout", "0.2", "--json"]
    assert main(argv) == EXIT_TIMEOUT
    assert time.monotonic() - started < 5
    out, err = capsys.readouterr()
    assert json.loads(out)["state"] == "pending"  # the last state read, for scripts
    *progress, error = err.splitlines()
    assert progress == [progress[0]]
    assert error.startswith(f"kakaocert-async: timed out: receipt {receipt_id} is still pending")


def test_wait_checks_its_interval(sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["wait", "1", "--interval", "0"]) == EXIT_ERROR
    line = one_error_line(capsys.readouterr().err)
    assert line.startswith("kakaocert-async: interval: ")
    assert line.endswith("(--interval)")


# verify ----------------------------------------------------------------------------


def test_verify_prints_the_signed_data_once(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    receipt_id = new_receipt(capsys)
    sandbox.service.sign(receipt_id)
    assert main(["verify", receipt_id]) == EXIT_OK
    assert capsys.readouterr().out == expected_signed_data(sandbox, receipt_id, TOKEN) + "\n"

    assert main(["verify", receipt_id, "--json"]) == EXIT_ERROR
    out, err = capsys.readouterr()
    assert out == ""
    line = one_error_line(err)
    assert line.startswith("kakaocert-async: service error: [-11040006] ")
    assert "(HTTP 409) Hint: a receipt is verified once" in line


def test_verify_json(sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    receipt_id = new_receipt(capsys)
    sandbox.service.sign(receipt_id)
    assert main(["verify", receipt_id, "--json"]) == EXIT_OK
    body = json.loads(capsys.readouterr().out)
    assert body == {
        "receipt_id": receipt_id,
        "signed_data": expected_signed_data(sandbox, receipt_id, TOKEN),
    }


def test_a_lost_verify_answer_is_said_plainly(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    receipt_id = new_receipt(capsys)
    sandbox.service.sign(receipt_id)
    sandbox.faults.add(Fault(action="drop", endpoints={"verify"}, times=1))
    assert main(["verify", receipt_id]) == EXIT_ERROR
    out, err = capsys.readouterr()
    assert out == ""
    line = one_error_line(err)
    assert line.startswith(
        f"kakaocert-async: verify outcome unknown: GET /SignToken/Verify/{receipt_id}:"
        " the verify was sent but its answer was lost"
    )
    assert "verify_dt is set if it went through" in line
    assert "[-99999999]" not in line
    assert sandbox.stats["verify"] >= 1


def test_a_verify_answer_that_cannot_be_read_is_printed_as_it_came(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The verify went through: the answer is the only copy of the signed data.
    def unreadable(answer: bytes, cls: type[Any], *, about: str, label: str) -> Any:
        raise MalformedResponse(f"{label}: not a shape it knows", http_status=200)

    receipt_id = new_receipt(capsys)
    sandbox.service.sign(receipt_id)
    monkeypatch.setattr(Client, "_decode_verification", staticmethod(unreadable))
    assert main(["verify", receipt_id]) == EXIT_ERROR
    out, err = capsys.readouterr()
    assert expected_signed_data(sandbox, receipt_id, TOKEN) in json.loads(out)["signedData"]
    line = one_error_line(err)
    assert line.startswith(
        f"kakaocert-async: verify outcome unknown: GET /SignToken/Verify/{receipt_id}:"
    )
    assert line.endswith("; the answer, as it came, is on stdout")
    assert sandbox.verify_count(receipt_id) == 1


def test_a_request_answer_that_cannot_be_read_is_printed_as_it_came(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The receiver was messaged: the receipt's id is in the answer, the only copy.
    decode = _wire.decode

    def unreadable_receipt(body: Any, cls: type[Any], *, label: str) -> Any:
        if cls is ESignReceipt:
            raise MalformedResponse(f"{label}: not a shape it knows", http_status=200)
        return decode(body, cls, label=label)

    monkeypatch.setattr(_wire, "decode", unreadable_receipt)
    made = len(sandbox.service)
    assert main(request_args()) == EXIT_ERROR
    out, err = capsys.readouterr()
    assert len(sandbox.service) == made + 1
    assert [status.receipt_id for _, status in sandbox.service.receipts(1)] == [
        json.loads(out)["receiptId"]
    ]  # the one the request made, kept
    line = one_error_line(err)
    assert line.startswith("kakaocert-async: ")
    assert "POST /SignToken/Request: not a shape it knows" in line
    assert line.endswith("; the answer, as it came, is on stdout")


# Failures that are not the SDK's -----------------------------------------------------


def test_an_unexpected_error_is_one_line_unless_debugging(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(Environment, "client", broken)
    assert main(["state", "1"]) == EXIT_ERROR
    line = one_error_line(capsys.readouterr().err)
    assert line == (
        "kakaocert-async: unexpected RuntimeError: boom second line"
        " (set KAKAOCERT_DEBUG=1 to see the traceback)"
    )
    monkeypatch.setenv("KAKAOCERT_DEBUG", "1")
    with pytest.raises(RuntimeError, match="boom"):
        main(["state", "1"])


def test_ctrl_c_exits_130(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Environment, "client", interrupted)
    assert main(["state", "1"]) == 130
    assert one_error_line(capsys.readouterr().err) == "kakaocert-async: interrupted"


def test_help_lists_the_commands_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    for command in ("request", "state", "wait", "verify", "demo", "sandbox"):
        assert command in out
    assert "2 expired, 3 timed out, 1 error" in out


# JSON ------------------------------------------------------------------------------


def test_json_output_uses_snake_case_iso_times_and_state_names() -> None:
    when = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=KST)
    status = ESignStatus(receipt_id="1", state=SignState.EXPIRED, expire_dt=when)
    body = json.loads(_cli.to_json(status))
    assert body["expire_dt"] == "2025-01-02T03:04:05+09:00"
    assert body["state"] == "expired"
    assert body["app_to_app"] is None


# Progress --------------------------------------------------------------------------


def status(
    state: SignState = SignState.PENDING, *, left: float = 57.2, opened: bool = False
) -> ESignStatus:
    now = dt.datetime.fromtimestamp(1_700_000_000, tz=KST)
    return ESignStatus(
        receipt_id="022112815423700001",
        state=state,
        expire_dt=now + dt.timedelta(seconds=left),
        view_dt=now if opened else None,
    )


NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("shown", "words"),
    [
        (status(), "pending, 58 s left"),
        (status(opened=True, left=3), "pending (opened), 3 s left"),
        (status(left=-10), "pending, 0 s left"),
        (status(SignState.SIGNED), "signed"),
        (status(SignState.EXPIRED), "expired"),
        (ESignStatus(receipt_id="1", state=SignState.PENDING), "pending"),
    ],
)
def test_describe(shown: ESignStatus, words: str) -> None:
    assert _cli.describe(shown, NOW) == words


def test_plain_progress_prints_changes_and_a_heartbeat() -> None:
    stream = io.StringIO()
    clock = iter([NOW, NOW + 1, NOW + 2, NOW + 40, NOW + 41, NOW + 42])
    with _cli.PlainProgress(
        stream, label="R  ", indent=2, clock=lambda: next(clock), heartbeat=30
    ) as progress:
        progress.update(status())  # shown
        progress.update(status())  # same: not shown
        progress.update(status(opened=True))  # opened: shown
        progress.update(status(opened=True))  # 38 s later: the heartbeat
        progress.update(status(opened=True))  # not shown
        progress.update(status(SignState.SIGNED))
    assert stream.getvalue().splitlines() == [
        "  R  pending, 58 s left",
        "  R  pending (opened), 56 s left",
        "  R  pending (opened), 18 s left",
        "  R  signed",
    ]


def test_rich_progress_leaves_the_last_state() -> None:
    from rich.console import Console

    stream = io.StringIO()
    console = Console(file=stream, force_terminal=True, color_system=None, width=60)
    with _cli.RichProgress(console, label="R  ", clock=lambda: NOW) as progress:
        progress.update(status())
        progress.update(status(SignState.SIGNED))
    assert stream.getvalue().rstrip().endswith("✔ R  signed")
    stream.truncate(0)
    with _cli.RichProgress(console, indent=3, clock=lambda: NOW) as progress:
        progress.update(status())
    assert "   … pending, 58 s left" in stream.getvalue()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_for_picks_rich_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(_cli.progress_for(io.StringIO()), _cli.PlainProgress)
    assert isinstance(_cli.progress_for(_Terminal()), _cli.RichProgress)
    assert type(_cli.progress_for(_Terminal(), quiet=True)) is _cli.Progress
    monkeypatch.setitem(sys.modules, "rich.console", None)  # as if rich were not installed
    assert isinstance(_cli.progress_for(_Terminal()), _cli.PlainProgress)


# demo ------------------------------------------------------------------------------


def test_demo_runs_on_the_in_process_sandbox(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in SERVICE_VARS:
        monkeypatch.delenv(name, raising=False)
    assert main(["demo", "--sign-after", "0.2", "--interval", "0.05"]) == EXIT_OK
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == (
        "KakaoCert demo on the in-process sandbox (the receiver signs 0.2 s after the request)"
    )
    receipt_id = lines[1].rsplit(" ", 1)[1]
    assert lines[1] == f"1. request_esign  -> receipt_id {receipt_id}"
    assert "   states seen: pending -> signed" in lines
    index = lines.index("3. verify_esign   -> signed_data (1032 characters):")
    assert lines[index + 1] == expected_signed_data(Sandbox(), receipt_id, _cli.DEMO_TOKEN)
    assert lines[-1].startswith("Signed and verified in ")
    assert_no_personal_data(out)


def test_demo_reports_an_expired_request_with_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import kakaocert_async.sandbox

    started = time.time()

    def fast_sandbox(**settings: object) -> Sandbox:
        # A sandbox clock running 50 times faster: a 1 s expiry takes 20 ms.
        return Sandbox(clock=lambda: started + (time.time() - started) * 50, **settings)  # type: ignore[arg-type]

    monkeypatch.setattr(kakaocert_async.sandbox, "Sandbox", fast_sandbox)
    argv = ["demo", "--sign-after", "never", "--expires-in", "1", "--interval", "0.02"]
    assert main(argv) == EXIT_EXPIRED
    out = capsys.readouterr().out
    assert "never signs by itself" in out
    assert "   states seen: pending -> expired" in out
    assert out.splitlines()[-1] == "The request expired before it was signed."


def test_demo_times_out_with_exit_3(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["demo", "--sign-after", "never", "--interval", "0.05", "--timeout", "0.2"]
    assert main(argv) == EXIT_TIMEOUT
    assert "timed out: receipt" in one_error_line(capsys.readouterr().err)


def test_demo_without_the_sandbox_extra_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "starlette", None)  # as if not installed
    assert main(["demo"]) == EXIT_ERROR
    line = one_error_line(capsys.readouterr().err)
    assert "pip install 'kakaocert-async[sandbox]'" in line
    assert line.endswith("(or run the demo --live)")


def test_demo_checks_the_receivers_details(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--phone", "0101234"]) == EXIT_ERROR
    line = one_error_line(capsys.readouterr().err)
    assert line == (
        "kakaocert-async: receiver_hp: must be 10 or 11 digits without hyphens (--phone)"
    )


def test_demo_live_needs_the_receiver_and_the_credentials(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in SERVICE_VARS:
        monkeypatch.delenv(name, raising=False)
    assert main(["demo", "--live", "--name", "홍길동"]) == EXIT_ERROR
    assert one_error_line(capsys.readouterr().err) == (
        "kakaocert-async: demo --live needs the receiver's --name, --phone and --birthday"
        " (missing: --phone, --birthday)"
    )
    assert main(["demo", "--live", *RECEIVER_FLAGS]) == EXIT_ERROR
    assert "--call-center" in one_error_line(capsys.readouterr().err)
    assert main(["demo", "--live", *RECEIVER_FLAGS, "--call-center", CALL_CENTER]) == EXIT_ERROR
    assert one_error_line(capsys.readouterr().err).startswith(
        "kakaocert-async: KAKAOCERT_LINK_ID, KAKAOCERT_SECRET_KEY and KAKAOCERT_CLIENT_CODE"
        " are not set"
    )


def test_demo_live_on_a_served_sandbox(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with served_sandbox(sign_after=0.1) as (sandbox, url):
        for name, value in service_env(sandbox, url).items():
            monkeypatch.setenv(name, value)
        assert main(["demo", "--live", *RECEIVER_FLAGS, "--interval", "0.05"]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.splitlines()[0] == (
        f"KakaoCert demo on the service at {url} (client code {sandbox.client_code})"
    )
    assert "   states seen: pending -> signed" in out
    assert sandbox.stats["verify"] == 1
    assert_no_personal_data(out)


# Identity verification and CMS: the same four commands per family -----------------

BANK_FLAGS = [
    "--bank-account-name",
    "김예금",
    "--bank-account-num",
    "9-4324-5**7-58",
    "--bank-code",
    "004",
    "--client-user-id",
    "payer-0423",
]


def family_request(family: str, *extra: str) -> list[str]:
    fields = ["--title", "본인인증", "--token", "nonce-1"] if family == "identity" else []
    if family == "cms":
        fields = ["--title", "출금동의", *BANK_FLAGS]
    return [family, "request", *RECEIVER_FLAGS, *fields, *extra]


def test_identity_request_state_wait_verify(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    before = dict(sandbox.stats)
    assert main(family_request("identity", "--call-center-name", "고객센터")) == EXIT_OK
    receipt_id = capsys.readouterr().out.strip()
    assert receipt_id.isdigit()
    assert main(["identity", "state", receipt_id, "--json"]) == EXIT_OK
    state = json.loads(capsys.readouterr().out)
    assert (state["state"], state["call_center_name"]) == ("pending", "고객센터")
    sandbox.service.sign(receipt_id)
    assert main(["identity", "wait", receipt_id, "--interval", "0.05", "-q"]) == EXIT_OK
    assert capsys.readouterr().out.strip() == "signed"
    assert main(["identity", "verify", receipt_id]) == EXIT_OK
    signed = capsys.readouterr().out.strip()
    assert signed == expected_signed_data(sandbox, receipt_id, "nonce-1")
    calls = {name: sandbox.stats[name] - before[name] for name in before}
    assert (calls["identity.request"], calls["identity.status"], calls["identity.verify"]) == (
        1,
        2,
        1,
    )
    assert (calls["request"], calls["status"], calls["verify"]) == (0, 0, 0)


def test_cms_app_to_app_request_wait_verify(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(family_request("cms", "--app-to-app")) == EXIT_OK
    out, err = capsys.readouterr()
    receipt_id, tx_id = out.split()
    assert tx_id
    for secret in ("김예금", "9-4324-5**7-58", "payer-0423"):
        assert secret not in out + err
    sandbox.service.sign(receipt_id)
    assert main(["cms", "wait", receipt_id, "--interval", "0.05", "--json", "-q"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out)["app_to_app"] is True
    signature = sandbox.signature(receipt_id)
    assert main(["cms", "verify", receipt_id, "--signature", signature, "--json"]) == EXIT_OK
    body = json.loads(capsys.readouterr().out)
    assert body == {
        "receipt_id": receipt_id,
        "signed_data": expected_signed_data(sandbox, receipt_id, ""),
    }


def test_cms_wait_on_an_expired_request_exits_2(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(family_request("cms")) == EXIT_OK
    receipt_id = capsys.readouterr().out.strip()
    sandbox.service.expire(receipt_id)
    assert main(["cms", "wait", receipt_id, "-q"]) == EXIT_EXPIRED
    assert capsys.readouterr().out.strip() == "expired"


def test_the_esign_group_is_the_bare_commands(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["esign", *request_args()]) == EXIT_OK
    receipt_id = capsys.readouterr().out.strip()
    assert main(["esign", "state", receipt_id, "--json"]) == EXIT_OK
    esign_group = json.loads(capsys.readouterr().out)
    assert main(["state", receipt_id, "--json"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out) == esign_group


def test_a_bad_bank_field_names_its_flag_and_sends_nothing(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    before = sandbox.stats["cms.request"]
    argv = family_request("cms")
    argv[argv.index("--bank-code") + 1] = " "
    assert main(argv) == EXIT_ERROR
    line = one_error_line(capsys.readouterr().err)
    assert line == "kakaocert-async: bank_code: is required and must not be empty (--bank-code)"
    assert sandbox.stats["cms.request"] == before


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["identity", "verify", "1", "--signature", "x"], "unrecognized arguments"),
        ([*family_request("identity"), "--app-to-app"], "unrecognized arguments"),
        (family_request("cms")[:-2], "--client-user-id"),
        (family_request("identity")[:-2], "--token"),
        (["cms"], "required: COMMAND"),
    ],
)
def test_each_family_takes_only_its_own_flags(
    argv: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == EXIT_ERROR
    assert words in capsys.readouterr().err


@pytest.mark.parametrize(
    ("field", "shown"),
    [
        ("receiver_hp", "bad (--phone)"),
        ("receipt_id", "bad (ID)"),
        ("title", "bad"),  # a document's, given by --document TITLE TEXT: no flag of its own
        ("documents[0]", "bad"),
        ("KAKAOCERT_SECRET_KEY", "bad"),
    ],
)
def test_an_argument_error_names_the_flag_that_gave_it_and_only_that(
    field: str, shown: str
) -> None:
    from kakaocert_async import ValidationError

    assert _cli.describe_error(ValidationError(field, "bad")) == f"{field}: {shown}"
