"""The pytest fixture, the command line, and importing without the ``sandbox`` extra."""

from __future__ import annotations

import importlib.metadata
import shlex
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest

from kakaocert_async import ClientClosed, SignState
from kakaocert_async.__main__ import build_parser, main
from kakaocert_async.barocert import Kind, State
from kakaocert_async.sandbox import (
    DEFAULT_LINK_ID,
    DEFAULT_SECRET_KEY,
    DEFAULT_SIGN_AFTER,
    Rejection,
    Sandbox,
)
from kakaocert_async.sandbox import _cli as sandbox_cli
from kakaocert_async.sandbox._faults import Action
from tests._support import (
    make_cms_request,
    make_request,
    make_verify_auth_request,
    plain_terminal,
)
from tests.barocert._requests import make_request as make_barocert_request

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = "kakaocert_async.sandbox.pytest_plugin"


def _env() -> dict[str, str]:
    return {**plain_terminal(), "PYTHONPATH": str(ROOT)}


def _clean_env() -> dict[str, str]:
    """:func:`_env` without any ``KAKAOCERT_*`` or ``BAROCERT_*`` variable."""
    return {k: v for k, v in _env().items() if not k.startswith(("KAKAOCERT_", "BAROCERT_"))}


# The fixture -------------------------------------------------------------------------


async def test_the_fixture_gives_a_ready_sandbox(kakaocert_sandbox: Sandbox) -> None:
    async with kakaocert_sandbox.client() as client:
        receipt = await client.request_esign(kakaocert_sandbox.client_code, make_request())
        status = await kakaocert_sandbox.sign(receipt.receipt_id)
    assert status.state is SignState.SIGNED


@pytest.mark.kakaocert_sandbox(sign_after=0)
async def test_the_fixture_serves_identity_and_cms(kakaocert_sandbox: Sandbox) -> None:
    code = kakaocert_sandbox.client_code
    async with kakaocert_sandbox.client() as client:
        identity = await client.request_verify_auth(code, make_verify_auth_request())
        cms = await client.request_cms(code, make_cms_request(), app_to_app=True)
        assert (await client.await_signed(code, identity, interval=0.01)).is_final
        assert (await client.await_signed(code, cms, interval=0.01)).is_final
        await client.verify_auth(code, identity.receipt_id)
        await client.verify_cms(code, cms.receipt_id, kakaocert_sandbox.signature(cms.receipt_id))
    stats = kakaocert_sandbox.stats
    assert (stats["identity.verify"], stats["cms.verify"], stats["verify"]) == (1, 1, 0)


@pytest.mark.kakaocert_sandbox(sign_after=0)
async def test_the_fixture_gives_a_barocert_client(kakaocert_sandbox: Sandbox) -> None:
    code = kakaocert_sandbox.client_code
    async with kakaocert_sandbox.barocert_client(timeout=5.0) as client:
        receipt = await client.request_sign(code, make_barocert_request(Kind.SIGN))
        status = await client.await_completed(code, receipt, interval=0.01)
        verified = await client.verify_sign(code, receipt.receipt_id)
    assert status.state is State.COMPLETED
    assert verified.receipt_id == receipt.receipt_id
    assert kakaocert_sandbox.stats["barocert.sign.verify"] == 1
    assert client.http_backend == "httpx"  # the sandbox's in-process transport


async def test_the_sandbox_closes_the_barocert_clients_it_made() -> None:
    sandbox = Sandbox()
    client = sandbox.barocert_client()
    await sandbox.aclose()
    with pytest.raises(ClientClosed):
        await client.get_sign_status(sandbox.client_code, "0" * 32)


@pytest.mark.kakaocert_sandbox(sign_after=0, token_ttl=120)
def test_the_marker_sets_the_fixtures_settings(kakaocert_sandbox: Sandbox) -> None:
    assert kakaocert_sandbox.settings.sign_after == 0
    assert kakaocert_sandbox.settings.token_ttl == 120


