"""Ledger postings that fail for good (LedgerConflict): the order needs attention; a retry re-posts the entry
without repeating the provider call that already moved the money."""

import pytest
from temporalio.client import WorkflowUpdateFailedError

from domain import activity_names as act
from domain import order_steps as steps
from domain.ledger import SETTLED_SUFFIX
from domain.statuses import OrderStatus
from tests.workflow.conftest import (
    OPERATOR,
    TOTAL,
    assert_ledger,
    cancel,
    confirm,
    key,
    make_order,
    retry,
    send_event,
    ship_and_deliver,
    start_order,
    state_of,
    wait_for_status,
)


async def test_capture_entry_rejected_by_the_ledger_retry_does_not_capture_again(env, worker, providers, now):
    order = make_order(now)
    providers.ledger_conflicts.add(key(order, steps.CAPTURE.key))
    handle = await start_order(env, order)
    await wait_for_status(handle, OrderStatus.AWAITING_SHIPMENT)
    await send_event(handle, order, "shipped", "ev-ship", now)
    state = await wait_for_status(handle, OrderStatus.NEEDS_ATTENTION)
    assert steps.CAPTURE.label in state.attention.step and "conflicting postings" in state.attention.reason
    assert state.capture_id == f"cap_auth_{order.order_id}"  # the provider did capture

    providers.ledger_conflicts.clear()
    await retry(handle)
    await wait_for_status(handle, OrderStatus.IN_TRANSIT)
    assert providers.steps(act.CAPTURE_PAYMENT) == [key(order, steps.CAPTURE.key)]  # only the posting was retried
    assert providers.posted == [key(order, steps.CAPTURE.key)]


async def test_operator_cannot_void_a_payment_already_captured(env, worker, providers, now):
    """The provider captured but the ledger posting failed for good: the order parks at steps.RECORD_CAPTURE, not at
    steps.CAPTURE (which is cancellable), so an operator cancel cannot void an authorization already captured and
    leave the buyer's money captured with no ledger entry and no refund."""
    order = make_order(now)
    providers.ledger_conflicts.add(key(order, steps.CAPTURE.key))
    handle = await start_order(env, order)
    await wait_for_status(handle, OrderStatus.AWAITING_SHIPMENT)
    await send_event(handle, order, "shipped", "ev-ship", now)
    state = await wait_for_status(handle, OrderStatus.NEEDS_ATTENTION)
    assert state.capture_id is not None

    try:
        await cancel(handle, OPERATOR, reason="give up")
        accepted = True
    except WorkflowUpdateFailedError:
        accepted = False  # rejecting the cancel is one correct answer
    state = await state_of(handle)
    assert providers.steps(act.VOID_AUTHORIZATION) == [], (
        f"voided an authorization already captured as {state.capture_id} (status {state.status})"
    )
    if accepted:  # the other: refund what was captured
        assert state.amounts.refunded == TOTAL


@pytest.mark.parametrize(
    ("refused", "step", "paid_before_retry"),
    [
        (steps.RELEASE.key, steps.RELEASE.label, False),
        (steps.PAYOUT.key, steps.PAYOUT.reserve.label, False),  # the reservation: refused before the provider is asked
        (steps.PAYOUT.key + SETTLED_SUFFIX, steps.PAYOUT.settle.label, True),  # the provider paid; the ledger must settle it, not pay again
    ],
)
async def test_an_entry_refused_by_the_ledger_parks_and_a_retry_never_pays_twice(
    env, worker, providers, now, refused, step, paid_before_retry
):
    order = make_order(now)
    providers.ledger_conflicts.add(key(order, refused))
    handle = await start_order(env, order)
    await ship_and_deliver(env, handle, order)
    await confirm(handle)
    state = await wait_for_status(handle, OrderStatus.NEEDS_ATTENTION)
    assert state.attention.step == step and "conflicting postings" in state.attention.reason
    assert state.attention.resume_status == OrderStatus.PAYOUT_PENDING
    assert state.amounts.fees == (0 if refused == steps.RELEASE.key else order.fees.total)  # taken once released
    assert providers.steps(act.PAYOUT_SELLER) == ([key(order, steps.PAYOUT.key)] if paid_before_retry else [])
    assert state.payout_id == (f"po_{order.order_id}" if paid_before_retry else None)

    providers.ledger_conflicts.clear()
    await retry(handle)
    result = await handle.result()
    assert result.status == OrderStatus.SETTLED
    assert providers.steps(act.PAYOUT_SELLER) == [key(order, steps.PAYOUT.key)]
    assert_ledger(providers, order, [steps.CAPTURE.key, steps.RELEASE.key, steps.PAYOUT.key])
