"""Return and refund: the operator orders a return; it must ship by return_by and arrive in transit time."""

from datetime import timedelta

from domain import activity_names as act
from domain import order_steps as steps
from domain.statuses import OrderStatus
from tests.workflow.conftest import (
    FEES_TOTAL,
    OPERATOR,
    SELLER_SHARE,
    TOTAL,
    assert_amounts,
    assert_books,
    assert_rejected,
    disputed_order,
    env_now,
    key,
    resolve,
    respond,
    retry,
    send_event,
    state_of,
    statuses,
    timeline_entry,
    wait_for_status,
    wait_until,
)

SETTLED_BOOKS = {
    "platform:marketplace_fees": 280,
    "fulfillment:fees_payable": 500,
    "external:buyers": -TOTAL,
    "external:payouts": SELLER_SHARE,
}


async def order_a_return(env, providers, now):
    """A disputed order whose seller submitted evidence and whose operator ordered a return."""
    order, handle, _ = await disputed_order(env, now, reason="not_as_described")
    await respond(handle, evidence="it matches the listing")
    answer = await resolve(handle, "return_and_refund", note="send it back")
    assert answer.status == OrderStatus.AWAITING_RETURN
    return order, handle, answer


def assert_return_requested(providers, order, state) -> None:
    assert state.dispute.resolution.outcome == "return_and_refund" and state.dispute.resolved_by == "operator:ops_1"
    r = state.return_shipment
    assert r is not None and r.return_by == r.requested_at + timedelta(days=14)
    assert state.deadlines.return_by == r.return_by
    assert providers.steps(act.REQUEST_RETURN) == [key(order, steps.REQUEST_RETURN.key)]
    assert providers.request(act.REQUEST_RETURN).order_id == order.order_id


def assert_refunded(providers, order, result) -> None:
    assert result.status == OrderStatus.REFUNDED
    assert_amounts(result, refunded=TOTAL)
    assert providers.steps(act.REFUND_PAYMENT) == [key(order, steps.REFUND.key)]
    assert providers.request(act.REFUND_PAYMENT).amount == TOTAL
    assert providers.steps(act.PAYOUT_SELLER) == []
    assert_books(providers, order, [steps.CAPTURE.key, steps.REFUND.key], {})


async def test_return_shipped_then_received_refunds_the_buyer(env, worker, providers, now):
    order, handle, answer = await order_a_return(env, providers, now)
    assert_return_requested(providers, order, answer)
    assert statuses(answer)[-2:] == [OrderStatus.DISPUTED, OrderStatus.AWAITING_RETURN]
    await assert_rejected(resolve(handle, "refund"), "awaiting_return, not disputed")
    await assert_rejected(respond(handle, evidence="again"), "no dispute awaiting the seller")

    await env.sleep(timedelta(days=3))
    shipped_at = await env_now(env)
    await send_event(handle, order, "return_shipped", "ev-rs", shipped_at)
    state = await wait_until(handle, lambda s: s.return_shipment.shipped_at is not None, "saw the return ship")
    assert state.status == OrderStatus.AWAITING_RETURN and state.return_shipment.shipped_at == shipped_at
    assert providers.steps(act.REFUND_PAYMENT) == []

    await env.sleep(timedelta(days=2))
    received_at = await env_now(env)
    await send_event(handle, order, "return_received", "ev-rr", received_at)
    await send_event(handle, order, "return_received", "ev-rr", received_at + timedelta(hours=1))  # duplicate
    result = await handle.result()
    assert_refunded(providers, order, result)
    assert result.return_shipment.shipped_at == shipped_at and result.return_shipment.received_at == received_at
    assert timeline_entry(result, OrderStatus.REFUNDED).detail == "return received; buyer refunded"
    assert statuses(result)[-2:] == [OrderStatus.AWAITING_RETURN, OrderStatus.REFUNDED]


async def test_return_received_without_a_shipped_event_refunds(env, worker, providers, now):
    order, handle, _ = await order_a_return(env, providers, now)
    at = await env_now(env)
    await send_event(handle, order, "return_received", "ev-rr", at)
    result = await handle.result()
    assert_refunded(providers, order, result)
    assert result.return_shipment.shipped_at == at == result.return_shipment.received_at