def test_the_plugin_works_in_a_users_suite(tmp_path: Path) -> None:
    """One line in a user's test: the fixture, with pytest-asyncio in strict mode."""
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nasyncio_mode = strict\nasyncio_default_fixture_loop_scope = function\n"
        "filterwarnings = error\n",
        encoding="utf-8",
    )
    (tmp_path / "test_user.py").write_text(
        textwrap.dedent(
            """
            import asyncio

            import pytest

            from kakaocert_async import ESignRequest, SignState

            REQUEST = ESignRequest(
                call_center_num="1600-9854", expires_in=60, receiver_birthday="19900108",
                receiver_hp="01012341234", receiver_name="홍길동", token="동의",
                tms_title="동의", allow_simple_regist=True, verify_name=True,
            )

            async def flow(sandbox):
                async with sandbox.client() as client:
                    code = sandbox.client_code
                    receipt = await client.request_esign(code, REQUEST)
                    return await client.get_esign_state(code, receipt.receipt_id)

            @pytest.mark.asyncio
            @pytest.mark.kakaocert_sandbox(sign_after=0)
            async def test_async(kakaocert_sandbox):
                assert (await flow(kakaocert_sandbox)).state is SignState.SIGNED

            def test_sync(kakaocert_sandbox):
                assert asyncio.run(flow(kakaocert_sandbox)).state is SignState.PENDING
            """
        ),
        encoding="utf-8",
    )
    result = users_pytest(tmp_path, "--strict-markers")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def users_pytest(project: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """pytest in ``project``, with this plugin loaded (installed, the entry point loads
    it; in a bare checkout, ``-p`` does)."""
    plugins = {e.value for e in importlib.metadata.entry_points(group="pytest11")}
    load = [] if PLUGIN in plugins else ["-p", PLUGIN]
    return subprocess.run(  # noqa: S603 -- this Python, fixed arguments
        [sys.executable, "-m", "pytest", *load, *options, "-q", "-p", "no:cacheprovider"],
        cwd=project,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    "options",
    [["-p", "no:asyncio"], ["-o", "asyncio_mode=strict"]],
    ids=["anyio-alone", "beside-pytest-asyncio"],
)
def test_the_fixture_works_under_anyios_plugin(tmp_path: Path, options: list[str]) -> None:
    """As docs/testing.md says: ``@pytest.mark.anyio`` with an ``anyio_backend`` of asyncio."""
    # pytest-asyncio's setting only where it is loaded: elsewhere it is an unknown option.
    beside = (
        ["asyncio_default_fixture_loop_scope = function"] if "no:asyncio" not in options else []
    )
    (tmp_path / "pytest.ini").write_text(
        "\n".join(["[pytest]", "filterwarnings = error", *beside, ""]), encoding="utf-8"
    )
    (tmp_path / "test_user.py").write_text(
        textwrap.dedent(
            """
            import pytest

            from kakaocert_async import ESignRequest, SignState

            REQUEST = ESignRequest(
                call_center_num="1600-9854", expires_in=60, receiver_birthday="19900108",
                receiver_hp="01012341234", receiver_name="홍길동", text="동의",
                tms_title="동의",
            )

            @pytest.fixture
            def anyio_backend():
                return "asyncio"

            @pytest.mark.anyio
            @pytest.mark.kakaocert_sandbox(sign_after=0)
            async def test_signed(kakaocert_sandbox):
                async with kakaocert_sandbox.client() as client:
                    kakao = client.for_client(kakaocert_sandbox.client_code)
                    receipt = await kakao.request_esign(REQUEST)
                    status = await kakao.await_signed(receipt, timeout=5)
                    assert status.state is SignState.SIGNED
                    verified = await kakao.verify_esign(receipt.receipt_id)
                    assert verified.receipt_id == receipt.receipt_id
                assert kakaocert_sandbox.verify_count(receipt.receipt_id) == 1
            """
        ),
        encoding="utf-8",
    )
    result = users_pytest(tmp_path, "--strict-markers", *options)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout, result.stdout


@pytest.mark.parametrize(
    "options", [["-o", "asyncio_mode=strict"], ["-p", "no:asyncio"]], ids=["strict", "no-plugin"]
)
def test_an_async_test_nothing_runs_says_what_to_do(tmp_path: Path, options: list[str]) -> None:
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\n", encoding="utf-8"
    )
    (tmp_path / "test_user.py").write_text(
        "async def test_unmarked(kakaocert_sandbox):\n    pass\n"
        "async def test_without_the_fixture():\n    pass\n",
        encoding="utf-8",
    )
    result = users_pytest(tmp_path, *options)
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    assert "test_unmarked: this test is `async def`, and nothing runs it on an event loop" in out
    assert 'asyncio_mode = "auto"' in out
    assert "@pytest.mark.asyncio" in out
    # A test without the fixture is left to pytest's own message.
    assert "2 failed" in out
    # Once in the failure reports; the short summary may quote it again, cut to width.
    reports = out.partition("short test summary info")[0]
    assert reports.count("nothing runs it on an event loop") == 1


