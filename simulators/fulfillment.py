"""The simulated fulfillment network and its carrier.

In `auto` carrier mode a new fulfillment order ships and is delivered after configurable delays; in
`manual` mode nothing happens until someone posts an event to `/fulfillment/orders/{id}/events`.
Either way, events reach the engine as signed webhooks from the outbox (see dispatcher.py).
"""

import json
import uuid
import zlib
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel

from domain.statuses import FulfillmentEventType

router = APIRouter(prefix="/fulfillment")


class FulfillmentOrderBody(BaseModel):
    idempotency_key: str
    order_id: str
    seller_id: str
    items: list[dict]
    ship_to: dict | None = None


# The simulated network's centres, by the country they serve (others are served from the last list).
CENTERS = {
    "US": ("SIM-PHX1", "SIM-BFI4", "SIM-ABE2"),
    "CA": ("SIM-YYZ1",),
    "GB": ("SIM-LTN2",),
    "DE": ("SIM-FRA3", "SIM-MUC1"),
    "FR": ("SIM-ORY1",),
    "JP": ("SIM-NRT2",),
    None: ("SIM-AMS1", "SIM-SIN1"),
}


def center_for(order_id: str, country: str | None) -> str:
    """Where an order ships from: a centre serving its country, always the same one for an order."""
    choices = CENTERS.get(country, CENTERS[None])
    return choices[zlib.crc32(order_id.encode()) % len(choices)]


class CancelBody(BaseModel):
    idempotency_key: str
    order_id: str


class EventBody(BaseModel):
    type: FulfillmentEventType
    tracking: str | None = None
    delay_seconds: float = 0.0


async def enqueue(conn, order_id: str, type_: str, due_at: datetime, tracking: str | None = None) -> str:
    event_id = f"evt_{uuid.uuid4().hex}"
    await conn.execute(
        "INSERT INTO sim.webhook_outbox (event_id, order_id, type, due_at, tracking) VALUES ($1, $2, $3, $4, $5)",
        event_id,
        order_id,
        type_,
        due_at,
        tracking,
    )
    return event_id


@router.post("/orders")
async def create_order(body: FulfillmentOrderBody, request: Request) -> dict:
    settings = request.app.state.settings
    async with request.app.state.pool.acquire() as conn:
        async with conn.transaction():
            inserted = await conn.fetchval(
                "INSERT INTO sim.fulfillment_orders (order_id, idempotency_key, seller_id, items, status, fulfillment_center) "
                "VALUES ($1, $2, $3, $4, 'open', $5) ON CONFLICT (order_id) DO NOTHING RETURNING order_id",
                body.order_id,
                body.idempotency_key,
                body.seller_id,
                json.loads(json.dumps(body.items)),
                center_for(body.order_id, (body.ship_to or {}).get("country")),
            )
            if inserted is None:
                existing = await conn.fetchval("SELECT idempotency_key FROM sim.fulfillment_orders WHERE order_id = $1", body.order_id)
                if existing != body.idempotency_key:
                    raise HTTPException(400, detail="a fulfillment order exists for this order under another key")
            elif settings.settlement_sim_carrier == "auto":
                now = datetime.now(UTC)
                tracking = f"SIM{uuid.uuid4().hex[:10].upper()}"
                await enqueue(conn, body.order_id, "shipped", now + timedelta(seconds=settings.settlement_sim_ship_after_seconds), tracking)
                await enqueue(
                    conn, body.order_id, "delivered", now + timedelta(seconds=settings.settlement_sim_deliver_after_seconds), tracking
                )
    return {"fulfillment_order_id": f"fo_{body.order_id}"}


@router.post("/orders/{order_id}/cancel")
async def cancel_order(order_id: str, body: CancelBody, request: Request) -> dict:
    async with request.app.state.pool.acquire() as conn:
        async with conn.transaction():
            status = await conn.fetchval("SELECT status FROM sim.fulfillment_orders WHERE order_id = $1 FOR UPDATE", order_id)
            if status is None:
                return {"cancelled": False, "detail": "no such fulfillment order"}
            if status == "cancelled":
                return {"cancelled": True, "detail": "already cancelled"}
            shipped = await conn.fetchval(
                "SELECT 1 FROM sim.webhook_outbox WHERE order_id = $1 AND type = 'shipped' AND delivered_at IS NOT NULL", order_id
            )
            if shipped:
                return {"cancelled": False, "shipped": True, "detail": "already shipped"}
            await conn.execute("UPDATE sim.fulfillment_orders SET status = 'cancelled' WHERE order_id = $1", order_id)
            await conn.execute("DELETE FROM sim.webhook_outbox WHERE order_id = $1 AND delivered_at IS NULL", order_id)
    return {"cancelled": True, "detail": ""}


class ReturnBody(BaseModel):
    idempotency_key: str
    order_id: str


@router.post("/orders/{order_id}/returns")
async def request_return(order_id: str, body: ReturnBody, request: Request) -> dict:
    """Open a return; in auto mode the buyer ships it back and it is received after the usual delays."""
    settings = request.app.state.settings
    async with request.app.state.pool.acquire() as conn:
        async with conn.transaction():
            status = await conn.fetchval("SELECT status FROM sim.fulfillment_orders WHERE order_id = $1 FOR UPDATE", order_id)
            if status is None:
                raise HTTPException(422, detail="no such fulfillment order")
            if status != "return_requested":
                await conn.execute("UPDATE sim.fulfillment_orders SET status = 'return_requested' WHERE order_id = $1", order_id)
                if settings.settlement_sim_carrier == "auto":
                    now = datetime.now(UTC)
                    await enqueue(conn, order_id, "return_shipped", now + timedelta(seconds=settings.settlement_sim_ship_after_seconds))
                    await enqueue(conn, order_id, "return_received", now + timedelta(seconds=settings.settlement_sim_deliver_after_seconds))
    return {"return_id": f"ret_{order_id}"}


@router.post("/orders/{order_id}/events", status_code=202)
async def post_event(order_id: str, body: EventBody, request: Request) -> dict:
    """Make the carrier report an event now (or after delay_seconds): manual mode's driver."""
    async with request.app.state.pool.acquire() as conn:
        if not await conn.fetchval("SELECT 1 FROM sim.fulfillment_orders WHERE order_id = $1", order_id):
            raise HTTPException(404, detail="no such fulfillment order")
        due = datetime.now(UTC) + timedelta(seconds=body.delay_seconds)
        event_id = await enqueue(conn, order_id, body.type.value, due, body.tracking)
    return {"event_id": event_id}
