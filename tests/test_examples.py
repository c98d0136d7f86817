"""Every example, and the command line end to end, against the sandbox.

- ``examples/fastapi_app.py``: in-process through httpx's ASGI transport, with the
  app's lifespan run and the sandbox signing on command.
- ``examples/worker.py``: verify-once, durable storage, bounded concurrency,
  resuming after a restart, and a crash between verify and store reported.
- ``examples/wait_for_signature.py``: as a script on its in-process sandbox, and
  on a served one given a receipt id.
- ``kakaocert-async``: the installed console script in subprocesses, against a
  sandbox on a loopback port: request -> wait -> verify, and exit codes 2 and 3.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from kakaocert_async import Client, ESignStatus, SignState
from kakaocert_async._cli import DEMO_TOKEN
from kakaocert_async.sandbox import Fault, Sandbox
from tests._served import (
    EXAMPLES,
    RECEIVER_FLAGS,
    SERVICE_VARS,
    clean_env,
    console_script,
    expected_signed_data,
    load_example,
    run,
    served_sandbox,
    service_env,
)
from tests._support import make_request

TOKEN = "전자서명 원문"  # make_request()'s


@pytest.fixture(autouse=True)
def _no_service_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SERVICE_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Sandbox, str]]:
    with served_sandbox(sign_after=None) as served:
        yield served


async def eventually(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Return as soon as ``condition()`` holds (checked every 5 ms); fail after ``timeout``."""
    for _ in range(int(timeout / 0.005)):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the condition did not hold in time")


# Every example -----------------------------------------------------------------------

COPIED_WITH = {"fleet": ["fastapi_app"]}  # its request model and error mapping


