"""Delivers the outbound webhooks' outbox (db/outbound_webhooks.py) from the worker process: each due delivery is
held for a lease, POSTed signed with its endpoint's Standard Webhooks secret, then marked delivered (a 2xx) or
tried again on the schedule. At least once: a dispatcher that dies mid-send leaves the delivery to come due again,
and the receiver tells repeats apart by `webhook-id`."""

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
from standardwebhooks.webhooks import Webhook

from db import outbound_webhooks as outbox
from domain.outbound_webhooks import private_host

log = logging.getLogger("settlement.webhooks")

BATCH = 20
LEASE = timedelta(seconds=60)  # longer than a send can take (TIMEOUT)
TIMEOUT = httpx.Timeout(10.0)
IDLE = 1.0  # seconds between looks at an empty outbox


def signed_headers(event_id: str, body: str, secret: str, now: datetime) -> dict[str, str]:
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(event_id, now, body),
        "content-type": "application/json",
    }


async def deliver_due(pool: asyncpg.Pool, client: httpx.AsyncClient, private_urls: bool) -> int:
    """One batch of due deliveries, sent side by side; how many there were."""
    due = await outbox.claim_due(pool, BATCH, LEASE)
    await asyncio.gather(*(_deliver(pool, client, d, private_urls) for d in due))
    return len(due)


async def _deliver(pool: asyncpg.Pool, client: httpx.AsyncClient, due: outbox.DueDelivery, private_urls: bool) -> None:
    event, now = due.event, datetime.now(UTC)
    if private_host(due.url) and not private_urls:
        await outbox.attempt_failed(pool, event.event_id, due.endpoint_id, None, "a private address: not allowed here", now)
        return
    body = event.body()
    try:
        response = await client.post(due.url, content=body, headers=signed_headers(event.event_id, body, due.secret, now))
    except httpx.HTTPError as err:
        await outbox.attempt_failed(pool, event.event_id, due.endpoint_id, None, f"{type(err).__name__}: {err}", now)
        return
    if response.is_success:
        await outbox.delivered(pool, event.event_id, due.endpoint_id, response.status_code)
    else:
        await outbox.attempt_failed(pool, event.event_id, due.endpoint_id, response.status_code, f"HTTP {response.status_code}", now)


async def deliver_until_stopped(pool: asyncpg.Pool, stop: asyncio.Event, private_urls: bool) -> None:
    """Until `stop` is set; a database away is waited out."""
    async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False, headers={"user-agent": "settlement-engine-webhooks"}) as client:
        while not stop.is_set():
            try:
                sent = await deliver_due(pool, client, private_urls)
            except (asyncpg.PostgresError, OSError) as err:
                log.warning("webhook deliveries wait for the database: %s", err)
                sent = 0
            except Exception:  # a bug must not stop every delivery for good: logged, and the next look tries again
                log.exception("webhook deliveries failed")
                sent = 0
            if not sent:
                try:
                    await asyncio.wait_for(stop.wait(), IDLE)
                except TimeoutError:
                    pass
