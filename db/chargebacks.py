"""Chargebacks as the seller and operators see them (table `chargebacks`, migration 0011): written with the
chargeback's ledger entries, and the seller's evidence kept until the provider has it."""

from datetime import datetime

import asyncpg

from db.insights import count_chargeback
from db.outbound_webhooks import publish
from domain.chargebacks import Chargeback, ChargebackEvidence, ChargebackNotice, ChargebackStatus, EvidenceStatus
from domain.insights import day_of
from domain.outbound_webhooks import EventType, seller_event

COLUMNS = "dispute_id, order_id, seller_id, amount, currency, status, opened_at, closed_at, evidence, evidence_status, evidence_failure"


async def record_notice(conn: asyncpg.Connection, notice: ChargebackNotice) -> None:
    """In the transaction of the chargeback's entries. A closing notice wins over an opening one, whatever order
    they come in; the first outcome stands. The seller hears of each status the chargeback takes, and the
    business's totals count each chargeback once."""
    n = notice
    closed_at = None if n.status == ChargebackStatus.OPENED else n.occurred_at
    row = await conn.fetchrow(
        """
        INSERT INTO chargebacks (dispute_id, order_id, seller_id, amount, currency, status, opened_at, closed_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (dispute_id) DO UPDATE SET
            status = CASE WHEN chargebacks.status = 'opened' THEN excluded.status ELSE chargebacks.status END,
            closed_at = coalesce(chargebacks.closed_at, excluded.closed_at),
            opened_at = CASE WHEN excluded.status = 'opened' THEN least(chargebacks.opened_at, excluded.opened_at)
                             ELSE chargebacks.opened_at END
        RETURNING status, coalesce(closed_at, opened_at) AS at, xmax = 0 AS new
        """,
        n.dispute_id,
        n.order_id,
        n.seller_id,
        n.amount,
        n.currency,
        n.status.value,
        n.occurred_at,
        closed_at,
    )
    if row["new"]:
        await count_chargeback(conn, n.order_id, day_of(n.occurred_at))
    told = {"dispute_id": n.dispute_id, "order_id": n.order_id, "amount": n.amount, "currency": n.currency, "status": row["status"]}
    await publish(conn, seller_event(EventType(f"chargeback.{row['status']}"), n.dispute_id, n.seller_id, told, row["at"]))


def _chargeback(row: asyncpg.Record) -> Chargeback:
    return Chargeback(**{**dict(row), "currency": row["currency"].strip()})


async def get_chargeback(pool: asyncpg.Pool, dispute_id: str) -> Chargeback | None:
    row = await pool.fetchrow(f"SELECT {COLUMNS} FROM chargebacks WHERE dispute_id = $1", dispute_id)
    return _chargeback(row) if row else None


async def seller_chargebacks(pool: asyncpg.Pool, seller_id: str, after: str | None, limit: int) -> list[Chargeback] | None:
    """Newest first, the page after the chargeback `after` (None when `after` is not one of the seller's)."""
    anchor = None
    if after is not None:
        anchor = await pool.fetchval("SELECT opened_at FROM chargebacks WHERE dispute_id = $1 AND seller_id = $2", after, seller_id)
        if anchor is None:
            return None
    rows = await pool.fetch(
        f"SELECT {COLUMNS} FROM chargebacks WHERE seller_id = $1 AND ($2::timestamptz IS NULL OR (opened_at, dispute_id) < ($2, $3)) "
        "ORDER BY opened_at DESC, dispute_id DESC LIMIT $4",
        seller_id,
        anchor,
        after,
        limit,
    )
    return [_chargeback(r) for r in rows]


async def order_chargebacks(pool: asyncpg.Pool, order_id: str) -> list[Chargeback]:
    rows = await pool.fetch(f"SELECT {COLUMNS} FROM chargebacks WHERE order_id = $1 ORDER BY opened_at, dispute_id", order_id)
    return [_chargeback(r) for r in rows]


async def keep_evidence(pool: asyncpg.Pool, dispute_id: str, evidence: ChargebackEvidence) -> Chargeback | None:
    """The seller's evidence, kept for the provider while the dispute is open (None when it is not); evidence
    given again replaces what the provider has not taken yet, and is sent again when it has."""
    row = await pool.fetchrow(
        f"UPDATE chargebacks SET evidence = $2, evidence_status = 'pending', evidence_at = statement_timestamp(), "
        f"evidence_failure = NULL WHERE dispute_id = $1 AND status = 'opened' RETURNING {COLUMNS}",
        dispute_id,
        evidence.model_dump(mode="json"),
    )
    return _chargeback(row) if row else None


async def pending_evidence(pool: asyncpg.Pool, dispute_id: str) -> tuple[Chargeback, datetime] | None:
    """The evidence still to be given to the provider, and when it was given to us (which version it is)."""
    row = await pool.fetchrow(
        f"SELECT {COLUMNS}, evidence_at FROM chargebacks WHERE dispute_id = $1 AND evidence_status = 'pending'", dispute_id
    )
    return (_chargeback(row), row["evidence_at"]) if row else None


async def evidence_outcome(pool: asyncpg.Pool, dispute_id: str, given_at: datetime, failure: str | None) -> None:
    """The provider took the evidence given at `given_at`, or refused it for `failure`; newer evidence stays pending."""
    await pool.execute(
        "UPDATE chargebacks SET evidence_status = $3, evidence_failure = $4 "
        "WHERE dispute_id = $1 AND evidence_at = $2 AND evidence_status = 'pending'",
        dispute_id,
        given_at,
        (EvidenceStatus.REFUSED if failure else EvidenceStatus.SUBMITTED).value,
        failure,
    )
