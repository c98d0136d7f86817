"""Wait for a signature in a plain script, printing each state read.

``Client.watch_esign_state`` yields every state it reads, polling every
``--interval`` seconds until the request is signed or expires (``await_signed``
is the same without the progress). This script prints one line per poll, then,
with ``--verify``, verifies the signature and prints the signed data.

Run it::

    python examples/wait_for_signature.py                    # in-process sandbox
    python examples/wait_for_signature.py RECEIPT_ID --verify  # KAKAOCERT_* set

With ``KAKAOCERT_LINK_ID``, ``KAKAOCERT_SECRET_KEY`` and ``KAKAOCERT_CLIENT_CODE``
set it waits for RECEIPT_ID on the real service (``KAKAOCERT_API_URL`` /
``KAKAOCERT_AUTH_URL`` point it elsewhere); without them it makes a request on an
in-process sandbox, whose receiver signs ``--sign-after`` seconds later, and
waits for that.

Exit status: 0 signed, 2 expired, 3 timed out, 1 an error.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import sys
import time
from collections.abc import AsyncIterator, Sequence

from kakaocert_async import (
    Client,
    ESignRequest,
    ESignStatus,
    KakaocertError,
    SignState,
    SignTimeout,
)
from kakaocert_async.sandbox import DEFAULT_SIGN_AFTER, Sandbox

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


def progress_line(status: ESignStatus, elapsed: float) -> str:
    """What one poll saw: ``  1.5 s  pending   58 s left``."""
    line = f"{elapsed:5.1f} s  {status.state.name.lower()}"
    if status.state is SignState.PENDING and status.expire_dt is not None:
        left = max(status.expire_dt.timestamp() - time.time(), 0.0)
        line += f"   {math.ceil(left)} s left"
    return line


async def wait_for_signature(
    client: Client,
    client_code: str,
    receipt_id: str,
    *,
    interval: float,
    timeout: float | None = None,
) -> ESignStatus:
    """Poll until signed or expired, printing each state; the last one."""
    started = time.monotonic()
    last: ESignStatus | None = None
    states = client.watch_esign_state(client_code, receipt_id, interval=interval, timeout=timeout)
    async with contextlib.aclosing(states):
        async for last in states:
            print(progress_line(last, time.monotonic() - started), flush=True)
    assert last is not None  # the first poll either yields or raises
    return last


async def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Wait for a KakaoCert signature.")
    parser.add_argument("receipt_id", nargs="?", metavar="RECEIPT_ID")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between polls")
    parser.add_argument("--timeout", type=float, default=None, help="give up after seconds")
    parser.add_argument("--verify", action="store_true", help="verify it once signed")
    parser.add_argument("--sign-after", type=float, default=3.0, help="sandbox: seconds")
    args = parser.parse_args(argv)

    async with connect(sign_after=args.sign_after) as (client, client_code, sandbox):
        receipt_id = args.receipt_id
        if sandbox is not None:
            request = ESignRequest(
                call_center_num="1600-0000",
                expires_in=60,
                receiver_birthday="19900108",
                receiver_hp="01012341234",
                receiver_name="홍길동",
                token="wait_for_signature example",  # noqa: S106 -- the text signed
                tms_title="wait_for_signature",
                allow_simple_regist=False,
                verify_name=True,
            )
            receipt_id = (await client.request_esign(client_code, request)).receipt_id
            print(f"requested {receipt_id} on the sandbox; it signs in {args.sign_after:g} s")
        elif receipt_id is None:
            parser.error("RECEIPT_ID is required with KAKAOCERT_* set")

        try:
            status = await wait_for_signature(
                client, client_code, receipt_id, interval=args.interval, timeout=args.timeout
            )
        except SignTimeout as exc:
            print(f"timed out: {exc.message}", file=sys.stderr)
            return 3
        except KakaocertError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        if status.state is SignState.EXPIRED:
            print(f"{receipt_id} expired unsigned")
            return 2
        print(f"{receipt_id} signed at {status.complete_dt}")
        if args.verify:
            try:
                verification = await client.verify_esign(client_code, receipt_id)
            except KakaocertError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 1
            print(f"signed data: {verification.signed_data}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
