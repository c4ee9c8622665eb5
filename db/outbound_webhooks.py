"""The outbound webhooks' tables (migration 0012): endpoints, events published in the transaction of the change
they tell of, and the durable outbox of their deliveries."""

import base64
import secrets
from datetime import datetime, timedelta

import asyncpg

from domain.outbound_webhooks import RETRY_SCHEDULE, Delivery, Endpoint, EventRecord, NewEndpoint, OutboundEvent

ENDPOINT_COLUMNS = "endpoint_id, owner, url, event_types, created_at, disabled_at"


async def publish(conn: asyncpg.Connection, event: OutboundEvent) -> None:
    """Keep the event and queue it for every endpoint of its owners that takes its type; an event already kept (the
    same change written again) is left as it is."""
    kept = await conn.fetchval(
        "INSERT INTO webhook_events (event_id, type, owners, data, occurred_at) VALUES ($1, $2, $3, $4, $5) "
        "ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
        event.event_id,
        event.type.value,
        event.owners,
        event.data,
        event.occurred_at,
    )
    if kept is not None:
        await conn.execute(
            "INSERT INTO webhook_deliveries (event_id, endpoint_id) SELECT $1, endpoint_id FROM webhook_endpoints "
            "WHERE owner = ANY($2::text[]) AND disabled_at IS NULL AND (cardinality(event_types) = 0 OR $3 = ANY(event_types))",
            event.event_id,
            event.owners,
            event.type.value,
        )


MOST_ENDPOINTS = 20  # active endpoints per owner: each change of theirs writes one delivery per endpoint


async def active_endpoints(pool: asyncpg.Pool, owner: str) -> int:
    return await pool.fetchval("SELECT count(*) FROM webhook_endpoints WHERE owner = $1 AND disabled_at IS NULL", owner)


async def create_endpoint(pool: asyncpg.Pool, owner: str, url: str, event_types: list[str]) -> NewEndpoint:
    endpoint_id = f"we_{secrets.token_hex(12)}"
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    row = await pool.fetchrow(
        f"INSERT INTO webhook_endpoints (endpoint_id, owner, url, secret, event_types) VALUES ($1, $2, $3, $4, $5) RETURNING {ENDPOINT_COLUMNS}",
        endpoint_id,
        owner,
        url,
        secret,
        event_types,
    )
    return NewEndpoint(**dict(row), secret=secret)


async def endpoints(pool: asyncpg.Pool, owner: str | None) -> list[Endpoint]:
    """The owner's endpoints (every endpoint when None), the newest first."""
    rows = await pool.fetch(
        f"SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE $1::text IS NULL OR owner = $1 ORDER BY created_at DESC, endpoint_id",
        owner,
    )
    return [Endpoint(**dict(r)) for r in rows]


async def disable_endpoint(pool: asyncpg.Pool, endpoint_id: str, owner: str | None) -> Endpoint | None:
    """Sends nothing more to it (what is pending for it is given up); None when the owner has no such endpoint."""
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            f"UPDATE webhook_endpoints SET disabled_at = coalesce(disabled_at, statement_timestamp()) "
            f"WHERE endpoint_id = $1 AND ($2::text IS NULL OR owner = $2) RETURNING {ENDPOINT_COLUMNS}",
            endpoint_id,
            owner,
        )
        if row is not None:
            await conn.execute(
                "UPDATE webhook_deliveries SET status = 'failed', last_error = 'endpoint disabled' WHERE endpoint_id = $1 AND status = 'pending'",
                endpoint_id,
            )
    return Endpoint(**dict(row)) if row else None


async def events(pool: asyncpg.Pool, owner: str | None, after: str | None, limit: int) -> list[EventRecord] | None:
    """The owner's events (all when None), newest first, each with its deliveries to the owner's endpoints; the page
    after the event `after` (None when the owner has no such event)."""
    anchor = None
    if after is not None:
        anchor = await pool.fetchval(
            "SELECT seq FROM webhook_events WHERE event_id = $1 AND ($2::text IS NULL OR owners @> ARRAY[$2]::text[])", after, owner
        )
        if anchor is None:
            return None
    rows = await pool.fetch(
        """
        SELECT e.event_id, e.type, e.occurred_at, e.data,
               coalesce(jsonb_agg(jsonb_build_object(
                   'endpoint_id', d.endpoint_id, 'status', d.status, 'attempts', d.attempts,
                   'next_attempt_at', CASE WHEN d.status = 'pending' THEN d.next_attempt_at END,
                   'last_status', d.last_status, 'last_error', d.last_error, 'delivered_at', d.delivered_at
               ) ORDER BY d.endpoint_id) FILTER (WHERE d.endpoint_id IS NOT NULL), '[]') AS deliveries
        FROM webhook_events e
        LEFT JOIN webhook_deliveries d ON d.event_id = e.event_id
             AND ($1::text IS NULL OR d.endpoint_id IN (SELECT endpoint_id FROM webhook_endpoints WHERE owner = $1))
        WHERE ($1::text IS NULL OR e.owners @> ARRAY[$1]::text[]) AND ($2::bigint IS NULL OR e.seq < $2)
        GROUP BY e.event_id ORDER BY e.seq DESC LIMIT $3
        """,
        owner,
        anchor,
        limit,
    )
    return [EventRecord(**{**dict(r), "deliveries": [Delivery(**d) for d in r["deliveries"]]}) for r in rows]


