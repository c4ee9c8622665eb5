"""Sellers' accounts at a real payment provider (migration 0013), and orders found by their capture's id."""

import asyncpg

STRIPE = "stripe"


async def payment_account(pool: asyncpg.Pool, seller_id: str, provider: str = STRIPE) -> str | None:
    return await pool.fetchval("SELECT account_id FROM seller_payment_accounts WHERE seller_id = $1 AND provider = $2", seller_id, provider)


async def put_payment_account(pool: asyncpg.Pool, seller_id: str, account_id: str, provider: str = STRIPE) -> None:
    await pool.execute(
        "INSERT INTO seller_payment_accounts (seller_id, provider, account_id) VALUES ($1, $2, $3) "
        "ON CONFLICT (seller_id, provider) DO UPDATE SET account_id = $3, updated_at = statement_timestamp()",
        seller_id,
        provider,
        account_id,
    )


async def order_of_capture(pool: asyncpg.Pool, capture_id: str) -> str | None:
    """The order whose capture the provider knows by this id."""
    return await pool.fetchval("SELECT order_id FROM orders WHERE state->>'capture_id' = $1", capture_id)
