"""What a worker started as documented (``arq module.WorkerSettings``) shows of the SDK:
its warnings and errors on stderr beside arq's own lines, each once, whether or not the
application configured logging; never a secret or the signed data."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import pytest
from arq.connections import ArqRedis

from kakaocert_async.arq import ReceiptQueue, Stage
from kakaocert_async.sandbox import Fault, Sandbox
from tests._served import ROOT, clean_env, service_env
from tests.fleet._fleet import WORKER
from tests.fleet._redis import RedisServer
from tests.fleet._support import request, signed_data_of

pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning")

QUEUE = {
    "interval": 0.05,
    "wait_slice": 2.0,
    "verify_lease": 2.2,  # 21 exchanges of the client's 0.1 s (no backoff: testing)
    "store_timeout": 1.0,
    "store_attempts": 2,
    "store_backoff": 0.02,
    "redis_patience": 2.0,
}


async def run_worker(
    sandbox: Sandbox,
    receipt_ids: list[str],
    redis: ArqRedis,
    port: int,
    directory: Path,
    *args: str,
    log_at_startup: bool = False,
) -> str:
    """Enqueue the receipts, then run ``arq tests.fleet._worker.WorkerSettings --burst``
    with a store that always fails, until nothing is left to do; its output."""
    queue = ReceiptQueue()
    for receipt_id in receipt_ids:
        assert await queue.enqueue(redis, sandbox.client_code, receipt_id)
    with sandbox.serve_in_thread() as url:
        settings = {
            "redis_port": port,
            "store_dir": str(directory),
            "client_timeout": 0.1,
            "testing": True,
            "store_fails": True,
            "log_at_startup": log_at_startup,
            "queue": QUEUE,
        }
        env = clean_env(**service_env(sandbox, url), FLEET_SETTINGS=json.dumps(settings))
        done = await asyncio.to_thread(
            subprocess.run,
            [*WORKER, "--burst", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 0, done.stdout
    return done.stdout


async def test_a_worker_shows_store_failures_and_receipts_needing_attention(
    redis_process: RedisServer, redis: ArqRedis, tmp_path: Path
) -> None:
    # Two signed receipts: the first verify to arrive has its answer lost (the service
    # acted on it), the other's signed data meets a store that always fails.
    lost = Fault(action="drop", endpoints={"verify"}, times=1)
    async with Sandbox(sign_after=0, faults=[lost]) as sandbox, sandbox.client() as client:
        ids = await request(client, sandbox, 2)
        output = await run_worker(sandbox, ids, redis, redis_process.port, tmp_path)
        records = [await ReceiptQueue().record(redis, sandbox.client_code, rid) for rid in ids]
    stages = {record.receipt_id: record.stage for record in records if record}
    (unknown,) = [rid for rid in ids if stages[rid] is Stage.OUTCOME_UNKNOWN]
    (failing,) = [rid for rid in ids if stages[rid] is Stage.VERIFIED]
    lines = output.splitlines()

    # The store's reason at its first failure, with its traceback, before arq's retry line.
    failed = f": ERROR kakaocert_async.arq: receipt {failing}: the store failed (OSError)"
    first = next(n for n, line in enumerate(lines) if line.endswith(failed))
    job = f":{failing}:kakaocert_await_esign"
    retried = next(n for n, line in enumerate(lines) if f"{job} retrying job in" in line)
    assert first < retried
    assert lines[first + 1] == "Traceback (most recent call last):"
    assert "OSError: the database is down" in lines[first:retried]
    assert sum(line.endswith(failed) for line in lines) == QUEUE["store_attempts"]
    # The lost answer when it happens, and the receipt named as needing attention.
    lost = f"ERROR kakaocert_async.arq: receipt {unknown}: GET /SignToken/Verify/{unknown}: "
    assert lost + "the verify was sent but its answer was lost" in output
    needs = f"ERROR kakaocert_async.arq: receipt {unknown} needs attention: outcome unknown:"
    assert sum(needs in line for line in lines) == 1
    # Never a secret or the signed data.
    assert sandbox.secret_key not in output
    assert not [rid for rid in ids if signed_data_of(sandbox)(rid) in output]


@pytest.mark.parametrize("where", ["command line", "on_startup"])
async def test_logging_the_application_set_up_is_not_doubled(
    where: str, redis_process: RedisServer, redis: ArqRedis, tmp_path: Path
) -> None:
    # The application's handler on the root shows the SDK's lines, set up before the
    # worker started (arq's --custom-log-dict) or after the queue's on_startup (in the
    # application's own): the queue's handler shows none, so each appears once.
    logging = ["--custom-log-dict", "tests.fleet._worker.APP_LOGGING"]
    args = logging if where == "command line" else []
    async with Sandbox(sign_after=0) as sandbox, sandbox.client() as client:
        (receipt_id,) = await request(client, sandbox)
        output = await run_worker(
            sandbox,
            [receipt_id],
            redis,
            redis_process.port,
            tmp_path,
            *args,
            log_at_startup=where == "on_startup",
        )
    failed = f"receipt {receipt_id}: the store failed (OSError)"
    shown = [line for line in output.splitlines() if failed in line]
    assert shown == [f"app: ERROR kakaocert_async.arq: {failed}"] * QUEUE["store_attempts"]
