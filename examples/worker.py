"""An async worker: await signatures, verify each exactly once, keep the signed data in SQLite.

Receipt ids arrive on a queue (an ``asyncio.Queue`` here; your message broker in
production). For each, the worker awaits the signature (at most ``concurrency``
at a time), verifies it, and commits the signed data to SQLite before it
acknowledges the receipt. The service answers a verify only once, so the
table records each step before it is taken::

    pending ──> verifying ──> verified    (signed_data stored)
       │            └───────> failed      (the verify was refused, or its answer was lost)
       ├──> expired
       └──> failed                        (the receipt could not be read)

A receipt is ``pending`` as soon as it is submitted, so a restart resumes it. A
receipt still ``verifying`` at a restart was verified by a worker that stopped
before storing the answer: the signed data may be lost and a second verify would
be refused, so it is reported (and left as it is for someone to look at), never
verified again and never dropped. If the database fails just after a verify,
the signed data is kept in ``Worker.unstored`` and the receipt reported the same
way.

Run it::

    python examples/worker.py                        # in-process sandbox: 5 requests
    python examples/worker.py --db signatures.sqlite3 RECEIPT_ID ...   # KAKAOCERT_* set

With ``KAKAOCERT_LINK_ID``, ``KAKAOCERT_SECRET_KEY`` and ``KAKAOCERT_CLIENT_CODE``
set it works on the receipts given (and any left pending in ``--db``) against the
real service (``KAKAOCERT_API_URL`` / ``KAKAOCERT_AUTH_URL`` point it elsewhere);
without them it makes a few requests on an in-process sandbox and works on those.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sqlite3
import sys
import threading
import time
from collections.abc import AsyncIterator, Sequence
from types import TracebackType

from kakaocert_async import (
    Client,
    ESignReceipt,
    ESignRequest,
    KakaocertError,
    SignState,
    VerifyOutcomeUnknown,
)
from kakaocert_async.sandbox import DEFAULT_SIGN_AFTER, Sandbox

log = logging.getLogger("kakaocert.worker")


CREDENTIALS = ("KAKAOCERT_LINK_ID", "KAKAOCERT_SECRET_KEY", "KAKAOCERT_CLIENT_CODE")


@contextlib.asynccontextmanager
async def connect(
    *, sandbox: Sandbox | None = None, sign_after: float | None = DEFAULT_SIGN_AFTER
) -> AsyncIterator[tuple[Client, str, Sandbox | None]]:
    """``(client, client_code, sandbox)``: the real service's (sandbox ``None``) when the
    ``KAKAOCERT_*`` credentials are set and no ``sandbox`` is given, else the sandbox's
    (``sandbox``, or a new in-process one signing ``sign_after`` seconds after a request)."""
    values = [os.environ.get(name, "") for name in CREDENTIALS]
    if sandbox is None and all(values):
        async with Client.from_env() as client:  # reads the same variables, names a bad one
            yield client, values[2], None
        return
    if sandbox is None and any(values):
        raise SystemExit(f"set all of {', '.join(CREDENTIALS)}, or none for the sandbox")
    sandbox = sandbox or Sandbox(sign_after=sign_after)
    async with sandbox, sandbox.client() as client:
        yield client, sandbox.client_code, sandbox


PENDING = "pending"
VERIFYING = "verifying"
VERIFIED = "verified"
EXPIRED = "expired"
FAILED = "failed"

STORE_ATTEMPTS = 3
STORE_BACKOFF = 0.05
"""Seconds before the second attempt to store signed data (then twice that, ...)."""


class Store:
    """The receipts table. Every method commits before it returns.

    Synchronous (``sqlite3``); the worker runs each call in a thread with
    ``asyncio.to_thread``. One connection, used by one thread at a time.
    """

    def __init__(self, path: str) -> None:
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock, self._db:
            self._db.execute("PRAGMA synchronous = FULL")
            self._db.execute(
                """CREATE TABLE IF NOT EXISTS receipts (
                    receipt_id  TEXT PRIMARY KEY,
                    status      TEXT NOT NULL,
                    signed_data TEXT,
                    error       TEXT,
                    updated_at  REAL NOT NULL
                )"""
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _write(self, sql: str, *params: object) -> int:
        with self._lock, self._db:  # one transaction, committed on leaving
            return self._db.execute(sql, params).rowcount

    def add(self, receipt_id: str) -> str:
        """Record a new receipt as pending (a known one is kept); its status."""
        self._write(
            "INSERT OR IGNORE INTO receipts (receipt_id, status, updated_at) VALUES (?, ?, ?)",
            receipt_id,
            PENDING,
            time.time(),
        )
        return self.status(receipt_id)

    def start_verify(self, receipt_id: str) -> bool:
        """Pending -> verifying, before the verify is sent; ``False`` if it was not pending."""
        changed = self._write(
            "UPDATE receipts SET status = ?, updated_at = ? WHERE receipt_id = ? AND status = ?",
            VERIFYING,
            time.time(),
            receipt_id,
            PENDING,
        )
        return changed == 1

    def save_signed_data(self, receipt_id: str, signed_data: str) -> None:
        """Verifying -> verified, with the signed data."""
        self._write(
            "UPDATE receipts SET status = ?, signed_data = ?, error = NULL, updated_at = ?"
            " WHERE receipt_id = ? AND status = ?",
            VERIFIED,
            signed_data,
            time.time(),
            receipt_id,
            VERIFYING,
        )

    def finish(self, receipt_id: str, status: str, error: str | None = None) -> None:
        """Pending or verifying -> expired or failed."""
        self._write(
            "UPDATE receipts SET status = ?, error = ?, updated_at = ? WHERE receipt_id = ?",
            status,
            error,
            time.time(),
            receipt_id,
        )

    def status(self, receipt_id: str) -> str:
        with self._lock:
            row = self._db.execute(
                "SELECT status FROM receipts WHERE receipt_id = ?", (receipt_id,)
            ).fetchone()
        if row is None:
            raise KeyError(receipt_id)
        status: str = row[0]
        return status

    def with_status(self, status: str) -> list[str]:
        with self._lock:
            rows = self._db.execute(
                "SELECT receipt_id FROM receipts WHERE status = ? ORDER BY updated_at", (status,)
            ).fetchall()
        return [row[0] for row in rows]

    def rows(self) -> list[tuple[str, str, str | None, str | None]]:
        """Every receipt: ``(receipt_id, status, signed_data, error)``."""
        with self._lock:
            rows = self._db.execute(
                "SELECT receipt_id, status, signed_data, error FROM receipts ORDER BY receipt_id"
            ).fetchall()
        return [tuple(row) for row in rows]


class Worker:
    """Awaits, verifies and stores the receipts submitted to it, ``concurrency`` at a time.

    ::

        async with Worker(client, client_code, store) as worker:
            await worker.resume()            # after a restart: pending ones again
            await worker.submit(receipt_id)  # recorded as pending, then queued
            await worker.join()              # until every queued one is acknowledged
    """

    def __init__(
        self,
        client: Client,
        client_code: str,
        store: Store,
        *,
        concurrency: int = 8,
        interval: float | None = None,
    ) -> None:
        self.client = client
        self.client_code = client_code
        self.store = store
        self.concurrency = concurrency
        self.interval = interval
        self.needs_attention: dict[str, str] = {}
        """Receipts whose signed data may be lost, with why: look at them by hand."""
        self.unstored: dict[str, str] = {}
        """Signed data verified but not stored (the database failed): save it elsewhere."""
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._queued: set[str] = set()
        self._tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> Worker:
        self._tasks = [
            asyncio.create_task(self._consume(), name=f"kakaocert-worker-{n}")
            for n in range(self.concurrency)
        ]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def submit(self, receipt_id: str) -> None:
        """Take a receipt: recorded as pending (durably) first, then queued."""
        status = await asyncio.to_thread(self.store.add, receipt_id)
        if status == PENDING:
            self._enqueue(receipt_id)
        elif status == VERIFYING:
            self._report_stuck(receipt_id)

    async def resume(self) -> list[str]:
        """Queue the receipts left pending; report (and return) those left verifying."""
        # The ones left verifying are read first: a pending one queued now may be
        # verifying (this run's own verify) by the time a later read looks.
        stuck = await asyncio.to_thread(self.store.with_status, VERIFYING)
        for receipt_id in await asyncio.to_thread(self.store.with_status, PENDING):
            self._enqueue(receipt_id)
        for receipt_id in stuck:
            self._report_stuck(receipt_id)
        return stuck

    async def join(self) -> None:
        """Wait until every queued receipt is acknowledged."""
        await self._queue.join()

    def _enqueue(self, receipt_id: str) -> None:
        if receipt_id not in self._queued:
            self._queued.add(receipt_id)
            self._queue.put_nowait(receipt_id)

    def _report_stuck(self, receipt_id: str) -> None:
        why = (
            "a verify was sent but its answer was never stored (the worker stopped in"
            " between): the signed data may be lost, and a second verify would be refused"
        )
        self.needs_attention[receipt_id] = why
        log.error("receipt %s needs attention: %s", receipt_id, why)

    async def _consume(self) -> None:
        while True:
            receipt_id = await self._queue.get()
            try:
                await self._process(receipt_id)
            except Exception:
                # The database failed before the verify: the receipt is still
                # pending, and the next start resumes it.
                log.exception("receipt %s: not processed, left for the next start", receipt_id)
            finally:
                self._queued.discard(receipt_id)
                self._queue.task_done()  # acknowledged: its outcome is committed, or reported

    async def _process(self, receipt_id: str) -> None:
        try:
            status = await self.client.await_signed(
                self.client_code, ESignReceipt(receipt_id=receipt_id), interval=self.interval
            )
        except KakaocertError as exc:  # an unknown receipt, a timeout, ...
            log.warning("receipt %s failed: %s", receipt_id, exc)
            await asyncio.to_thread(self.store.finish, receipt_id, FAILED, str(exc))
            return
        if status.state is SignState.EXPIRED:
            log.info("receipt %s expired", receipt_id)
            await asyncio.to_thread(self.store.finish, receipt_id, EXPIRED)
            return

        # Recorded before the one verify the service answers, so that a crash
        # after it is noticed at the next start instead of verifying again.
        if not await asyncio.to_thread(self.store.start_verify, receipt_id):
            return  # not pending any more: another worker has it
        try:
            verification = await self.client.verify_esign(self.client_code, receipt_id)
        except VerifyOutcomeUnknown as exc:
            self.needs_attention[receipt_id] = exc.message
            log.error("receipt %s needs attention: %s", receipt_id, exc.message)
            await asyncio.to_thread(self.store.finish, receipt_id, FAILED, str(exc))
            return
        except KakaocertError as exc:  # refused, so not consumed by this verify
            log.warning("receipt %s: verify refused: %s", receipt_id, exc)
            await asyncio.to_thread(self.store.finish, receipt_id, FAILED, str(exc))
            return
        await self._store_signed_data(receipt_id, verification.signed_data)

    async def _store_signed_data(self, receipt_id: str, signed_data: str) -> None:
        """Commit the signed data, retrying a busy database a few times; if it still fails,
        keep it in :attr:`unstored` and report the receipt, which stays 'verifying'."""
        for attempt in range(1, STORE_ATTEMPTS + 1):
            try:
                await asyncio.to_thread(self.store.save_signed_data, receipt_id, signed_data)
            except Exception as exc:
                if attempt < STORE_ATTEMPTS:
                    await asyncio.sleep(STORE_BACKOFF * attempt)
                    continue
                self.unstored[receipt_id] = signed_data
                why = f"verified, but storing the signed data failed ({exc!r})"
                self.needs_attention[receipt_id] = why
                log.critical("receipt %s needs attention: %s", receipt_id, why)
            else:
                log.info("receipt %s verified and stored", receipt_id)
            return


# Running it -----------------------------------------------------------------------


async def sandbox_receipts(sandbox: Sandbox, client: Client, count: int) -> list[str]:
    """Make ``count`` requests on the sandbox; the last one expires unsigned."""
    request = ESignRequest(
        call_center_num="1600-0000",
        expires_in=300,
        receiver_birthday="19900108",
        receiver_hp="01012341234",
        receiver_name="홍길동",
        token="worker example",  # noqa: S106 -- the text signed, not a secret
        tms_title="worker example",
        allow_simple_regist=False,
        verify_name=True,
    )
    ids = [
        (await client.request_esign(sandbox.client_code, request)).receipt_id for _ in range(count)
    ]
    await sandbox.expire(ids[-1])
    return ids


def positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be above 0")
    return value


async def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Await, verify and store signatures.")
    parser.add_argument("receipt_ids", nargs="*", metavar="RECEIPT_ID")
    parser.add_argument("--db", help="the SQLite file (sandbox: in memory)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--interval", type=float, default=None, help="seconds between polls")
    parser.add_argument("--sign-after", type=positive, default=1.0, help="sandbox: seconds")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)

    async with connect(sign_after=args.sign_after) as (client, client_code, sandbox):
        if sandbox is not None:
            receipt_ids = await sandbox_receipts(sandbox, client, 5)
            db = args.db or ":memory:"
        else:
            receipt_ids = args.receipt_ids
            db = args.db or "signatures.sqlite3"
        store = Store(db)
        try:
            async with Worker(
                client, client_code, store, concurrency=args.concurrency, interval=args.interval
            ) as worker:
                await worker.resume()
                for receipt_id in receipt_ids:
                    await worker.submit(receipt_id)
                await worker.join()
            for receipt_id, status, signed_data, error in store.rows():
                detail = f"{len(signed_data)} characters" if signed_data else (error or "")
                print(f"{receipt_id}  {status:<9}  {detail}")
        finally:
            store.close()
    return 1 if worker.needs_attention else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
