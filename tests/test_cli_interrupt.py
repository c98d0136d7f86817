"""Ctrl+C in the CLI while a verify or a request is in flight: a real SIGINT to a real
``kakaocert-async`` process, against a sandbox served on a loopback port.

The sandbox's fault injection holds the call's answer back (a ``delay`` fault), and
each test sends SIGINT once the sandbox has counted the call's arrival, so the
interrupt lands while the call is in flight, whatever the machine's speed.
"""

from __future__ import annotations

import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kakaocert_async import SignState
from kakaocert_async._cli import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_OUTCOME_UNKNOWN,
    INTERRUPT_WAIT,
    main,
)
from kakaocert_async.sandbox import Fault, Sandbox
from tests._served import (
    RECEIVER_FLAGS,
    SERVICE_VARS,
    barocert_env,
    clean_env,
    console_script,
    expected_signed_data,
    run,
    served_sandbox,
    service_env,
)
from tests.test_cli import TOKEN, assert_no_personal_data, request_args

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT to a process")

WAITING = f"kakaocert-async: interrupted: waiting up to {INTERRUPT_WAIT:g} s for the answer to"
CLI = [sys.executable, "-m", "kakaocert_async"]


@pytest.fixture(autouse=True)
def _sigint_as_a_terminal_gives_it() -> Iterator[None]:
    """The CLI processes get SIGINT as a terminal gives it. A suite started in the
    background (``pytest &`` in a script) has SIGINT ignored, and its children inherit
    that; the CLI rightly keeps an ignored SIGINT ignored, and these tests would fail."""
    previous = signal.getsignal(signal.SIGINT)
    if previous is signal.SIG_IGN:  # a handler set here is reset to the default in a child
        signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Sandbox, str]]:
    with served_sandbox(sign_after=None) as served:
        yield served


