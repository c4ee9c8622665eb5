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


async def rates_to(pool: asyncpg.Pool, reporting: str, kept_in: str) -> dict[str, tuple[Decimal, datetime]]:
    """currency: (mid rate to `reporting`, as of when), from the rates kept to `kept_in` (the reporting currency the
    worker keeps), crossed through it when another is asked; empty when no rate to it is known."""
    rows = await pool.fetch("SELECT currency, mid_rate, as_of FROM reference_rates WHERE reporting = $1", kept_in)
    kept = {r["currency"].strip(): (r["mid_rate"], r["as_of"]) for r in rows}
    if reporting == kept_in:
        return kept
    if reporting not in kept:
        return {}
    through, through_as_of = kept.pop(reporting)
    crossed = {currency: (rate / through, min(as_of, through_as_of)) for currency, (rate, as_of) in kept.items()}
    return {**crossed, kept_in: (1 / through, through_as_of)}