def test_the_fixture_without_the_extra_says_how_to_install_once(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(
        'import sys\nsys.modules["starlette"] = None  # as if not installed\n'
        'sys.modules["uvicorn"] = None\n',
        encoding="utf-8",
    )
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\n", encoding="utf-8"
    )
    (tmp_path / "test_user.py").write_text(
        "def test_x(kakaocert_sandbox):\n    pass\n", encoding="utf-8"
    )
    result = users_pytest(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    reports = result.stdout.partition("short test summary info")[0]
    assert "pip install 'kakaocert-async[sandbox]'" in reports
    # Once: not again as the context of pytest's own Failed.
    assert reports.count("needs starlette and uvicorn") == 1, reports
    assert "During handling" not in reports


def test_importing_without_starlette_works_and_using_it_says_how_to_install() -> None:
    script = textwrap.dedent(
        """
        import sys
        sys.modules["starlette"] = None  # as if not installed
        sys.modules["uvicorn"] = None
        import kakaocert_async.sandbox
        import kakaocert_async.sandbox.pytest_plugin
        from kakaocert_async.sandbox import Sandbox, SandboxUnavailable
        sandbox = Sandbox()
        try:
            sandbox.app
        except SandboxUnavailable as exc:
            print(exc)
        from kakaocert_async.__main__ import main
        print("exit", main(["sandbox", "--port", "0"]))
        """
    )
    result = subprocess.run(  # noqa: S603 -- this Python, fixed arguments
        [sys.executable, "-c", script],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "pip install 'kakaocert-async[sandbox]'" in result.stdout
    assert "exit 1" in result.stdout
    assert "pip install 'kakaocert-async[sandbox]'" in result.stderr


# The command line ------------------------------------------------------------------


def test_the_sandbox_command_reads_every_option() -> None:
    args = build_parser().parse_args(
        [
            "sandbox",
            "--host",
            "0.0.0.0",  # noqa: S104
            "--port",
            "9000",
            "--link-id",
            "ME",
            "--secret-key",
            "c2VjcmV0",
            "--client-code",
            "111111111111",
            "--sign-after",
            "never",
            "--token-ttl",
            "60",
            "--clock-offset",
            "-30",
            "--latency",
            "0.1",
            "--fault",
            "error:endpoint=status,every=3",
            "--fault",
            "drop:endpoint=verify,times=1",
        ]
    )
    assert args.port == 9000
    assert args.sign_after is None
    assert args.clock_offset == -30
    assert [f.action for f in args.fault] == [Action.ERROR, Action.DROP]


def test_the_defaults() -> None:
    args = build_parser().parse_args(["sandbox"])
    assert (args.host, args.port) == ("127.0.0.1", 8100)
    assert args.sign_after == DEFAULT_SIGN_AFTER  # as Sandbox(), the fixture and the demo
    assert build_parser().parse_args(["demo"]).sign_after == DEFAULT_SIGN_AFTER
    assert args.link_id == DEFAULT_LINK_ID
    assert args.secret_key == DEFAULT_SECRET_KEY


@pytest.mark.parametrize(
    "argv",
    [
        ["sandbox", "--fault", "explode"],
        ["sandbox", "--sign-after", "-1"],
        ["sandbox", "--latency", "soon"],
        ["sandbox", "--port", "http"],
        [],
    ],
)
def test_bad_arguments_exit_1(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    # 1, not argparse's 2: the command line keeps 2 for "expired".
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 1


def test_bad_settings_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sandbox", "--client-code", "123"]) == 1
    assert "client_code" in capsys.readouterr().err


def test_the_command_serves_and_prints_the_credentials(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    served: dict[str, object] = {}

    def fake_run_forever(app: object, **options: object) -> None:
        served.update(options, app=app)
        on_started = options["on_started"]
        assert callable(on_started)
        on_started("http://127.0.0.1:8100")

    from kakaocert_async.sandbox import _server

    monkeypatch.setattr(_server, "run_forever", fake_run_forever)
    faults = [
        "--fault",
        "drop:endpoint=verify",
        "--fault",
        "error:endpoint=cms.status+identity.verify",
    ]
    assert main(["sandbox", "--latency", "0.5", *faults]) == 0
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8100" in out
    assert DEFAULT_LINK_ID in out
    assert DEFAULT_SECRET_KEY in out
    assert "020040000001" in out
    assert "fault        delay:seconds=0.5" in out
    assert "fault        drop:endpoint=verify" in out
    assert "fault        error:endpoint=cms.status+identity.verify" in out
    assert served["host"] == "127.0.0.1"
    assert served["port"] == 8100


def test_the_banner_prints_lines_to_paste_for_both_generations() -> None:
    sandbox = Sandbox(client_code="020040000009")
    text = sandbox_cli.banner(sandbox, "http://127.0.0.1:8123")
    exports = [line for line in text.splitlines() if line.startswith("export ")]
    assert exports == [
        f"export {prefix}_{role}={value}"
        for prefix in ("KAKAOCERT", "BAROCERT")
        for role, value in (
            ("LINK_ID", "SANDBOX"),
            ("SECRET_KEY", DEFAULT_SECRET_KEY),
            ("CLIENT_CODE", "020040000009"),
            ("API_URL", "http://127.0.0.1:8123"),
            ("AUTH_URL", "http://127.0.0.1:8123"),
        )
    ]
    quoted = sandbox_cli.export_lines(Sandbox(link_id="A;B"), "http://h:1")
    assert quoted[0] == "export KAKAOCERT_LINK_ID='A;B'"  # shell-quoted where it must be


def test_the_banner_without_auto_signing() -> None:
    text = sandbox_cli.banner(Sandbox(sign_after=None, clock_offset=5), "http://[::1]:1")
    assert "never" in text
    assert "+5 s" in text


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process")
def test_python_m_kakaocert_async_sandbox_end_to_end() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "kakaocert_async", "sandbox", "--port", "0", "--log-level", "error"],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = [process.stdout.readline()]
        while banner[-1] and not banner[-1].startswith("Press Ctrl+C"):
            banner.append(process.stdout.readline())
        url = banner[0].split(" on ", 1)[1].split()[0]
        response = httpx.get(f"{url}/Time", timeout=10)
        assert response.status_code == 200
        # The served sandbox has every family's routes: a bare call is refused by
        # the route itself (no version header), not as an unknown path.
        for path in ("/SignIdentity/Status/1", "/SignDirectDebit/Verify/1/+/x="):
            refused = httpx.get(f"{url}{path}", timeout=10).json()
            assert refused["code"] == Rejection.VERSION.code
        stats = httpx.get(f"{url}/_sandbox/stats", timeout=10).json()
        assert (stats["identity.status"], stats["cms.verify"], stats["other"]) == (1, 1, 0)
        # The banner points at the virtual phone, served at the root.
        phone = [line.split()[1] for line in banner if line.split()[:1] == ["phone"]]
        assert phone == [f"{url}/"]
        page = httpx.get(phone[0], timeout=10)
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert "Virtual phone" in page.text

        # The lines it prints, pasted into a shell, point the CLI (both generations) at it.
        exports = "".join(line for line in banner if line.startswith("export "))
        receiver = "--name 홍길동 --phone 01012341234 --birthday 19900108"
        cli = f"{shlex.quote(sys.executable)} -m kakaocert_async"
        script = (
            f"{exports}"
            f"id=$({cli} request {receiver} --title 서명 --token 동의 --call-center 1600-0000)"
            f' && {cli} wait --quiet --interval 0.2 "$id"'
            f" && {cli} barocert identity request {receiver} --title 본인인증 --token nonce-1\n"
        )
        shell = subprocess.run(  # noqa: S603
            ["/bin/sh", "-c", script], env=_clean_env(), capture_output=True, text=True, timeout=60
        )
        assert shell.returncode == 0, shell.stderr
        assert len(shell.stdout.split()[-1]) == 32  # a Barocert receipt id
        stats = httpx.get(f"{url}/_sandbox/stats", timeout=10).json()
        assert (stats["request"], stats["barocert.identity.request"]) == (1, 1)
        assert stats["status"] >= 1
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert any("SANDBOX" in line for line in banner)
