"""``examples/fleet.py``: the FastAPI app and the arq workers, on a real Redis and the sandbox.

- As a script (``--requests 3``): a served sandbox, two ``arq fleet.WorkerSettings``
  processes and the app on a port; three requests stored in SQLite.
- The app's routes in this process (httpx's ASGI transport, the lifespan run), the
  example's own ``WorkerSettings`` in an in-process worker.
"""

from __future__ import annotations

import contextlib
import sqlite3
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import arq
import httpx
import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from kakaocert_async.sandbox import Sandbox
from tests._served import (
    EXAMPLES,
    SERVICE_VARS,
    clean_env,
    expected_signed_data,
    load_example,
    run,
    service_env,
)
from tests.fleet._redis import RedisServer, free_port

pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning")

TOKEN = "동의합니다"
REQUEST = {
    "receiver_name": "홍길동",
    "receiver_hp": "01012341234",
    "receiver_birthday": "19900108",
    "tms_title": "약관 동의",
    "token": TOKEN,
}


def stored(database: Path) -> dict[str, str]:
    with contextlib.closing(sqlite3.connect(database)) as db:
        return dict(db.execute("SELECT receipt_id, signed_data FROM signatures").fetchall())


def test_the_fleet_example_runs_as_a_script(redis_process: RedisServer, tmp_path: Path) -> None:
    database = tmp_path / "signatures.sqlite3"
    env = clean_env(KAKAOCERT_REDIS_URL=redis_process.url, KAKAOCERT_FLEET_DB=str(database))
    command = [sys.executable, str(EXAMPLES / "fleet.py"), "--requests", "3"]
    result = run([*command, "--sign-after", "0.2", "--port", str(free_port())], env, timeout=90)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [line.split() for line in result.stdout.splitlines() if line.endswith("stored")]
    assert len(lines) == 3
    sandbox = Sandbox()  # the same public key as the script's: the same signed data
    assert stored(database) == {
        receipt_id: expected_signed_data(sandbox, receipt_id, TOKEN) for receipt_id, _ in lines
    }


def test_the_fleet_example_refuses_without_redis(tmp_path: Path) -> None:
    env = clean_env(KAKAOCERT_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    result = run([sys.executable, str(EXAMPLES / "fleet.py"), "--requests", "1"], env)
    assert result.returncode == 1
    assert "no Redis at redis://127.0.0.1:" in result.stderr


@pytest.fixture
def served() -> Iterator[tuple[Sandbox, str]]:
    sandbox = Sandbox()
    with sandbox.serve_in_thread() as url:
        yield sandbox, url


@pytest.fixture
def fleet(
    served: tuple[Sandbox, str],
    redis_process: RedisServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> ModuleType:
    for name in SERVICE_VARS:
        monkeypatch.delenv(name, raising=False)
    env = service_env(*served)
    env["KAKAOCERT_REDIS_URL"] = redis_process.url
    env["KAKAOCERT_FLEET_DB"] = str(tmp_path / "signatures.sqlite3")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return load_example("fleet")


@pytest.fixture
async def http(fleet: ModuleType) -> AsyncIterator[httpx.AsyncClient]:
    app = fleet.create_app()
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app") as http,
    ):
        yield http


async def work(fleet: ModuleType) -> None:
    """The example's own worker settings, in this process, until its queue is empty."""
    settings: dict[str, Any] = {
        **fleet.WorkerSettings,
        "redis_settings": fleet.redis_settings(),  # read now: the test's Redis
        "burst": True,
        "poll_delay": 0.01,
        "handle_signals": False,
    }
    worker = arq.Worker(**settings)
    try:
        await worker.main()
    finally:
        await worker.close()


async def test_the_app_enqueues_the_wait_and_shows_the_record(
    fleet: ModuleType, http: httpx.AsyncClient, served: tuple[Sandbox, str], tmp_path: Path
) -> None:
    sandbox, _ = served
    response = await http.post("/signatures", json=REQUEST)
    assert response.status_code == 202, response.text
    receipt_id = response.json()["receipt_id"]
    assert response.json() == {"receipt_id": receipt_id, "stage": "waiting"}
    record = (await http.get(f"/signatures/{receipt_id}")).json()
    assert record["stage"] == "waiting"
    assert set(record) == {"receipt_id", "stage", "created_at", "updated_at", "verify_dt", "error"}

    again = (await http.post(f"/signatures/{receipt_id}/wait")).json()
    assert (again["stage"], again["enqueued"]) == ("waiting", False)  # one job per receipt

    await sandbox.sign(receipt_id)
    await work(fleet)
    record = (await http.get(f"/signatures/{receipt_id}")).json()
    assert record["stage"] == "stored"
    assert "signed_data" not in record
    data = expected_signed_data(sandbox, receipt_id, TOKEN)
    assert stored(tmp_path / "signatures.sqlite3") == {receipt_id: data}
    assert sandbox.verify_counts == {receipt_id: 1}

    again = (await http.post(f"/signatures/{receipt_id}/wait")).json()
    assert (again["stage"], again["enqueued"]) == ("stored", False)
    assert (await http.get("/signatures/000000000000000009")).status_code == 404


async def test_the_app_answers_422_and_says_when_the_wait_is_not_enqueued(
    fleet: ModuleType,
    http: httpx.AsyncClient,
    served: tuple[Sandbox, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sandbox, _ = served
    bad = await http.post("/signatures", json={**REQUEST, "receiver_hp": "010-1234"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "receiver_hp"]
    app_to_app = await http.post("/signatures", json={**REQUEST, "app_to_app": True})
    assert app_to_app.status_code == 422
    assert sandbox.stats["request"] == 0  # refused before anything was sent

    async def redis_down(*args: object) -> bool:
        raise RedisConnectionError("Redis is down")

    monkeypatch.setattr(fleet.receipts, "enqueue", redis_down)
    response = await http.post("/signatures", json=REQUEST)
    assert response.status_code == 503
    detail = response.json()["detail"]
    receipt_id = detail["receipt_id"]
    assert detail["retry"] == f"POST /signatures/{receipt_id}/wait"
    assert sandbox.stats["request"] == 1  # sent once; the retry is the wait, not the request
