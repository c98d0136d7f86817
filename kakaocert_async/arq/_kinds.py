"""The kinds of receipt: the one place the job names the service's state, await and verify calls."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Protocol

import attrs

from kakaocert_async._client import Client
from kakaocert_async._models import ESignReceipt, SignState
from kakaocert_async._secret import total_repr


class ReceiptState(Protocol):
    """What the job reads from a state (``ESignStatus`` and its kin)."""

    @property
    def state(self) -> SignState: ...
    @property
    def verify_dt(self) -> dt.datetime | None: ...
    @property
    def expire_dt(self) -> dt.datetime | None: ...


class Verification(Protocol):
    """What the job reads from a verify's answer (``ESignVerification`` and its kin)."""

    @property
    def signed_data(self) -> str: ...


@attrs.frozen(kw_only=True)
class ReceiptKind:
    """The calls of one kind of receipt: the only place the job names the service's operations.

    ``name`` is part of every job id, Redis key and function name of the kind.
    """

    name: str
    read_state: Callable[[Client, str, str], Awaitable[ReceiptState]]
    """Read the state once."""
    await_final: Callable[[Client, str, str, float, float | None], Awaitable[ReceiptState]]
    """``(client, client_code, receipt_id, timeout, interval)``: poll until signed or expired."""
    verify: Callable[[Client, str, str], Awaitable[Verification]]
    """The once-only verify."""


async def _esign_state(client: Client, client_code: str, receipt_id: str) -> ReceiptState:
    return await client.get_esign_state(client_code, receipt_id)


async def _esign_final(
    client: Client, client_code: str, receipt_id: str, timeout: float, interval: float | None
) -> ReceiptState:
    receipt = ESignReceipt(receipt_id=receipt_id)
    return await client.await_signed(client_code, receipt, timeout=timeout, interval=interval)


async def _esign_verify(client: Client, client_code: str, receipt_id: str) -> Verification:
    return await client.verify_esign(client_code, receipt_id)


ESIGN = ReceiptKind(
    name="esign", read_state=_esign_state, await_final=_esign_final, verify=_esign_verify
)
"""KakaoTalk-message e-signatures (``request_esign``). App to App receipts are verified
with the signature your app receives: verify those yourself."""


total_repr(ReceiptKind)  # a half-built one's repr does not raise
