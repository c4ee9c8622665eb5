"""Disputes opened by the buyer: the seller's answer or silence, the operator's decision or its deadline."""

import asyncio
from datetime import timedelta

import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from domain import activity_names as act
from domain import failures
from domain import order_steps as steps
from domain.after_sales import DisputeRequest
from domain.fees import compute_fees
from domain.order_actions import OPEN_DISPUTE
from domain.order_state import OrderState
from domain.statuses import OrderStatus
from tests.workflow.conftest import (
    BUYER,
    FEES_TOTAL,
    OPERATOR,
    SELLER_SHARE,
    TOTAL,
    assert_amounts,
    assert_books,
    assert_rejected,
    confirm,
    deliver,
    disputed_order,
    entry_postings,
    key,
    make_order,
    open_dispute,
    resolve,
    respond,
    retry,
    ship,
    ship_and_deliver,
    start_order,
    state_of,
    statuses,
    timeline_entry,
)

REFUNDED_BOOKS = {}  # the capture went back to the buyer: every account is back to zero
SETTLED_BOOKS = {
    "platform:marketplace_fees": 280,
    "fulfillment:fees_payable": 500,
    "external:buyers": -TOTAL,
    "external:payouts": SELLER_SHARE,
}


def assert_refunded_in_full(providers, order, result, resolved_by: str, step: str = steps.REFUND.key) -> None:
    assert result.status == OrderStatus.REFUNDED
    assert result.dispute.resolution.outcome in ("refund", "partial_refund") and result.dispute.resolved_by == resolved_by
    assert result.dispute.resolved_at is not None
    assert_amounts(result, refunded=TOTAL)
    assert providers.steps(act.REFUND_PAYMENT) == [key(order, step)]
    refund = providers.request(act.REFUND_PAYMENT)
    assert refund.amount == TOTAL and refund.capture_id == f"cap_auth_{order.order_id}" and refund.currency == "USD"
    assert providers.steps(act.PAYOUT_SELLER) == []
    assert_books(providers, order, [steps.CAPTURE.key, step], REFUNDED_BOOKS)
    assert entry_postings(providers, order, step) == sorted([(f"escrow:{order.order_id}:USD", -TOTAL), ("external:buyers:USD", TOTAL)])


async def test_dispute_in_the_window_then_seller_silence_refunds_by_policy(env, worker, providers, now):
    order, handle, answer = await disputed_order(env, now, reason="damaged")
    d = answer.dispute
    assert d.reason == "damaged" and d.opened_by == "buyer:buyer_1" and d.fault == "seller"
    assert d.seller_response_by == d.opened_at + timedelta(days=3) and d.resolution_by == d.opened_at + timedelta(days=7)
    assert answer.deadlines.seller_response_by == d.seller_response_by and answer.deadlines.resolution_by == d.resolution_by
    assert d.resolution is None and d.seller_response is None
    assert statuses(answer)[-2:] == [OrderStatus.AWAITING_CONFIRMATION, OrderStatus.DISPUTED]

    await assert_rejected(open_dispute(handle), "already open")
    await assert_rejected(confirm(handle), "disputed, not awaiting confirmation")

    await env.sleep(timedelta(days=2, hours=23))
    assert (await state_of(handle)).status == OrderStatus.DISPUTED
    assert providers.steps(act.REFUND_PAYMENT) == []

    result = await handle.result()
    assert_refunded_in_full(providers, order, result, "policy")
    assert result.dispute.resolution.outcome == "refund"
    refunded = timeline_entry(result, OrderStatus.REFUNDED)
    assert d.seller_response_by <= refunded.at < d.seller_response_by + timedelta(minutes=1)
    assert statuses(result)[-2:] == [OrderStatus.DISPUTED, OrderStatus.REFUNDED]


async def test_seller_accepts_the_refund(env, worker, providers, now):
    order, handle, _ = await disputed_order(env, now)
    answer = await respond(handle, accept_refund=True)
    assert answer.status == OrderStatus.REFUNDED
    result = await handle.result()
    assert_refunded_in_full(providers, order, result, "seller")
    assert result.dispute.seller_response.accept_refund is True


async def test_seller_evidence_then_operator_releases_with_normal_fees(env, worker, providers, now):
    order, handle, _ = await disputed_order(env, now)
    answer = await respond(handle, evidence="tracking shows it delivered intact")
    assert answer.status == OrderStatus.DISPUTED and answer.dispute.seller_response.evidence.startswith("tracking")
    await assert_rejected(respond(handle, evidence="more"), "already answered")
    await assert_rejected(respond(handle, accept_refund=True), "already answered")

    gate = providers.hold(act.PAYOUT_SELLER)
    decided = await resolve(handle, "release", note="evidence holds")
    assert decided.status == OrderStatus.PAYOUT_PENDING
    assert decided.dispute.resolution.outcome == "release" and decided.dispute.resolved_by == "operator:ops_1"
    await assert_rejected(resolve(handle, "refund"), "not disputed")
    await assert_rejected(respond(handle, evidence="late"), "no dispute awaiting the seller")
    gate.set()

    result = await handle.result()
    assert result.status == OrderStatus.SETTLED
    assert_amounts(result, fees=FEES_TOTAL, paid_out=SELLER_SHARE)
    assert providers.steps(act.REFUND_PAYMENT) == [] and providers.steps(act.PAYOUT_SELLER) == [key(order, steps.PAYOUT.key)]
    assert providers.request(act.PAYOUT_SELLER).amount == SELLER_SHARE
    assert_books(providers, order, [steps.CAPTURE.key, steps.RELEASE.key, steps.PAYOUT.key], SETTLED_BOOKS)
    assert statuses(result)[-3:] == [OrderStatus.DISPUTED, OrderStatus.PAYOUT_PENDING, OrderStatus.SETTLED]


