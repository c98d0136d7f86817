"""Many processes: a FastAPI app requests signatures and enqueues the waits; arq workers
await them, verify each exactly once and store the signed data in SQLite.

The waits live in Redis, not in the app: deploy or restart the app and the workers
while requests are outstanding, and nothing is lost or verified twice (see
``kakaocert_async.arq``). Everything talks to one service, named by
``KAKAOCERT_LINK_ID``, ``KAKAOCERT_SECRET_KEY``, ``KAKAOCERT_CLIENT_CODE``,
``KAKAOCERT_CALL_CENTER`` (and ``KAKAOCERT_API_URL`` / ``KAKAOCERT_AUTH_URL`` for a
sandbox); Redis is ``KAKAOCERT_REDIS_URL`` (``redis://127.0.0.1:6379/0``) and the
database ``KAKAOCERT_FLEET_DB`` (``signatures.sqlite3``).

It takes the request model and the error mapping of ``fastapi_app.py``: copy the two
files together.

All in one command, on a served sandbox that signs 3 s after each request (needs
``pip install 'kakaocert-async[arq,sandbox]' fastapi uvicorn`` and a Redis)::

    redis-server --save '' --appendonly no &          # or any Redis you have
    python examples/fleet.py                           # sandbox, 2 workers, app on :8000
    python examples/fleet.py --requests 5              # ... and 5 requests through it

Or each part on its own, as in production (from ``examples/``)::

    arq fleet.WorkerSettings                           # as many as you like
    uvicorn fleet:app --port 8000

and try it::

    curl -s localhost:8000/signatures -H 'content-type: application/json' -d '{
      "receiver_name": "홍길동", "receiver_hp": "01012341234",
      "receiver_birthday": "19900108", "tms_title": "약관 동의", "token": "동의합니다"}'
    curl -s localhost:8000/signatures/RECEIPT_ID      # waiting ... stored

Routes:

- ``POST /signatures``: request a signature and enqueue its wait -> 202
  ``{"receipt_id", "stage"}``. If Redis failed after the request was sent, the
  answer is 503 with the receipt id: ``POST /signatures/{id}/wait`` enqueues it
  (never the request again: that would message the receiver twice).
- ``POST /signatures/{id}/wait``: enqueue the wait of a receipt; idempotent.
- ``GET /signatures/{id}``: how far it got: ``waiting``, ``verifying``, ``verified``,
  ``stored``, ``expired``, ``outcome-unknown`` or ``failed`` (never the signed data).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import httpx
import uvicorn
from arq.connections import ArqRedis, RedisSettings, create_pool
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi_app import SignatureRequest, kakaocert_error  # examples/fastapi_app.py
from redis.asyncio import Redis
from redis.exceptions import RedisError

from kakaocert_async import API_URL, AUTH_URL, Client, KakaocertError, ValidationError
from kakaocert_async.arq import ReceiptQueue, Record, Signed, outage_tolerant
from kakaocert_async.sandbox import Sandbox

CREDENTIALS = ("KAKAOCERT_LINK_ID", "KAKAOCERT_SECRET_KEY", "KAKAOCERT_CLIENT_CODE")
REDIS_URL = "redis://127.0.0.1:6379/0"
DATABASE = "signatures.sqlite3"
HERE = Path(__file__).resolve().parent


def redis_settings() -> RedisSettings:
    """Redis from ``KAKAOCERT_REDIS_URL``, its commands retried through a short outage."""
    settings = RedisSettings.from_dsn(os.environ.get("KAKAOCERT_REDIS_URL", REDIS_URL))
    return outage_tolerant(settings, seconds=30)


def make_client() -> Client:
    """The service named by the environment (one Client per process)."""
    values = [os.environ.get(name, "") for name in CREDENTIALS]
    if not all(values):
        raise SystemExit(
            f"set {', '.join(CREDENTIALS)}: every process must reach the same service"
            " (for a sandbox: kakaocert-async sandbox --port 8100, and point"
            " KAKAOCERT_API_URL and KAKAOCERT_AUTH_URL at it)"
        )
    link_id, secret_key, _ = values
    return Client(
        link_id,
        secret_key,
        base_url=os.environ.get("KAKAOCERT_API_URL", API_URL),
        auth_url=os.environ.get("KAKAOCERT_AUTH_URL", AUTH_URL),
    )


# The workers ----------------------------------------------------------------------


def database() -> sqlite3.Connection:
    db = sqlite3.connect(os.environ.get("KAKAOCERT_FLEET_DB", DATABASE), timeout=30)
    db.execute("PRAGMA journal_mode = WAL")  # several worker processes write
    return db


def create_table() -> None:
    with contextlib.closing(database()) as db, db:
        db.execute(
            """CREATE TABLE IF NOT EXISTS signatures (
                receipt_id  TEXT PRIMARY KEY,
                client_code TEXT NOT NULL,
                signed_data TEXT NOT NULL,
                stored_at   TEXT NOT NULL
            )"""
        )


def insert(signed: Signed) -> None:
    # Idempotent by receipt id: a worker killed between this commit and the record's
    # "stored" makes the next run call the store again with the same data.
    with contextlib.closing(database()) as db, db:
        db.execute(
            "INSERT INTO signatures VALUES (?, ?, ?, ?) ON CONFLICT (receipt_id) DO NOTHING",
            (
                signed.receipt_id,
                signed.client_code,
                signed.signed_data,
                dt.datetime.now(dt.timezone.utc).isoformat(),
            ),
        )


async def store(ctx: dict[Any, Any], signed: Signed) -> None:
    """Commit the signed data; the job acknowledges only after this returns."""
    await asyncio.to_thread(insert, signed)


async def startup(ctx: dict[Any, Any]) -> None:
    await asyncio.to_thread(create_table)


receipts = ReceiptQueue(client=make_client, store=store)
WorkerSettings = receipts.settings(redis_settings=redis_settings(), on_startup=startup)
"""``arq fleet.WorkerSettings``: the job, one Client per process, your start-up hook."""


# The app --------------------------------------------------------------------------


@dataclass(frozen=True)
class Shared:
    """What the routes share: the client, as whom it calls, and the arq pool."""

    client: Client
    client_code: str
    call_center: str
    redis: ArqRedis


def create_app() -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        call_center = os.environ.get("KAKAOCERT_CALL_CENTER", "")
        if not call_center:
            raise SystemExit("set KAKAOCERT_CALL_CENTER: the number shown in the message")
        redis = await create_pool(redis_settings())
        try:
            async with make_client() as client:
                code = os.environ["KAKAOCERT_CLIENT_CODE"]
                app.state.shared = Shared(client, code, call_center, redis)
                yield
        finally:
            await redis.aclose(close_connection_pool=True)

    app = FastAPI(title="KakaoCert e-signatures, awaited by a worker fleet", lifespan=lifespan)
    app.add_exception_handler(KakaocertError, kakaocert_error)  # type: ignore[arg-type]
    app.add_api_route("/signatures", request_signature, methods=["POST"], status_code=202)
    app.add_api_route("/signatures/{receipt_id}/wait", enqueue_wait, methods=["POST"])
    app.add_api_route("/signatures/{receipt_id}", signature_record, methods=["GET"])
    return app


def shared(request: Request) -> Shared:
    found: Shared = request.app.state.shared
    return found


State = Annotated[Shared, Depends(shared)]


def as_json(record: Record) -> dict[str, Any]:
    """The record without the signed data (held only until the store returned)."""
    return {
        "receipt_id": record.receipt_id,
        "stage": record.stage.value,
        "created_at": record.created_at.isoformat(),
        "updated_at": record.updated_at.isoformat(),
        "verify_dt": record.verify_dt.isoformat() if record.verify_dt else None,
        "error": record.error,
    }


async def request_signature(body: SignatureRequest, state: State) -> Any:
    """Send the request (once), then enqueue its wait."""
    if body.app_to_app:
        raise ValidationError("app_to_app", "the fleet awaits KakaoTalk-message requests only")
    receipt = await state.client.request_esign(state.client_code, body.to_esign(state.call_center))
    try:
        await receipts.enqueue(state.redis, state.client_code, receipt.receipt_id)
    except RedisError as exc:
        # Sent, but not enqueued: never send it again; enqueue it when Redis is back.
        detail = {
            "receipt_id": receipt.receipt_id,
            "message": f"the request was sent, but its wait is not enqueued ({exc})",
            "retry": f"POST /signatures/{receipt.receipt_id}/wait",
        }
        return JSONResponse({"detail": detail}, status_code=503)
    return {"receipt_id": receipt.receipt_id, "stage": "waiting"}


async def enqueue_wait(receipt_id: str, state: State) -> dict[str, Any]:
    """Enqueue the wait of a receipt (idempotent): its record, and whether a job started."""
    started = await receipts.enqueue(state.redis, state.client_code, receipt_id)
    record = await receipts.record(state.redis, state.client_code, receipt_id)
    assert record is not None
    return {**as_json(record), "enqueued": started}


async def signature_record(receipt_id: str, state: State) -> Any:
    """How far the receipt got (404 if it was never enqueued)."""
    record = await receipts.record(state.redis, state.client_code, receipt_id)
    if record is None:
        return JSONResponse({"detail": "no such receipt"}, status_code=404)
    return as_json(record)


app = create_app()


# All in one -----------------------------------------------------------------------


def check_redis() -> None:
    url = os.environ.get("KAKAOCERT_REDIS_URL", REDIS_URL)

    async def ping() -> None:
        async with Redis.from_url(url, socket_connect_timeout=2) as redis:
            await redis.ping()

    try:
        asyncio.run(ping())
    except (RedisError, OSError):
        raise SystemExit(
            f"no Redis at {url}: start one (redis-server --save '' --appendonly no)"
            " or set KAKAOCERT_REDIS_URL"
        ) from None


def use_sandbox(stack: contextlib.ExitStack, sign_after: float) -> None:
    """Serve a sandbox from a thread and point this process and its workers at it."""
    sandbox = Sandbox(sign_after=sign_after)
    url = stack.enter_context(sandbox.serve_in_thread())
    os.environ.update(
        KAKAOCERT_LINK_ID=sandbox.link_id,
        KAKAOCERT_SECRET_KEY=sandbox.secret_key,
        KAKAOCERT_CLIENT_CODE=sandbox.client_code,
        KAKAOCERT_API_URL=url,
        KAKAOCERT_AUTH_URL=url,
        KAKAOCERT_CALL_CENTER="1600-0000",
    )
    print(f"sandbox on {url}, signing {sign_after:g} s after each request", flush=True)


@contextlib.contextmanager
def workers(count: int) -> Iterator[None]:
    """``count`` processes running ``arq fleet.WorkerSettings``, stopped (SIGTERM) at the end."""
    command = [sys.executable, "-m", "arq", "fleet.WorkerSettings"]
    processes = [subprocess.Popen(command, cwd=HERE) for _ in range(count)]  # noqa: S603
    try:
        yield
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


@contextlib.contextmanager
def serving(server: uvicorn.Server) -> Iterator[None]:
    """Run the app's server in a thread for the block."""
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise SystemExit("the app did not start")
        time.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)


