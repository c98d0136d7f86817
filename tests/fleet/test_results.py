"""An SDK error raised in an arq job reads back as itself, on a real Redis (arq pickles
job results)."""

from __future__ import annotations

from typing import Any

import arq
import pytest
from arq.connections import ArqRedis, RedisSettings

from kakaocert_async import APIError, VerifyOutcomeUnknown

# arq 0.28 closes its own Redis pool with redis-py's deprecated close().
pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning")


async def refused(ctx: dict[Any, Any], kind: str) -> None:
    if kind == "api":
        raise APIError("이미 검증된 요청입니다.", code=-11000020, http_status=409, hint="look")
    raise VerifyOutcomeUnknown("the answer was lost", receipt_id="026120701381700012")


@pytest.mark.parametrize("kind", ["api", "unknown"])
async def test_an_sdk_error_is_a_job_result_that_reads_back(
    redis: ArqRedis, redis_settings: RedisSettings, kind: str
) -> None:
    job = await redis.enqueue_job("refused", kind)
    assert job is not None
    worker = arq.Worker(
        functions=[arq.func(refused, name="refused", max_tries=1)],
        redis_settings=redis_settings,
        burst=True,
        poll_delay=0.01,
        handle_signals=False,
    )
    try:
        await worker.main()
    finally:
        await worker.close()
    expected = APIError if kind == "api" else VerifyOutcomeUnknown
    with pytest.raises(expected) as caught:
        await job.result(timeout=5)
    error = caught.value
    if isinstance(error, APIError):
        assert (error.code, error.http_status, error.hint) == (-11000020, 409, "look")
    else:
        assert isinstance(error, VerifyOutcomeUnknown)
        assert error.receipt_id == "026120701381700012"
        assert error.answer_lost
