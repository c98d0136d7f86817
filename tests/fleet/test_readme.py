"""The "Many processes" snippets (docs/quickstart.md) run as written, on Redis and the sandbox.

``tests/test_readme.py`` runs every other snippet; these two need Redis, so they
run here, among the fleet tests.
"""

from __future__ import annotations

import textwrap
from typing import Any

from arq.connections import ArqRedis

from kakaocert_async.arq import ReceiptQueue
from kakaocert_async.sandbox import Sandbox
from tests._support import make_request
from tests.test_readme import snippets

DOCUMENT = "docs/quickstart.md"  # its "Many processes" section


def _snippet(index: int) -> str:
    (code,) = [code for document, i, code in snippets() if (document, i) == (DOCUMENT, index)]
    return code


def _signing_module() -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "signing"}
    exec(compile(_snippet(0), "docs/quickstart.md (signing.py)", "exec"), namespace)  # noqa: S102
    return namespace


def test_the_worker_module_builds_its_settings() -> None:
    signing = _signing_module()
    receipts = signing["receipts"]
    assert isinstance(receipts, ReceiptQueue)
    settings = signing["WorkerSettings"]
    assert settings["functions"]
    assert settings["on_startup"] is not None
    assert settings["on_shutdown"] is not None
    # make_client is only called at a worker's start-up (with your keys in place of
    # the placeholders), never on import.
    assert callable(signing["make_client"])


async def test_the_web_app_lines_enqueue_and_read_the_record(redis: ArqRedis) -> None:
    receipts = _signing_module()["receipts"]
    body = textwrap.indent(_snippet(1), "    ")
    source = f"async def web_app(client, client_code, request, receipts, redis):\n{body}\n"
    source += "    return record\n"
    namespace: dict[str, Any] = {}
    exec(compile(source, "docs/quickstart.md (the web app)", "exec"), namespace)  # noqa: S102
    async with Sandbox(sign_after=None) as sandbox, sandbox.client() as client:
        record = await namespace["web_app"](
            client, sandbox.client_code, make_request(), receipts, redis
        )
    assert record.stage == "waiting"
    assert len(sandbox.service) == 1  # the request was made, once
