"""The fleet benchmark's workers: ``python -m arq benchmarks._fleet_worker.WorkerSettings``.

Configured by ``FLEET_BENCH`` (JSON: the sandbox's URL, the Redis port, the poll
interval, the largest number of jobs per process). The store keeps nothing: the
benchmark measures the waiting.
"""

from __future__ import annotations

import json
import os
from typing import Any

from arq.connections import RedisSettings

from kakaocert_async import Client
from kakaocert_async.arq import ReceiptQueue, Signed
from kakaocert_async.sandbox import DEFAULT_LINK_ID, DEFAULT_SECRET_KEY

SETTINGS: dict[str, Any] = json.loads(os.environ["FLEET_BENCH"])


def make_client() -> Client:
    url = SETTINGS["url"]
    return Client(DEFAULT_LINK_ID, DEFAULT_SECRET_KEY, base_url=url, auth_url=url)


async def store(ctx: dict[Any, Any], signed: Signed) -> None:
    assert signed.signed_data


queue = ReceiptQueue(client=make_client, store=store, interval=SETTINGS["interval"])
WorkerSettings = queue.settings(
    redis_settings=RedisSettings(port=SETTINGS["redis_port"]),
    max_jobs=SETTINGS["max_jobs"],
    poll_delay=0.1,
)
