"""The postings behind a seller's statement."""

from datetime import datetime

import asyncpg


async def seller_postings(pool: asyncpg.Pool, seller_id: str, start: datetime, end: datetime) -> list[dict]:
    rows = await pool.fetch(
        """
        SELECT e.id AS entry_id, e.kind, e.order_id, e.created_at, p.account, p.amount, trim(p.currency) AS currency
        FROM ledger_entries e
        JOIN orders o ON o.order_id = e.order_id
        JOIN ledger_postings p ON p.entry_id = e.id
        WHERE o.seller_id = $1 AND e.created_at >= $2 AND e.created_at < $3
        ORDER BY e.id, p.id
        """,
        seller_id,
        start,
        end,
    )
    return [dict(r) for r in rows]
