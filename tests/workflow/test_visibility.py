"""What operators and the read model see: the `state` query, the OrderStatus search attribute, recorded states."""

from datetime import timedelta

from domain.order_state import workflow_id_for
from domain.statuses import OrderStatus
from tests.workflow.conftest import (
    SELLER_SHARE,
    TOTAL,
    confirm,
    deliver,
    make_order,
    retry,
    search_status,
    send_event,
    ship,
    start_order,
    state_of,
    statuses,
    wait_for_status,
    window_opened,
)


async def test_search_attribute_and_query_follow_every_transition(env, worker, providers, now):
    providers.payout_fails = True
    order = make_order(now)
    handle = await start_order(env, order)

    state = await wait_for_status(handle, OrderStatus.AWAITING_SHIPMENT)
    assert await search_status(handle) == "awaiting_shipment"
    assert state.workflow_id == workflow_id_for(order.order_id) == handle.id
    assert (state.buyer_id, state.seller_id, state.marketplace) == ("buyer_1", "seller_1", "mk")
    assert state.amounts.total == TOTAL and state.fees == order.fees

    await ship(env, handle, order)
    assert await search_status(handle) == "in_transit"
    await deliver(env, handle, order)
    assert await search_status(handle) == "awaiting_confirmation"
    await confirm(handle)
    await wait_for_status(handle, OrderStatus.NEEDS_ATTENTION)
    assert await search_status(handle) == "needs_attention"

    providers.payout_fails = False
    await retry(handle)
    result = await handle.result()
    assert result.status == OrderStatus.SETTLED == await search_status(handle)
    assert await state_of(handle) == result  # the query still answers once the workflow has completed
    description = await handle.describe()
    assert description.status is not None and description.status.name == "COMPLETED"


async def test_deadlines_are_visible_in_state(env, worker, providers, now):
    order = make_order(now, ship_by=now + timedelta(days=3), deliver_by=now + timedelta(days=10), confirmation_window=timedelta(days=4))
    handle = await start_order(env, order)
    state = await wait_for_status(handle, OrderStatus.AWAITING_SHIPMENT)
    assert state.deadlines.ship_by == now + timedelta(days=3)
    assert state.deadlines.deliver_by == now + timedelta(days=10)
    assert state.deadlines.confirm_by is None
    assert state.confirmation_window == timedelta(days=4)
    assert state.placed_at == now

    await ship(env, handle, order)
    await env.sleep(timedelta(days=2))
    delivered_at = await deliver(env, handle, order)
    state = await state_of(handle)
    assert state.deadlines.confirm_by == window_opened(state) + timedelta(days=4) and window_opened(state) >= delivered_at
    assert delivered_at >= now + timedelta(days=2)


async def test_read_model_is_written_at_each_transition(env, worker, providers, now):
    order = make_order(now)
    handle = await start_order(env, order)
    await ship(env, handle, order)
    await send_event(handle, order, "delivered", "ev-d", now)
    await wait_for_status(handle, OrderStatus.AWAITING_CONFIRMATION)
    await confirm(handle)
    result = await handle.result()

    # one record at start, one once authorized (the record-authorization patch), then one per transition,
    # each carrying the timeline so far
    start, authorized, *transitions = providers.recorded
    assert authorized.amounts.authorized == order.total and authorized.status == OrderStatus.PAYMENT_PENDING
    assert len(transitions) == len(result.timeline) - 1
    for recorded, entry in zip([start, *transitions], result.timeline, strict=True):
        assert recorded.status == entry.status
        assert recorded.timeline[-1] == entry
    assert providers.recorded[-1] == result
    assert result.amounts.paid_out == SELLER_SHARE
    assert statuses(result)[-1] == OrderStatus.SETTLED