@pytest.fixture
def sandbox(served: tuple[Sandbox, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """The served sandbox; the environment points the in-process CLI at it too."""
    sandbox, url = served
    for name in SERVICE_VARS:
        monkeypatch.delenv(name, raising=False)
    for name, value in {**service_env(sandbox, url), **barocert_env(sandbox, url)}.items():
        monkeypatch.setenv(name, value)
    yield sandbox
    sandbox.faults.clear()


@pytest.fixture
def env(served: tuple[Sandbox, str]) -> dict[str, str]:
    """The environment of a CLI subprocess pointed at the served sandbox."""
    sandbox, url = served
    return clean_env(**service_env(sandbox, url), **barocert_env(sandbox, url))


@pytest.fixture
def start(env: dict[str, str], tmp_path: Path) -> Iterator[Callable[..., Running]]:
    """``start(*argv)``: the CLI running in a subprocess (killed at the end if still running)."""
    started: list[Running] = []

    def start(*argv: str) -> Running:
        started.append(Running(list(argv), env, tmp_path / str(len(started))))
        return started[-1]

    yield start
    for cli in started:
        cli.kill()


class Running:
    """A CLI subprocess, its output going to files (read at any time, never lost)."""

    def __init__(self, argv: list[str], env: dict[str, str], folder: Path) -> None:
        folder.mkdir()
        self.out_path, self.err_path = folder / "stdout", folder / "stderr"
        with self.out_path.open("wb") as out, self.err_path.open("wb") as err:
            self.process = subprocess.Popen(  # noqa: S603 -- our CLI, our arguments
                [*CLI, *argv], env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL
            )

    @property
    def out(self) -> str:
        return self.out_path.read_text(encoding="utf-8")

    @property
    def err(self) -> str:
        return self.err_path.read_text(encoding="utf-8")

    def until(self, condition: Callable[[], bool], what: str) -> None:
        """Wait until ``condition()``, failing if the process ends first."""
        until(condition, what, process=self.process, err=self.err_path)

    def interrupt(self) -> None:
        self.process.send_signal(signal.SIGINT)

    def wait(self, timeout: float = 30.0) -> int:
        try:
            return self.process.wait(timeout)
        finally:
            self.kill()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def lines(self) -> list[str]:
        assert "Traceback" not in self.err, self.err
        return self.err.splitlines()


def until(
    condition: Callable[[], bool],
    what: str,
    timeout: float = 30.0,
    *,
    process: subprocess.Popen[bytes] | None = None,
    err: Path | None = None,
) -> None:
    """Poll until ``condition()``; fail after ``timeout`` or if ``process`` ends first."""
    deadline = time.monotonic() + timeout
    while not condition():
        if process is not None and process.poll() is not None:
            said = err.read_text(encoding="utf-8") if err else ""
            pytest.fail(f"the CLI exited ({process.returncode}) before {what}: {said}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within {timeout} s")
        time.sleep(0.005)


def in_flight(sandbox: Sandbox, endpoint: str, seconds: float) -> Callable[[], bool]:
    """Hold the next ``endpoint`` call's answer back ``seconds``; the returned check is
    true once that call has reached the sandbox (counted on arrival, before the delay)."""
    before = sandbox.stats[endpoint]
    sandbox.faults.add(Fault(action="delay", seconds=seconds, endpoints={endpoint}, times=1))
    return lambda: sandbox.stats[endpoint] > before


def signed_receipt(sandbox: Sandbox, capsys: pytest.CaptureFixture[str], *group: str) -> str:
    """A receipt signed (of ``group``'s family: e-sign unless named), made in-process."""
    assert main([*group, *request_args()]) == EXIT_OK
    receipt_id = capsys.readouterr().out.strip()
    sandbox.service.sign(receipt_id)
    return receipt_id


# A second Ctrl+C: stops at once, the outcome unknown --------------------------------------
# (First, so that the calls they leave held back in the sandbox are over by the module's end.)


def test_a_second_ctrl_c_stops_at_once(
    sandbox: Sandbox, start: Callable[..., Running], capsys: pytest.CaptureFixture[str]
) -> None:
    receipt_id = signed_receipt(sandbox, capsys, "identity")
    arrived = in_flight(sandbox, "identity.verify", INTERRUPT_WAIT + 1)
    cli = start("identity", "verify", receipt_id)
    cli.until(arrived, "the verify's arrival")
    cli.interrupt()
    cli.until(lambda: WAITING in cli.err, "the line saying the CLI waits")
    interrupted_at = time.monotonic()
    cli.interrupt()
    assert cli.wait() == EXIT_OUTCOME_UNKNOWN
    assert time.monotonic() - interrupted_at < 2.0
    assert cli.out == ""
    waiting, unknown = cli.lines()
    assert waiting.startswith(f"{WAITING} the verify already under way")
    assert unknown == (
        f"kakaocert-async: interrupted before the verify's answer came: receipt {receipt_id}"
        " may have been consumed (the service answers a verify once), and the outcome is"
        f" unknown; `kakaocert-async identity state {receipt_id}` shows verify_dt if it went"
        " through"
    )


def test_a_second_ctrl_c_mid_login_verify_names_the_tx(
    sandbox: Sandbox, start: Callable[..., Running]
) -> None:
    tx_id = sandbox.barocert.login()
    arrived = in_flight(sandbox, "barocert.login.verify", INTERRUPT_WAIT + 1)
    cli = start("barocert", "verify-login", tx_id)
    cli.until(arrived, "the verify's arrival")
    cli.interrupt()
    cli.until(lambda: WAITING in cli.err, "the line saying the CLI waits")
    cli.interrupt()
    assert cli.wait() == EXIT_OUTCOME_UNKNOWN
    assert cli.out == ""
    waiting, unknown = cli.lines()
    assert waiting.startswith(WAITING)
    assert unknown == (
        f"kakaocert-async: interrupted before the verify's answer came: login tx {tx_id} may"
        " have been consumed (the service answers a verify once), and the outcome is unknown;"
        " a login has no state to read: if it matters, have the user log in again"
    )


def test_a_second_ctrl_c_mid_request_says_a_message_may_have_gone(
    sandbox: Sandbox, start: Callable[..., Running]
) -> None:
    arrived = in_flight(sandbox, "request", INTERRUPT_WAIT + 1)
    cli = start(*request_args())
    cli.until(arrived, "the request's arrival")
    cli.interrupt()
    cli.until(lambda: WAITING in cli.err, "the line saying the CLI waits")
    cli.interrupt()
    assert cli.wait() == EXIT_OUTCOME_UNKNOWN
    assert cli.out == ""
    waiting, unknown = cli.lines()
    assert waiting.startswith(f"{WAITING} the request already under way")
    assert unknown == (
        "kakaocert-async: interrupted before the request's answer came: it may have been sent"
        " (a KakaoTalk message may have gone out), and no receipt id is known"
    )


# One Ctrl+C: the answer awaited a few seconds -----------------------------------------


def test_ctrl_c_mid_verify_without_an_answer_says_how_to_find_out(
    sandbox: Sandbox,
    start: Callable[..., Running],
    env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    receipt_id = signed_receipt(sandbox, capsys)
    arrived = in_flight(sandbox, "verify", INTERRUPT_WAIT + 2)
    cli = start("verify", receipt_id)
    cli.until(arrived, "the verify's arrival")
    cli.interrupt()
    assert cli.wait() == EXIT_OUTCOME_UNKNOWN
    assert cli.out == ""
    waiting, unknown = cli.lines()
    assert waiting.startswith(WAITING)
    command = f"kakaocert-async esign state {receipt_id}"
    assert unknown == (
        f"kakaocert-async: interrupted before the verify's answer came: receipt {receipt_id}"
        " may have been consumed (the service answers a verify once), and the outcome is"
        f" unknown; `{command}` shows verify_dt if it went through"
    )
    # The sandbox goes on with the verify; the command named shows that it went through.
    until(lambda: sandbox.verify_count(receipt_id) == 1, "the verify's processing")
    state = run([*console_script(), *shlex.split(command)[1:]], env)
    assert state.returncode == EXIT_OK, state.stderr
    fields = dict(line.split(None, 1) for line in state.stdout.splitlines())
    assert fields["state"] == "signed"
    verified_at = sandbox.state(receipt_id).verify_dt
    assert verified_at is not None
    assert fields["verify_dt"] == verified_at.replace(microsecond=0).isoformat()


def test_ctrl_c_mid_verify_keeps_the_answer_that_comes(
    sandbox: Sandbox, start: Callable[..., Running], capsys: pytest.CaptureFixture[str]
) -> None:
    receipt_id = signed_receipt(sandbox, capsys)
    arrived = in_flight(sandbox, "verify", 1.0)
    cli = start("verify", receipt_id)
    cli.until(arrived, "the verify's arrival")
    cli.interrupt()
    assert cli.wait() == EXIT_OK
    # The signed data, exactly as a verify prints it, and the only verify there was.
    assert cli.out == expected_signed_data(sandbox, receipt_id, TOKEN) + "\n"
    assert sandbox.verify_count(receipt_id) == 1
    waiting, kept = cli.lines()
    assert waiting.startswith(f"{WAITING} the verify already under way")
    assert kept == (
        "kakaocert-async: interrupted, but the verify's answer came: its signed data is"
        " printed (keep it: the service answers a verify once)"
    )


def test_ctrl_c_mid_barocert_verify_keeps_the_answer(
    sandbox: Sandbox, start: Callable[..., Running], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["barocert", "identity", "request", *RECEIVER_FLAGS, "--title", "본인인증"]
    assert main([*argv, "--token", "nonce-7f3a"]) == EXIT_OK
    receipt_id = capsys.readouterr().out.strip()
    sandbox.barocert.sign(receipt_id)
    before = sandbox.stats["barocert.identity.verify"]
    arrived = in_flight(sandbox, "barocert.identity.verify", 1.0)
    cli = start("barocert", "identity", "verify", receipt_id)
    cli.until(arrived, "the verify's arrival")
    cli.interrupt()
    assert cli.wait() == EXIT_OK
    assert cli.out == "nonce-7f3a\n"  # identity: the token signed comes back
    assert sandbox.barocert.state(receipt_id).verify_dt is not None
    assert sandbox.stats["barocert.identity.verify"] == before + 1
    waiting, kept = cli.lines()
    assert waiting.startswith(WAITING)
    assert kept.startswith("kakaocert-async: interrupted, but the verify's answer came")


def test_ctrl_c_mid_request_prints_the_receipt(
    sandbox: Sandbox, start: Callable[..., Running]
) -> None:
    arrived = in_flight(sandbox, "cms.request", 1.0)
    argv = ["cms", *request_args()[:-2], "--bank-account-name", "예금주"]
    argv += ["--bank-account-num", "371-02-6***85", "--bank-code", "004"]
    cli = start(*argv, "--client-user-id", "member-1042")
    cli.until(arrived, "the request's arrival")
    cli.interrupt()
    assert cli.wait() == EXIT_OK
    receipt_id = cli.out.strip()
    assert sandbox.state(receipt_id).state is SignState.PENDING
    waiting, kept = cli.lines()
    assert waiting.startswith(f"{WAITING} the request already under way")
    assert kept == (
        f"kakaocert-async: interrupted, but the request had been sent: its receipt id,"
        f" {receipt_id}, is printed; `kakaocert-async cms wait {receipt_id}` follows it"
    )
    assert_no_personal_data(cli.out + cli.err)
    assert "예금주" not in cli.out + cli.err


# Ctrl+C at other times: as ever ----------------------------------------------------------


def test_ctrl_c_while_waiting_exits_130_at_once(
    sandbox: Sandbox, start: Callable[..., Running], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(request_args()) == EXIT_OK
    receipt_id = capsys.readouterr().out.strip()
    before = sandbox.stats["status"]
    cli = start("wait", receipt_id, "--interval", "0.1", "--quiet")
    cli.until(lambda: sandbox.stats["status"] > before, "a poll")
    cli.interrupt()
    assert cli.wait(10) == EXIT_INTERRUPTED
    assert cli.lines() == ["kakaocert-async: interrupted"]
