"""B7's sampler: the first call only warms up, a cancelled query stops sampling and reports the timeout as its p50."""

import asyncpg

from bench.b7_balances import Sampler


async def test_first_call_is_a_warm_up_and_rows_are_counted():
    sampler = Sampler()
    for _ in range(3):
        await sampler.call(lambda: _rows(2))
    assert len(sampler.samples) == 2 and sampler.rows == 2 and not sampler.timed_out
    assert sampler.p50(1000) < 1000 and "p95_ms" in sampler.details()


async def test_a_cancelled_query_reports_the_timeout_and_is_not_called_again():
    sampler, calls = Sampler(), []

    async def cancelled():
        calls.append(1)
        raise asyncpg.QueryCanceledError("canceling statement due to statement timeout")

    await sampler.call(cancelled)
    await sampler.call(cancelled)
    assert calls == [1] and sampler.timed_out and sampler.p50(20_000) == 20_000
    assert sampler.details()["timed_out"] == "True"


async def _rows(n: int) -> list[int]:
    return list(range(n))