async def try_it(url: str, count: int) -> int:
    """Make ``count`` requests through the app; print each record once it is final."""
    body = {
        "receiver_name": "홍길동",
        "receiver_hp": "01012341234",
        "receiver_birthday": "19900108",
        "tms_title": "fleet example",
        "token": "동의합니다",
    }
    final = {"stored", "expired", "outcome-unknown", "failed"}
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        ids = []
        for _ in range(count):
            response = await http.post("/signatures", json=body)
            response.raise_for_status()
            ids.append(response.json()["receipt_id"])
        stages = []
        for receipt_id in ids:
            record = (await http.get(f"/signatures/{receipt_id}")).json()
            while record["stage"] not in final:
                await asyncio.sleep(0.1)
                record = (await http.get(f"/signatures/{receipt_id}")).json()
            print(f"{receipt_id}  {record['stage']}", flush=True)
            stages.append(record["stage"])
    return 0 if set(stages) == {"stored"} else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The app and its workers, in one command.")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=2, help="arq worker processes")
    parser.add_argument("--requests", type=int, default=0, help="make these, then exit")
    parser.add_argument("--sign-after", type=float, default=3.0, help="sandbox: seconds")
    args = parser.parse_args(argv)
    check_redis()
    with contextlib.ExitStack() as stack:
        if not any(os.environ.get(name) for name in CREDENTIALS):
            use_sandbox(stack, args.sign_after)
        stack.enter_context(workers(args.workers))
        config = uvicorn.Config(app, host="127.0.0.1", port=args.port, log_level="warning")
        server = uvicorn.Server(config)
        if not args.requests:
            print(f"the app on http://127.0.0.1:{args.port}/docs (Ctrl+C stops it all)")
            server.run()
            return 0
        stack.enter_context(serving(server))
        return asyncio.run(try_it(f"http://127.0.0.1:{args.port}", args.requests))


if __name__ == "__main__":
    sys.exit(main())
