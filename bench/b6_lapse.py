"""B6: orders whose confirmation windows lapse in the same second, released and paid out by themselves: orders
settled per second from the first lapse until the last is settled, against B1's rate (orders created → settled per
second, 32 in flight) measured on the same engine just before.

The orders are created at B1's rate, each with a window that ends at the common lapse moment: the window counts from
the moment the engine learns of the delivery, which follows creation by a lag the earlier orders tell. The deadlines the
workflows actually set are read back from the read model, and their spread is reported."""

import asyncio
import math
import os
import statistics
import time
import uuid
from collections import deque

from bench.driver import IN_FLIGHT, Orders, engine, order_body, orders_of
from bench.report import Figure
from domain.statuses import OrderStatus

DELIVERY_LAG = 1.5  # seconds from POST to the engine learning of the delivery, until orders tell (LAG_SAMPLES of them)
LAG_SAMPLES = 8
SLACK = 4.0  # seconds between the last creation expected and the lapse, for the last orders to reach awaiting confirmation
WARM_UP = 8


def _sizes(quick: bool) -> tuple[int, int]:
    """(orders lapsing together, orders for B1's rate); B6_ORDERS overrides the first (the issue's figure is 1000)."""
    count, baseline = (24, 16) if quick else (200, 32)
    return int(os.environ.get("B6_ORDERS", count)), baseline


async def run(quick: bool) -> list[Figure]:
    count, baseline_count = _sizes(quick)
    run_id = uuid.uuid4().hex[:6]
    async with engine("b6") as cluster, orders_of(cluster) as orders:
        if not quick:
            await orders.settled_per_second(f"b6-{run_id}-warm", WARM_UP)
        b1_rate = await orders.settled_per_second(f"b6-{run_id}-b1", baseline_count)
        order_ids, lapse_at = await park_until_one_lapse(orders, f"b6-{run_id}-lapse", count, expected_rate=b1_rate)
        deadlines = sorted(d.timestamp() for d in await orders.confirm_by(order_ids))
        settled_at = await asyncio.gather(*(orders.reached(order_id, OrderStatus.SETTLED) for order_id in order_ids))
    first_lapse, all_settled = deadlines[0], max(settled_at)
    rate = count / (all_settled - first_lapse)
    details = {
        "orders": count,
        "b1_orders": baseline_count,
        "seconds_first_lapse_to_all_settled": round(all_settled - first_lapse, 2),
        "share_lapsed_within_half_a_second_of_the_target": round(sum(abs(d - lapse_at) <= 0.5 for d in deadlines) / count, 3),
        "lapses_p10_to_p90_seconds": round(deadlines[int(0.9 * (count - 1))] - deadlines[int(0.1 * (count - 1))], 2),
        "lapses_first_to_last_seconds": round(deadlines[-1] - first_lapse, 2),
    }
    return [Figure("B6", "orders settled per second after one lapse", rate, "/s", "B1 orders/s", b1_rate, "≥ 0.5×", 0.5, details=details)]


def window_ending_at(lapse_at: float, lag: float, now: float) -> tuple[int, float]:
    """(window in whole seconds, when to create the order): the earliest moment from `now` at which an order whose
    delivery the engine learns `lag` seconds after its creation gets a window ending exactly at `lapse_at`. A lapse
    too close for that gets a window of 1 s, created now."""
    window = math.floor(lapse_at - lag - now)
    if window < 1:
        return 1, now
    return window, lapse_at - lag - window


class Lag:
    """Seconds from an order's creation to the engine learning of its delivery: the median of the latest orders."""

    def __init__(self) -> None:
        self.samples: deque[float] = deque([DELIVERY_LAG], maxlen=LAG_SAMPLES)

    @property
    def estimate(self) -> float:
        return statistics.median(self.samples)

    def observe(self, created_at: float, window: int, confirm_by: float) -> None:
        self.samples.append(confirm_by - window - created_at)


async def park_until_one_lapse(orders: Orders, prefix: str, count: int, expected_rate: float) -> tuple[list[str], float]:
    """Create `count` orders at `expected_rate` (at most IN_FLIGHT at a time, so that the engine is never flooded and the
    lag stays steady), whose windows end together SLACK seconds after the last creation; return when all are awaiting
    confirmation (or, for one late beyond its window, past it). Returns the orders and the lapse moment aimed at."""
    start = time.time()
    lapse_at = start + count / expected_rate + SLACK
    slots, lag = asyncio.Semaphore(IN_FLIGHT), Lag()

    async def one(order_id: str, n: int) -> None:
        await asyncio.sleep(start + n / expected_rate - time.time())
        async with slots:
            window, create_at = window_ending_at(lapse_at, lag.estimate, time.time())
            await asyncio.sleep(create_at - time.time())
            await orders.create(order_body(order_id, n, window))
            await orders.reached(order_id, OrderStatus.AWAITING_CONFIRMATION, OrderStatus.PAYOUT_PENDING, OrderStatus.SETTLED)
            (confirm_by,) = await orders.confirm_by([order_id])
            lag.observe(create_at, window, confirm_by.timestamp())

    order_ids = [f"{prefix}-{n}" for n in range(count)]
    async with asyncio.TaskGroup() as group:
        for n, order_id in enumerate(order_ids):
            group.create_task(one(order_id, n))
    return order_ids, lapse_at
