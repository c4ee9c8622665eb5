"""What must hold of the business's running totals once a chaos run is over: written in the transaction of each
read-model change, they agree exactly with the read model however often workers were killed mid-write and servers
restarted: orders per status, and orders and gross per marketplace in the volume rollups."""

import asyncpg


async def totals_problems(database_url: str) -> list[str]:
    conn = await asyncpg.connect(database_url)
    try:
        statuses = await conn.fetch(
            """
            SELECT coalesce(o.marketplace, t.marketplace) AS marketplace, coalesce(o.status, t.status) AS status,
                   coalesce(o.orders, 0) AS recorded, coalesce(t.orders, 0) AS counted
            FROM (SELECT marketplace, status, count(*) AS orders FROM orders GROUP BY 1, 2) o
            FULL JOIN (SELECT marketplace, status, sum(orders) AS orders FROM insight_statuses GROUP BY 1, 2) t
              ON t.marketplace = o.marketplace AND t.status = o.status
            WHERE coalesce(o.orders, 0) <> coalesce(t.orders, 0)
            """
        )
        volumes = await conn.fetch(
            """
            SELECT o.marketplace, o.orders, o.gross, v.orders AS counted, v.gross AS counted_gross
            FROM (SELECT marketplace, count(*) AS orders, sum(total) AS gross FROM orders GROUP BY 1) o
            LEFT JOIN (SELECT marketplace, sum(orders) AS orders, sum(gross) AS gross FROM insight_volume_hours GROUP BY 1) v
              USING (marketplace)
            WHERE v.orders IS DISTINCT FROM o.orders OR v.gross IS DISTINCT FROM o.gross
            """
        )
    finally:
        await conn.close()
    found = [f"{r['marketplace']}: {r['recorded']} orders {r['status']} in the read model, {r['counted']} in the totals" for r in statuses]
    found += [
        f"{r['marketplace']}: {r['orders']} orders ({r['gross']}) placed, {r['counted']} ({r['counted_gross']}) in the volume"
        for r in volumes
    ]
    return found
