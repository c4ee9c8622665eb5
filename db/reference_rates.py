"""The reference rates the insights report in (migration 0016)."""

from datetime import datetime
from decimal import Decimal

import asyncpg


async def keep_rate(pool: asyncpg.Pool, currency: str, reporting: str, mid_rate: Decimal, as_of: datetime) -> None:
    await pool.execute(
        "INSERT INTO reference_rates (currency, reporting, mid_rate, as_of) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (currency, reporting) DO UPDATE SET mid_rate = EXCLUDED.mid_rate, as_of = EXCLUDED.as_of "
        "WHERE reference_rates.as_of <= EXCLUDED.as_of",
        currency,
        reporting,
        mid_rate,
        as_of,
    )


async def kept_rates(pool: asyncpg.Pool, reporting: str) -> dict[str, tuple[Decimal, datetime]]:
    """currency: (mid rate to `reporting`, as of when), as the worker keeps them."""
    rows = await pool.fetch("SELECT currency, mid_rate, as_of FROM reference_rates WHERE reporting = $1", reporting)
    return {r["currency"].strip(): (r["mid_rate"], r["as_of"]) for r in rows}
