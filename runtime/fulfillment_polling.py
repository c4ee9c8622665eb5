"""Reads orders from a fulfillment network that pushes nothing (Amazon's) and tells each order's workflow of the
events it has not been told of yet. Runs in the worker process beside the webhook deliveries.

Each order awaiting news of its parcel is read once per interval (db/fulfillment_polls.py holds the schedule and
the lease, so workers share the work). An event is told at least once: it is remembered only after its signal,
and the workflow ignores an event id it has seen. Reads are spaced to stay within the network's rate limits
(SETTLEMENT_AMAZON_READS_PER_SECOND per worker), and a network that asks to be left alone (429, Retry-After) is."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

import asyncpg
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from adapters.errors import ProviderRejected, ProviderUnavailable
from db import fulfillment_polls
from domain import order_actions as msg
from domain.fulfillment_events import occurred_at_error
from domain.order_state import FulfillmentEvent, workflow_id_for
from domain.statuses import PARCEL_PROGRESS
from runtime.stopping import pause_unless_stopped

log = logging.getLogger("settlement.fulfillment_polling")

BATCH = 5
# A worker that dies mid-batch leaves its orders to others after this. Reading an order twice at once is harmless
# (an event told twice is ignored by the workflow), so the lease is short rather than safe against a slow read.
LEASE = timedelta(seconds=30)
IDLE = 5.0  # seconds between looks when no order is due
REFUSED_READ_PAUSE = timedelta(hours=1)  # an order Amazon does not know is not asked about at every interval
UNAVAILABLE_PAUSE = timedelta(seconds=1)  # before an order whose read failed is read again


class FinishedOrder(Exception):
    """The order's workflow has finished: nothing is waiting for its events."""


class PolledNetwork(Protocol):
    async def poll(self, order_id: str) -> list[FulfillmentEvent]: ...


Tell = Callable[[FulfillmentEvent], Awaitable[None]]


def signaller(client: Client) -> Tell:
    async def tell(event: FulfillmentEvent) -> None:
        try:
            await client.get_workflow_handle(workflow_id_for(event.order_id)).signal(msg.FULFILLMENT_EVENT_SIGNAL, event)
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                raise FinishedOrder(event.order_id) from err
            raise

    return tell


async def poll_due(pool: asyncpg.Pool, network: PolledNetwork, tell: Tell, interval: timedelta, spacing: float) -> int:
    """One batch of due orders, read one after another `spacing` seconds apart; how many there were. Raises
    ProviderUnavailable when the network asks to be left alone (Retry-After): what is left of the batch is due again
    once that wait is over."""
    due = await fulfillment_polls.claim_due(pool, BATCH, LEASE)
    for n, order in enumerate(due):
        if n:
            await asyncio.sleep(spacing)
        try:
            events = await network.poll(order.order_id)
        except ProviderRejected as refused:  # e.g. an order placed before the network was Amazon's: Amazon has no such order
            log.warning(
                "order %s: the fulfillment network refused a read; next read in %s: %s", order.order_id, REFUSED_READ_PAUSE, refused
            )
            await fulfillment_polls.polled(pool, order.order_id, [], max(interval, REFUSED_READ_PAUSE))
            continue
        except ProviderUnavailable as away:
            if away.retry_after is None:  # one read failed: read this order again in a moment, and go on
                log.info("order %s: a read failed, read again in %s: %s", order.order_id, UNAVAILABLE_PAUSE, away)
                await fulfillment_polls.postpone(pool, [order.order_id], UNAVAILABLE_PAUSE)
                continue
            # The network asked to be left alone: this order and the rest of the batch wait as long as it asked.
            await fulfillment_polls.postpone(pool, [o.order_id for o in due[n:]], away.retry_after)
            raise
        told = await _tell_new(order, events, tell)
        await fulfillment_polls.polled(pool, order.order_id, told, interval)
    return len(due)


async def _tell_new(order: fulfillment_polls.DuePoll, events: list[FulfillmentEvent], tell: Tell) -> list[str]:
    """Tell the order the events it has not been told of, the parcel's progress in order; the ids told (every new one
    once the workflow has finished, so that it is not asked again)."""
    new = [e for e in events if e.event_id not in order.told_event_ids]
    new.sort(key=lambda e: (e.occurred_at, PARCEL_PROGRESS.get(e.type, 0)))
    told = []
    for event in new:
        if error := occurred_at_error(event.occurred_at, order.placed_at, datetime.now(UTC)):
            log.error("order %s: event %s not told: its time %s %s", order.order_id, event.event_id, event.occurred_at, error)
            continue
        try:
            await tell(event)
        except FinishedOrder:
            return [e.event_id for e in new]
        told.append(event.event_id)
    return told


async def read_parcels_until_stopped(
    pool: asyncpg.Pool, network: PolledNetwork, tell: Tell, interval: timedelta, reads_per_second: float, stop: asyncio.Event
) -> None:
    """Until `stop` is set, reading at most `reads_per_second` orders a second; a database or Temporal away is waited
    out."""
    while not stop.is_set():
        pause = IDLE
        try:
            read = await poll_due(pool, network, tell, interval, 1 / reads_per_second)
            if not read:
                await fulfillment_polls.forget_finished(pool)
        except ProviderUnavailable as away:
            log.warning("the fulfillment network asked to wait; reading resumes after %s: %s", away.retry_after, away)
            read, pause = 0, (away.retry_after or UNAVAILABLE_PAUSE).total_seconds()
        except (asyncpg.PostgresError, OSError, RPCError) as err:
            log.warning("fulfillment polling waits for the database or Temporal: %s", err)
            read = 0
        except Exception:  # a bug must not stop every order's news for good: logged, and the next look tries again
            log.exception("fulfillment polling failed")
            read = 0
        if not read:
            await pause_unless_stopped(stop, pause)
