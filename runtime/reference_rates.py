"""Keeps the reference rates the insights report in (db/reference_rates.py) from the worker process: once an hour,
the FX source's mid-market rate of every convertible currency to the reporting currency. A quote is asked under a
key of its hour, so however many workers ask, the source quotes each pair once an hour."""

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import asyncpg

from adapters.fx import FxRateSource
from db.reference_rates import keep_rate
from domain.currency import CONVERTIBLE
from domain.providers import FxLockRequest
from runtime.stopping import pause_unless_stopped

log = logging.getLogger("settlement.reference_rates")

REFRESH = timedelta(hours=1)
RETRY = timedelta(seconds=10)  # after a refresh that left a pair without a rate (e.g. the source not up yet)


async def refresh(pool: asyncpg.Pool, source: FxRateSource, reporting: str, now: datetime) -> int:
    """Every convertible currency's rate to `reporting`; how many were kept (the others are asked again later)."""
    hour = now.astimezone(UTC).strftime("%Y-%m-%dT%H")
    kept = 0
    for currency in sorted(CONVERTIBLE - {reporting}):
        key = f"reference:{currency}:{reporting}:{hour}"
        try:
            quote = await source.lock(FxLockRequest(idempotency_key=key, order_id=key, base=currency, quote=reporting))
        except Exception as err:  # one pair the source cannot quote now does not stop the others
            log.warning("no reference rate %s→%s: %s", currency, reporting, err)
            continue
        await keep_rate(pool, currency, reporting, quote.mid_rate, quote.locked_at)
        kept += 1
    return kept


async def keep_rates_until_stopped(pool: asyncpg.Pool, source: FxRateSource, reporting: str, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            complete = await refresh(pool, source, reporting, datetime.now(UTC)) == len(CONVERTIBLE - {reporting})
        except Exception:  # reporting must never take the worker down
            log.exception("could not refresh the reference rates")
            complete = False
        await pause_unless_stopped(stop, (REFRESH if complete else RETRY).total_seconds())
