"""Delivers the outbound webhooks' outbox (db/outbound_webhooks.py) from the worker process: each due delivery is
held for a lease, POSTed signed with its endpoint's Standard Webhooks secret, then marked delivered (a 2xx) or
tried again on the schedule. At least once: a dispatcher that dies mid-send leaves the delivery to come due again,
and the receiver tells repeats apart by `webhook-id`."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import asyncpg
import httpx
from standardwebhooks.webhooks import Webhook

from db import outbound_webhooks as outbox
from domain.outbound_webhooks import private_address, private_host
from runtime.stopping import pause_unless_stopped

log = logging.getLogger("settlement.webhooks")

BATCH = 20
TIMEOUT = httpx.Timeout(10.0)  # each phase of a send
DEADLINE = 15.0  # seconds a whole send may take, however slowly the receiver trickles its answer
LEASE = timedelta(seconds=60)  # longer than DEADLINE: a delivery is never sent twice at once
IDLE = 1.0  # seconds between looks at an empty outbox


def signed_headers(event_id: str, body: str, secret: str, now: datetime) -> dict[str, str]:
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(event_id, now, body),
        "content-type": "application/json",
    }


Resolver = Callable[[str], Awaitable[bool]]


async def deliver_due(pool: asyncpg.Pool, client: httpx.AsyncClient, private_urls: bool, resolver: Resolver | None = None) -> int:
    """One batch of due deliveries, sent side by side (each within DEADLINE); how many there were. `resolver` tells
    whether a URL reaches a private address (by default: resolving its name)."""
    due = await outbox.claim_due(pool, BATCH, LEASE)
    private = resolver or resolves_privately
    await asyncio.gather(*(_deliver(pool, client, d, None if private_urls else private) for d in due))
    return len(due)


async def _deliver(pool: asyncpg.Pool, client: httpx.AsyncClient, due: outbox.DueDelivery, private: Resolver | None) -> None:
    """`private`: None when private addresses are allowed."""
    event, now = due.event, datetime.now(UTC)
    if private is not None and await private(due.url):
        await outbox.attempt_failed(pool, event.event_id, due.endpoint_id, None, "a private address: not allowed here", now)
        return
    body = event.body()
    try:
        async with asyncio.timeout(DEADLINE):
            response = await client.post(due.url, content=body, headers=signed_headers(event.event_id, body, due.secret, now))
    except (httpx.HTTPError, TimeoutError) as err:
        # Only the kind of failure is kept: the owner reads it, and a message could tell them about networks they
        # may not see.
        await outbox.attempt_failed(pool, event.event_id, due.endpoint_id, None, type(err).__name__, now)
        return
    if response.is_success:
        await outbox.delivered(pool, event.event_id, due.endpoint_id, response.status_code)
    else:
        await outbox.attempt_failed(pool, event.event_id, due.endpoint_id, response.status_code, f"HTTP {response.status_code}", now)


async def resolves_privately(url: str) -> bool:
    """Whether the URL's host is, or resolves to, an address of this machine or a private network (what a name
    resolves to can still change before the send connects; an egress proxy closes that gap)."""
    if private_host(url):
        return True
    parts = urlsplit(url)
    try:
        found = await asyncio.get_running_loop().getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except OSError:
        return False  # unresolvable: the send fails on its own
    return any(private_address(sockaddr[0]) for *_, sockaddr in found)


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
                await pause_unless_stopped(stop, IDLE)
