"""What went back to an order's buyer after it settled: its chargebacks (db/chargebacks.py) and the claims refunded
from the ledger (each claim's reserve, and whether the provider's refund was settled or returned)."""

import asyncpg

from db.chargebacks import order_chargebacks
from domain.claims import ClaimFault
from domain.ledger import RETURNED_SUFFIX, SETTLED_SUFFIX
from domain.money_back import ClaimRefund, ClaimStatus, MoneyBack


async def money_back(pool: asyncpg.Pool, order_id: str) -> MoneyBack:
    rows = await pool.fetch(
        """
        SELECT e.memo->>'claim_id' AS claim_id, e.created_at, p.amount, s.account LIKE 'owed:%' AS seller_pays,
               EXISTS (SELECT FROM ledger_entries d WHERE d.idempotency_key = e.idempotency_key || $2) AS refunded,
               EXISTS (SELECT FROM ledger_entries d WHERE d.idempotency_key = e.idempotency_key || $3) AS refused
        FROM ledger_entries e
        JOIN ledger_postings p ON p.entry_id = e.id AND p.account LIKE 'pending:claim:%'
        JOIN ledger_postings s ON s.entry_id = e.id AND s.amount < 0
        WHERE e.order_id = $1 AND e.kind = 'refund' AND e.memo ? 'claim_id'
        ORDER BY e.id
        """,
        order_id,
        SETTLED_SUFFIX,
        RETURNED_SUFFIX,
    )
    claims = [
        ClaimRefund(
            claim_id=r["claim_id"],
            amount=r["amount"],
            paid_by=ClaimFault.SELLER if r["seller_pays"] else ClaimFault.FULFILLMENT_NETWORK,
            status=ClaimStatus.REFUNDED if r["refunded"] else ClaimStatus.REFUSED if r["refused"] else ClaimStatus.REFUNDING,
            accepted_at=r["created_at"],
        )
        for r in rows
    ]
    return MoneyBack(chargebacks=await order_chargebacks(pool, order_id), claims=claims)