async def test_operator_decides_refund_after_evidence_and_cannot_decide_twice(env, worker, providers, now):
    order, handle, _ = await disputed_order(env, now)
    await respond(handle, evidence="photos of the packed item")
    gate = providers.hold(act.REFUND_PAYMENT)
    first = asyncio.create_task(resolve(handle, "refund"))
    await providers.arrived(act.REFUND_PAYMENT)
    assert (await state_of(handle)).status == OrderStatus.DISPUTED
    await assert_rejected(resolve(handle, "release"), "already resolved (refund by operator:ops_1)")
    gate.set()
    assert (await first).status == OrderStatus.REFUNDED
    result = await handle.result()
    assert_refunded_in_full(providers, order, result, "operator:ops_1")


async def test_partial_refund_pays_out_the_remainder_with_fees_recomputed(env, worker, providers, now):
    order, handle, _ = await disputed_order(env, now, reason="missing_items")
    await respond(handle, evidence="both were packed")
    await resolve(handle, "partial_refund", refund_amount=1000)
    result = await handle.result()

    remainder = TOTAL - 1000
    fees = compute_fees(remainder, 2, "USD")
    assert fees.total != FEES_TOTAL
    assert result.status == OrderStatus.SETTLED
    assert result.dispute.resolution.outcome == "partial_refund" and result.dispute.resolution.refund_amount == 1000
    assert_amounts(result, refunded=1000, fees=fees.total, paid_out=remainder - fees.total)
    assert (
        providers.steps(act.REFUND_PAYMENT) == [key(order, steps.PARTIAL_REFUND.key)]
        and providers.request(act.REFUND_PAYMENT).amount == 1000
    )
    assert (
        providers.steps(act.PAYOUT_SELLER) == [key(order, steps.PAYOUT.key)]
        and providers.request(act.PAYOUT_SELLER).amount == remainder - fees.total
    )
    books = {"external:buyers": -remainder, "platform:marketplace_fees": fees.referral, "fulfillment:fees_payable": fees.fulfillment}
    assert_books(
        providers,
        order,
        [steps.CAPTURE.key, steps.PARTIAL_REFUND.key, steps.RELEASE.key, steps.PAYOUT.key],
        books | {"external:payouts": remainder - fees.total},
    )
    assert entry_postings(providers, order, steps.RELEASE.key) == sorted(
        [
            (f"escrow:{order.order_id}:USD", -remainder),
            ("platform:marketplace_fees:USD", fees.referral),
            ("fulfillment:fees_payable:USD", fees.fulfillment),
            ("seller:seller_1:USD", remainder - fees.total),
        ]
    )


async def test_partial_refund_of_the_whole_is_a_full_refund(env, worker, providers, now):
    order, handle, _ = await disputed_order(env, now)
    answer = await resolve(handle, "partial_refund", refund_amount=TOTAL)
    assert answer.status == OrderStatus.REFUNDED
    result = await handle.result()
    assert_refunded_in_full(providers, order, result, "operator:ops_1", step=steps.PARTIAL_REFUND.key)


async def test_partial_refund_above_what_escrow_holds_is_rejected(env, worker, providers, now):
    order, handle, _ = await disputed_order(env, now)
    await assert_rejected(resolve(handle, "partial_refund", refund_amount=TOTAL + 1), f"exceeds what escrow holds ({TOTAL})")
    state = await state_of(handle)
    assert state.status == OrderStatus.DISPUTED and state.dispute.resolution is None
    assert providers.steps(act.REFUND_PAYMENT) == []
    await resolve(handle, "refund")
    assert_refunded_in_full(providers, order, await handle.result(), "operator:ops_1")


async def test_evidence_then_resolution_deadline_lapses_to_a_refund_by_policy(env, worker, providers, now):
    order, handle, answer = await disputed_order(env, now)
    await respond(handle, evidence="it was as described")
    await env.sleep(timedelta(days=6, hours=23))  # well past seller_response_by: the evidence stands
    state = await state_of(handle)
    assert state.status == OrderStatus.DISPUTED and state.dispute.resolution is None and providers.steps(act.REFUND_PAYMENT) == []

    result = await handle.result()
    assert_refunded_in_full(providers, order, result, "policy")
    assert "resolution deadline lapsed" in result.dispute.resolution.note
    refunded = timeline_entry(result, OrderStatus.REFUNDED)
    assert answer.dispute.resolution_by <= refunded.at < answer.dispute.resolution_by + timedelta(minutes=1)


