"""The fleet tests' worker processes: ``python -m arq tests.fleet._worker.WorkerSettings``.

Configured by the environment: ``KAKAOCERT_*`` name the service (a served sandbox),
``FLEET_SETTINGS`` (JSON) the Redis port, the store's directory and the queue's timings.
The store appends ``<receipt id> <signed data>`` lines to a file of its own per process,
so the test can count what each process stored, even one killed with SIGKILL.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from arq.connections import RedisSettings

from kakaocert_async import Client
from kakaocert_async.arq import ReceiptQueue, Signed, outage_tolerant

SETTINGS: dict[str, Any] = json.loads(os.environ["FLEET_SETTINGS"])


def make_client() -> Client:
    url = os.environ["KAKAOCERT_API_URL"]
    return Client(
        os.environ["KAKAOCERT_LINK_ID"],
        os.environ["KAKAOCERT_SECRET_KEY"],
        base_url=url,
        auth_url=url,
        timeout=5.0,
    )


async def store(ctx: dict[Any, Any], signed: Signed) -> None:
    line = f"{signed.receipt_id} {signed.signed_data}\n".encode()
    path = Path(SETTINGS["store_dir"]) / f"{os.getpid()}.stored"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(descriptor, line)  # one write: whole lines even if the process is killed
    finally:
        os.close(descriptor)


queue = ReceiptQueue(client=make_client, store=store, **SETTINGS["queue"])
WorkerSettings = queue.settings(
    redis_settings=outage_tolerant(RedisSettings(port=SETTINGS["redis_port"]), seconds=15),
    poll_delay=0.05,
    max_jobs=SETTINGS.get("max_jobs", 1000),
)
