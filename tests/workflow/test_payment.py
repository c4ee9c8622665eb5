"""Placement: authorization (approved, declined, failing for good) and creating the fulfillment order."""

from datetime import timedelta

from temporalio.client import WorkflowUpdateStage

from domain import activity_names as act
from domain import order_steps as steps
from domain.order_actions import CancelRequest
from domain.statuses import OrderStatus
from tests.workflow.conftest import (
    BUYER,
    OPERATOR,
    TOTAL,
    assert_ledger,
    assert_rejected,
    cancel,
    confirm,
    key,
    make_order,
    retry,
    search_status,
    ship_and_deliver,
    start_order,
    statuses,
    timeline_entry,
    wait_for_status,
)
from workflows.order import OrderWorkflow


async def test_declined_card_fails_the_payment_and_nothing_else_happens(env, worker, providers, now):
    order = make_order(now, payment_method="pm_card_declined")
    handle = await start_order(env, order)

    result = await handle.result()
    assert result.status == OrderStatus.PAYMENT_FAILED
    assert result.decline_code == "card_declined"
    assert statuses(result) == [OrderStatus.PAYMENT_PENDING, OrderStatus.PAYMENT_FAILED]
    assert timeline_entry(result, OrderStatus.PAYMENT_FAILED).detail == "authorization declined: card_declined"
    assert result.authorization_id is None and result.fulfillment_order_id is None
    assert result.amounts.authorized == result.amounts.captured == result.amounts.paid_out == 0
    assert providers.steps(act.AUTHORIZE_PAYMENT) == [key(order, steps.AUTHORIZE.key)]
    assert providers.request(act.AUTHORIZE_PAYMENT).payment_method == "pm_card_declined"
    assert [step for step, _ in providers.calls] == [act.AUTHORIZE_PAYMENT]  # no fulfillment, capture, void, ledger
    assert providers.entries == {}
    assert providers.recorded_statuses() == [OrderStatus.PAYMENT_PENDING, OrderStatus.PAYMENT_FAILED]
    assert await search_status(handle) == "payment_failed"


async def test_authorization_and_fulfillment_order_are_made_at_placement(env, worker, providers, now):
    order = make_order(now)
    handle = await start_order(env, order)
    state = await wait_for_status(handle, OrderStatus.AWAITING_SHIPMENT)
    assert state.authorization_id == f"auth_{order.order_id}"
    assert state.amounts.authorized == TOTAL and state.amounts.captured == 0
    assert state.fulfillment_order_id == f"fo_{order.order_id}"
    assert state.deadlines.ship_by == order.ship_by and state.deadlines.deliver_by == order.deliver_by
    assert state.deadlines.confirm_by is None
    assert timeline_entry(state, OrderStatus.AWAITING_SHIPMENT).detail == "payment authorized; fulfillment order created"
    request = providers.request(act.CREATE_FULFILLMENT_ORDER)
    assert request.idempotency_key == key(order, steps.CREATE_FULFILLMENT.key)
    assert request.seller_id == "seller_1" and request.items == order.items
    assert providers.steps(act.CAPTURE_PAYMENT) == [] and providers.entries == {}
    assert await search_status(handle) == "awaiting_shipment"


async def test_transient_authorization_failures_are_retried_with_the_same_key(env, worker, providers, now):
    providers.transient[act.AUTHORIZE_PAYMENT] = 3
    order = make_order(now)
    handle = await start_order(env, order)
    await env.sleep(timedelta(minutes=1))  # the activity's retry backoff: 1 s, 2 s, 4 s
    state = await wait_for_status(handle, OrderStatus.AWAITING_SHIPMENT)
    assert providers.steps(act.AUTHORIZE_PAYMENT) == [key(order, steps.AUTHORIZE.key)] * 4
    assert OrderStatus.NEEDS_ATTENTION not in statuses(state)


async def test_authorization_failing_for_good_then_operator_retry_proceeds(env, worker, providers, now):
    providers.authorize_fails = True
    order = make_order(now)
    handle = await start_order(env, order)
    state = await wait_for_status(handle, OrderStatus.NEEDS_ATTENTION)
    assert state.attention.step == steps.AUTHORIZE.label
    assert state.attention.resume_status == OrderStatus.PAYMENT_PENDING
    assert "payment processor rejects the request" in state.attention.reason
    assert await search_status(handle) == "needs_attention"
    await assert_rejected(cancel(handle, BUYER), "needs_attention and can no longer be cancelled")

    providers.authorize_fails = False
    after = await retry(handle)
    assert after.status != OrderStatus.NEEDS_ATTENTION and after.attention is None
    assert timeline_entry(after, OrderStatus.PAYMENT_PENDING).detail == f"operator retried {steps.AUTHORIZE.label}"

    await ship_and_deliver(env, handle, order)
    await confirm(handle)
    result = await handle.result()
    assert result.status == OrderStatus.SETTLED
    assert providers.steps(act.AUTHORIZE_PAYMENT) == [key(order, steps.AUTHORIZE.key)] * 2
    assert_ledger(providers, order, [steps.CAPTURE.key, steps.RELEASE.key, steps.PAYOUT.key])


