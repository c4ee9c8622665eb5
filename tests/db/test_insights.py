"""The business's running totals (db/insights.py, domain/insights.py) as the read model writes them: each change
counted once, in the transaction of the write, whatever repeats or arrives late; and migration 0015's fill of the
orders recorded before it."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from db.chargebacks import record_notice
from db.migrate import upgrade
from db.pool import create_pool
from db.read_model import record_order
from domain.after_sales import Dispute, DisputeReason
from domain.chargebacks import ChargebackNotice, ChargebackStatus
from domain.insights import bucket_of
from domain.order_state import FulfillmentEvent, OrderState, TimelineEntry
from domain.ship_to import ShipTo
from domain.statuses import FulfillmentEventType, OrderStatus
from tests.db.conftest import create_migrated_database
from tests.db.factories import order_state
from tests.reliability.totals_check import totals_problems

PLACED = datetime(2026, 6, 1, 10, 17, 42, tzinfo=UTC)
BAVARIA = ShipTo(country="DE", subdivision="DE-BY")


def stepped(state: OrderState, status: OrderStatus, after: timedelta, **changes) -> OrderState:
    """The state one step on: `status` entered `after` the placement."""
    entry = TimelineEntry(at=state.placed_at + after, status=status, detail=status.value)
    return state.model_copy(update={"status": status, "timeline": [*state.timeline, entry], **changes})


def placed(order_id: str, marketplace: str, **changes) -> OrderState:
    base = order_state(order_id, marketplace=marketplace, placed_at=PLACED)
    return base.model_copy(update={"ship_to": BAVARIA, "seller_id": f"seller-{marketplace}", **changes})


async def statuses(pool, marketplace: str) -> dict[str, int]:
    rows = await pool.fetch("SELECT status, orders FROM insight_statuses WHERE marketplace = $1 AND orders <> 0", marketplace)
    return {r["status"]: r["orders"] for r in rows}


async def outcomes(pool, marketplace: str) -> dict[tuple, int]:
    rows = await pool.fetch(
        "SELECT outcome, reason, region, fulfillment_center, orders FROM insight_outcomes WHERE marketplace = $1", marketplace
    )
    return {(r["outcome"], r["reason"], r["region"], r["fulfillment_center"]): r["orders"] for r in rows}


async def stages(pool, marketplace: str) -> dict[str, int]:
    rows = await pool.fetch("SELECT stage, bucket, orders FROM insight_stage_times WHERE marketplace = $1", marketplace)
    return {(r["stage"], r["bucket"]): r["orders"] for r in rows}


async def test_a_new_order_counts_once_in_its_minute_and_hour_with_its_gross(db_pool, uid):
    market = f"m-{uid}"
    first, second = placed(f"a-{uid}", market), placed(f"b-{uid}", market)
    for state in (first, first, second):  # the first written twice
        await record_order(db_pool, state)

    minute = await db_pool.fetchrow("SELECT at, region, orders, gross FROM insight_volume_minutes WHERE marketplace = $1", market)
    hour = await db_pool.fetchrow("SELECT at, orders, gross FROM insight_volume_hours WHERE marketplace = $1", market)
    assert dict(minute) == {"at": PLACED.replace(second=0), "region": "DE-BY", "orders": 2, "gross": 7000}
    assert dict(hour) == {"at": PLACED.replace(minute=0, second=0), "orders": 2, "gross": 7000}
    assert await statuses(db_pool, market) == {"payment_pending": 2}
    assert await db_pool.fetchval("SELECT region FROM orders WHERE order_id = $1", first.order_id) == "DE-BY"


async def test_statuses_follow_each_order_and_stale_writes_change_nothing(db_pool, uid):
    market = f"m-{uid}"
    order = placed(f"a-{uid}", market)
    shipping = stepped(order, OrderStatus.AWAITING_SHIPMENT, timedelta(minutes=1))
    moving = stepped(shipping, OrderStatus.IN_TRANSIT, timedelta(hours=20))

    for state in (order, shipping, moving, shipping, moving):  # a late and a repeated write among them
        await record_order(db_pool, state)

    assert await statuses(db_pool, market) == {"in_transit": 1}


async def test_stages_and_outcomes_are_counted_when_first_reached(db_pool, uid):
    market = f"m-{uid}"
    order = placed(f"a-{uid}", market, fulfillment_center="FRA3")
    shipping = stepped(order, OrderStatus.AWAITING_SHIPMENT, timedelta(minutes=1))
    moving = stepped(shipping, OrderStatus.IN_TRANSIT, timedelta(hours=20))
    late = moving.deadlines.deliver_by + timedelta(hours=1)
    delivered = stepped(moving, OrderStatus.AWAITING_CONFIRMATION, late - PLACED, delivered_at=late)
    paying = stepped(delivered, OrderStatus.PAYOUT_PENDING, late - PLACED + timedelta(days=7))
    settled = stepped(paying, OrderStatus.SETTLED, late - PLACED + timedelta(days=7, minutes=1))

    for state in (order, shipping, moving, delivered, delivered, paying, settled):
        await record_order(db_pool, state)

    where = ("DE-BY", "FRA3")
    assert await outcomes(db_pool, market) == {
        ("placed", "", *where): 1,
        ("shipped", "", *where): 1,
        ("delivered", "", *where): 1,
        ("late", "", *where): 1,
    }
    assert await stages(db_pool, market) == {
        ("placed_to_shipped", bucket_of(timedelta(hours=20))): 1,
        ("shipped_to_delivered", bucket_of(late - PLACED - timedelta(hours=20))): 1,
        ("delivered_to_payout", bucket_of(timedelta(days=7, minutes=1))): 1,
        ("placed_to_payout", bucket_of(late - PLACED + timedelta(days=7, minutes=1))): 1,
    }


async def test_disputes_by_reason_refunds_and_lost_parcels(db_pool, uid):
    market = f"m-{uid}"
    order = placed(f"a-{uid}", market)
    moving = stepped(stepped(order, OrderStatus.AWAITING_SHIPMENT, timedelta(minutes=1)), OrderStatus.IN_TRANSIT, timedelta(hours=2))
    lost = FulfillmentEvent(event_id="e1", order_id=order.order_id, type=FulfillmentEventType.LOST, occurred_at=PLACED + timedelta(days=2))
    dispute = Dispute(
        reason=DisputeReason.NOT_RECEIVED,
        description="never came",
        opened_at=PLACED + timedelta(days=2),
        opened_by="network",
        seller_response_by=PLACED + timedelta(days=5),
        resolution_by=PLACED + timedelta(days=9),
    )
    disputed = stepped(moving, OrderStatus.DISPUTED, timedelta(days=2), network_fault=lost, dispute=dispute)
    refunded = stepped(disputed, OrderStatus.REFUNDED, timedelta(days=3))

    for state in (order, moving, disputed, refunded, refunded):
        await record_order(db_pool, state)

    found = {(outcome, reason): n for (outcome, reason, _, _), n in (await outcomes(db_pool, market)).items()}
    assert found == {("placed", ""): 1, ("shipped", ""): 1, ("lost", ""): 1, ("disputed", "not_received"): 1, ("refunded", ""): 1}
    assert ("placed_to_refund", bucket_of(timedelta(days=3))) in await stages(db_pool, market)
    assert await statuses(db_pool, market) == {"refunded": 1}


async def test_an_order_without_ship_to_is_counted_under_unknown(db_pool, uid):
    market = f"m-{uid}"
    await record_order(db_pool, placed(f"a-{uid}", market, ship_to=None))

    assert await db_pool.fetchval("SELECT region FROM insight_volume_hours WHERE marketplace = $1", market) == "unknown"


@pytest.mark.parametrize("seconds, bucket", [(0, 0), (1.9, 0), (2, 1), (3.9, 1), (4, 2), (3600, 11), (86400 * 7, 19)])
def test_durations_fall_in_power_of_two_buckets(seconds, bucket):
    assert bucket_of(timedelta(seconds=seconds)) == bucket


async def test_the_migration_fills_the_totals_from_the_orders_recorded_before_it(pg_server):
    uri = await create_migrated_database(pg_server, revision="0014")
    pool = await create_pool(uri, min_size=1, max_size=2)
    try:
        rows = [("old-1", "settled", PLACED), ("old-2", "in_transit", PLACED + timedelta(minutes=30))]
        for order_id, status, at in rows:
            await pool.execute(
                "INSERT INTO orders (order_id, workflow_id, status, buyer_id, seller_id, marketplace, currency, total, version, placed_at, state) "
                "VALUES ($1, $1, $2, 'b', 's', 'old-market', 'USD', 3500, 3, $3, '{}')",
                order_id,
                status,
                at,
            )
            steps = [("payment_pending", at), ("in_transit", at + timedelta(hours=5))]
            if status == "settled":
                steps += [("awaiting_confirmation", at + timedelta(days=1)), ("settled", at + timedelta(days=8))]
            for seq, (step, when) in enumerate(steps, start=1):
                await pool.execute(
                    "INSERT INTO order_events (order_id, seq, status, detail, at) VALUES ($1, $2, $3, '', $4)", order_id, seq, step, when
                )
        await asyncio.to_thread(upgrade, uri)

        hour = await pool.fetchrow("SELECT region, orders, gross FROM insight_volume_hours WHERE marketplace = 'old-market'")
        assert dict(hour) == {"region": "unknown", "orders": 2, "gross": 7000}
        assert await statuses(pool, "old-market") == {"settled": 1, "in_transit": 1}
        assert await outcomes(pool, "old-market") == {
            ("placed", "", "unknown", "unknown"): 2,
            ("shipped", "", "unknown", "unknown"): 2,
            ("delivered", "", "unknown", "unknown"): 1,
        }
        assert await stages(pool, "old-market") == {
            ("placed_to_shipped", bucket_of(timedelta(hours=5))): 2,
            ("shipped_to_delivered", bucket_of(timedelta(hours=19))): 1,
            ("delivered_to_payout", bucket_of(timedelta(days=7))): 1,
            ("placed_to_payout", bucket_of(timedelta(days=8))): 1,
        }
    finally:
        await pool.close()


async def test_a_chargeback_counts_once_where_its_order_is(db_pool, uid):
    market = f"m-{uid}"
    order = placed(f"a-{uid}", market, fulfillment_center="FRA3")
    await record_order(db_pool, order)
    opened = ChargebackNotice(
        dispute_id=f"dp-{uid}",
        order_id=order.order_id,
        seller_id=order.seller_id,
        status=ChargebackStatus.OPENED,
        amount=1000,
        currency="USD",
        occurred_at=PLACED + timedelta(days=20),
    )
    async with db_pool.acquire() as conn:
        for notice in (opened, opened, opened.model_copy(update={"status": ChargebackStatus.LOST})):
            async with conn.transaction():
                await record_notice(conn, notice)

    assert (await outcomes(db_pool, market))[("chargeback", "", "DE-BY", "FRA3")] == 1


async def test_the_chaos_runs_check_of_the_totals_finds_what_the_read_model_disagrees_with(pg_server):
    uri = await create_migrated_database(pg_server)
    pool = await create_pool(uri, min_size=1, max_size=2)
    try:
        order = placed("check-1", "check-market")
        for state in (order, stepped(order, OrderStatus.AWAITING_SHIPMENT, timedelta(minutes=1))):
            await record_order(pool, state)
        assert await totals_problems(uri) == []

        await pool.execute("UPDATE orders SET status = 'settled' WHERE order_id = 'check-1'")  # behind the totals' back
        assert sorted(await totals_problems(uri)) == [
            "check-market: 0 orders awaiting_shipment in the read model, 1 in the totals",
            "check-market: 1 orders settled in the read model, 0 in the totals",
        ]
    finally:
        await pool.close()
