"""A seller's money per currency, derived from the ledger: one row per currency, as the ledger keeps it."""

import asyncpg


async def seller_balance(pool: asyncpg.Pool, seller_id: str) -> list[dict]:
    """Per currency: in escrow (captured, not yet released), available (released, not paid out), reserved (released
    but held back for now), owed (what the seller owes the platform, zero or less), paid out. Escrow and paid out are
    the totals the ledger keeps per seller as it moves (`seller_balances`, migration 0008; the invariants hold them to
    the postings); the rest are the seller's own accounts."""
    rows = await pool.fetch(
        """
        SELECT c.currency, coalesce(b.in_escrow, 0) AS in_escrow, coalesce(a.balance, 0) AS available,
               coalesce(r.balance, 0) AS reserved, coalesce(o.balance, 0) AS owed, coalesce(b.paid_out, 0) AS paid_out
        FROM (
            SELECT currency FROM seller_balances WHERE seller_id = $1
            UNION SELECT currency FROM ledger_accounts WHERE owner = 'seller:' || $1
        ) c
        LEFT JOIN seller_balances b ON b.seller_id = $1 AND b.currency = c.currency
        LEFT JOIN ledger_accounts a ON a.code = 'seller:' || $1 || ':' || c.currency
        LEFT JOIN ledger_accounts r ON r.code = 'reserve:' || $1 || ':' || c.currency
        LEFT JOIN ledger_accounts o ON o.code = 'owed:' || $1 || ':' || c.currency
        ORDER BY c.currency
        """,
        seller_id,
    )
    return [
        {
            "currency": r["currency"].strip(),
            "in_escrow": int(r["in_escrow"]),
            "available": int(r["available"]),
            "reserved": int(r["reserved"]),
            "owed": int(r["owed"]),
            "paid_out": int(r["paid_out"]),
        }
        for r in rows
    ]
