"""A summary of the ledger for a set of orders, for people reading what happened (make demo prints it)."""

import asyncpg


async def credited_by_account_kind(conn: asyncpg.Connection | asyncpg.Pool, order_id_prefix: str) -> list[asyncpg.Record]:
    """What went into each kind of ledger account (escrow, seller, platform, ...: an account code's first part), by
    currency, for the orders whose ids start with the prefix."""
    pattern = order_id_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return await conn.fetch(
        "SELECT split_part(p.account, ':', 1) AS kind, p.currency, (sum(p.amount) FILTER (WHERE p.amount > 0))::bigint AS credited "
        "FROM ledger_postings p JOIN ledger_entries e ON e.id = p.entry_id WHERE e.order_id LIKE $1 GROUP BY 1, 2 ORDER BY 1, 2",
        pattern,
    )
