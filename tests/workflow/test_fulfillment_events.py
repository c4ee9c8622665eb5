"""Fulfillment events are signals: duplicates (same event id) and out-of-order events change nothing extra."""

from datetime import timedelta

from domain import activity_names as act
from domain import order_steps as steps
from domain.statuses import OrderStatus
from tests.workflow.conftest import (
    TOTAL,
    assert_ledger,
    confirm,
    deliver,
    env_now,
    key,
    make_order,
    send_event,
    ship,
    start_order,
    state_of,
    statuses,
    wait_for_status,
    wait_until,
    window_opened,
)


def without_seen_ids(state):
    return state.model_copy(update={"seen_event_ids": []})


async def settle(handle):
    await confirm(handle)
    return await handle.result()


async def test_duplicate_shipped_event_captures_once(env, worker, providers, now):
    order = make_order(now)
    handle = await start_order(env, order)
    shipped_at = await ship(env, handle, order, event_id="ev-1", tracking="TRK-A")
    for _ in range(3):
        await send_event(handle, order, "shipped", "ev-1", shipped_at + timedelta(hours=1), tracking="TRK-B")
    state = await state_of(handle)
    assert state.seen_event_ids == ["ev-1"]
    assert state.tracking == "TRK-A" and state.shipped_at == shipped_at and state.parcel_progress == 1
    assert statuses(state).count(OrderStatus.IN_TRANSIT) == 1

    await deliver(env, handle, order, event_id="ev-2")
    await send_event(handle, order, "delivered", "ev-2", shipped_at + timedelta(days=5))  # duplicate delivery
    result = await settle(handle)
    assert result.status == OrderStatus.SETTLED
    assert result.seen_event_ids == ["ev-1", "ev-2"]
    assert result.delivered_at < shipped_at + timedelta(days=1)  # the first delivered event's time stands
    assert providers.steps(act.CAPTURE_PAYMENT) == [key(order, steps.CAPTURE.key)]
    assert_ledger(providers, order, [steps.CAPTURE.key, steps.RELEASE.key, steps.PAYOUT.key])


async def test_reused_event_id_with_another_type_is_ignored(env, worker, providers, now):
    order = make_order(now)
    handle = await start_order(env, order)
    await ship(env, handle, order, event_id="ev-1")
    await send_event(handle, order, "delivered", "ev-1", await env_now(env))
    await env.sleep(timedelta(days=1))
    state = await state_of(handle)
    assert state.status == OrderStatus.IN_TRANSIT
    assert state.delivered_at is None and state.parcel_progress == 1 and state.deadlines.confirm_by is None


async def test_delivered_before_shipped_captures_once_then_awaits_confirmation(env, worker, providers, now):
    order = make_order(now)
    handle = await start_order(env, order)
    await wait_for_status(handle, OrderStatus.AWAITING_SHIPMENT)
    delivered_at = await env_now(env)
    await send_event(handle, order, "delivered", "ev-d", delivered_at, tracking="TRK-D")
    state = await wait_for_status(handle, OrderStatus.AWAITING_CONFIRMATION)
    assert state.amounts.captured == TOTAL
    assert state.delivered_at == delivered_at and state.shipped_at == delivered_at
    assert state.deadlines.confirm_by == window_opened(state) + timedelta(days=7) and window_opened(state) >= delivered_at
    assert statuses(state)[-2:] == [OrderStatus.IN_TRANSIT, OrderStatus.AWAITING_CONFIRMATION]

    await send_event(handle, order, "shipped", "ev-s", delivered_at - timedelta(days=1))  # arrives late
    await send_event(handle, order, "in_transit", "ev-t", delivered_at - timedelta(hours=5))
    late = await state_of(handle)
    assert without_seen_ids(late) == without_seen_ids(state)
    assert late.seen_event_ids == ["ev-d", "ev-s", "ev-t"]

    result = await settle(handle)
    assert result.status == OrderStatus.SETTLED
    assert result.shipped_at == delivered_at and result.tracking == "TRK-D"
    assert providers.steps(act.CAPTURE_PAYMENT) == [key(order, steps.CAPTURE.key)]
    assert_ledger(providers, order, [steps.CAPTURE.key, steps.RELEASE.key, steps.PAYOUT.key])


