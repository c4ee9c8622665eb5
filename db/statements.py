"""The postings behind a seller's statement: every entry of their orders, and every entry of their own accounts (a
pooled payout, a chargeback, a debt recovered)."""

from datetime import datetime

import asyncpg


async def seller_postings(pool: asyncpg.Pool, seller_id: str, start: datetime, end: datetime) -> list[dict]:
    rows = await pool.fetch(
        """
        WITH entries AS (
            SELECT e.id FROM ledger_entries e JOIN orders o ON o.order_id = e.order_id
            WHERE o.seller_id = $1 AND e.created_at >= $2 AND e.created_at < $3
            UNION
            SELECT e.id FROM ledger_accounts a JOIN ledger_postings p ON p.account = a.code JOIN ledger_entries e ON e.id = p.entry_id
            WHERE a.seller_id = $1 AND a.code NOT LIKE 'escrow:%' AND e.created_at >= $2 AND e.created_at < $3
        )
        SELECT e.id AS entry_id, e.kind, e.order_id, e.created_at, p.account, p.amount, trim(p.currency) AS currency
        FROM entries JOIN ledger_entries e ON e.id = entries.id JOIN ledger_postings p ON p.entry_id = e.id
        ORDER BY e.id, p.id
        """,
        seller_id,
        start,
        end,
    )
    return [dict(r) for r in rows]
