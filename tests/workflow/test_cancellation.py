"""Cancellation before shipment: the buyer's request, the ship-by deadline, and what may not be cancelled."""

import asyncio
from datetime import timedelta

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateStage

from domain import activity_names as act
from domain import order_steps as steps
from domain.order_actions import CancelRequest
from domain.statuses import OrderStatus
from tests.workflow.conftest import (
    BUYER,
    OPERATOR,
    SELLER,
    TOTAL,
    assert_ledger,
    assert_rejected,
    cancel,
    confirm,
    deliver,
    key,
    make_order,
    retry,
    search_status,
    send_event,
    ship,
    start_order,
    state_of,
    statuses,
    timeline_entry,
    wait_for_status,
)
from workflows.order import OrderWorkflow


def assert_voided_and_unfulfilled(providers, order, result) -> None:
    """A cancelled order: authorization voided once, fulfillment order cancelled once, no money moved."""
    assert result.status == OrderStatus.CANCELLED
    assert result.amounts.authorized == 0 and result.amounts.captured == 0 and result.amounts.paid_out == 0
    assert providers.steps(act.VOID_AUTHORIZATION) == [key(order, steps.VOID.key)]
    assert providers.request(act.VOID_AUTHORIZATION).authorization_id == f"auth_{order.order_id}"
    assert providers.steps(act.CANCEL_FULFILLMENT_ORDER) == [key(order, steps.CANCEL_FULFILLMENT.key)]
    assert providers.request(act.CANCEL_FULFILLMENT_ORDER).order_id == order.order_id
    assert providers.steps(act.CAPTURE_PAYMENT) == [] and providers.steps(act.PAYOUT_SELLER) == []
    assert providers.entries == {} and providers.posted == []


async def test_ship_by_deadline_lapsing_cancels_and_voids(env, worker, providers, now):
    order = make_order(now)
    handle = await start_order(env, order)
    await wait_for_status(handle, OrderStatus.AWAITING_SHIPMENT)
    await env.sleep(timedelta(days=4, hours=23))
    assert (await state_of(handle)).status == OrderStatus.AWAITING_SHIPMENT
    assert providers.steps(act.VOID_AUTHORIZATION) == []

    result = await handle.result()
    assert_voided_and_unfulfilled(providers, order, result)
    assert result.cancel_reason == "ship-by deadline lapsed before shipment"
    assert statuses(result) == [OrderStatus.PAYMENT_PENDING, OrderStatus.AWAITING_SHIPMENT, OrderStatus.CANCELLED]
    cancelled = timeline_entry(result, OrderStatus.CANCELLED)
    assert cancelled.detail == "ship-by deadline lapsed before shipment"
    assert order.ship_by <= cancelled.at < order.ship_by + timedelta(minutes=1)
    assert providers.recorded[-1].status == OrderStatus.CANCELLED
    assert await search_status(handle) == "cancelled"


async def test_ship_by_already_past_at_start_cancels_at_once(env, worker, providers, now):
    order = make_order(now, ship_by=now - timedelta(minutes=1))
    handle = await start_order(env, order)
    state = await wait_for_status(handle, OrderStatus.CANCELLED)  # no time skipped
    assert_voided_and_unfulfilled(providers, order, state)
    assert state.cancel_reason == "ship-by deadline lapsed before shipment"


async def test_buyer_cancels_before_shipment(env, worker, providers, now):
    order = make_order(now)
    handle = await start_order(env, order)
    await wait_for_status(handle, OrderStatus.AWAITING_SHIPMENT)

    answer = await cancel(handle, BUYER, reason="found it cheaper")
    assert answer.status == OrderStatus.CANCELLED
    result = await handle.result()
    assert_voided_and_unfulfilled(providers, order, result)
    assert result.cancel_reason == "found it cheaper"
    assert timeline_entry(result, OrderStatus.CANCELLED).detail == "found it cheaper"
    assert timeline_entry(result, OrderStatus.CANCELLED).at < order.ship_by
    assert await search_status(handle) == "cancelled"


