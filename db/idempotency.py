"""Queries of `idempotent_requests`: claim a caller's key, keep its first answer, read it back."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg


@dataclass(frozen=True)
class Recorded:
    fingerprint: str
    status: int | None  # None while the first request is still running
    headers: dict[str, str]
    body: bytes


async def claim(pool: asyncpg.Pool, caller: str, key: str, fingerprint: str, abandoned_after: timedelta) -> datetime | None:
    """Claim the key for one request: the claim's time (which identifies it), or None when the key is taken.

    A claim left unanswered for `abandoned_after` (the process running it died) is taken over by a repeat
    of the same request."""
    return await pool.fetchval(
        """
        INSERT INTO idempotent_requests (caller, key, fingerprint) VALUES ($1, $2, $3)
        ON CONFLICT (caller, key) DO UPDATE SET claimed_at = now()
        WHERE idempotent_requests.status IS NULL AND idempotent_requests.fingerprint = EXCLUDED.fingerprint
            AND idempotent_requests.claimed_at < now() - $4::interval
        RETURNING claimed_at
        """,
        caller,
        key,
        fingerprint,
        abandoned_after,
    )


async def recorded(pool: asyncpg.Pool, caller: str, key: str) -> Recorded | None:
    row = await pool.fetchrow(
        "SELECT fingerprint, status, response_headers, response_body FROM idempotent_requests WHERE caller = $1 AND key = $2", caller, key
    )
    if row is None:
        return None
    return Recorded(row["fingerprint"], row["status"], row["response_headers"] or {}, row["response_body"] or b"")


async def complete(
    pool: asyncpg.Pool, caller: str, key: str, claimed_at: datetime, status: int, headers: dict[str, str], body: bytes
) -> None:
    """Keep the claim's answer (a claim taken over meanwhile is left alone)."""
    await pool.execute(
        """
        UPDATE idempotent_requests SET status = $4, response_headers = $5, response_body = $6, completed_at = now()
        WHERE caller = $1 AND key = $2 AND claimed_at = $3 AND status IS NULL
        """,
        caller,
        key,
        claimed_at,
        status,
        headers,
        body,
    )


async def release(pool: asyncpg.Pool, caller: str, key: str, claimed_at: datetime) -> None:
    """Forget an unanswered claim, so the key may be used again."""
    await pool.execute(
        "DELETE FROM idempotent_requests WHERE caller = $1 AND key = $2 AND claimed_at = $3 AND status IS NULL", caller, key, claimed_at
    )
