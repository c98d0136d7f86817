"""Token cache memory over many client codes: each used once, tokens short-lived.

A long-lived service with many sub-clients asks for one session token per client
code. The cache drops expired tokens, so what it holds follows the live tokens,
not every client code ever served: the figures are the entries held and the memory
the SDK holds (tracemalloc, the SDK's own allocations, the sandbox's excluded)
after the first tenth of the client codes and after all of them. How many tokens
are live at a moment follows how fast the calls go (each is good for ``token_ttl``
seconds), so the target is on the memory per token held: it must not grow with the
client codes served, as it would if anything were kept per client code.
"""

from __future__ import annotations

import contextlib
import gc
import tracemalloc

from benchmarks._figures import Figure, at_most
from kakaocert_async import APIError
from kakaocert_async.sandbox import Sandbox

_OURS = [
    tracemalloc.Filter(True, "*/kakaocert_async/*"),
    tracemalloc.Filter(False, "*/kakaocert_async/sandbox/*"),
]


def _held() -> int:
    gc.collect()
    return sum(
        s.size for s in tracemalloc.take_snapshot().filter_traces(_OURS).statistics("filename")
    )


async def run(*, client_codes: int, token_ttl: float) -> list[Figure]:
    name = f"{client_codes:,} client codes used once each (tokens good for {token_ttl:g} s)"
    async with Sandbox(sign_after=None, token_ttl=token_ttl) as sandbox, sandbox.client() as client:
        tokens = client._session.tokens
        with contextlib.suppress(APIError):  # an unknown receipt: token and clock were had
            await client.get_esign_state(sandbox.client_code, "1")
        tracemalloc.start()
        held = []
        for number in range(client_codes):
            with contextlib.suppress(APIError):
                await client.get_esign_state(f"{number:012d}", "1")
            if number + 1 in (client_codes // 10, client_codes):
                held.append((len(tokens), _held()))
        tracemalloc.stop()
    (first_entries, first_bytes), (last_entries, last_bytes) = held
    tenth = f"{client_codes // 10:,}"
    first_each, last_each = first_bytes / first_entries, last_bytes / last_entries
    return [
        Figure(name, f"tokens held after {tenth} client codes", first_entries, ""),
        Figure(name, f"tokens held after {client_codes:,}", last_entries, ""),
        Figure(name, f"SDK memory after {tenth} client codes", first_bytes / 1024, "KiB"),
        Figure(name, f"SDK memory after {client_codes:,}", last_bytes / 1024, "KiB"),
        at_most(
            name,
            f"SDK memory per token held, after {client_codes:,} / after {tenth}",
            last_each / first_each,
            "×",
            1.25,
            note=f"{last_each:,.0f} vs {first_each:,.0f} bytes",
        ),
    ]
