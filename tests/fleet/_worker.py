"""The fleet tests' worker processes: ``python -m arq tests.fleet._worker.WorkerSettings``.

Configured by the environment: ``KAKAOCERT_*`` (and ``BAROCERT_*``) name the service
(a served sandbox), ``FLEET_SETTINGS`` (JSON) the Redis port, the store's directory,
the client's timeout and the queue's timings; ``kinds`` names the 2.x kinds its queue
serves (e-sign by default), ``barocert`` the Barocert kinds of a second queue with a
``barocert.Client`` (timeout ``barocert_timeout``) on the same worker; ``arq_redis``
``"plain"`` leaves arq's Redis settings as they are (its commands fail at once while
Redis is away; by default they wait out 15 s of outage); ``store_fails``
makes every store raise, ``testing`` turns the SDK's testing switch on (no backoff
waits), ``log_at_startup`` has the application set up its logging in its own
``on_startup`` (:data:`APP_LOGGING` does it on the command line, ``--custom-log-dict``).
The store appends ``<receipt id> <signed data>`` lines to a file of its own per
process, so the test can count what each process stored, even one killed with SIGKILL.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from arq.connections import RedisSettings
from arq.logs import default_log_config

import kakaocert_async
from kakaocert_async import Client, barocert
from kakaocert_async._kinds import named
from kakaocert_async.arq import BAROCERT_KINDS, KINDS, ReceiptQueue, Signed, outage_tolerant

SETTINGS: dict[str, Any] = json.loads(os.environ["FLEET_SETTINGS"])
if SETTINGS.get("testing"):
    kakaocert_async.set_testing(True)

APP_FORMAT = "app: %(levelname)s %(name)s: %(message)s"
APP_LOGGING = default_log_config(verbose=False)
"""``--custom-log-dict``: arq's own logging, and the application's handler on the root."""
APP_LOGGING["handlers"]["app"] = {
    "class": "logging.StreamHandler",
    "formatter": "app",
    "level": "WARNING",
}
APP_LOGGING["formatters"]["app"] = {"format": APP_FORMAT}
APP_LOGGING["root"] = {"handlers": ["app"], "level": "WARNING"}


def make_client() -> Client:
    url = os.environ["KAKAOCERT_API_URL"]
    return Client(
        os.environ["KAKAOCERT_LINK_ID"],
        os.environ["KAKAOCERT_SECRET_KEY"],
        base_url=url,
        auth_url=url,
        timeout=SETTINGS["client_timeout"],
    )


def make_barocert_client() -> barocert.Client:
    return barocert.Client.from_env(timeout=SETTINGS["barocert_timeout"])


async def store(ctx: dict[Any, Any], signed: Signed) -> None:
    if SETTINGS.get("store_fails"):
        raise OSError("the database is down")
    line = f"{signed.receipt_id} {signed.signed_data}\n".encode()
    path = Path(SETTINGS["store_dir"]) / f"{os.getpid()}.stored"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(descriptor, line)  # one write: whole lines even if the process is killed
    finally:
        os.close(descriptor)


async def log_at_startup(ctx: dict[Any, Any]) -> None:
    logging.basicConfig(format=APP_FORMAT)  # after the queue's on_startup


kinds: list[Any] = [named(name, KINDS) for name in SETTINGS.get("kinds", ["esign"])]
queue = ReceiptQueue(client=make_client, store=store, kind=kinds, **SETTINGS["queue"])
redis_settings = RedisSettings(port=SETTINGS["redis_port"])
arq_settings: dict[str, Any] = {
    "redis_settings": (
        redis_settings
        if SETTINGS.get("arq_redis") == "plain"
        else outage_tolerant(redis_settings, seconds=15)
    ),
    "poll_delay": 0.05,
    "max_jobs": SETTINGS.get("max_jobs", 1000),
    "on_startup": log_at_startup if SETTINGS.get("log_at_startup") else None,
}
if SETTINGS.get("barocert"):  # both generations on one worker: a queue of each
    barocert_kinds: list[Any] = [named(name, BAROCERT_KINDS) for name in SETTINGS["barocert"]]
    barocert_queue = ReceiptQueue(
        client=make_barocert_client,
        store=store,
        kind=barocert_kinds,
        **SETTINGS["queue"],
    )
    arq_settings = barocert_queue.settings(**arq_settings)
WorkerSettings = queue.settings(**arq_settings)
