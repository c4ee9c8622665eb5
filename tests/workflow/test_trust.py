"""Trust: money out is reserved before the provider is asked, a refused read-model write parks the order
instead of retrying forever, a cancel's answer says what happened, and early fulfillment events are kept."""

import asyncio

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
    disputed_order,
    key,
    make_order,
    resolve,
    retry,
    search_status,
    send_event,
    ship_and_deliver,
    start_order,
    state_of,
    wait_for_status,
    wait_until,
)


def _order_of_calls(providers, *calls: tuple[str, str]) -> list[int]:
    return [providers.calls.index(call) for call in calls]


async def test_a_payout_is_reserved_in_the_ledger_before_the_provider_pays_and_settled_after(env, worker, providers, now):
    order = make_order(now)
    handle = await start_order(env, order)
    await ship_and_deliver(env, handle, order)
    gate = providers.hold(act.PAYOUT_SELLER)
    await confirm(handle)
    await providers.arrived(act.PAYOUT_SELLER)
    assert providers.posted[-1] == key(order, steps.PAYOUT.key) and key(order, steps.PAYOUT.key + SETTLED_SUFFIX) not in providers.posted
    balances = providers.balances()
    assert balances[f"pending:payout:{order.order_id}:USD"] == order.total - order.fees.total
    assert balances[f"seller:{order.seller_id}:USD"] == 0
    gate.set()
    assert (await handle.result()).status == OrderStatus.SETTLED
    reserved, paid, settled = _order_of_calls(
        providers,
        (act.POST_LEDGER_ENTRY, key(order, steps.PAYOUT.key)),
        (act.PAYOUT_SELLER, key(order, steps.PAYOUT.key)),
        (act.POST_LEDGER_ENTRY, key(order, steps.PAYOUT.key + SETTLED_SUFFIX)),
    )
    assert reserved < paid < settled
    assert providers.balances()[f"pending:payout:{order.order_id}:USD"] == 0
    assert_ledger(providers, order, [steps.CAPTURE.key, steps.RELEASE.key, steps.PAYOUT.key])


async def test_a_refund_is_reserved_out_of_escrow_before_the_provider_refunds(env, worker, providers, now):
    order, handle, _ = await disputed_order(env, now)
    await resolve(handle, "refund")
    result = await handle.result()
    assert result.status == OrderStatus.REFUNDED
    reserved, refunded, settled = _order_of_calls(
        providers,
        (act.POST_LEDGER_ENTRY, key(order, steps.REFUND.key)),
        (act.REFUND_PAYMENT, key(order, steps.REFUND.key)),
        (act.POST_LEDGER_ENTRY, key(order, steps.REFUND.key + SETTLED_SUFFIX)),
    )
    assert reserved < refunded < settled
    assert [p.account.code for p in providers.entries[key(order, steps.REFUND.key)].postings] == [
        f"escrow:{order.order_id}:USD",
        f"pending:refund:{order.order_id}:USD",
    ]


async def test_a_read_model_write_refused_for_good_parks_the_order_and_a_retry_resumes_it(env, worker, providers, now):
    order = make_order(now)
    handle = await start_order(env, order)
    await wait_for_status(handle, OrderStatus.AWAITING_SHIPMENT)
    providers.read_model_rejects = True
    await send_event(handle, order, "shipped", "ev-ship", now)
    parked = await wait_for_status(handle, OrderStatus.NEEDS_ATTENTION)
    assert parked.attention.step == steps.RECORD_ORDER.label and "invalid byte sequence" in parked.attention.reason
    assert parked.attention.resume_status == OrderStatus.IN_TRANSIT and not parked.attention.cancellable
    assert await search_status(handle) == "needs_attention"  # operators find it without the read model
    await asyncio.sleep(0.5)
    assert (await state_of(handle)).status == OrderStatus.NEEDS_ATTENTION  # parked, not retrying forever

    providers.read_model_rejects = False
    resumed = await retry(handle, OPERATOR)
    assert resumed.status == OrderStatus.IN_TRANSIT
    for _ in range(50):  # the write itself follows the answer
        if providers.recorded and providers.recorded[-1].status == OrderStatus.IN_TRANSIT:
            break
        await asyncio.sleep(0.1)
    assert providers.recorded[-1].status == OrderStatus.IN_TRANSIT


async def test_an_operator_cancel_after_a_refused_buyer_cancel_answers_with_the_cancelled_order(env, worker, providers, now):
    providers.network_already_shipped = True
    providers.capture_fails = True
    order = make_order(now)
    handle = await start_order(env, order)
    await wait_for_status(handle, OrderStatus.AWAITING_SHIPMENT)
    try:
        await cancel(handle, reason="changed my mind")
        raise AssertionError("the buyer's cancel should be refused: the network had shipped")
    except Exception as err:  # WorkflowUpdateFailedError: refused
        assert "already shipped" in str(getattr(err, "cause", err)), err
    parked = await wait_for_status(handle, OrderStatus.NEEDS_ATTENTION)
    assert parked.attention.step == steps.CAPTURE.label and parked.attention.cancellable

    answer = await cancel(handle, OPERATOR, reason="capture refused; give up")
    assert answer.status == OrderStatus.CANCELLED and answer.amounts.authorized == 0
    assert providers.steps(act.VOID_AUTHORIZATION) == [key(order, steps.VOID.key)]


async def test_a_lost_report_before_the_fulfillment_order_exists_is_kept_and_applied(env, worker, providers, now):
    order = make_order(now)
    gate = providers.hold(act.CREATE_FULFILLMENT_ORDER)
    handle = await start_order(env, order)
    await providers.arrived(act.CREATE_FULFILLMENT_ORDER)
    await send_event(handle, order, "lost", "ev-lost", now)
    early = await wait_until(handle, lambda s: "ev-lost" in s.seen_event_ids, "saw the event")
    assert early.status == OrderStatus.PAYMENT_PENDING and [e.event_id for e in early.deferred_events] == ["ev-lost"]
    gate.set()
    result = await handle.result()
    assert result.status == OrderStatus.CANCELLED and result.network_fault.event_id == "ev-lost"
    assert "lost before shipment" in result.cancel_reason and result.deferred_events == []
    assert providers.steps(act.VOID_AUTHORIZATION) == [key(order, steps.VOID.key)]
    assert result.amounts.captured == 0 and TOTAL > 0