async def replay(pool: asyncpg.Pool, event_id: str, owner: str | None) -> int | None:
    """Send the event again to every active endpoint of the owner (of all its owners when None) that takes its type,
    delivered before or not; how many deliveries were queued, None when the owner has no such event. A delivery still
    pending keeps its place (one being sent now is not sent twice at once): it is due within a lease at most."""
    async with pool.acquire() as conn, conn.transaction():
        event = await conn.fetchrow(
            "SELECT type, owners FROM webhook_events WHERE event_id = $1 AND ($2::text IS NULL OR owners @> ARRAY[$2]::text[])",
            event_id,
            owner,
        )
        if event is None:
            return None
        rows = await conn.fetch(
            """
            INSERT INTO webhook_deliveries (event_id, endpoint_id)
            SELECT $1, endpoint_id FROM webhook_endpoints
            WHERE owner = ANY($2::text[]) AND disabled_at IS NULL AND (cardinality(event_types) = 0 OR $3 = ANY(event_types))
            ON CONFLICT (event_id, endpoint_id) DO UPDATE SET status = 'pending',
                attempts = CASE WHEN webhook_deliveries.status = 'pending' THEN webhook_deliveries.attempts ELSE 0 END,
                next_attempt_at = CASE WHEN webhook_deliveries.status = 'pending'
                                       THEN least(webhook_deliveries.next_attempt_at, statement_timestamp() + interval '60 seconds')
                                       ELSE statement_timestamp() END
            RETURNING endpoint_id
            """,
            event_id,
            [owner] if owner else event["owners"],
            event["type"],
        )
    return len(rows)


class DueDelivery(Endpoint):
    secret: str
    event: OutboundEvent
    attempts: int


async def claim_due(pool: asyncpg.Pool, limit: int, lease: timedelta) -> list[DueDelivery]:
    """Deliveries due now, each held for `lease` (another dispatcher skips it; one that dies mid-send lets it come due
    again): at least once, never lost."""
    rows = await pool.fetch(
        f"""
        WITH due AS (
            SELECT d.event_id, d.endpoint_id FROM webhook_deliveries d JOIN webhook_endpoints w USING (endpoint_id)
            WHERE d.status = 'pending' AND d.next_attempt_at <= statement_timestamp() AND w.disabled_at IS NULL
            ORDER BY d.next_attempt_at LIMIT $1 FOR UPDATE OF d SKIP LOCKED
        ), held AS (
            UPDATE webhook_deliveries d SET next_attempt_at = statement_timestamp() + $2::interval
            FROM due WHERE d.event_id = due.event_id AND d.endpoint_id = due.endpoint_id
            RETURNING d.event_id, d.endpoint_id, d.attempts
        )
        SELECT {", ".join("w." + c for c in ENDPOINT_COLUMNS.split(", "))}, w.secret, held.attempts,
               e.event_id, e.type, e.owners, e.data, e.occurred_at
        FROM held JOIN webhook_endpoints w ON w.endpoint_id = held.endpoint_id JOIN webhook_events e ON e.event_id = held.event_id
        """,
        limit,
        lease,
    )
    return [
        DueDelivery(
            **{c: r[c] for c in ENDPOINT_COLUMNS.split(", ")},
            secret=r["secret"],
            attempts=r["attempts"],
            event=OutboundEvent(event_id=r["event_id"], type=r["type"], owners=r["owners"], data=r["data"], occurred_at=r["occurred_at"]),
        )
        for r in rows
    ]


async def delivered(pool: asyncpg.Pool, event_id: str, endpoint_id: str, status: int) -> None:
    await pool.execute(
        "UPDATE webhook_deliveries SET status = 'delivered', attempts = attempts + 1, last_status = $3, last_error = NULL, "
        "delivered_at = statement_timestamp() WHERE event_id = $1 AND endpoint_id = $2 AND status = 'pending'",
        event_id,
        endpoint_id,
        status,
    )


async def attempt_failed(pool: asyncpg.Pool, event_id: str, endpoint_id: str, status: int | None, error: str, now: datetime) -> None:
    """Tried again on the schedule; given up (`failed`) after its last step."""
    attempts = await pool.fetchval(
        "SELECT attempts + 1 FROM webhook_deliveries WHERE event_id = $1 AND endpoint_id = $2", event_id, endpoint_id
    )
    if attempts is None:
        return
    gives_up = attempts > len(RETRY_SCHEDULE)
    await pool.execute(
        "UPDATE webhook_deliveries SET attempts = $3, last_status = $4, last_error = $5, "
        "status = CASE WHEN $6 THEN 'failed' ELSE status END, next_attempt_at = $7 "
        "WHERE event_id = $1 AND endpoint_id = $2 AND status = 'pending'",
        event_id,
        endpoint_id,
        attempts,
        status,
        error[:500],
        gives_up,
        now if gives_up else now + RETRY_SCHEDULE[attempts - 1],
    )
