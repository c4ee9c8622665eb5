"""Money steps that fail for good park the order in needs_attention until an operator retries or cancels."""

import asyncio
from datetime import timedelta

from domain import activity_names as act
from domain import order_steps as steps
from domain.statuses import OrderStatus
from tests.workflow.conftest import (
    BUYER,
    OPERATOR,
    SELLER,
    SELLER_SHARE,
    TOTAL,
    assert_ledger,
    assert_rejected,
    cancel,
    confirm,
    key,
    make_order,
    retry,
    search_status,
    send_event,
    ship_and_deliver,
    start_order,
    state_of,
    statuses,
    timeline_entry,
    wait_for_status,
    wait_until,
)


async def park_at_capture(env, providers, now):
    """An order whose capture fails for good once shipped."""
    providers.capture_fails = True
    order = make_order(now)
    handle = await start_order(env, order)
    await wait_for_status(handle, OrderStatus.AWAITING_SHIPMENT)
    await send_event(handle, order, "shipped", "ev-ship", now, tracking="TRK1")
    state = await wait_for_status(handle, OrderStatus.NEEDS_ATTENTION)
    return order, handle, state


async def test_capture_failing_for_good_needs_attention_then_retry_settles(env, worker, providers, now):
    order, handle, state = await park_at_capture(env, providers, now)
    assert state.attention.step == steps.CAPTURE.label
    assert state.attention.resume_status == OrderStatus.AWAITING_SHIPMENT
    assert "capture refused" in state.attention.reason
    assert timeline_entry(state, OrderStatus.NEEDS_ATTENTION).detail.startswith(f"{steps.CAPTURE.label} failed: ")
    assert state.amounts.captured == 0 and state.capture_id is None and providers.entries == {}
    assert await search_status(handle) == "needs_attention"
    await assert_rejected(cancel(handle, BUYER), "needs_attention and can no longer be cancelled")
    await assert_rejected(cancel(handle, SELLER), "can no longer be cancelled")
    await assert_rejected(confirm(handle), "not awaiting confirmation")

    providers.capture_fails = False
    after = await retry(handle, OPERATOR)
    assert after.attention is None
    assert timeline_entry(after, OrderStatus.AWAITING_SHIPMENT).detail == f"operator retried {steps.CAPTURE.label}"
    state = await wait_for_status(handle, OrderStatus.IN_TRANSIT)
    assert state.amounts.captured == TOTAL

    await send_event(handle, order, "delivered", "ev-deliver", now)
    await wait_for_status(handle, OrderStatus.AWAITING_CONFIRMATION)
    await confirm(handle)
    result = await handle.result()
    assert result.status == OrderStatus.SETTLED and result.amounts.paid_out == SELLER_SHARE
    assert providers.steps(act.CAPTURE_PAYMENT) == [key(order, steps.CAPTURE.key)] * 2  # same key: never captured twice
    assert providers.steps(act.VOID_AUTHORIZATION) == []
    assert_ledger(providers, order, [steps.CAPTURE.key, steps.RELEASE.key, steps.PAYOUT.key])
    assert statuses(result) == [
        OrderStatus.PAYMENT_PENDING,
        OrderStatus.AWAITING_SHIPMENT,
        OrderStatus.NEEDS_ATTENTION,
        OrderStatus.AWAITING_SHIPMENT,
        OrderStatus.IN_TRANSIT,
        OrderStatus.AWAITING_CONFIRMATION,
        OrderStatus.PAYOUT_PENDING,
        OrderStatus.SETTLED,
    ]


async def test_capture_failing_for_good_then_operator_cancel_voids(env, worker, providers, now):
    order, handle, _ = await park_at_capture(env, providers, now)
    answer = await cancel(handle, OPERATOR, reason="card issuer refuses capture")
    assert answer.status == OrderStatus.CANCELLED
    result = await handle.result()
    assert result.status == OrderStatus.CANCELLED and result.cancel_reason == "card issuer refuses capture"
    assert result.attention is None and result.amounts.authorized == 0 and result.amounts.captured == 0
    assert providers.steps(act.VOID_AUTHORIZATION) == [key(order, steps.VOID.key)]
    assert providers.steps(act.CANCEL_FULFILLMENT_ORDER) == [key(order, steps.CANCEL_FULFILLMENT.key)]
    assert providers.steps(act.CAPTURE_PAYMENT) == [key(order, steps.CAPTURE.key)]
    assert providers.entries == {}
    assert await search_status(handle) == "cancelled"


async def test_transient_capture_failures_are_retried_with_the_same_key(env, worker, providers, now):
    providers.transient[act.CAPTURE_PAYMENT] = 4
    order = make_order(now)
    handle = await start_order(env, order)
    await wait_for_status(handle, OrderStatus.AWAITING_SHIPMENT)
    await send_event(handle, order, "shipped", "ev-ship", now)
    await env.sleep(timedelta(minutes=2))
    state = await wait_for_status(handle, OrderStatus.IN_TRANSIT)
    assert OrderStatus.NEEDS_ATTENTION not in statuses(state)
    assert providers.steps(act.CAPTURE_PAYMENT) == [key(order, steps.CAPTURE.key)] * 5
    assert providers.posted == [key(order, steps.CAPTURE.key)]


