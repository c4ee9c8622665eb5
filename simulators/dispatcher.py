"""Delivers the simulators' due webhooks, signed, at least once, retrying failures: the fulfillment network's
events to /v1/webhooks/fulfillment and the payment provider's disputes to /v1/webhooks/payments."""

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from domain.webhook_signature import sign

log = logging.getLogger("settlement.sim.dispatcher")

POLL_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 60


@dataclass(frozen=True)
class Outbox:
    table: str
    path: str
    columns: str
    body: Callable[[asyncpg.Record], dict]
    by_the_provider: bool = False  # signed with the payment provider's secret (when it has one of its own)


def _fulfillment_event(row: asyncpg.Record) -> dict:
    return {
        "event_id": row["event_id"],
        "order_id": row["order_id"],
        "type": row["type"],
        "occurred_at": row["due_at"].isoformat(),
        "tracking": row["tracking"],
        "fulfillment_center": row["fulfillment_center"],
    }


OUTBOXES = (
    Outbox(
        "sim.webhook_outbox",
        "/v1/webhooks/fulfillment",
        "order_id, type, due_at, tracking, "
        "(SELECT f.fulfillment_center FROM sim.fulfillment_orders f WHERE f.order_id = sim.webhook_outbox.order_id) AS fulfillment_center",
        _fulfillment_event,
    ),
    Outbox("sim.payment_webhook_outbox", "/v1/webhooks/payments", "body", lambda row: row["body"], by_the_provider=True),  # whole
)


async def deliver_due(pool: asyncpg.Pool, client: httpx.AsyncClient, secret: str, payments_secret: str | None = None) -> int:
    """`payments_secret` signs the payment provider's webhooks; None: `secret` signs them too."""
    delivered = 0
    for outbox in OUTBOXES:
        delivered += await _deliver(pool, client, (payments_secret or secret) if outbox.by_the_provider else secret, outbox)
    return delivered


async def _deliver(pool: asyncpg.Pool, client: httpx.AsyncClient, secret: str, outbox: Outbox) -> int:
    delivered = 0
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(
            f"SELECT event_id, attempts, {outbox.columns} FROM {outbox.table} "
            "WHERE delivered_at IS NULL AND due_at <= now() ORDER BY due_at LIMIT 20 FOR UPDATE SKIP LOCKED"
        )
        for row in rows:
            error = await _post(client, outbox.path, json.dumps(outbox.body(row)).encode(), secret)
            if error is None:
                await conn.execute(
                    f"UPDATE {outbox.table} SET delivered_at = now(), attempts = attempts + 1 WHERE event_id = $1", row["event_id"]
                )
                delivered += 1
            else:
                backoff = timedelta(seconds=min(2 ** row["attempts"], MAX_BACKOFF_SECONDS))
                await conn.execute(
                    f"UPDATE {outbox.table} SET attempts = attempts + 1, last_error = $2, due_at = $3 WHERE event_id = $1",
                    row["event_id"],
                    error,
                    datetime.now(UTC) + backoff,
                )
    return delivered


async def _post(client: httpx.AsyncClient, path: str, body: bytes, secret: str) -> str | None:
    headers = {"Content-Type": "application/json", "X-Signature": sign(body, secret, int(time.time()))}
    try:
        response = await client.post(path, content=body, headers=headers)
    except httpx.TransportError as err:
        return f"{type(err).__name__}: {err}"
    return None if response.status_code < 300 else f"HTTP {response.status_code}: {response.text[:200]}"


async def run(pool: asyncpg.Pool, api_url: str, secret: str, payments_secret: str | None, stop: asyncio.Event) -> None:
    async with httpx.AsyncClient(base_url=api_url, timeout=10.0) as client:
        while not stop.is_set():
            try:
                await deliver_due(pool, client, secret, payments_secret)
            except Exception:  # the loop must outlive any one failure; the outbox keeps the work
                log.exception("webhook dispatch failed")
            try:
                await asyncio.wait_for(stop.wait(), POLL_SECONDS)
            except TimeoutError:
                pass
