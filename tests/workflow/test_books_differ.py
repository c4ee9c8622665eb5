"""The daily reconciliation found an order's books and the provider's apart: the order goes on as before until money
would leave it, then waits in needs_attention for an operator, who retries once they have looked."""

from domain import activity_names as act
from domain import order_actions as msg
from domain import order_steps as steps
from domain.payouts import PayoutSchedule, PayoutTerms
from domain.statuses import OrderStatus
from tests.workflow.conftest import (
    SELLER_SHARE,
    assert_rejected,
    cancel,
    confirm,
    key,
    make_order,
    retry,
    search_status,
    ship_and_deliver,
    start_order,
    state_of,
    timeline_entry,
    wait_for_status,
)
from workflows.order import OrderWorkflow

FINDING = msg.BooksDiffer(run_id="run-7", differences=["order o-x: provider refund 500 but the ledger reserved 0 and settled 0"])


async def test_an_order_found_at_fault_waits_for_an_operator_before_its_payout(env, worker, providers, now):
    order = make_order(now)
    handle = await start_order(env, order)
    await ship_and_deliver(env, handle, order)
    await handle.signal(OrderWorkflow.on_books_differ, FINDING)
    assert (await state_of(handle)).status == OrderStatus.AWAITING_CONFIRMATION  # nothing is leaving yet

    await confirm(handle)
    parked = await wait_for_status(handle, OrderStatus.NEEDS_ATTENTION)
    assert parked.attention.step == "daily reconciliation" and not parked.attention.cancellable
    assert parked.attention.reason == "run run-7 found the order's books and the provider's apart"  # the details: operators' view
    assert parked.attention.resume_status == OrderStatus.PAYOUT_PENDING
    assert await search_status(handle) == "needs_attention"
    assert providers.steps(act.PAYOUT_SELLER) == []  # nothing left before an operator looked
    await assert_rejected(cancel(handle, msg.Actor(role=msg.Role.OPERATOR, sub="op")), "can no longer be cancelled")

    after = await retry(handle)
    assert timeline_entry(after, OrderStatus.PAYOUT_PENDING).detail == "operator retried daily reconciliation"
    result = await handle.result()
    assert result.status == OrderStatus.SETTLED and result.amounts.paid_out == SELLER_SHARE
    assert providers.steps(act.PAYOUT_SELLER) == [key(order, steps.PAYOUT.key)]
    assert [t.detail for t in result.timeline if t.status == OrderStatus.NEEDS_ATTENTION] == [
        "daily reconciliation failed: run run-7 found the order's books and the provider's apart"
    ]


async def test_a_pooled_order_found_at_fault_waits_before_its_release_to_the_sellers_balance(env, worker, providers, now):
    order = make_order(now, payout=PayoutTerms(schedule=PayoutSchedule.WEEKLY))
    handle = await start_order(env, order)
    await ship_and_deliver(env, handle, order)
    await handle.signal(OrderWorkflow.on_books_differ, FINDING)
    await confirm(handle)
    parked = await wait_for_status(handle, OrderStatus.NEEDS_ATTENTION)
    assert parked.attention.step == "daily reconciliation"
    assert key(order, steps.RELEASE.key) not in providers.entries  # the seller's balance, paid out by their workflow, waits
    await retry(handle)
    result = await handle.result()
    assert result.status == OrderStatus.SETTLED and key(order, steps.RELEASE.key) in providers.entries