async def test_operator_may_resolve_before_the_seller_answers(env, worker, providers, now):
    order, handle, _ = await disputed_order(env, now)
    answer = await resolve(handle, "refund", note="clear-cut")
    assert answer.status == OrderStatus.REFUNDED and answer.dispute.seller_response is None
    result = await handle.result()
    assert_refunded_in_full(providers, order, result, "operator:ops_1")
    assert result.dispute.resolution.note == "clear-cut"


async def test_dispute_outside_the_confirmation_window_is_rejected(env, worker, providers, now):
    order = make_order(now)
    handle = await start_order(env, order)
    await ship(env, handle, order)
    await assert_rejected(open_dispute(handle), "in_transit: disputes may be opened only within the confirmation window")

    await deliver(env, handle, order)
    gate = providers.hold(act.PAYOUT_SELLER)
    settling = asyncio.create_task(handle.result())  # skips time until the window lapses and the payout runs
    await providers.arrived(act.PAYOUT_SELLER)
    state = await state_of(handle)
    assert state.status == OrderStatus.PAYOUT_PENDING
    assert timeline_entry(state, OrderStatus.PAYOUT_PENDING).detail == "confirmation window lapsed; released automatically"
    await assert_rejected(open_dispute(handle), "payout_pending: disputes may be opened only within the confirmation window")
    gate.set()
    result = await settling
    assert result.status == OrderStatus.SETTLED and result.dispute is None
    assert_books(providers, order, [steps.CAPTURE.key, steps.RELEASE.key, steps.PAYOUT.key], SETTLED_BOOKS)


async def test_refund_failing_for_good_needs_attention_then_retry_refunds_once(env, worker, providers, now):
    order, handle, _ = await disputed_order(env, now)
    providers.refund_fails = True
    decision = await resolve(handle, "refund")
    assert decision.status == OrderStatus.NEEDS_ATTENTION  # the operator's answer shows the refund is stuck
    state = await state_of(handle)
    assert state.attention.step == steps.REFUND.pay.label and state.attention.resume_status == OrderStatus.DISPUTED
    assert "refund refused" in state.attention.reason
    assert state.amounts.refunded == 0 and providers.posted == [key(order, steps.CAPTURE.key), key(order, steps.REFUND.key)]
    # reserved out of escrow before the provider was asked: the money waits in the order's pending account
    assert providers.balances()[f"escrow:{order.order_id}:USD"] == 0
    assert providers.balances()[f"pending:refund:{order.order_id}:USD"] == TOTAL
    providers.refund_fails = False
    await retry(handle, OPERATOR)
    result = await handle.result()
    assert result.status == OrderStatus.REFUNDED and result.attention is None
    assert providers.steps(act.REFUND_PAYMENT) == [key(order, steps.REFUND.key)] * 2  # the failed attempt and the retry, one key
    assert_amounts(result, refunded=TOTAL)
    assert_books(providers, order, [steps.CAPTURE.key, steps.REFUND.key], REFUNDED_BOOKS)


# What a client could send as `open_dispute`'s arguments that is neither the model nor the legacy pair.
DISPUTE = DisputeRequest(reason="damaged", description="broken")
MALFORMED = {
    "no argument": ([], "got 0 arguments"),
    "three arguments": ([BUYER, DISPUTE, "and more"], "got 3 arguments"),
    "not a document": (["a dispute"], "the argument: Input should be a valid dictionary"),
    "a document missing a field": ([{"actor": BUYER.model_dump()}], "dispute: Field required"),
    "a legacy pair of the wrong shape": ([BUYER, "broken"], "dispute: Input should be a valid dictionary"),
    "an actor of no known role": (
        [{"actor": {"role": "king", "sub": "k"}, "dispute": DISPUTE.model_dump()}],
        "actor.role: Input should be",
    ),
}


async def test_malformed_dispute_arguments_are_rejected_and_the_order_carries_on(env, worker, providers, now):
    order = make_order(now)
    handle = await start_order(env, order)
    await ship_and_deliver(env, handle, order)
    for name, (arguments, problem) in MALFORMED.items():
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(OPEN_DISPUTE, args=arguments, result_type=OrderState)
        cause = refused.value.cause
        assert isinstance(cause, ApplicationError), name
        assert cause.type == failures.INVALID_UPDATE_INPUT and cause.non_retryable, name
        assert cause.message.startswith("expected one OpenDispute ({actor, dispute})") and problem in cause.message, (name, cause.message)

    assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
    state = await state_of(handle)
    assert state.status == OrderStatus.AWAITING_CONFIRMATION and state.dispute is None
    answer = await open_dispute(handle, "damaged")
    assert answer.status == OrderStatus.DISPUTED and answer.dispute.opened_by == "buyer:buyer_1"
