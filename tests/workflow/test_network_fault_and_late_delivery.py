"""The fulfillment network at fault (lost or damaged goods) and late delivery, at the network's cost."""

from datetime import timedelta

import pytest
from temporalio.service import RPCError

from domain import activity_names as act
from domain import order_steps as steps
from domain.statuses import OrderStatus
from tests.workflow.conftest import (
    FEES_TOTAL,
    SELLER_SHARE,
    TOTAL,
    assert_amounts,
    assert_books,
    confirm,
    deliver,
    disputed_order,
    entry_postings,
    env_now,
    key,
    make_order,
    open_dispute,
    respond,
    retry,
    send_event,
    ship,
    ship_and_deliver,
    start_order,
    state_of,
    statuses,
    timeline_entry,
    wait_for_status,
    wait_until,
)

REIMBURSED = TOTAL - FEES_TOTAL
COMPENSATION = TOTAL // 10  # late_delivery_compensation_bps 1000


def assert_network_fault_refund(
    providers, order, result, kind: str, steps_before: tuple = (), books_extra: dict | None = None, **amounts
) -> None:
    """Refunded from escrow in full; the network reimburses the seller total - fees and that is paid out."""
    assert result.status == OrderStatus.REFUNDED
    d = result.dispute
    assert d.fault == "fulfillment_network" and d.resolution.outcome == "refund" and d.resolved_by == "policy"
    assert kind in d.resolution.note and d.resolved_at is not None
    assert_amounts(result, refunded=TOTAL, reimbursed=REIMBURSED, **amounts)
    assert providers.steps(act.REFUND_PAYMENT) == [key(order, steps.REFUND.key)] and providers.request(act.REFUND_PAYMENT).amount == TOTAL
    assert providers.steps(act.PAYOUT_SELLER) == [key(order, steps.REIMBURSEMENT_PAYOUT.key)]
    assert providers.request(act.PAYOUT_SELLER).amount == REIMBURSED and providers.request(act.PAYOUT_SELLER).seller_id == "seller_1"
    assert result.payout_id == f"po_{order.order_id}"
    books = {"fulfillment:reimbursements": -REIMBURSED, "external:payouts": REIMBURSED} | (books_extra or {})
    assert_books(
        providers,
        order,
        [steps.CAPTURE.key, *steps_before, steps.REFUND.key, steps.REIMBURSEMENT.key, steps.REIMBURSEMENT_PAYOUT.key],
        books,
    )
    assert entry_postings(providers, order, steps.REIMBURSEMENT.key) == [
        ("fulfillment:reimbursements:USD", -REIMBURSED),
        ("seller:seller_1:USD", REIMBURSED),
    ]
    assert providers.entries[key(order, steps.REIMBURSEMENT.key)].kind == "reimbursement"
    assert providers.entries[key(order, steps.REIMBURSEMENT_PAYOUT.key)].kind == "payout"
    assert timeline_entry(result, OrderStatus.REFUNDED).detail == "buyer refunded; the fulfillment network reimbursed the seller"


async def test_lost_in_transit_refunds_the_buyer_and_reimburses_the_seller(env, worker, providers, now):
    order = make_order(now)
    handle = await start_order(env, order)
    await ship(env, handle, order)
    await send_event(handle, order, "lost", "ev-lost", await env_now(env))
    await send_event(handle, order, "lost", "ev-lost", await env_now(env))  # duplicate
    result = await handle.result()
    assert_network_fault_refund(providers, order, result, "lost")
    assert result.dispute.reason == "not_received" and result.dispute.opened_by == "fulfillment_network"
    assert result.network_fault.type == "lost" and result.network_fault.event_id == "ev-lost"
    assert statuses(result)[-3:] == [OrderStatus.IN_TRANSIT, OrderStatus.DISPUTED, OrderStatus.REFUNDED]
    assert providers.steps(act.CREDIT_BUYER) == []


async def test_damaged_after_delivery_takes_the_network_fault_path(env, worker, providers, now):
    order = make_order(now)
    handle = await start_order(env, order)
    await ship_and_deliver(env, handle, order)
    await send_event(handle, order, "damaged", "ev-dmg", await env_now(env))
    result = await handle.result()
    assert_network_fault_refund(providers, order, result, "damaged")
    assert result.dispute.reason == "damaged" and result.dispute.opened_by == "fulfillment_network"
    assert statuses(result)[-3:] == [OrderStatus.AWAITING_CONFIRMATION, OrderStatus.DISPUTED, OrderStatus.REFUNDED]


