"""The business's running totals (migration 0015), written in the transaction of the read-model change they count
(domain/insights.py works out what a change adds), so they are as fresh as the read model and never scanned from
Temporal. Rows of one table are always written in the same order, so two writers never wait on each other in a
circle."""

from datetime import date

import asyncpg

from domain.insights import Changes, Outcome, OutcomeCount, Where


async def roll_up(conn: asyncpg.Connection, changes: Changes) -> None:
    if changes.nothing:
        return
    w = changes.where
    if changes.placed_minute is not None:
        for table, moment in (
            ("insight_volume_minutes", changes.placed_minute),
            ("insight_volume_hours", changes.placed_minute.replace(minute=0)),
        ):
            await conn.execute(
                f"INSERT INTO {table} AS v (at, marketplace, region, currency, orders, gross) VALUES ($1, $2, $3, $4, 1, $5) "
                "ON CONFLICT (at, marketplace, region, currency) DO UPDATE SET orders = v.orders + 1, gross = v.gross + EXCLUDED.gross",
                moment,
                w.marketplace,
                w.region,
                w.currency,
                changes.gross,
            )
    moves = sorted(
        [(s.value, -1) for s in [changes.status_from] if s is not None and s != changes.status_to]
        + [(s.value, 1) for s in [changes.status_to] if s is not None and s != changes.status_from]
    )
    if moves:
        await conn.executemany(
            "INSERT INTO insight_statuses AS s (marketplace, region, currency, status, orders) VALUES ($1, $2, $3, $4, $5) "
            "ON CONFLICT (marketplace, region, currency, status) DO UPDATE SET orders = s.orders + EXCLUDED.orders",
            [(w.marketplace, w.region, w.currency, status, delta) for status, delta in moves],
        )
    if changes.stage_times:
        await conn.executemany(
            "INSERT INTO insight_stage_times AS t (day, marketplace, region, stage, bucket, orders) VALUES ($1, $2, $3, $4, $5, 1) "
            "ON CONFLICT (day, marketplace, region, stage, bucket) DO UPDATE SET orders = t.orders + 1",
            sorted((day, w.marketplace, w.region, stage.value, bucket) for day, stage, bucket in changes.stage_times),
        )
    await count_outcomes(conn, w, changes.outcomes)


async def count_chargeback(conn: asyncpg.Connection, order_id: str, day: date) -> None:
    """A chargeback on the order, counted where the order is (nothing for an order the read model lacks)."""
    row = await conn.fetchrow(
        "SELECT marketplace, seller_id, region, currency, fulfillment_center FROM orders WHERE order_id = $1", order_id
    )
    if row is not None:
        where = Where(row["marketplace"], row["seller_id"], row["region"], row["currency"].strip(), row["fulfillment_center"])
        await count_outcomes(conn, where, [OutcomeCount(day, Outcome.CHARGEBACK)])


async def count_outcomes(conn: asyncpg.Connection, w: Where, outcomes: list[OutcomeCount]) -> None:
    rows = sorted((o.day, w.marketplace, w.seller_id, w.region, w.fulfillment_center, o.outcome.value, o.reason) for o in outcomes)
    if rows:
        await conn.executemany(
            "INSERT INTO insight_outcomes AS o (day, marketplace, seller_id, region, fulfillment_center, outcome, reason, orders) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, 1) ON CONFLICT (day, marketplace, seller_id, region, fulfillment_center, outcome, reason) "
            "DO UPDATE SET orders = o.orders + 1",
            rows,
        )
