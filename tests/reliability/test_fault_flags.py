"""The same faults from the command line: ``python -m kakaocert_async sandbox --fault ...``.

One sandbox process with every kind of trouble switched on by flags (latency, a
failing state read in three, a verify dropped after it was consumed, a
two-second token, a clock minutes off), and a whole flow through it that still
ends signed, with the counts read from its control API.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kakaocert_async import Client, SignState, VerifyOutcomeUnknown
from kakaocert_async.sandbox import DEFAULT_CLIENT_CODE, DEFAULT_LINK_ID, DEFAULT_SECRET_KEY
from tests._support import make_request

ROOT = Path(__file__).resolve().parents[2]

FLAGS = [
    "--log-level=error",
    "--sign-after=1.5",
    "--token-ttl=2",
    "--clock-offset=-420",
    "--latency=0.01",
    "--fault=error:endpoint=status,every=3",
    "--fault=error:endpoint=token,times=1,body=empty,status=502",
    "--fault=drop:endpoint=verify,times=1",
]


@pytest.fixture
def sandbox_process() -> Iterator[str]:
    """A sandbox process on a free port, started with :data:`FLAGS`; its URL."""
    process = subprocess.Popen(  # noqa: S603 -- this Python, fixed arguments
        [sys.executable, "-m", "kakaocert_async", "sandbox", "--port=0", *FLAGS],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert " on http://" in first, first + process.stderr.read()  # type: ignore[union-attr]
        yield first.split(" on ", 1)[1].split()[0]
    finally:
        if sys.platform == "win32":  # pragma: no cover
            process.terminate()
        else:
            process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process")
async def test_a_flow_through_every_fault_flag_at_once(
    sandbox_process: str, real_backoff: None
) -> None:
    url = sandbox_process
    async with (
        httpx.AsyncClient(base_url=url) as control,
        Client(DEFAULT_LINK_ID, DEFAULT_SECRET_KEY, base_url=url, auth_url=url) as client,
    ):
        banner_faults = (await control.get("/_sandbox/faults")).json()["faults"]
        assert len(banner_faults) == 4  # the latency is a delay fault too

        receipt = await client.request_esign(DEFAULT_CLIENT_CODE, make_request())
        status = await client.await_signed(DEFAULT_CLIENT_CODE, receipt, interval=0.2)
        assert status.state is SignState.SIGNED
        with pytest.raises(VerifyOutcomeUnknown):
            await client.verify_esign(DEFAULT_CLIENT_CODE, receipt.receipt_id)
        after = await client.get_esign_state(DEFAULT_CLIENT_CODE, receipt.receipt_id)
        assert after.verify_dt is not None  # consumed, as the message warned

        stats = (await control.get("/_sandbox/stats")).json()
        faults = {f["spec"]: f for f in (await control.get("/_sandbox/faults")).json()["faults"]}
    assert stats["time"] == 1  # the clock seven minutes off, read once
    assert stats["verify"] == 1
    assert stats["request"] == 1
    # The failed first token, the one that worked, and renewals of the 2 s token.
    assert stats["token"] >= 3
    assert stats["token"] < stats["status"]
    every_third = faults["error:endpoint=status,every=3"]
    assert every_third["struck"] >= 2
    assert stats["status"] == every_third["arrivals"]
    assert "drop:endpoint=verify,times=1" not in faults  # spent
