"""The schedule of reading orders from a polled fulfillment network (migration 0014)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from domain.fulfillment_events import AWAITING_PARCEL_NEWS
from domain.statuses import TERMINAL_STATUSES


@dataclass(frozen=True)
class DuePoll:
    order_id: str
    placed_at: datetime
    told_event_ids: frozenset[str]


async def claim_due(pool: asyncpg.Pool, limit: int, lease: timedelta) -> list[DuePoll]:
    """Orders awaiting news of their parcel that are due a read (never read, or read longer ago than the interval),
    each held for `lease`: a worker that dies mid-read lets it come due again, and other workers skip it meanwhile.
    Workers claiming at the same moment skip each other's orders (SKIP LOCKED); one that saw an order as due just
    before another claimed it does not get it (the upsert's condition is checked against the claim)."""
    rows = await pool.fetch(
        """
        WITH due AS (
            SELECT o.order_id FROM orders o LEFT JOIN fulfillment_polls p ON p.order_id = o.order_id
            WHERE o.status = ANY($1::text[]) AND o.state->>'fulfillment_order_id' IS NOT NULL
              AND (p.order_id IS NULL OR p.next_poll_at <= statement_timestamp())
            ORDER BY p.next_poll_at NULLS FIRST, o.order_id LIMIT $2
            FOR UPDATE OF o SKIP LOCKED
        )
        INSERT INTO fulfillment_polls AS p (order_id, next_poll_at)
        SELECT order_id, statement_timestamp() + $3::interval FROM due
        ON CONFLICT (order_id) DO UPDATE SET next_poll_at = EXCLUDED.next_poll_at WHERE p.next_poll_at <= statement_timestamp()
        RETURNING p.order_id, p.told_event_ids, (SELECT placed_at FROM orders o WHERE o.order_id = p.order_id)
        """,
        [s.value for s in AWAITING_PARCEL_NEWS],
        limit,
        lease,
    )
    return [DuePoll(r["order_id"], r["placed_at"], frozenset(r["told_event_ids"])) for r in rows]


async def polled(pool: asyncpg.Pool, order_id: str, told: list[str], next_in: timedelta) -> None:
    """The order was read and told of these events (added to those before); it is due again in `next_in`."""
    await pool.execute(
        "UPDATE fulfillment_polls SET next_poll_at = statement_timestamp() + $3::interval, "
        "told_event_ids = ARRAY(SELECT DISTINCT unnest(told_event_ids || $2::text[])) WHERE order_id = $1",
        order_id,
        told,
        next_in,
    )


async def postpone(pool: asyncpg.Pool, order_ids: list[str], wait: timedelta) -> None:
    """These orders are due again after `wait` (sooner or later than their lease would have let them)."""
    await pool.execute(
        "UPDATE fulfillment_polls SET next_poll_at = statement_timestamp() + $2::interval WHERE order_id = ANY($1::text[])", order_ids, wait
    )


async def forget_finished(pool: asyncpg.Pool) -> int:
    """Drop the schedule of orders that have finished; how many."""
    dropped = await pool.execute(
        "DELETE FROM fulfillment_polls p USING orders o WHERE o.order_id = p.order_id AND o.status = ANY($1::text[])",
        [s.value for s in TERMINAL_STATUSES],
    )
    return int(dropped.split()[-1])
