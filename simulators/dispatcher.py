"""Delivers the fulfillment network's due events as signed webhooks, at least once, retrying failures."""

import asyncio
import json
import logging
import time
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from domain.webhook_signature import sign

log = logging.getLogger("settlement.sim.dispatcher")

POLL_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 60


async def deliver_due(pool: asyncpg.Pool, client: httpx.AsyncClient, secret: str) -> int:
    delivered = 0
    async with pool.acquire() as conn:
        async with conn.transaction():
            rows = await conn.fetch(
                "SELECT event_id, order_id, type, due_at, tracking, attempts FROM sim.webhook_outbox "
                "WHERE delivered_at IS NULL AND due_at <= now() ORDER BY due_at LIMIT 20 FOR UPDATE SKIP LOCKED"
            )
            for row in rows:
                body = json.dumps(
                    {
                        "event_id": row["event_id"],
                        "order_id": row["order_id"],
                        "type": row["type"],
                        "occurred_at": row["due_at"].isoformat(),
                        "tracking": row["tracking"],
                    }
                ).encode()
                error = await _post(client, body, secret)
                if error is None:
                    await conn.execute(
                        "UPDATE sim.webhook_outbox SET delivered_at = now(), attempts = attempts + 1 WHERE event_id = $1", row["event_id"]
                    )
                    delivered += 1
                else:
                    backoff = timedelta(seconds=min(2 ** row["attempts"], MAX_BACKOFF_SECONDS))
                    await conn.execute(
                        "UPDATE sim.webhook_outbox SET attempts = attempts + 1, last_error = $2, due_at = $3 WHERE event_id = $1",
                        row["event_id"],
                        error,
                        datetime.now(UTC) + backoff,
                    )
    return delivered


async def _post(client: httpx.AsyncClient, body: bytes, secret: str) -> str | None:
    headers = {"Content-Type": "application/json", "X-Signature": sign(body, secret, int(time.time()))}
    try:
        response = await client.post("/v1/webhooks/fulfillment", content=body, headers=headers)
    except httpx.TransportError as err:
        return f"{type(err).__name__}: {err}"
    return None if response.status_code < 300 else f"HTTP {response.status_code}: {response.text[:200]}"


async def run(pool: asyncpg.Pool, api_url: str, secret: str, stop: asyncio.Event) -> None:
    async with httpx.AsyncClient(base_url=api_url, timeout=10.0) as client:
        while not stop.is_set():
            try:
                await deliver_due(pool, client, secret)
            except Exception:  # the loop must outlive any one failure; the outbox keeps the work
                log.exception("webhook dispatch failed")
            try:
                await asyncio.wait_for(stop.wait(), POLL_SECONDS)
            except TimeoutError:
                pass