@pytest.mark.parametrize("seller_answered", [False, True])
async def test_damaged_during_an_open_dispute_takes_the_network_fault_path(env, worker, providers, now, seller_answered):
    order, handle, _ = await disputed_order(env, now, reason="not_as_described")
    if seller_answered:
        await respond(handle, evidence="it left our hands intact")
    await env.sleep(timedelta(days=1))
    await send_event(handle, order, "damaged", "ev-dmg", await env_now(env))
    result = await handle.result()
    assert_network_fault_refund(providers, order, result, "damaged")
    assert result.dispute.reason == "not_as_described" and result.dispute.opened_by == "buyer:buyer_1"
    assert (result.dispute.seller_response is not None) == seller_answered
    assert statuses(result).count(OrderStatus.DISPUTED) == 1


async def test_damaged_before_shipment_cancels_voids_and_reimburses(env, worker, providers, now):
    order = make_order(now)
    handle = await start_order(env, order)
    await wait_for_status(handle, OrderStatus.AWAITING_SHIPMENT)
    await send_event(handle, order, "damaged", "ev-dmg", await env_now(env))
    result = await handle.result()
    assert result.status == OrderStatus.CANCELLED
    assert "reported the goods damaged before shipment" in result.cancel_reason
    assert_amounts(result, captured=0, reimbursed=REIMBURSED)
    assert result.amounts.authorized == 0 and result.dispute is None
    assert providers.steps(act.CAPTURE_PAYMENT) == [] and providers.steps(act.REFUND_PAYMENT) == []
    assert providers.steps(act.VOID_AUTHORIZATION) == [key(order, steps.VOID.key)]
    assert providers.steps(act.CANCEL_FULFILLMENT_ORDER) == [key(order, steps.CANCEL_FULFILLMENT.key)]
    assert (
        providers.steps(act.PAYOUT_SELLER) == [key(order, steps.REIMBURSEMENT_PAYOUT.key)]
        and providers.request(act.PAYOUT_SELLER).amount == REIMBURSED
    )
    assert_books(
        providers,
        order,
        [steps.REIMBURSEMENT.key, steps.REIMBURSEMENT_PAYOUT.key],
        {"fulfillment:reimbursements": -REIMBURSED, "external:payouts": REIMBURSED},
    )
    assert statuses(result) == [OrderStatus.PAYMENT_PENDING, OrderStatus.AWAITING_SHIPMENT, OrderStatus.CANCELLED]


async def test_lost_after_release_or_settlement_changes_nothing(env, worker, providers, now):
    order = make_order(now)
    handle = await start_order(env, order)
    await ship_and_deliver(env, handle, order)
    gate = providers.hold(act.PAYOUT_SELLER)
    await confirm(handle)
    await providers.arrived(act.PAYOUT_SELLER)
    await send_event(handle, order, "lost", "ev-lost", await env_now(env))
    state = await wait_until(handle, lambda s: "ev-lost" in s.seen_event_ids, "saw the event")
    assert state.status == OrderStatus.PAYOUT_PENDING and state.network_fault is None
    gate.set()
    result = await handle.result()
    assert result.status == OrderStatus.SETTLED and result.network_fault is None and result.dispute is None
    with pytest.raises(RPCError):  # the workflow is over: nothing can reopen it
        await send_event(handle, order, "lost", "ev-lost-2", await env_now(env))
    assert await state_of(handle) == result
    assert_amounts(result, fees=FEES_TOTAL, paid_out=SELLER_SHARE)
    assert providers.steps(act.REFUND_PAYMENT) == [] and providers.steps(act.PAYOUT_SELLER) == [key(order, steps.PAYOUT.key)]
    settled = {
        "platform:marketplace_fees": 280,
        "fulfillment:fees_payable": 500,
        "external:buyers": -TOTAL,
        "external:payouts": SELLER_SHARE,
    }
    assert_books(providers, order, [steps.CAPTURE.key, steps.RELEASE.key, steps.PAYOUT.key], settled)


async def test_damaged_while_the_capture_awaits_an_operator_is_not_dropped(env, worker, providers, now):
    """A money step in needs_attention does not make the network's fault report disappear."""
    providers.capture_fails = True
    order = make_order(now)
    handle = await start_order(env, order)
    await wait_for_status(handle, OrderStatus.AWAITING_SHIPMENT)
    await send_event(handle, order, "shipped", "ev-ship", now)
    await wait_for_status(handle, OrderStatus.NEEDS_ATTENTION)
    await send_event(handle, order, "damaged", "ev-dmg", await env_now(env))
    await wait_until(handle, lambda s: "ev-dmg" in s.seen_event_ids, "saw the event")
    providers.capture_fails = False
    await retry(handle)
    result = await handle.result()
    assert result.network_fault is not None and result.network_fault.event_id == "ev-dmg", "the damaged report was dropped"
    assert_network_fault_refund(providers, order, result, "damaged")


async def lapse_deliver_by(env, providers, handle, order) -> None:
    """Ship now, let deliver_by lapse (checking nothing happens before it), and wait for the compensation."""
    await ship(env, handle, order)
    await env.sleep(order.deliver_by - await env_now(env) - timedelta(hours=1))
    state = await state_of(handle)
    assert state.deadlines.deliver_by == order.deliver_by and state.amounts.compensated == 0 and providers.steps(act.CREDIT_BUYER) == []
    await env.sleep(timedelta(hours=2))
    await wait_until(handle, lambda s: s.amounts.compensated > 0, "compensated the buyer")


