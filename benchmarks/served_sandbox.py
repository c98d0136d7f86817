"""The served sandbox's own CPU per state call: what a call costs the sandbox.

``python -m kakaocert_async sandbox`` (Starlette on uvicorn, as released) runs in
its own process; a raw aiohttp client in another makes state calls on a real
receipt (a hand-signed token and request), one after another and from 100
concurrent callers. The figure is the sandbox process's CPU time (user and system,
from /proc) over the calls it answered, median of the rounds: a figure, not a
target (load tests of the clients run against ``benchmarks/canned.py``). Needs
Linux's /proc; elsewhere it is left out.
"""

from __future__ import annotations

import datetime as dt

import httpx

from kakaocert_async import _kinds, _signing, _wire
from kakaocert_async.sandbox import DEFAULT_CLIENT_CODE, DEFAULT_LINK_ID, DEFAULT_SECRET_KEY

from ._figures import Figure, median
from ._workers import client_runs, cpu_seconds, served_sandbox
from .overhead import REQUEST

NAME = "served sandbox (`python -m kakaocert_async sandbox`), driven by raw aiohttp"


def _signed_setup(url: str) -> tuple[str, str]:
    """A session token and a receipt id, by hand-signed calls (as the protocol says)."""
    key = _signing.decode_secret_key(DEFAULT_SECRET_KEY)
    date = _wire.format_utc(dt.datetime.now(dt.timezone.utc))
    with httpx.Client(base_url=url) as http:
        body = _wire.dumps(
            {"access_id": DEFAULT_CLIENT_CODE, "scope": ["member", _kinds.ESIGN.scope]}
        )
        signature = _signing.hmac_b64(key, _signing.token_target(body, date))
        headers = {
            "x-lh-date": date,
            "x-lh-version": _signing.API_VERSION,
            "Authorization": f"LINKHUB {DEFAULT_LINK_ID} {signature}",
            "Content-Type": "application/json",
        }
        answer = http.post(_signing.TOKEN_PATH, content=body, headers=headers)
        answer.raise_for_status()
        token: str = answer.json()["session_token"]
        body = _wire.encode_request(REQUEST, app_to_app=False)
        signature = _signing.hmac_b64(key, _signing.request_target(body, date))
        headers = {
            "Authorization": f"Bearer {token}",
            "x-lh-date": date,
            "x-lh-version": _signing.API_VERSION,
            "x-kc-auth": f"{DEFAULT_LINK_ID} {signature}",
            "Content-Type": "application/json",
        }
        answer = http.post("/SignToken/Request", content=body, headers=headers)
        answer.raise_for_status()
        receipt_id: str = answer.json()["receiptId"]
    return token, receipt_id


def run(*, rounds: int, seconds: float) -> list[Figure]:
    per_call: dict[str, list[float]] = {"sequential": [], "c100": []}
    with served_sandbox() as (url, pid):
        if cpu_seconds(pid) is None:
            print("  (no /proc here: the sandbox's CPU cannot be read; left out)")
            return []
        token, receipt_id = _signed_setup(url)
        options = [f"--token={token}", f"--receipt-id={receipt_id}"]
        for _ in range(rounds):
            for run_name, callers in (("sequential", 1), ("c100", 100)):
                before = cpu_seconds(pid) or 0.0
                printed = client_runs("aiohttp", url, [f"{callers}:{seconds:g}s"], *options)
                after = cpu_seconds(pid) or 0.0
                errors = sum(sum(r["errors"].values()) for r in printed["runs"].values())
                if errors:
                    raise RuntimeError(f"the sandbox refused {errors} state calls: {printed}")
                per_call[run_name].append((after - before) / printed["made"] * 1e6)
    return [
        Figure(
            NAME,
            "sandbox server CPU per state call, one caller",
            median(per_call["sequential"]),
            "µs",
        ),
        Figure(
            NAME,
            "sandbox server CPU per state call, 100 concurrent callers",
            median(per_call["c100"]),
            "µs",
        ),
    ]