async def test_cancel_while_authorizing_voids_once_authorized(env, worker, providers, now):
    gate = providers.hold(act.AUTHORIZE_PAYMENT)
    order = make_order(now)
    handle = await start_order(env, order)
    await providers.arrived(act.AUTHORIZE_PAYMENT)
    assert (await state_of(handle)).status == OrderStatus.PAYMENT_PENDING
    update = await handle.start_update(
        OrderWorkflow.cancel, CancelRequest(actor=BUYER, reason="oops"), wait_for_stage=WorkflowUpdateStage.ACCEPTED
    )
    gate.set()

    answer = await update.result()
    assert answer.status == OrderStatus.CANCELLED
    result = await handle.result()
    assert result.status == OrderStatus.CANCELLED and result.cancel_reason == "oops"
    assert providers.steps(act.VOID_AUTHORIZATION) == [key(order, steps.VOID.key)]
    assert providers.steps(act.CREATE_FULFILLMENT_ORDER) == [] and providers.steps(act.CANCEL_FULFILLMENT_ORDER) == []
    assert providers.entries == {}


async def test_cancel_while_authorizing_a_declined_card_ends_payment_failed(env, worker, providers, now):
    gate = providers.hold(act.AUTHORIZE_PAYMENT)
    order = make_order(now, payment_method="pm_card_declined")
    handle = await start_order(env, order)
    await providers.arrived(act.AUTHORIZE_PAYMENT)
    update = await handle.start_update(OrderWorkflow.cancel, CancelRequest(actor=BUYER), wait_for_stage=WorkflowUpdateStage.ACCEPTED)
    gate.set()

    assert (await update.result()).status == OrderStatus.PAYMENT_FAILED
    result = await handle.result()
    assert result.status == OrderStatus.PAYMENT_FAILED
    assert providers.steps(act.VOID_AUTHORIZATION) == [] and providers.steps(act.CREATE_FULFILLMENT_ORDER) == []


async def test_cancel_after_shipment_is_rejected_without_trace(env, worker, providers, now):
    order = make_order(now)
    handle = await start_order(env, order)
    await ship(env, handle, order)
    before = await state_of(handle)

    await assert_rejected(cancel(handle, BUYER), "in_transit and can no longer be cancelled")
    await assert_rejected(cancel(handle, SELLER), "can no longer be cancelled")
    await assert_rejected(cancel(handle, OPERATOR), "can no longer be cancelled")
    assert await state_of(handle) == before
    await deliver(env, handle, order)
    await assert_rejected(cancel(handle, BUYER), "awaiting_confirmation and can no longer be cancelled")

    await confirm(handle)
    result = await handle.result()
    assert result.status == OrderStatus.SETTLED and result.cancel_reason is None
    assert providers.steps(act.VOID_AUTHORIZATION) == [] and providers.steps(act.CANCEL_FULFILLMENT_ORDER) == []
    assert_ledger(providers, order, [steps.CAPTURE.key, steps.RELEASE.key, steps.PAYOUT.key])
    accepted = [e async for e in handle.fetch_history_events() if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED]
    assert len(accepted) == 1  # only the confirmation; rejected updates leave no trace


async def test_cancel_once_shipped_but_before_in_transit_is_rejected(env, worker, providers, now):
    """The shipped event is known while capture is still running: too late to cancel."""
    gate = providers.hold(act.CAPTURE_PAYMENT)
    order = make_order(now)
    handle = await start_order(env, order)
    await wait_for_status(handle, OrderStatus.AWAITING_SHIPMENT)
    await send_event(handle, order, "shipped", "ev-ship", now)
    await providers.arrived(act.CAPTURE_PAYMENT)
    assert (await state_of(handle)).status == OrderStatus.AWAITING_SHIPMENT
    await assert_rejected(cancel(handle, BUYER), "awaiting_shipment and can no longer be cancelled")
    gate.set()
    state = await wait_for_status(handle, OrderStatus.IN_TRANSIT)
    assert state.amounts.captured == TOTAL and providers.steps(act.VOID_AUTHORIZATION) == []


async def test_second_cancel_is_rejected_while_the_first_runs(env, worker, providers, now):
    gate = providers.hold(act.VOID_AUTHORIZATION)
    order = make_order(now)
    handle = await start_order(env, order)
    await wait_for_status(handle, OrderStatus.AWAITING_SHIPMENT)
    first = asyncio.create_task(cancel(handle, BUYER, reason="first"))
    await providers.arrived(act.VOID_AUTHORIZATION)
    await assert_rejected(cancel(handle, OPERATOR, reason="second"), "already being cancelled")
    gate.set()

    assert (await first).status == OrderStatus.CANCELLED
    result = await handle.result()
    assert result.cancel_reason == "first"
    assert_voided_and_unfulfilled(providers, order, result)


