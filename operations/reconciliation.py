"""`settlement check-invariants`: the ledger's invariants, and the ledger reconciled with the payment provider's
own records, listed through its adapter (the engine never reads a provider's tables)."""

import asyncpg
import httpx

from activities.reconciliation import provider_listing
from adapters.payments import PaymentGateway, SimulatedPaymentGateway
from db.invariants import check_invariants
from db.pool import create_pool


async def check_books(pool: asyncpg.Pool, payments: PaymentGateway | None) -> list[str]:
    """Every invariant; with a gateway, also the reconciliation with the provider's listing, both as of now."""
    return await check_invariants(pool, await provider_listing(pool, payments) if payments is not None else None)


async def check_books_at(database_url: str, provider_url: str | None) -> list[str]:
    """check_books on the database at database_url, reconciled with the simulated provider at provider_url
    (None: the ledger's own invariants only)."""
    pool = await create_pool(database_url)
    try:
        if provider_url is None:
            return await check_books(pool, None)
        async with httpx.AsyncClient(base_url=provider_url, timeout=30) as client:
            return await check_books(pool, SimulatedPaymentGateway(client))
    finally:
        await pool.close()
