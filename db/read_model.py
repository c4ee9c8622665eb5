"""The read model: `orders` (latest state per order) and `order_events` (one row per transition)."""

import re
from datetime import datetime

import asyncpg

from db.insights import roll_up
from db.outbound_webhooks import publish
from domain.insights import UNKNOWN, changes, region_of
from domain.order_state import OrderState
from domain.outbound_webhooks import order_status_changed

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


async def record_order(pool: asyncpg.Pool, state: OrderState, run_id: str | None = None) -> None:
    """Upsert the order and its timeline. Within one workflow run a stale or repeated write changes nothing;
    a write from another run (an operator's reset) replaces the row and the timeline. Each step new to the timeline
    is published to the order's marketplace and seller (db/outbound_webhooks.py), and what the change adds to the
    business's running totals is counted (db/insights.py), in the same transaction."""
    version = len(state.timeline)
    document = storable(state.model_dump(mode="json"))
    events = [(seq, e.status.value, storable(e.detail), e.at) for seq, e in enumerate(state.timeline, start=1)]
    async with pool.acquire() as conn:
        async with conn.transaction():
            before = await conn.fetchrow("SELECT run_id, state FROM orders WHERE order_id = $1 FOR UPDATE", state.order_id)
            new_run = run_id is not None and (before["run_id"] if before else None) != run_id
            written = await conn.fetchval(
                """
                INSERT INTO orders (order_id, workflow_id, status, buyer_id, seller_id, marketplace, currency, total, version, placed_at, state,
                                    run_id, region, fulfillment_center)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $14, $15)
                ON CONFLICT (order_id) DO UPDATE SET status = EXCLUDED.status, version = EXCLUDED.version,
                    state = EXCLUDED.state, run_id = EXCLUDED.run_id, fulfillment_center = EXCLUDED.fulfillment_center, updated_at = now()
                WHERE orders.version <= EXCLUDED.version OR $13
                RETURNING true
                """,
                state.order_id,
                state.workflow_id,
                state.status.value,
                state.buyer_id,
                state.seller_id,
                state.marketplace,
                state.currency,
                state.amounts.total,
                version,
                state.placed_at,
                document,
                run_id,
                new_run,
                region_of(state),
                state.fulfillment_center or UNKNOWN,
            )
            if written:
                await roll_up(conn, changes(_recorded_state(before), state))
            if new_run:
                await conn.execute("DELETE FROM order_events WHERE order_id = $1", state.order_id)
            added = (
                await conn.fetch(
                    "INSERT INTO order_events (order_id, seq, status, detail, at) "
                    "SELECT $1, * FROM unnest($2::int[], $3::text[], $4::text[], $5::timestamptz[]) "
                    "ON CONFLICT DO NOTHING RETURNING seq, status, detail, at",
                    state.order_id,
                    *(list(column) for column in zip(*events, strict=True)),
                )
                if events
                else []
            )
            told = {
                "marketplace": state.marketplace,
                "seller_id": state.seller_id,
                "currency": state.currency,
                "total": state.amounts.total,
            }
            for e in added:
                await publish(conn, order_status_changed(state.order_id, e["seq"], e["status"], e["detail"], e["at"], told))


def _recorded_state(row: asyncpg.Record | None) -> OrderState | None:
    """The state the row held before this write; None for a new order."""
    return None if row is None else OrderState.model_validate(row["state"])


def storable(value):
    """`value` with the characters PostgreSQL cannot store in text or jsonb (NUL, lone surrogates) replaced by
    U+FFFD. The API refuses them; this keeps the read model writable whatever reaches it."""
    if isinstance(value, str):
        return UNSTORABLE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable(v) for v in value]
    return value


async def get_order(pool: asyncpg.Pool, order_id: str) -> OrderState | None:
    document = await pool.fetchval("SELECT state FROM orders WHERE order_id = $1", order_id)
    return OrderState.model_validate(document) if document else None


async def list_orders(
    pool: asyncpg.Pool,
    *,
    status: str | None = None,
    seller_id: str | None = None,
    buyer_id: str | None = None,
    marketplace: str | None = None,
    after: tuple[datetime, str] | None = None,
    limit: int = 50,
) -> tuple[list[OrderState], bool]:
    """Newest first, keyset-paginated from the position `after` (placed_at, order_id); returns the page and whether
    another follows."""
    clauses, args = [], []
    for column, value in (("status", status), ("seller_id", seller_id), ("buyer_id", buyer_id), ("marketplace", marketplace)):
        if value is not None:
            args.append(value)
            clauses.append(f"{column} = ${len(args)}")
    if after is not None:
        args.extend(after)
        clauses.append(f"(placed_at, order_id) < (${len(args) - 1}, ${len(args)})")
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    args.append(limit + 1)
    rows = await pool.fetch(
        f"SELECT placed_at, order_id, state FROM orders {where} ORDER BY placed_at DESC, order_id DESC LIMIT ${len(args)}", *args
    )
    return [OrderState.model_validate(r["state"]) for r in rows[:limit]], len(rows) > limit


async def count_by_status(pool: asyncpg.Pool) -> dict[str, int]:
    return {r["status"]: r["n"] for r in await pool.fetch("SELECT status, count(*) AS n FROM orders GROUP BY status")}