async def test_authorization_failing_for_good_then_operator_cancels(env, worker, providers, now):
    providers.authorize_fails = True
    order = make_order(now)
    handle = await start_order(env, order)
    await wait_for_status(handle, OrderStatus.NEEDS_ATTENTION)

    answer = await cancel(handle, OPERATOR, reason="processor outage; order abandoned")
    assert answer.status == OrderStatus.CANCELLED
    result = await handle.result()
    assert result.status == OrderStatus.CANCELLED
    assert result.cancel_reason == "processor outage; order abandoned"
    assert result.attention is None
    # nothing was authorized and no fulfillment order exists: nothing to void or cancel
    assert providers.steps(act.VOID_AUTHORIZATION) == [] and providers.steps(act.CANCEL_FULFILLMENT_ORDER) == []
    assert providers.steps(act.CREATE_FULFILLMENT_ORDER) == [] and providers.entries == {}
    assert await search_status(handle) == "cancelled"


async def test_fulfillment_order_failing_for_good_then_operator_retry(env, worker, providers, now):
    providers.fulfillment_fails = True
    order = make_order(now)
    handle = await start_order(env, order)
    state = await wait_for_status(handle, OrderStatus.NEEDS_ATTENTION)
    assert state.attention.step == steps.CREATE_FULFILLMENT.label
    assert state.attention.resume_status == OrderStatus.PAYMENT_PENDING
    assert state.authorization_id == f"auth_{order.order_id}"

    providers.fulfillment_fails = False
    await retry(handle)
    state = await wait_for_status(handle, OrderStatus.AWAITING_SHIPMENT)
    assert state.fulfillment_order_id == f"fo_{order.order_id}"
    assert providers.steps(act.CREATE_FULFILLMENT_ORDER) == [key(order, steps.CREATE_FULFILLMENT.key)] * 2
    assert statuses(state) == [
        OrderStatus.PAYMENT_PENDING,
        OrderStatus.NEEDS_ATTENTION,
        OrderStatus.PAYMENT_PENDING,
        OrderStatus.AWAITING_SHIPMENT,
    ]


async def test_fulfillment_order_failing_for_good_then_operator_cancel_voids(env, worker, providers, now):
    providers.fulfillment_fails = True
    order = make_order(now)
    handle = await start_order(env, order)
    await wait_for_status(handle, OrderStatus.NEEDS_ATTENTION)
    await assert_rejected(cancel(handle, BUYER), "can no longer be cancelled")

    await cancel(handle, OPERATOR, reason="seller cannot be fulfilled")
    result = await handle.result()
    assert result.status == OrderStatus.CANCELLED
    assert result.cancel_reason == "seller cannot be fulfilled"
    assert result.amounts.authorized == 0
    assert providers.steps(act.VOID_AUTHORIZATION) == [key(order, steps.VOID.key)]
    assert providers.request(act.VOID_AUTHORIZATION).authorization_id == f"auth_{order.order_id}"
    # the create was refused, but the network is told to cancel anyway: a create that timed out may exist
    assert providers.steps(act.CANCEL_FULFILLMENT_ORDER) == [key(order, steps.CANCEL_FULFILLMENT.key)]
    assert providers.steps(act.CAPTURE_PAYMENT) == [] and providers.entries == {}


async def test_cancel_pending_when_authorization_fails_for_good_needs_no_operator(env, worker, providers, now):
    gate = providers.hold(act.AUTHORIZE_PAYMENT)
    providers.authorize_fails = True
    order = make_order(now)
    handle = await start_order(env, order)
    await providers.arrived(act.AUTHORIZE_PAYMENT)
    update = await handle.start_update(
        OrderWorkflow.cancel, CancelRequest(actor=BUYER, reason="too slow"), wait_for_stage=WorkflowUpdateStage.ACCEPTED
    )
    gate.set()

    assert (await update.result()).status == OrderStatus.CANCELLED
    result = await handle.result()
    assert result.cancel_reason == "too slow" and result.attention is None
    assert OrderStatus.NEEDS_ATTENTION in statuses(result) and statuses(result)[-1] == OrderStatus.CANCELLED
    assert providers.steps(act.AUTHORIZE_PAYMENT) == [key(order, steps.AUTHORIZE.key)]
    assert providers.steps(act.VOID_AUTHORIZATION) == [] and providers.steps(act.CREATE_FULFILLMENT_ORDER) == []
