"""Reading a polled fulfillment network (runtime/fulfillment_polling.py) against the real read model: which orders are
read, that each event is told once and in the parcel's order, leases between workers, and a network that is away,
refuses, or reports what cannot be true."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from adapters.errors import ProviderRejected, ProviderUnavailable
from db import fulfillment_polls
from db.read_model import record_order
from domain.order_state import FulfillmentEvent
from domain.statuses import FulfillmentEventType as Type
from domain.statuses import OrderStatus
from runtime.fulfillment_polling import REFUSED_READ_PAUSE, UNAVAILABLE_PAUSE, FinishedOrder, poll_due, read_parcels_until_stopped
from tests.db.factories import order_state

NOW = datetime.now(UTC)
AGAIN_AT_ONCE = timedelta(0)


class Network:
    """Amazon as the poller sees it: each order's events, as `poll` answers them (or a failure to raise)."""

    def __init__(self):
        self.events: dict[str, list[FulfillmentEvent]] = {}
        self.failure: Exception | None = None
        self.reads: list[str] = []

    def report(self, order_id: str, kind: Type, at: datetime = NOW) -> FulfillmentEvent:
        event = FulfillmentEvent(event_id=f"amzn:{order_id}:1:{kind.value}", order_id=order_id, type=kind, occurred_at=at, tracking="1Z9")
        self.events.setdefault(order_id, []).append(event)
        return event

    async def poll(self, order_id: str) -> list[FulfillmentEvent]:
        self.reads.append(order_id)
        await asyncio.sleep(0)
        if self.failure:
            raise self.failure
        return list(self.events.get(order_id, []))


class Orders:
    """The workflows, as signals reach them."""

    def __init__(self, finished: set[str] = frozenset()):
        self.told: list[FulfillmentEvent] = []
        self.finished = finished

    async def __call__(self, event: FulfillmentEvent) -> None:
        if event.order_id in self.finished:
            raise FinishedOrder(event.order_id)
        self.told.append(event)


async def placed(pool, uid: str, status: OrderStatus = OrderStatus.AWAITING_SHIPMENT, fulfillment_order_id: str | None = "set") -> str:
    order_id = f"poll-{uid}"
    state = order_state(order_id, steps=2, placed_at=NOW - timedelta(days=1)).model_copy(
        update={"status": status, "fulfillment_order_id": order_id if fulfillment_order_id else None}
    )
    await record_order(pool, state)
    return order_id


async def read_all(pool, network: Network, orders: Orders, interval: timedelta = AGAIN_AT_ONCE) -> None:
    """One pass over what is due; with the default interval, each order read is due again at once."""
    await poll_due(pool, network, orders, interval, spacing=0)


@pytest.fixture
async def pool(fresh_pool):
    await fresh_pool.execute("DELETE FROM fulfillment_polls")
    await fresh_pool.execute("UPDATE orders SET status = 'settled'")  # earlier tests' orders are finished
    return fresh_pool


async def test_each_event_is_told_once_and_in_the_parcels_order(pool, uid):
    order_id = await placed(pool, uid)
    network, orders = Network(), Orders()
    delivered = network.report(order_id, Type.DELIVERED, NOW - timedelta(minutes=1))
    shipped = network.report(order_id, Type.SHIPPED, NOW - timedelta(hours=5))

    await read_all(pool, network, orders)
    await read_all(pool, network, orders)
    assert [e.event_id for e in orders.told] == [shipped.event_id, delivered.event_id]

    damaged = network.report(order_id, Type.DAMAGED)
    await read_all(pool, network, orders)
    assert [e.event_id for e in orders.told] == [shipped.event_id, delivered.event_id, damaged.event_id]
    assert network.reads == [order_id] * 3


async def test_same_time_events_go_in_the_parcels_progress(pool, uid):
    order_id = await placed(pool, uid)
    network, orders = Network(), Orders()
    for kind in (Type.DELIVERED, Type.IN_TRANSIT, Type.SHIPPED):
        network.report(order_id, kind, NOW - timedelta(minutes=5))

    await read_all(pool, network, orders)

    assert [e.type for e in orders.told] == [Type.SHIPPED, Type.IN_TRANSIT, Type.DELIVERED]


async def test_only_orders_awaiting_news_of_a_created_parcel_are_read(pool, uid):
    waiting = await placed(pool, f"{uid}-w", OrderStatus.AWAITING_RETURN)
    await placed(pool, f"{uid}-n", OrderStatus.AWAITING_SHIPMENT, fulfillment_order_id=None)
    await placed(pool, f"{uid}-s", OrderStatus.SETTLED)
    await placed(pool, f"{uid}-p", OrderStatus.PAYMENT_PENDING)
    network = Network()

    await read_all(pool, network, Orders())

    assert network.reads == [waiting]


async def test_an_order_is_read_again_only_after_its_interval(pool, uid):
    order_id = await placed(pool, uid)
    network = Network()

    await poll_due(pool, network, Orders(), timedelta(minutes=2), spacing=0)
    await poll_due(pool, network, Orders(), timedelta(minutes=2), spacing=0)

    assert network.reads == [order_id]


async def test_workers_claiming_at_once_never_read_one_order_twice(pool, uid):
    ids = [await placed(pool, f"{uid}-{n}") for n in range(12)]
    network = Network()

    for _ in range(4):
        await asyncio.gather(*(poll_due(pool, network, Orders(), timedelta(minutes=2), spacing=0) for _ in range(3)))

    assert sorted(network.reads) == sorted(ids)


