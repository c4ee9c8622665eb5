"""B8: the insights API's queries on a million orders, against a `count(*)` of the same orders table in the same run.

One embedded PostgreSQL with 1,000,000 synthetic orders (QUICK: 50,000) placed over 90 days across 3 marketplaces,
30 regions, 4 currencies, 200 sellers and 20 fulfillment centres, and the running totals the read model would have
written for them (made from the same rows by SQL). Each endpoint's query is called through the engine's own functions
(db.insight_queries, and for surges the judging the API does), interleaved with the baseline. A query past
STATEMENT_TIMEOUT is cancelled: its figure is then the timeout, a lower bound.
"""

import time
from datetime import UTC, datetime, timedelta

import asyncpg

from bench.b7_balances import Sampler
from bench.database import bench_database
from bench.report import Figure
from db import insight_queries as q
from db.pool import create_pool
from domain.surges import SurgeRule, window
from tests.embedded_pg import embedded_postgres_server

DATABASE = "b8"
GOAL = 1.0  # each query at most as slow as counting the orders
DAYS = 90
ROUNDS = 7

ORDERS = """
INSERT INTO orders (order_id, workflow_id, status, buyer_id, seller_id, marketplace, currency, total, version, placed_at, state,
                    region, fulfillment_center)
SELECT 'b8-' || n, 'order-b8-' || n,
       (ARRAY['settled','settled','settled','settled','refunded','awaiting_confirmation','in_transit','disputed','cancelled','needs_attention'])[1 + n % 10],
       'buyer-' || (n % 50000), 'seller-' || (n % 200), 'market-' || (n % 3), (ARRAY['USD','EUR','GBP','JPY'])[1 + n % 4],
       1000 + n % 90000, 5, $1::timestamptz - (n % ($2 * 86400)) * interval '1 second', '{}',
       'R' || lpad((n % 30)::text, 2, '0') || '-X', 'FC' || (n % 20)
FROM generate_series(1, $3) AS n
"""
ROLLUPS = [
    """INSERT INTO insight_volume_minutes (at, marketplace, region, currency, orders, gross)
       SELECT date_trunc('minute', placed_at, 'UTC'), marketplace, region, currency, count(*), sum(total) FROM orders GROUP BY 1, 2, 3, 4""",
    """INSERT INTO insight_volume_hours (at, marketplace, region, currency, orders, gross)
       SELECT date_trunc('hour', placed_at, 'UTC'), marketplace, region, currency, count(*), sum(total) FROM orders GROUP BY 1, 2, 3, 4""",
    """INSERT INTO insight_statuses (marketplace, region, currency, status, orders)
       SELECT marketplace, region, currency, status, count(*) FROM orders GROUP BY 1, 2, 3, 4""",
    """INSERT INTO insight_stage_times (day, marketplace, region, stage, bucket, orders)
       SELECT (placed_at AT TIME ZONE 'UTC')::date, marketplace, region, stage, 12 + (hashtext(order_id) & 7), count(*)
       FROM orders, unnest(ARRAY['placed_to_shipped', 'shipped_to_delivered', 'delivered_to_payout', 'placed_to_payout']) AS stage
       WHERE status = 'settled' GROUP BY 1, 2, 3, 4, 5""",
    """INSERT INTO insight_outcomes (day, marketplace, seller_id, region, fulfillment_center, outcome, reason, orders)
       SELECT (placed_at AT TIME ZONE 'UTC')::date, marketplace, seller_id, region, fulfillment_center, outcome,
              CASE WHEN outcome = 'disputed' THEN 'not_as_described' ELSE '' END, count(*)
       FROM orders, unnest(ARRAY['placed', 'shipped', 'delivered'] || CASE status WHEN 'disputed' THEN ARRAY['disputed']
                                  WHEN 'refunded' THEN ARRAY['refunded'] ELSE ARRAY[]::text[] END) AS outcome
       GROUP BY 1, 2, 3, 4, 5, 6, 7""",
]


async def _load(uri: str, orders: int, now: datetime) -> dict[str, int]:
    owner = await asyncpg.connect(uri, server_settings={"statement_timeout": "0"})
    try:
        await owner.execute(ORDERS, now, DAYS, orders)
        for statement in ROLLUPS:
            await owner.execute(statement)
        await owner.execute("ANALYZE")
        tables = ("insight_volume_minutes", "insight_volume_hours", "insight_outcomes", "insight_stage_times")
        return {table: await owner.fetchval(f"SELECT count(*) FROM {table}") for table in tables}
    finally:
        await owner.close()


def _queries(pool: asyncpg.Pool, now: datetime) -> dict[str, object]:
    week, month = q.Filters(now - timedelta(days=7), now), q.Filters(now - timedelta(days=30), now)
    quarter = q.Filters(now - timedelta(days=DAYS), now)
    hourly = SurgeRule(season=24, history=14)
    first, last = window(now, timedelta(hours=1), hourly)
    surge_period = q.Filters(now - timedelta(hours=hourly.intervals_needed() + 1), now)
    return {
        "volume, 7 days by hour": lambda: q.volume(pool, week, "hour", 1000, None),
        "volume, 90 days by day": lambda: q.volume(pool, quarter, "day", 5000, None),
        "funnel, statuses": lambda: q.statuses(pool, month),
        "funnel, stage times (30 days)": lambda: q.stage_times(pool, month),
        "disputes by seller (30 days)": lambda: q.outcomes(pool, month, "seller", 100, None),
        "disputes by fulfillment centre (30 days)": lambda: q.outcomes(pool, month, "fulfillment_center", 100, None),
        "surges, hourly against 14 days": lambda: q.judged_regions(pool, surge_period, timedelta(hours=1), hourly, first, last),
    }


async def run(quick: bool) -> list[Figure]:
    orders = 50_000 if quick else 1_000_000
    timeout_s = 20
    now = datetime.now(UTC).replace(microsecond=0)
    with embedded_postgres_server("settlement-bench-b8-") as server:
        uri = await bench_database(server, DATABASE, timeout_s)
        started = time.monotonic()
        rows = await _load(uri, orders, now)
        load_s = time.monotonic() - started
        pool = await create_pool(uri, min_size=1, max_size=1)
        try:
            queries = _queries(pool, now)
            samplers = {name: Sampler() for name in queries}
            baseline = Sampler()
            for _ in range(ROUNDS):
                await baseline.call(lambda: pool.fetch("SELECT count(*) FROM orders"))
                for name, query in queries.items():
                    await samplers[name].call(query)
        finally:
            await pool.close()
    base = baseline.p50(timeout_s * 1000)
    context = {"orders": orders, "load_s": round(load_s, 1), **{f"{t}_rows": n for t, n in rows.items()}}
    return [
        Figure(
            id="B8",
            name=f"{name} p50",
            value=sampler.p50(timeout_s * 1000),
            unit="ms",
            baseline_name="count(*) of the orders p50 (ms)",
            baseline=base,
            goal=f"≤ {GOAL:g}× the count",
            goal_value=GOAL,
            higher_is_better=False,
            details={**context, **sampler.details()},
        )
        for name, sampler in samplers.items()
    ]