async def test_void_failing_for_good_needs_attention_then_retry_cancels(env, worker, providers, now):
    providers.void_fails = True
    order = make_order(now)
    handle = await start_order(env, order)
    await wait_for_status(handle, OrderStatus.AWAITING_SHIPMENT)
    pending = asyncio.create_task(cancel(handle, BUYER))
    state = await wait_for_status(handle, OrderStatus.NEEDS_ATTENTION)
    assert state.attention.step == steps.VOID.label
    assert state.attention.resume_status == OrderStatus.AWAITING_SHIPMENT
    await assert_rejected(cancel(handle, OPERATOR), "already being cancelled")

    assert (await pending).status == OrderStatus.NEEDS_ATTENTION  # the cancel answers instead of hanging

    providers.void_fails = False
    await retry(handle)
    result = await handle.result()
    assert providers.steps(act.VOID_AUTHORIZATION) == [key(order, steps.VOID.key)] * 2
    assert providers.steps(act.CANCEL_FULFILLMENT_ORDER) == [key(order, steps.CANCEL_FULFILLMENT.key)]
    assert result.status == OrderStatus.CANCELLED and result.amounts.authorized == 0
    assert statuses(result)[-3:] == [OrderStatus.NEEDS_ATTENTION, OrderStatus.AWAITING_SHIPMENT, OrderStatus.CANCELLED]


async def test_fulfillment_cancel_failing_for_good_needs_attention_then_retry(env, worker, providers, now):
    providers.cancel_fulfillment_fails = True
    order = make_order(now)
    handle = await start_order(env, order)
    await wait_for_status(handle, OrderStatus.AWAITING_SHIPMENT)
    await env.sleep(timedelta(days=5, minutes=1))  # ship-by lapses
    state = await wait_for_status(handle, OrderStatus.NEEDS_ATTENTION)
    assert state.attention.step == steps.CANCEL_FULFILLMENT.label
    assert state.amounts.authorized == 3500  # the network is asked first; the void waits for its answer

    providers.cancel_fulfillment_fails = False
    await retry(handle)
    result = await handle.result()
    assert result.status == OrderStatus.CANCELLED
    assert providers.steps(act.VOID_AUTHORIZATION) == [key(order, steps.VOID.key)]
    assert providers.steps(act.CANCEL_FULFILLMENT_ORDER) == [key(order, steps.CANCEL_FULFILLMENT.key)] * 2


async def test_a_cancel_that_reaches_the_network_after_it_shipped_does_not_stand(env, worker, providers, now):
    """The buyer cancels, but the network had shipped already: the sale goes on and the buyer hears 409."""
    providers.network_already_shipped = True
    order = make_order(now)
    handle = await start_order(env, order)
    await wait_for_status(handle, OrderStatus.AWAITING_SHIPMENT)
    await assert_rejected(cancel(handle, BUYER), "already shipped")
    state = await wait_for_status(handle, OrderStatus.IN_TRANSIT)
    assert state.cancel_reason is None and state.amounts.authorized == order.total and state.shipped_at is not None
    assert providers.steps(act.VOID_AUTHORIZATION) == [] and providers.steps(act.CAPTURE_PAYMENT) == [key(order, steps.CAPTURE.key)]
    await deliver(env, handle, order)
    await confirm(handle)
    result = await handle.result()
    assert result.status == OrderStatus.SETTLED
    assert any(t.detail.startswith("not cancelled: the fulfillment network had already shipped") for t in result.timeline)


async def test_ship_by_lapsing_after_the_network_shipped_captures_instead_of_voiding(env, worker, providers, now):
    providers.network_already_shipped = True
    order = make_order(now)
    handle = await start_order(env, order)
    await wait_for_status(handle, OrderStatus.AWAITING_SHIPMENT)
    await env.sleep(timedelta(days=5, minutes=1))
    state = await wait_for_status(handle, OrderStatus.IN_TRANSIT)
    assert state.amounts.captured == order.total and providers.steps(act.VOID_AUTHORIZATION) == []