async def test_return_never_shipped_by_return_by_releases_to_the_seller(env, worker, providers, now):
    order, handle, answer = await order_a_return(env, providers, now)
    return_by = answer.return_shipment.return_by
    await env.sleep(timedelta(days=13, hours=23))
    state = await state_of(handle)
    assert state.status == OrderStatus.AWAITING_RETURN and providers.steps(act.PAYOUT_SELLER) == []

    result = await handle.result()
    assert result.status == OrderStatus.SETTLED
    assert_amounts(result, fees=FEES_TOTAL, paid_out=SELLER_SHARE)
    assert result.return_shipment.shipped_at is None
    released = timeline_entry(result, OrderStatus.PAYOUT_PENDING)
    assert released.detail == "the return was not shipped in time; released to the seller"
    assert return_by <= released.at < return_by + timedelta(minutes=1)
    assert providers.steps(act.REFUND_PAYMENT) == [] and providers.steps(act.PAYOUT_SELLER) == [key(order, steps.PAYOUT.key)]
    assert providers.request(act.PAYOUT_SELLER).amount == SELLER_SHARE
    assert_books(providers, order, [steps.CAPTURE.key, steps.RELEASE.key, steps.PAYOUT.key], SETTLED_BOOKS)
    assert statuses(result)[-3:] == [OrderStatus.AWAITING_RETURN, OrderStatus.PAYOUT_PENDING, OrderStatus.SETTLED]


async def test_return_shipped_but_never_received_refunds_after_the_transit_window(env, worker, providers, now):
    order, handle, answer = await order_a_return(env, providers, now)
    await env.sleep(timedelta(days=10))  # shipped late in the return window: transit time counts from shipping
    shipped_at = await env_now(env)
    await send_event(handle, order, "return_shipped", "ev-rs", shipped_at)
    await wait_until(handle, lambda s: s.return_shipment.shipped_at is not None, "saw the return ship")

    await env.sleep(timedelta(days=13, hours=23))  # past return_by, not yet past the transit window
    state = await state_of(handle)
    assert state.status == OrderStatus.AWAITING_RETURN and providers.steps(act.REFUND_PAYMENT) == []
    assert providers.steps(act.PAYOUT_SELLER) == []

    result = await handle.result()
    assert_refunded(providers, order, result)
    assert result.return_shipment.received_at is None
    refunded = timeline_entry(result, OrderStatus.REFUNDED)
    assert refunded.detail == "return shipped but not received in time; buyer refunded"
    assert shipped_at + timedelta(days=14) <= refunded.at < shipped_at + timedelta(days=14, minutes=1)


async def test_return_events_before_the_return_is_requested_are_kept_and_applied_with_it(env, worker, providers, now):
    order, handle, _ = await disputed_order(env, now)
    shipped_at = await env_now(env)
    await send_event(handle, order, "return_shipped", "ev-early", shipped_at)
    state = await wait_until(handle, lambda s: "ev-early" in s.seen_event_ids, "saw the event")
    assert state.return_shipment is None and state.status == OrderStatus.DISPUTED
    assert [e.event_id for e in state.deferred_events] == ["ev-early"]

    answer = await resolve(handle, "return_and_refund")
    assert answer.return_shipment.shipped_at == shipped_at and answer.deferred_events == []
    result = await handle.result()  # shipped but never received: the buyer is refunded after the transit window
    assert result.status == OrderStatus.REFUNDED
    assert timeline_entry(result, OrderStatus.REFUNDED).detail == "return shipped but not received in time; buyer refunded"
    assert_refunded(providers, order, result)


async def test_return_request_failing_for_good_needs_attention_then_retry(env, worker, providers, now):
    order, handle, _ = await disputed_order(env, now)
    providers.return_fails = True
    answer = await resolve(handle, "return_and_refund")
    assert answer.status == OrderStatus.NEEDS_ATTENTION
    assert answer.attention.step == steps.REQUEST_RETURN.label and answer.attention.resume_status == OrderStatus.DISPUTED
    assert answer.return_shipment is not None and answer.return_shipment.shipped_at is None  # exists, so no event is lost

    providers.return_fails = False
    await retry(handle, OPERATOR)
    state = await wait_for_status(handle, OrderStatus.AWAITING_RETURN)
    assert state.deadlines.return_by == state.return_shipment.return_by == state.return_shipment.requested_at + timedelta(days=14)
    assert providers.steps(act.REQUEST_RETURN) == [key(order, steps.REQUEST_RETURN.key)] * 2
    await send_event(handle, order, "return_received", "ev-rr", await env_now(env))
    assert_refunded(providers, order, await handle.result())


async def test_a_return_shipped_while_the_request_awaits_an_operator_is_not_lost(env, worker, providers, now):
    order, handle, _ = await disputed_order(env, now)
    providers.return_fails = True
    await resolve(handle, "return_and_refund")
    await send_event(handle, order, "return_shipped", "ev-rs", await env_now(env))  # the buyer was quicker than the network's API
    state = await wait_until(handle, lambda s: s.return_shipment.shipped_at is not None, "the return is known to have shipped")
    assert state.status == OrderStatus.NEEDS_ATTENTION

    providers.return_fails = False
    await retry(handle, OPERATOR)
    await wait_for_status(handle, OrderStatus.AWAITING_RETURN)
    await env.sleep(timedelta(days=15))  # return_by passes: the return had shipped in time, so no release to the seller
    result = await handle.result()
    assert_refunded(providers, order, result)
    assert timeline_entry(result, OrderStatus.REFUNDED).detail == "return shipped but not received in time; buyer refunded"