async def test_a_network_away_leaves_the_batch_alone_as_long_as_it_asked(pool, uid):
    ids = [await placed(pool, f"{uid}-{n}") for n in range(3)]
    network = Network()
    network.failure = ProviderUnavailable("HTTP 429", retry_after=timedelta(seconds=3))

    with pytest.raises(ProviderUnavailable):
        await poll_due(pool, network, Orders(), AGAIN_AT_ONCE, spacing=0)

    assert len(network.reads) == 1  # the first read failed: the rest of the batch was not asked
    waits = await pool.fetch("SELECT next_poll_at - now() AS wait FROM fulfillment_polls WHERE order_id = ANY($1::text[])", ids)
    assert len(waits) == 3 and all(timedelta(seconds=2) < row["wait"] <= timedelta(seconds=3) for row in waits)
    assert await fulfillment_polls.claim_due(pool, 10, timedelta(minutes=2)) == []


async def test_a_read_that_fails_is_made_again_in_a_moment_and_the_batch_goes_on(pool, uid):
    first, second = await placed(pool, f"{uid}-1"), await placed(pool, f"{uid}-2")
    network, orders = Network(), Orders()
    network.report(second, Type.SHIPPED)

    async def poll(order_id: str) -> list[FulfillmentEvent]:
        if order_id == first:
            network.reads.append(order_id)
            raise ProviderUnavailable("HTTP 503")
        return await Network.poll(network, order_id)

    network.poll = poll  # type: ignore[method-assign]
    assert await poll_due(pool, network, orders, timedelta(minutes=2), spacing=0) == 2

    assert sorted(network.reads) == sorted([first, second]) and [e.order_id for e in orders.told] == [second]
    wait = await pool.fetchval("SELECT next_poll_at - now() FROM fulfillment_polls WHERE order_id = $1", first)
    assert wait <= UNAVAILABLE_PAUSE


async def test_a_refused_read_is_tried_again_an_hour_later(pool, uid):
    order_id = await placed(pool, uid)
    network, orders = Network(), Orders()
    network.failure = ProviderRejected("HTTP 404: no such order")

    await read_all(pool, network, orders)
    network.failure = None
    network.report(order_id, Type.SHIPPED)
    await read_all(pool, network, orders)
    assert network.reads == [order_id] and orders.told == []

    next_read = await pool.fetchval("SELECT next_poll_at - now() FROM fulfillment_polls WHERE order_id = $1", order_id)
    assert timedelta(minutes=59) < next_read <= REFUSED_READ_PAUSE
    await pool.execute("UPDATE fulfillment_polls SET next_poll_at = now() WHERE order_id = $1", order_id)
    await read_all(pool, network, orders)
    assert [e.type for e in orders.told] == [Type.SHIPPED]


async def test_a_finished_workflow_is_not_told_again(pool, uid):
    order_id = await placed(pool, uid)
    network, orders = Network(), Orders(finished={order_id})
    network.report(order_id, Type.SHIPPED)
    network.report(order_id, Type.DELIVERED)

    await read_all(pool, network, orders)
    orders.finished = set()
    await read_all(pool, network, orders)

    assert orders.told == []
    told = await pool.fetchval("SELECT told_event_ids FROM fulfillment_polls WHERE order_id = $1", order_id)
    assert sorted(told) == sorted(e.event_id for e in network.events[order_id])


async def test_an_event_whose_time_cannot_be_true_is_not_told(pool, uid):
    order_id = await placed(pool, uid)
    network, orders = Network(), Orders()
    network.report(order_id, Type.SHIPPED, NOW - timedelta(hours=1))
    network.report(order_id, Type.DELIVERED, NOW + timedelta(days=1))  # the network's clock is far ahead
    network.report(order_id, Type.LOST, NOW - timedelta(days=30))  # before the order was placed

    await read_all(pool, network, orders)

    assert [e.type for e in orders.told] == [Type.SHIPPED]
    told = await pool.fetchval("SELECT told_event_ids FROM fulfillment_polls WHERE order_id = $1", order_id)
    assert told == [f"amzn:{order_id}:1:shipped"]  # the others are looked at again at the next read


async def test_finished_orders_schedules_are_dropped(pool, uid):
    order_id = await placed(pool, uid)
    await read_all(pool, Network(), Orders())
    await pool.execute("UPDATE orders SET status = 'settled' WHERE order_id = $1", order_id)

    assert await fulfillment_polls.forget_finished(pool) == 1
    assert await pool.fetchval("SELECT count(*) FROM fulfillment_polls") == 0


async def test_the_poller_outlives_a_failing_read_and_stops_when_asked(pool, uid):
    order_id = await placed(pool, uid)
    network, orders, stop = Network(), Orders(), asyncio.Event()
    network.failure = RuntimeError("a bug in reading")
    network.report(order_id, Type.SHIPPED)

    poller = asyncio.create_task(read_parcels_until_stopped(pool, network, orders, AGAIN_AT_ONCE, 100, stop))
    while not network.reads:
        await asyncio.sleep(0.05)
    await pool.execute("UPDATE fulfillment_polls SET next_poll_at = now() WHERE order_id = $1", order_id)
    network.failure = None
    async with asyncio.timeout(30):
        while not orders.told:
            await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(poller, 10)

    assert [e.type for e in orders.told] == [Type.SHIPPED]