@pytest.mark.parametrize("name", sorted(path.stem for path in EXAMPLES.glob("*.py")))
def test_an_example_runs_when_copied_alone(name: str, tmp_path: Path) -> None:
    """Each example imports only the SDK and released packages (fleet.py takes
    fastapi_app.py along, as its docstring says), so it runs in a new project."""
    for file in [name, *COPIED_WITH.get(name, [])]:
        shutil.copy(EXAMPLES / f"{file}.py", tmp_path)
    imported = subprocess.run(  # noqa: S603 -- this Python, fixed arguments
        [sys.executable, "-c", f"import {name}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert imported.returncode == 0, imported.stderr


# examples/fastapi_app.py ------------------------------------------------------------

SIGNATURE_REQUEST = {
    "receiver_name": "홍길동",
    "receiver_hp": "01012341234",
    "receiver_birthday": "19900108",
    "tms_title": "약관 동의",
    "token": TOKEN,
}


@pytest.fixture
def fastapi_app() -> ModuleType:
    return load_example("fastapi_app")


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox(sign_after=None)


@pytest.fixture
async def http(fastapi_app: ModuleType, sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    app = fastapi_app.create_app(sandbox)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app") as http,
    ):
        yield http


async def post_signature(http: httpx.AsyncClient, **changes: object) -> str:
    response = await http.post("/signatures", json={**SIGNATURE_REQUEST, **changes})
    assert response.status_code == 201, response.text
    receipt_id: str = response.json()["receipt_id"]
    return receipt_id


def events(text: str) -> list[tuple[str, dict[str, Any]]]:
    """The ``(event, data)`` pairs of a Server-Sent Events body (comments skipped)."""
    found = []
    for block in text.split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in block.splitlines() if not line.startswith(":")
        )
        if fields:
            found.append((fields["event"], json.loads(fields["data"])))
    return found


async def test_app_requests_reads_and_verifies(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    response = await http.post("/signatures", json={**SIGNATURE_REQUEST, "payload": "order-7"})
    assert response.status_code == 201
    assert set(response.json()) == {"receipt_id", "tx_id"}
    receipt_id = response.json()["receipt_id"]
    assert sandbox.state(receipt_id).payload == "order-7"

    state = (await http.get(f"/signatures/{receipt_id}")).json()
    assert (state["receipt_id"], state["state"], state["payload"]) == (
        receipt_id,
        "pending",
        "order-7",
    )
    assert state["expire_dt"].endswith("+09:00")

    await sandbox.sign(receipt_id)
    response = await http.post(f"/signatures/{receipt_id}/verify")
    assert response.status_code == 200
    assert response.json() == {
        "receipt_id": receipt_id,
        "signed_data": expected_signed_data(sandbox, receipt_id, TOKEN),
    }

    again = await http.post(f"/signatures/{receipt_id}/verify")
    assert again.status_code == 409
    assert again.json()["detail"]["code"] == -11040006


async def test_app_streams_state_changes_as_server_sent_events(
    http: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    receipt_id = await post_signature(http)
    polls = sandbox.stats["status"]

    async def receiver() -> None:
        # Signs once the stream has read the state twice (before it and in it).
        await eventually(lambda: sandbox.stats["status"] >= polls + 2)
        await sandbox.sign(receipt_id)

    signing = asyncio.create_task(receiver())
    response = await http.get(f"/signatures/{receipt_id}/events", params={"interval": 0.05})
    await signing
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert ": still pending" in response.text  # keep-alive comments between changes
    seen = events(response.text)
    assert [(event, data["state"]) for event, data in seen] == [
        ("state", "pending"),
        ("state", "signed"),
    ]
    assert seen[-1][1]["complete_dt"] is not None


async def test_app_events_end_on_expiry_and_at_once_when_final(
    http: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    receipt_id = await post_signature(http)
    polls = sandbox.stats["status"]

    async def expire() -> None:
        await eventually(lambda: sandbox.stats["status"] >= polls + 2)
        await sandbox.expire(receipt_id)

    expiring = asyncio.create_task(expire())
    response = await http.get(f"/signatures/{receipt_id}/events", params={"interval": 0.05})
    await expiring
    assert [data["state"] for _, data in events(response.text)] == ["pending", "expired"]

    again = await http.get(f"/signatures/{receipt_id}/events")
    assert [data["state"] for _, data in events(again.text)] == ["expired"]


async def test_app_answers_422_naming_the_field(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    before = sandbox.stats["request"]
    response = await http.post(
        "/signatures", json={**SIGNATURE_REQUEST, "receiver_hp": "010-1234-5678"}
    )
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "loc": ["body", "receiver_hp"],
                "msg": "must be 10 or 11 digits without hyphens",
                "type": "value_error",
            }
        ]
    }
    assert sandbox.stats["request"] == before

    typed = await http.post("/signatures", json={**SIGNATURE_REQUEST, "expires_in": "soon"})
    assert typed.status_code == 422
    assert typed.json()["detail"][0]["loc"] == ["body", "expires_in"]

    extra = await http.post("/signatures", json={**SIGNATURE_REQUEST, "receiver_hpp": "1"})
    assert extra.status_code == 422

    path = await http.get("/signatures/12ab")
    assert path.status_code == 422
    assert path.json()["detail"][0]["loc"] == ["path", "receipt_id"]


async def test_app_maps_service_errors(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    unknown = await http.get("/signatures/99999999999")
    assert unknown.status_code == 404
    assert unknown.json()["detail"]["code"] == -11040002

    pending = await post_signature(http)
    not_signed = await http.post(f"/signatures/{pending}/verify")
    assert not_signed.status_code == 409

    sandbox.faults.add(Fault(action="error", endpoints={"request"}, status=503, body="json"))
    failing = await http.post("/signatures", json=SIGNATURE_REQUEST)
    assert failing.status_code == 502
    detail = failing.json()["detail"]
    assert (detail["error"], detail["code"], detail["http_status"]) == ("APIError", -11090005, 503)

    missing = await http.get("/signatures/99999999999/events")
    assert missing.status_code == 404


async def test_app_says_a_lost_verify_must_not_be_retried(
    http: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    receipt_id = await post_signature(http)
    await sandbox.sign(receipt_id)
    sandbox.faults.add(Fault(action="drop", endpoints={"verify"}, times=1))
    response = await http.post(f"/signatures/{receipt_id}/verify")
    assert response.status_code == 504
    detail = response.json()["detail"]
    assert detail["error"] == "VerifyOutcomeUnknown"
    assert detail["receipt_id"] == receipt_id
    assert detail["retry"] is False
    assert "answer was lost" in detail["message"]


async def test_app_verifies_app_to_app_with_the_signature(
    http: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    response = await http.post("/signatures", json={**SIGNATURE_REQUEST, "app_to_app": True})
    receipt = response.json()
    assert receipt["tx_id"]
    await sandbox.sign(receipt["receipt_id"])
    signature = sandbox.signature(receipt["receipt_id"])
    verified = await http.post(
        f"/signatures/{receipt['receipt_id']}/verify", json={"signature": signature}
    )
    assert verified.status_code == 200, verified.text


IDENTITY_CHECK = {
    "receiver_name": "홍길동",
    "receiver_hp": "01012341234",
    "receiver_birthday": "19900108",
}


async def test_app_checks_an_identity(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    response = await http.post("/identity-checks", json={**IDENTITY_CHECK, "payload": "user-7"})
    assert response.status_code == 201, response.text
    assert set(response.json()) == {"receipt_id"}
    receipt_id = response.json()["receipt_id"]
    state = (await http.get(f"/identity-checks/{receipt_id}")).json()
    assert (state["state"], state["payload"]) == ("pending", "user-7")
    assert sandbox.stats["identity.request"] == 1

    polls = sandbox.stats["identity.status"]

    async def person() -> None:
        # Signs in KakaoTalk while the verify route is waiting.
        await eventually(lambda: sandbox.stats["identity.status"] >= polls + 2)
        await sandbox.sign(receipt_id)

    signing = asyncio.create_task(person())
    verified = await http.post(
        f"/identity-checks/{receipt_id}/verify", params={"wait": 10, "interval": 0.05}
    )
    await signing
    assert verified.status_code == 200, verified.text
    body = verified.json()
    assert (body["receipt_id"], body["verified"]) == (receipt_id, True)
    # The one-time token this app made: the text the person signed.
    token = body["token"]
    assert len(token) >= 32
    assert body["signed_data"] == expected_signed_data(sandbox, receipt_id, token)
    assert sandbox.stats["identity.verify"] == 1
    assert sandbox.stats["verify"] == sandbox.stats["status"] == 0

    again = await http.post(f"/identity-checks/{receipt_id}/verify", params={"wait": 1})
    assert again.status_code == 409
    assert again.json()["detail"]["code"] == -11040006  # verified once only
    assert sandbox.stats["identity.verify"] == 2


async def test_app_identity_checks_expire_time_out_and_refuse_bad_fields(
    http: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    bad = await http.post("/identity-checks", json={**IDENTITY_CHECK, "receiver_hp": "010"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "receiver_hp"]
    assert sandbox.stats["identity.request"] == 0

    pending = (await http.post("/identity-checks", json=IDENTITY_CHECK)).json()["receipt_id"]
    timed_out = await http.post(
        f"/identity-checks/{pending}/verify", params={"wait": 0.1, "interval": 0.05}
    )
    assert timed_out.status_code == 408  # still pending
    assert timed_out.json()["detail"]["error"] == "SignTimeout"

    sandbox.faults.add(Fault(action="error", endpoints={"identity.status"}, status=503))
    unreachable = await http.post(
        f"/identity-checks/{pending}/verify", params={"wait": 0.1, "interval": 0.05}
    )
    assert unreachable.status_code == 503  # no state could be read at all
    assert unreachable.json()["detail"]["error"] == "ServiceUnreachable"
    sandbox.faults.clear()

    await sandbox.expire(pending)
    expired = await http.post(f"/identity-checks/{pending}/verify")
    assert expired.status_code == 409
    assert expired.json()["detail"]["state"] == "expired"
    assert sandbox.stats["identity.verify"] == 0


async def test_app_runs_on_a_sandbox_without_credentials(fastapi_app: ModuleType) -> None:
    app = fastapi_app.app
    async with app.router.lifespan_context(app):
        backend = app.state.backend
        assert isinstance(backend.sandbox, Sandbox)
        assert backend.sandbox.settings.sign_after == fastapi_app.SANDBOX_SIGN_AFTER


async def test_app_uses_the_credentials_in_the_environment(
    fastapi_app: ModuleType, served: tuple[Sandbox, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox, url = served
    for name, value in service_env(sandbox, url).items():
        monkeypatch.setenv(name, value)
    app = fastapi_app.create_app()
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app") as http,
    ):
        assert app.state.backend.sandbox is None
        receipt_id = await post_signature(http)
    assert sandbox.state(receipt_id).call_center_num == "1600-0000"


async def test_app_refuses_half_the_credentials(
    fastapi_app: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAKAOCERT_LINK_ID", "SANDBOX")
    app = fastapi_app.create_app()
    with pytest.raises(SystemExit, match="set all of KAKAOCERT_LINK_ID"):
        async with app.router.lifespan_context(app):
            pass


# examples/worker.py -----------------------------------------------------------------


@pytest.fixture
def worker_example(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    module = load_example("worker")
    monkeypatch.setattr(module, "STORE_BACKOFF", 0.0)
    return module


@contextlib.asynccontextmanager
async def sandbox_client(**settings: Any) -> AsyncIterator[tuple[Sandbox, Client]]:
    async with Sandbox(**settings) as sandbox, sandbox.client() as client:
        yield sandbox, client


async def requested(sandbox: Sandbox, client: Client, count: int) -> list[str]:
    return [
        (await client.request_esign(sandbox.client_code, make_request())).receipt_id
        for _ in range(count)
    ]


def rows(path: Path) -> dict[str, tuple[str, str | None, str | None]]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        found = db.execute("SELECT receipt_id, status, signed_data, error FROM receipts")
        return {receipt_id: (status, data, error) for receipt_id, status, data, error in found}


async def test_worker_verifies_once_and_stores_the_signed_data(
    worker_example: ModuleType, tmp_path: Path
) -> None:
    db = tmp_path / "worker.sqlite3"
    async with sandbox_client(sign_after=None) as (sandbox, client):
        ids = await requested(sandbox, client, 5)
        for receipt_id in ids[:-1]:
            await sandbox.sign(receipt_id)
        await sandbox.expire(ids[-1])
        store = worker_example.Store(str(db))
        async with worker_example.Worker(
            client, sandbox.client_code, store, concurrency=3, interval=0.02
        ) as worker:
            for receipt_id in [*ids, ids[0]]:  # a duplicate too
                await worker.submit(receipt_id)
            await worker.join()
        store.close()
        assert sandbox.stats["verify"] == 4
    assert worker.needs_attention == {}
    stored = rows(db)
    for receipt_id in ids[:-1]:
        assert stored[receipt_id] == (
            "verified",
            expected_signed_data(sandbox, receipt_id, TOKEN),
            None,
        )
    assert stored[ids[-1]] == ("expired", None, None)


async def test_worker_awaits_at_most_concurrency_receipts_at_once(
    worker_example: ModuleType,
) -> None:
    in_flight = peak = 0
    async with sandbox_client(sign_after=None) as (sandbox, client):
        await_signed = client.await_signed

        async def counted(*args: Any, **kwargs: Any) -> ESignStatus:
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            try:
                return await await_signed(*args, **kwargs)
            finally:
                in_flight -= 1

        client.await_signed = counted  # type: ignore[method-assign]
        ids = await requested(sandbox, client, 6)
        store = worker_example.Store(":memory:")
        async with worker_example.Worker(
            client, sandbox.client_code, store, concurrency=2, interval=0.02
        ) as worker:
            for receipt_id in ids:
                await worker.submit(receipt_id)
            await eventually(lambda: sandbox.stats["status"] >= 6)  # polls of the first two
            assert (peak, in_flight) == (2, 2)
            for receipt_id in ids:
                await sandbox.sign(receipt_id)
            await worker.join()
        assert [row[1] for row in store.rows()] == ["verified"] * 6
        store.close()
    assert peak == 2


async def test_worker_resumes_pending_receipts_after_a_restart(
    worker_example: ModuleType, tmp_path: Path
) -> None:
    db = str(tmp_path / "worker.sqlite3")
    async with sandbox_client(sign_after=None) as (sandbox, client):
        ids = await requested(sandbox, client, 2)
        store = worker_example.Store(db)
        async with worker_example.Worker(client, sandbox.client_code, store, interval=0.02) as w:
            for receipt_id in ids:
                await w.submit(receipt_id)
            await asyncio.sleep(0.05)  # stopped while both are pending
        store.close()
        assert set(rows(Path(db)).values()) == {("pending", None, None)}

        for receipt_id in ids:
            await sandbox.sign(receipt_id)
        store = worker_example.Store(db)
        async with worker_example.Worker(client, sandbox.client_code, store, interval=0.02) as w:
            assert await w.resume() == []
            await w.join()
        store.close()
    assert {status for status, _, _ in rows(Path(db)).values()} == {"verified"}
    assert sandbox.stats["verify"] == 2


async def test_a_crash_between_verify_and_store_is_reported_not_dropped(
    worker_example: ModuleType, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = str(tmp_path / "worker.sqlite3")

    class FailingStore(worker_example.Store):  # type: ignore[name-defined,misc]
        def save_signed_data(self, receipt_id: str, signed_data: str) -> None:
            raise sqlite3.OperationalError("disk I/O error")

    caplog.set_level(logging.INFO, logger="kakaocert.worker")
    async with sandbox_client(sign_after=0.0) as (sandbox, client):
        (receipt_id,) = await requested(sandbox, client, 1)
        store = FailingStore(db)
        async with worker_example.Worker(client, sandbox.client_code, store, interval=0.02) as w:
            await w.submit(receipt_id)
            await w.join()
        store.close()
        # Reported at once, the signed data kept in memory, the receipt left 'verifying'.
        assert "storing the signed data failed" in w.needs_attention[receipt_id]
        assert w.unstored == {receipt_id: expected_signed_data(sandbox, receipt_id, TOKEN)}
        assert any(
            r.levelno == logging.CRITICAL and receipt_id in r.getMessage() for r in caplog.records
        )
        assert rows(Path(db))[receipt_id][0] == "verifying"
        assert sandbox.stats["verify"] == 1

        # The restart finds it stuck, reports it, and neither verifies it again nor drops it.
        caplog.clear()
        store = worker_example.Store(db)
        async with worker_example.Worker(client, sandbox.client_code, store, interval=0.02) as w:
            assert await w.resume() == [receipt_id]
            await w.submit(receipt_id)  # handed in again: still only reported
            await w.join()
        store.close()
        assert "the signed data may be lost" in w.needs_attention[receipt_id]
        assert any(
            r.levelno == logging.ERROR and f"receipt {receipt_id} needs attention" in r.getMessage()
            for r in caplog.records
        )
        assert sandbox.stats["verify"] == 1
    assert rows(Path(db))[receipt_id][0] == "verifying"


async def test_a_lost_verify_answer_is_recorded_and_reported(
    worker_example: ModuleType, tmp_path: Path
) -> None:
    db = str(tmp_path / "worker.sqlite3")
    async with sandbox_client(sign_after=0.0) as (sandbox, client):
        (receipt_id,) = await requested(sandbox, client, 1)
        sandbox.faults.add(Fault(action="drop", endpoints={"verify"}, times=1))
        store = worker_example.Store(db)
        async with worker_example.Worker(client, sandbox.client_code, store, interval=0.02) as w:
            await w.submit(receipt_id)
            await w.join()
        store.close()
        assert sandbox.stats["verify"] == 1
    status, data, error = rows(Path(db))[receipt_id]
    assert (status, data) == ("failed", None)
    assert error is not None
    assert "answer was lost" in error
    assert "answer was lost" in w.needs_attention[receipt_id]


def test_the_worker_script_runs_on_its_sandbox() -> None:
    command = [sys.executable, str(EXAMPLES / "worker.py"), "--sign-after", "0.1"]
    result = run([*command, "--interval", "0.05"], clean_env())
    assert result.returncode == 0, result.stderr
    statuses = [line.split()[1] for line in result.stdout.splitlines()]
    assert statuses == ["verified"] * 4 + ["expired"]


# examples/wait_for_signature.py -----------------------------------------------------


def test_wait_for_signature_runs_on_its_sandbox() -> None:
    script = [sys.executable, str(EXAMPLES / "wait_for_signature.py")]
    result = run([*script, "--sign-after", "0.2", "--interval", "0.05", "--verify"], clean_env())
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("requested ")
    assert lines[1].split()[2:] == ["pending", lines[1].split()[3], "s", "left"]
    assert lines[-3].split()[2] == "signed"
    assert " signed at " in lines[-2]
    assert lines[-1].startswith("signed data: MIID")


async def test_wait_for_signature_on_a_given_receipt(
    served: tuple[Sandbox, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sandbox, url = served
    for name, value in service_env(sandbox, url).items():
        monkeypatch.setenv(name, value)
    example = load_example("wait_for_signature")
    async with Client(sandbox.link_id, sandbox.secret_key, base_url=url, auth_url=url) as client:
        signed, expired, pending = await requested(sandbox, client, 3)
    await sandbox.sign(signed)
    await sandbox.expire(expired)

    assert await example.main([signed, "--interval", "0.05", "--verify"]) == 0
    out = capsys.readouterr().out
    assert out.endswith(f"signed data: {expected_signed_data(sandbox, signed, TOKEN)}\n")
    assert await example.main([expired, "--interval", "0.05"]) == 2
    assert capsys.readouterr().out.endswith(f"{expired} expired unsigned\n")
    assert await example.main([pending, "--interval", "0.05", "--timeout", "0.15"]) == 3
    assert "timed out: receipt" in capsys.readouterr().err


# The console script, end to end ---------------------------------------------------


def test_console_script_request_wait_verify(served: tuple[Sandbox, str]) -> None:
    sandbox, url = served
    env = clean_env(**service_env(sandbox, url))
    cli = console_script()

    requested = run(
        [*cli, "request", *RECEIVER_FLAGS, "--title", "계약", "--token", TOKEN, "--json"], env
    )
    assert requested.returncode == 0, requested.stderr
    receipt_id = json.loads(requested.stdout)["receipt_id"]
    for value in RECEIVER_FLAGS[1::2]:
        assert value not in requested.stdout + requested.stderr

    sandbox.service.sign(receipt_id)
    waited = run([*cli, "wait", receipt_id, "--interval", "0.05"], env)
    assert waited.returncode == 0, waited.stderr
    assert waited.stdout == "signed\n"
    assert waited.stderr == f"{receipt_id}  signed\n"  # piped: plain lines

    verified = run([*cli, "verify", receipt_id], env)
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout == expected_signed_data(sandbox, receipt_id, TOKEN) + "\n"
    assert sandbox.state(receipt_id).state is SignState.SIGNED
    assert sandbox.state(receipt_id).verify_dt is not None


def test_console_script_exit_codes(served: tuple[Sandbox, str]) -> None:
    sandbox, url = served
    env = clean_env(**service_env(sandbox, url))
    cli = console_script()

    async def two() -> list[str]:
        async with Client(
            sandbox.link_id, sandbox.secret_key, base_url=url, auth_url=url
        ) as client:
            return await requested(sandbox, client, 2)

    expired, pending = asyncio.run(two())
    sandbox.service.expire(expired)

    result = run([*cli, "wait", expired, "--interval", "0.05"], env)
    assert (result.returncode, result.stdout) == (2, "expired\n")

    result = run([*cli, "wait", pending, "--interval", "0.05", "--timeout", "0.2"], env)
    assert result.returncode == 3
    assert result.stderr.splitlines()[-1].startswith("kakaocert-async: timed out: ")

    result = run([*cli, "verify", pending], env)
    assert result.returncode == 1
    assert result.stderr.startswith("kakaocert-async: service error: [-11040004] ")
    assert "Traceback" not in result.stderr

    result = run([*cli, "wait"], env)
    assert result.returncode == 1  # a usage error: not 2, which means expired
    assert len(result.stderr.splitlines()) == 1


def test_python_m_kakaocert_async_demo() -> None:
    """The demo on a fresh checkout: no credentials, no network, a few seconds."""
    result = run(
        [
            sys.executable,
            "-m",
            "kakaocert_async",
            "demo",
            "--sign-after",
            "0.3",
            "--interval",
            "0.05",
        ],
        clean_env(),
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    receipt_id = lines[1].rsplit(" ", 1)[1]
    assert receipt_id.isdigit()
    assert any(re.fullmatch(r"   pending, \d+ s left", line) for line in lines)
    assert "   signed" in lines
    assert "   states seen: pending -> signed" in lines
    assert expected_signed_data(Sandbox(), receipt_id, DEMO_TOKEN) in lines
    assert result.stderr == ""