def assert_compensated_once(providers, order, state) -> None:
    assert state.amounts.compensated == COMPENSATION
    assert providers.steps(act.CREDIT_BUYER) == [key(order, steps.LATE_DELIVERY_COMPENSATION.key)]
    credit = providers.request(act.CREDIT_BUYER)
    assert credit.amount == COMPENSATION and credit.payment_method == order.payment_method and credit.currency == "USD"
    assert entry_postings(providers, order, steps.LATE_DELIVERY_COMPENSATION.key) == [
        ("external:buyers:USD", COMPENSATION),
        ("fulfillment:reimbursements:USD", -COMPENSATION),
    ]
    assert providers.entries[key(order, steps.LATE_DELIVERY_COMPENSATION.key)].kind == "compensation"
    lapsed = [t for t in state.timeline if t.detail.startswith("deliver-by lapsed before delivery")]
    assert len(lapsed) == 1 and order.deliver_by <= lapsed[0].at < order.deliver_by + timedelta(minutes=1)
    assert lapsed[0].status == OrderStatus.IN_TRANSIT


async def test_late_delivery_compensates_the_buyer_once_then_settles_normally(env, worker, providers, now):
    order = make_order(now)
    handle = await start_order(env, order)
    await lapse_deliver_by(env, providers, handle, order)
    state = await state_of(handle)
    assert state.status == OrderStatus.IN_TRANSIT
    assert_compensated_once(providers, order, state)

    await env.sleep(timedelta(days=3))
    await deliver(env, handle, order)
    await confirm(handle)
    result = await handle.result()
    assert result.status == OrderStatus.SETTLED
    assert_compensated_once(providers, order, result)
    assert_amounts(result, fees=FEES_TOTAL, paid_out=SELLER_SHARE, compensated=COMPENSATION)
    assert providers.steps(act.PAYOUT_SELLER) == [key(order, steps.PAYOUT.key)] and providers.steps(act.REFUND_PAYMENT) == []
    books = {"platform:marketplace_fees": 280, "fulfillment:fees_payable": 500, "external:payouts": SELLER_SHARE}
    books |= {"external:buyers": -TOTAL + COMPENSATION, "fulfillment:reimbursements": -COMPENSATION}
    assert_books(providers, order, [steps.CAPTURE.key, steps.LATE_DELIVERY_COMPENSATION.key, steps.RELEASE.key, steps.PAYOUT.key], books)


async def test_buyer_can_still_dispute_after_a_late_delivery(env, worker, providers, now):
    order = make_order(now)
    handle = await start_order(env, order)
    await lapse_deliver_by(env, providers, handle, order)
    await deliver(env, handle, order)
    answer = await open_dispute(handle, "late_delivery")
    assert answer.status == OrderStatus.DISPUTED and answer.dispute.reason == "late_delivery"
    result = await handle.result()  # the seller stays silent
    assert result.status == OrderStatus.REFUNDED and result.dispute.resolved_by == "policy" and result.dispute.fault == "seller"
    assert_compensated_once(providers, order, result)
    assert_amounts(result, refunded=TOTAL, compensated=COMPENSATION)
    assert providers.steps(act.REFUND_PAYMENT) == [key(order, steps.REFUND.key)] and providers.steps(act.PAYOUT_SELLER) == []
    books = {"external:buyers": COMPENSATION, "fulfillment:reimbursements": -COMPENSATION}
    assert_books(providers, order, [steps.CAPTURE.key, steps.LATE_DELIVERY_COMPENSATION.key, steps.REFUND.key], books)


async def test_never_delivered_after_deliver_by_is_treated_as_lost(env, worker, providers, now):
    order = make_order(now)
    handle = await start_order(env, order)
    await lapse_deliver_by(env, providers, handle, order)
    await env.sleep(timedelta(days=12))
    assert (await state_of(handle)).status == OrderStatus.IN_TRANSIT and providers.steps(act.REFUND_PAYMENT) == []

    result = await handle.result()
    extra = {"external:buyers": COMPENSATION, "fulfillment:reimbursements": -REIMBURSED - COMPENSATION}
    assert_network_fault_refund(providers, order, result, "lost", (steps.LATE_DELIVERY_COMPENSATION.key,), extra, compensated=COMPENSATION)
    assert_compensated_once(providers, order, result)
    assert result.dispute.reason == "not_received" and result.network_fault.event_id == "policy:lost-after-late"
    lost_by = order.deliver_by + timedelta(days=14)
    assert lost_by <= timeline_entry(result, OrderStatus.DISPUTED).at < lost_by + timedelta(minutes=1)
