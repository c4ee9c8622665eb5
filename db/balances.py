"""A seller's money per currency, derived from the ledger."""

import asyncpg


async def seller_balance(pool: asyncpg.Pool, seller_id: str) -> list[dict]:
    """Per currency: in escrow (captured, not yet released), available (released, not paid out), paid out."""
    rows = await pool.fetch(
        """
        WITH escrow AS (
            SELECT a.currency, sum(a.balance) AS amount FROM orders o
            JOIN ledger_accounts a ON a.owner = 'order:' || o.order_id AND a.code LIKE 'escrow:%'
            WHERE o.seller_id = $1 GROUP BY a.currency
        ), available AS (
            SELECT currency, balance AS amount FROM ledger_accounts WHERE owner = 'seller:' || $1
        ), paid AS (
            SELECT p.currency, -sum(p.amount) AS amount FROM ledger_accounts a
            JOIN ledger_postings p ON p.account = a.code
            JOIN ledger_entries e ON e.id = p.entry_id
            WHERE a.owner = 'seller:' || $1 AND e.kind = 'payout' GROUP BY p.currency
        ), currencies AS (
            SELECT currency FROM escrow UNION SELECT currency FROM available UNION SELECT currency FROM paid
        )
        SELECT c.currency, coalesce(e.amount, 0) AS in_escrow, coalesce(a.amount, 0) AS available, coalesce(p.amount, 0) AS paid_out
        FROM currencies c LEFT JOIN escrow e USING (currency) LEFT JOIN available a USING (currency) LEFT JOIN paid p USING (currency)
        ORDER BY c.currency
        """,
        seller_id,
    )
    return [
        {
            "currency": r["currency"].strip(),
            "in_escrow": int(r["in_escrow"]),
            "available": int(r["available"]),
            "paid_out": int(r["paid_out"]),
        }
        for r in rows
    ]
