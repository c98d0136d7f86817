"""Errors travel: every error class pickles and unpickles whole, so that one raised in a
process pool's worker or kept as a job's result comes back as it was raised."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import pickle
from typing import Any

import pytest

import kakaocert_async
from kakaocert_async import (
    APIError,
    ClientClosed,
    ESignStatus,
    KakaocertError,
    MalformedResponse,
    Progress,
    RawAnswer,
    RequestNotSent,
    ServiceUnreachable,
    SignState,
    SignTimeout,
    TransportError,
    ValidationError,
    VerifyOutcomeUnknown,
    barocert,
)

KST = dt.timezone(dt.timedelta(hours=9))

ONE_OF_EACH: list[KakaocertError] = [
    KakaocertError("plain", code=-11000001),
    ValidationError("receiver_hp", "must be 10 or 11 digits"),
    APIError(
        "이미 검증된 요청입니다.",
        code=-11000020,
        http_status=409,
        retry_after=2.5,
        hint="check the receipt id",
    ),
    TransportError("GET /x: the answer was lost", progress=Progress.PARTLY_ANSWERED),
    RequestNotSent("GET /x: could not connect", progress=Progress.PARTLY_SENT),
    MalformedResponse("GET /x: not JSON", http_status=200),
    VerifyOutcomeUnknown(
        "GET /SignToken/Verify/1: lost",
        receipt_id="026120701381700012",
        raw_answer=RawAnswer(b'{"signedData": "x"}'),
        progress=Progress.SENT,
    ),
    SignTimeout(
        "receipt 1 is still pending",
        last_status=ESignStatus(receipt_id="1", state=SignState.PENDING),
    ),
    ServiceUnreachable(
        "receipt 1: the service was unreachable",
        receipt_id="1",
        last_error=RequestNotSent("GET /x: could not connect"),
    ),
    ClientClosed("closed in flight", progress=Progress.SENT),
    barocert.VerifyTooLate(
        "too late",
        code=-24000001,
        http_status=400,
        receipt_id="0" * 32,
        complete_dt=dt.datetime(2026, 12, 6, 15, 0, tzinfo=KST),
    ),
]
ONE_OF_EACH_OTHER: list[BaseException] = [barocert.DecryptionError("not a ciphertext")]
"""Public errors outside the tree (raised by helpers, not by the clients' calls)."""


def _error_classes() -> set[type[BaseException]]:
    public = [
        getattr(module, name)
        for module in (kakaocert_async, barocert)
        for name in module.__all__
        if isinstance(getattr(module, name), type)
    ]
    return {cls for cls in public if issubclass(cls, BaseException)}


def _whole(error: BaseException) -> dict[str, Any]:
    """What an error says of itself: its type, text and every attribute and property."""
    said: dict[str, Any] = {"type": type(error), "str": str(error), "args": error.args}
    said.update({name: repr(value) for name, value in vars(error).items()})
    if isinstance(error, KakaocertError):
        said.update(
            progress=error.progress,
            is_transient=error.is_transient,
            answer_lost=error.answer_lost,
        )
    return said


def test_every_public_error_class_is_checked() -> None:
    assert _error_classes() == {type(error) for error in [*ONE_OF_EACH, *ONE_OF_EACH_OTHER]}


@pytest.mark.parametrize(
    "error", [*ONE_OF_EACH, *ONE_OF_EACH_OTHER], ids=lambda e: type(e).__name__
)
def test_an_error_pickles_whole(error: BaseException) -> None:
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        again = pickle.loads(pickle.dumps(error, protocol=protocol))  # noqa: S301 -- our bytes
        assert _whole(again) == _whole(error)


def _raise(index: int) -> None:
    raise ONE_OF_EACH[index]


def test_an_error_raised_in_a_process_pool_comes_back_and_the_pool_lives_on() -> None:
    with concurrent.futures.ProcessPoolExecutor(max_workers=1) as pool:
        for index, error in enumerate(ONE_OF_EACH):
            with pytest.raises(type(error)) as caught:
                pool.submit(_raise, index).result()
            assert _whole(caught.value) == _whole(error)
        assert pool.submit(len, "alive").result() == 5
