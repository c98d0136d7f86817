"""Fleet fixtures: a real Redis per test, an arq pool on it, and a sandbox."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from arq.connections import ArqRedis, RedisSettings, create_pool

from kakaocert_async.arq import outage_tolerant
from tests.fleet._redis import RedisServer, redis_server
from tests.fleet._support import Scene


@pytest.fixture
def redis_process(tmp_path: Path) -> Iterator[RedisServer]:
    with redis_server(tmp_path) as server:
        yield server


@pytest.fixture
def redis_settings(redis_process: RedisServer) -> RedisSettings:
    return outage_tolerant(RedisSettings(port=redis_process.port), seconds=10)


@pytest.fixture
async def redis(redis_settings: RedisSettings) -> AsyncIterator[ArqRedis]:
    pool = await create_pool(redis_settings)
    yield pool
    await pool.aclose(close_connection_pool=True)


@pytest.fixture
def scene(redis: ArqRedis, redis_settings: RedisSettings) -> Callable[..., Scene]:
    """``scene(Sandbox(...), store=None, **queue_options)``: a :class:`Scene` on this Redis."""
    return functools.partial(Scene, redis, redis_settings)