async def test_capture_unavailable_past_the_retry_budget_needs_attention(env, worker, providers, now):
    providers.transient[act.CAPTURE_PAYMENT] = 10  # PROVIDER_CALL allows 10 attempts
    order = make_order(now)
    handle = await start_order(env, order)
    await wait_for_status(handle, OrderStatus.AWAITING_SHIPMENT)
    await send_event(handle, order, "shipped", "ev-ship", now)
    await env.sleep(timedelta(minutes=10))
    state = await wait_for_status(handle, OrderStatus.NEEDS_ATTENTION)
    assert state.attention.step == steps.CAPTURE.label and "provider unavailable" in state.attention.reason
    assert len(providers.steps(act.CAPTURE_PAYMENT)) == 10
    # the capture may have happened at the provider: voiding now could lose the money, so only a retry will do
    assert state.attention.cancellable is False
    await assert_rejected(cancel(handle, OPERATOR), "can no longer be cancelled")

    await retry(handle)
    state = await wait_for_status(handle, OrderStatus.IN_TRANSIT)
    assert set(providers.steps(act.CAPTURE_PAYMENT)) == {key(order, steps.CAPTURE.key)}
    assert providers.posted == [key(order, steps.CAPTURE.key)]


async def test_payout_failing_for_good_needs_attention_then_retry_settles(env, worker, providers, now):
    providers.payout_fails = True
    order = make_order(now)
    handle = await start_order(env, order)
    await ship_and_deliver(env, handle, order)
    await confirm(handle)
    state = await wait_for_status(handle, OrderStatus.NEEDS_ATTENTION)
    assert state.attention.step == steps.PAYOUT.pay.label
    assert state.attention.resume_status == OrderStatus.PAYOUT_PENDING
    assert "payout account rejects payouts" in state.attention.reason
    assert state.amounts.fees == order.fees.total and state.amounts.paid_out == 0
    assert providers.posted == [
        key(order, steps.CAPTURE.key),
        key(order, steps.RELEASE.key),
        key(order, steps.PAYOUT.key),
    ]  # reserved, not settled
    assert providers.balances()[f"pending:payout:{order.order_id}:USD"] == SELLER_SHARE
    await assert_rejected(cancel(handle, OPERATOR), "needs_attention and can no longer be cancelled")
    await assert_rejected(cancel(handle, BUYER), "can no longer be cancelled")

    providers.payout_fails = False
    await retry(handle)
    result = await handle.result()
    assert result.status == OrderStatus.SETTLED
    assert result.amounts.paid_out == SELLER_SHARE and result.payout_id == f"po_{order.order_id}"
    assert timeline_entry(result, OrderStatus.PAYOUT_PENDING).detail == f"operator retried {steps.PAYOUT.pay.label}"
    assert providers.steps(act.PAYOUT_SELLER) == [key(order, steps.PAYOUT.key)] * 2
    assert_ledger(providers, order, [steps.CAPTURE.key, steps.RELEASE.key, steps.PAYOUT.key])  # release and payout each once
    assert await search_status(handle) == "settled"


async def test_retry_is_rejected_unless_the_order_needs_attention(env, worker, providers, now):
    order = make_order(now)
    handle = await start_order(env, order)
    await wait_for_status(handle, OrderStatus.AWAITING_SHIPMENT)
    await assert_rejected(retry(handle), "the order is awaiting_shipment, not needs_attention")
    assert (await state_of(handle)).status == OrderStatus.AWAITING_SHIPMENT


async def test_void_failing_after_operator_cancel_resumes_to_the_status_before_the_trouble(env, worker, providers, now):
    """BUG (workflows/order.py _money_step): an operator cancel from needs_attention raises _OrderCancelled
    without leaving needs_attention, so when the void then fails, resume_status is needs_attention and the
    retry "resumes" into needs_attention (attention None, yet a further retry is accepted)."""
    order, handle, _ = await park_at_capture(env, providers, now)
    providers.void_fails = True
    pending = asyncio.create_task(cancel(handle, OPERATOR, reason="give up"))
    state = await wait_until(handle, lambda s: s.attention is not None and s.attention.step == steps.VOID.label, "parked at the void")
    assert state.attention.resume_status == OrderStatus.AWAITING_SHIPMENT, state.attention

    assert (await pending).status == OrderStatus.NEEDS_ATTENTION  # the cancel answers once its void is parked

    providers.void_fails = False
    await retry(handle)
    result = await handle.result()
    assert result.status == OrderStatus.CANCELLED
    assert providers.steps(act.VOID_AUTHORIZATION) == [key(order, steps.VOID.key)] * 2
    assert (OrderStatus.NEEDS_ATTENTION, f"operator retried {steps.VOID.label}") not in [(t.status, t.detail) for t in result.timeline]
