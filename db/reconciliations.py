"""The daily reconciliations' results: what each run compared and the differences it found."""

import json
from datetime import datetime

import asyncpg

from domain.reconciliation import ReconciliationReport


async def record_run(pool: asyncpg.Pool, report: ReconciliationReport) -> None:
    """Idempotent by run id: a retried activity writes the same run once (its last result)."""
    await pool.execute(
        """
        INSERT INTO reconciliation_runs (run_id, until, checked, differences, orders_at_fault, orders_parked)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (run_id) DO UPDATE SET until = $2, checked = $3, differences = $4, orders_at_fault = $5, orders_parked = $6,
                                           finished_at = statement_timestamp()
        """,
        report.run_id,
        report.until,
        report.checked,
        json.dumps(report.differences),
        report.orders_at_fault,
        report.orders_parked,
    )


async def recent_runs(pool: asyncpg.Pool, before: datetime | None, limit: int) -> list[ReconciliationReport]:
    rows = await pool.fetch(
        "SELECT run_id, until, finished_at, checked, differences, orders_at_fault, orders_parked FROM reconciliation_runs "
        "WHERE ($1::timestamptz IS NULL OR finished_at < $1) ORDER BY finished_at DESC LIMIT $2",
        before,
        limit,
    )
    return [ReconciliationReport(**{**dict(r), "differences": json.loads(r["differences"])}) for r in rows]


async def order_findings(pool: asyncpg.Pool, order_id: str) -> list[str]:
    """The differences the latest reconciliation found on the order (none when it found none)."""
    found = await pool.fetchval("SELECT orders_at_fault->$1 FROM reconciliation_runs ORDER BY finished_at DESC LIMIT 1", order_id)
    return list(found or [])
