"""The daily reconciliations' results: what each run compared and the differences it found."""

import json
from datetime import datetime

import asyncpg

from domain.reconciliation import ReconciliationReport


async def record_run(pool: asyncpg.Pool, report: ReconciliationReport) -> None:
    """Idempotent by run id: a retried activity writes the same run once (its last result)."""
    await pool.execute(
        """
        INSERT INTO reconciliation_runs (run_id, until, checked, differences) VALUES ($1, $2, $3, $4)
        ON CONFLICT (run_id) DO UPDATE SET until = $2, checked = $3, differences = $4, finished_at = statement_timestamp()
        """,
        report.run_id,
        report.until,
        report.checked,
        json.dumps(report.differences),
    )


async def recent_runs(pool: asyncpg.Pool, before: datetime | None, limit: int) -> list[ReconciliationReport]:
    rows = await pool.fetch(
        "SELECT run_id, until, finished_at, checked, differences FROM reconciliation_runs "
        "WHERE ($1::timestamptz IS NULL OR finished_at < $1) ORDER BY finished_at DESC LIMIT $2",
        before,
        limit,
    )
    return [ReconciliationReport(**{**dict(r), "differences": json.loads(r["differences"])}) for r in rows]
