"""Where the examples send their calls: the real service when ``KAKAOCERT_*`` are set,
else an in-process sandbox.

Set ``KAKAOCERT_LINK_ID``, ``KAKAOCERT_SECRET_KEY`` and ``KAKAOCERT_CLIENT_CODE``
for the real service (``KAKAOCERT_API_URL`` and ``KAKAOCERT_AUTH_URL`` point it
elsewhere, at ``kakaocert-async sandbox`` say); set none of them for the sandbox.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator

from kakaocert_async import Client
from kakaocert_async.sandbox import DEFAULT_SIGN_AFTER, Sandbox

CREDENTIALS = ("KAKAOCERT_LINK_ID", "KAKAOCERT_SECRET_KEY", "KAKAOCERT_CLIENT_CODE")


@contextlib.asynccontextmanager
async def connect(
    *, sandbox: Sandbox | None = None, sign_after: float | None = DEFAULT_SIGN_AFTER
) -> AsyncIterator[tuple[Client, str, Sandbox | None]]:
    """``(client, client_code, sandbox)``: the real service's (sandbox ``None``) if the
    credentials are set and no ``sandbox`` is given, else the sandbox's, a new one
    signing ``sign_after`` seconds after each request unless one is given."""
    values = [os.environ.get(name, "") for name in CREDENTIALS]
    if sandbox is None and all(values):
        # The SDK reads the same variables (and names a bad one).
        async with Client.from_env() as client:
            assert client.client_code is not None
            yield client, client.client_code, None
        return
    if sandbox is None and any(values):
        raise SystemExit(f"set all of {', '.join(CREDENTIALS)}, or none for the sandbox")
    sandbox = sandbox or Sandbox(sign_after=sign_after)
    async with sandbox, sandbox.client() as client:
        yield client, sandbox.client_code, sandbox
