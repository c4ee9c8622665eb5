"""The postings behind a seller's statement: every entry of their orders, of their pooled payouts, and of their
reserve and debt accounts (a debt recovered or written off). The seller's available account is not scanned: every
entry that moves it belongs to one of those, and it holds two postings per order for good."""

from datetime import datetime
from heapq import merge

import asyncpg

ORDERS = """
    SELECT e.id AS entry_id, p.id AS posting_id, e.kind, e.order_id, e.created_at, p.account, p.amount, trim(p.currency) AS currency
    FROM ledger_entries e
    JOIN orders o ON o.order_id = e.order_id
    JOIN ledger_postings p ON p.entry_id = e.id
    WHERE o.seller_id = $1 AND e.created_at >= $2 AND e.created_at < $3
    ORDER BY e.id, p.id
"""

# Entries of the seller's own accounts that belong to none of their orders; few beside the orders' (a separate query
# keeps the orders' as fast as they were).
OWN = """
    WITH own AS (
        SELECT e.id FROM seller_payouts s JOIN ledger_entries e ON e.order_id = s.payout_id
        WHERE s.seller_id = $1 AND e.created_at >= $2 AND e.created_at < $3
        UNION
        SELECT p.entry_id FROM ledger_accounts a JOIN ledger_postings p ON p.account = a.code JOIN ledger_entries e ON e.id = p.entry_id
        WHERE a.seller_id = $1 AND (a.code LIKE 'reserve:%' OR a.code LIKE 'owed:%') AND e.created_at >= $2 AND e.created_at < $3
          AND NOT EXISTS (SELECT FROM orders o WHERE o.order_id = e.order_id)
    )
    SELECT e.id AS entry_id, p.id AS posting_id, e.kind, e.order_id, e.created_at, p.account, p.amount, trim(p.currency) AS currency
    FROM own JOIN ledger_entries e ON e.id = own.id JOIN ledger_postings p ON p.entry_id = e.id
    ORDER BY e.id, p.id
"""


async def seller_postings(pool: asyncpg.Pool, seller_id: str, start: datetime, end: datetime) -> list[dict]:
    """In entry order; both reads see one snapshot."""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        orders = await conn.fetch(ORDERS, seller_id, start, end)
        own = await conn.fetch(OWN, seller_id, start, end)
    return [dict(r) for r in merge(orders, own, key=lambda r: (r["entry_id"], r["posting_id"]))]
