"""Reading a seller's settlements: their pooled payouts and the ledger entries each one settled."""

import asyncpg

from domain.settlement_report import SettlementReport, SettlementSummary, settlement_lines

SUMMARY = """
    SELECT payout_id AS settlement_id, seller_id, trim(currency) AS currency, period_start, period_end,
           CASE WHEN status = 'paid' THEN updated_at END AS deposit_date, amount AS total, status
    FROM seller_payouts
"""


async def seller_settlements(pool: asyncpg.Pool, seller_id: str, after: str | None, limit: int) -> list[SettlementSummary]:
    """The seller's settlements, newest first; with `after`, those that come after that one (a page on)."""
    rows = await pool.fetch(
        SUMMARY
        + """ WHERE seller_id = $1 AND ($2::text IS NULL OR (period_end, payout_id) <
                (SELECT period_end, payout_id FROM seller_payouts WHERE payout_id = $2 AND seller_id = $1))
            ORDER BY period_end DESC, payout_id DESC LIMIT $3""",
        seller_id,
        after,
        limit,
    )
    return [SettlementSummary(**dict(r)) for r in rows]


async def settlement_report(pool: asyncpg.Pool, seller_id: str, settlement_id: str) -> SettlementReport | None:
    summary = await pool.fetchrow(SUMMARY + " WHERE seller_id = $1 AND payout_id = $2", seller_id, settlement_id)
    if summary is None:
        return None
    postings = await pool.fetch(
        """
        SELECT e.id AS entry_id, e.kind, e.order_id, e.created_at, p.account, p.amount, trim(p.currency) AS currency
        FROM settlement_lines l JOIN ledger_entries e ON e.id = l.entry_id JOIN ledger_postings p ON p.entry_id = e.id
        WHERE l.payout_id = $1 ORDER BY e.id, p.id
        """,
        settlement_id,
    )
    return SettlementReport(**dict(summary), lines=settlement_lines(settlement_id, [dict(p) for p in postings]))