async def test_stale_shipped_after_delivered_changes_nothing(env, worker, providers, now):
    order = make_order(now)
    handle = await start_order(env, order)
    shipped_at = await ship(env, handle, order, event_id="ev-s1", tracking="TRK-1")
    await deliver(env, handle, order, event_id="ev-d1")
    before = await state_of(handle)

    await send_event(handle, order, "shipped", "ev-s2", shipped_at + timedelta(hours=2), tracking="TRK-2")
    await send_event(handle, order, "in_transit", "ev-t2", shipped_at + timedelta(hours=3), tracking="TRK-3")
    after = await state_of(handle)
    assert without_seen_ids(after) == without_seen_ids(before)
    assert after.tracking == "TRK-1" and after.shipped_at == shipped_at

    result = await settle(handle)
    assert providers.steps(act.CAPTURE_PAYMENT) == [key(order, steps.CAPTURE.key)]
    assert statuses(result).count(OrderStatus.IN_TRANSIT) == 1
    assert_ledger(providers, order, [steps.CAPTURE.key, steps.RELEASE.key, steps.PAYOUT.key])


async def test_in_transit_event_counts_as_shipment_and_progress(env, worker, providers, now):
    order = make_order(now)
    handle = await start_order(env, order)
    await wait_for_status(handle, OrderStatus.AWAITING_SHIPMENT)
    at = await env_now(env)
    await send_event(handle, order, "in_transit", "ev-t", at, tracking="TRK-T")
    state = await wait_for_status(handle, OrderStatus.IN_TRANSIT)
    assert state.parcel_progress == 2 and state.shipped_at == at and state.tracking == "TRK-T"
    await send_event(handle, order, "shipped", "ev-s", at - timedelta(hours=1), tracking="TRK-S")  # older news
    assert (await state_of(handle)).tracking == "TRK-T"
    await deliver(env, handle, order)
    result = await settle(handle)
    assert result.status == OrderStatus.SETTLED and providers.steps(act.CAPTURE_PAYMENT) == [key(order, steps.CAPTURE.key)]


async def test_shipped_before_the_fulfillment_order_exists_captures_right_after(env, worker, providers, now):
    gate = providers.hold(act.CREATE_FULFILLMENT_ORDER)
    order = make_order(now)
    handle = await start_order(env, order)
    await providers.arrived(act.CREATE_FULFILLMENT_ORDER)
    await send_event(handle, order, "shipped", "ev-s", now)
    await wait_until(handle, lambda s: s.parcel_progress == 1, "saw the shipment")
    gate.set()
    state = await wait_for_status(handle, OrderStatus.IN_TRANSIT)
    assert statuses(state) == [OrderStatus.PAYMENT_PENDING, OrderStatus.AWAITING_SHIPMENT, OrderStatus.IN_TRANSIT]
    assert providers.steps(act.CAPTURE_PAYMENT) == [key(order, steps.CAPTURE.key)]


async def test_return_events_do_not_count_as_shipment(env, worker, providers, now):
    order = make_order(now)
    handle = await start_order(env, order)
    await wait_for_status(handle, OrderStatus.AWAITING_SHIPMENT)
    await send_event(handle, order, "return_shipped", "ev-r", now)
    state = await wait_until(handle, lambda s: "ev-r" in s.seen_event_ids, "saw the event")
    assert state.parcel_progress == 0 and state.shipped_at is None

    result = await handle.result()  # ship-by lapses
    assert result.status == OrderStatus.CANCELLED
    assert providers.steps(act.CAPTURE_PAYMENT) == [] and providers.steps(act.VOID_AUTHORIZATION) == [key(order, steps.VOID.key)]
