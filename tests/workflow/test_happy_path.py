"""Orders that go all the way: shipped, delivered, confirmed (or the window lapses), paid out, settled."""

from datetime import timedelta

from domain import activity_names as act
from domain import order_steps as steps
from domain.fees import Fees
from domain.ledger import SETTLED_SUFFIX
from domain.order_request import Item
from domain.statuses import OrderStatus
from tests.workflow.conftest import (
    BUYER,
    FEES_TOTAL,
    SELLER_SHARE,
    TOTAL,
    assert_ledger,
    assert_rejected,
    confirm,
    deliver,
    key,
    make_order,
    search_status,
    send_event,
    ship,
    ship_and_deliver,
    start_order,
    state_of,
    statuses,
    timeline_entry,
    wait_for_status,
    window_opened,
)

FULL_LIFECYCLE = [
    OrderStatus.PAYMENT_PENDING,
    OrderStatus.AWAITING_SHIPMENT,
    OrderStatus.IN_TRANSIT,
    OrderStatus.AWAITING_CONFIRMATION,
    OrderStatus.PAYOUT_PENDING,
    OrderStatus.SETTLED,
]


async def test_buyer_confirms_receipt_and_seller_is_paid_out(env, worker, providers, now):
    order = make_order(now)
    handle = await start_order(env, order)
    shipped_at = await ship(env, handle, order, tracking="TRK-42")
    delivered_at = await deliver(env, handle, order)

    answer = await confirm(handle, BUYER)
    assert answer.status in (OrderStatus.PAYOUT_PENDING, OrderStatus.SETTLED)
    assert timeline_entry(answer, OrderStatus.PAYOUT_PENDING).detail == "buyer confirmed receipt"

    result = await handle.result()
    assert result.status == OrderStatus.SETTLED
    assert statuses(result) == FULL_LIFECYCLE
    assert result.amounts.total == result.amounts.authorized == result.amounts.captured == TOTAL
    assert result.amounts.fees == FEES_TOTAL
    assert result.amounts.paid_out == TOTAL - order.fees.total == SELLER_SHARE
    assert result.amounts.refunded == 0
    assert result.authorization_id == f"auth_{order.order_id}"
    assert result.capture_id == f"cap_auth_{order.order_id}"
    assert result.payout_id == f"po_{order.order_id}"
    assert result.fulfillment_order_id == f"fo_{order.order_id}"
    assert result.tracking == "TRK-42"
    assert result.shipped_at == shipped_at and result.delivered_at == delivered_at
    assert result.deadlines.confirm_by == window_opened(result) + timedelta(days=7) and window_opened(result) >= delivered_at
    assert result.attention is None and result.cancel_reason is None and result.decline_code is None

    # every provider step once, with keys derived from the workflow id and the step
    assert providers.steps(act.AUTHORIZE_PAYMENT) == [key(order, steps.AUTHORIZE.key)]
    assert providers.steps(act.CREATE_FULFILLMENT_ORDER) == [key(order, steps.CREATE_FULFILLMENT.key)]
    assert providers.steps(act.CAPTURE_PAYMENT) == [key(order, steps.CAPTURE.key)]
    assert providers.steps(act.PAYOUT_SELLER) == [key(order, steps.PAYOUT.key)]
    assert providers.steps(act.VOID_AUTHORIZATION) == [] and providers.steps(act.CANCEL_FULFILLMENT_ORDER) == []
    assert (
        providers.request(act.AUTHORIZE_PAYMENT).amount == TOTAL
        and providers.request(act.AUTHORIZE_PAYMENT).payment_method == "pm_card_visa"
    )
    assert providers.request(act.CAPTURE_PAYMENT).amount == TOTAL
    assert providers.request(act.CAPTURE_PAYMENT).authorization_id == result.authorization_id
    assert providers.request(act.PAYOUT_SELLER).amount == SELLER_SHARE and providers.request(act.PAYOUT_SELLER).seller_id == "seller_1"

    assert_ledger(providers, order, [steps.CAPTURE.key, steps.RELEASE.key, steps.PAYOUT.key])
    release = providers.entries[key(order, steps.RELEASE.key)]
    assert sorted((p.account.code, p.amount) for p in release.postings) == sorted(
        [
            (f"escrow:{order.order_id}:USD", -TOTAL),
            ("platform:marketplace_fees:USD", order.fees.referral),
            ("fulfillment:fees_payable:USD", order.fees.fulfillment),
            ("seller:seller_1:USD", SELLER_SHARE),
        ]
    )
    assert providers.posted == [
        key(order, steps.CAPTURE.key),
        key(order, steps.RELEASE.key),
        key(order, steps.PAYOUT.key),
        key(order, steps.PAYOUT.key + SETTLED_SUFFIX),
    ]
    assert providers.recorded_statuses() == FULL_LIFECYCLE
    assert await search_status(handle) == "settled"


async def test_confirmation_window_lapses_and_escrow_is_released(env, worker, providers, now):
    order = make_order(now)
    handle = await start_order(env, order)
    delivered_at = await ship_and_deliver(env, handle, order)
    waiting = await state_of(handle)
    assert waiting.deadlines.confirm_by == window_opened(waiting) + timedelta(days=7) and window_opened(waiting) >= delivered_at

    await env.sleep(timedelta(days=6, hours=23))
    assert (await state_of(handle)).status == OrderStatus.AWAITING_CONFIRMATION
    assert providers.steps(act.PAYOUT_SELLER) == []

    result = await handle.result()
    assert result.status == OrderStatus.SETTLED
    assert statuses(result) == FULL_LIFECYCLE
    lapsed = timeline_entry(result, OrderStatus.PAYOUT_PENDING)
    assert lapsed.detail == "confirmation window lapsed; released automatically"
    assert delivered_at + timedelta(days=7) <= lapsed.at < delivered_at + timedelta(days=7, minutes=1)
    assert result.amounts.paid_out == SELLER_SHARE
    assert providers.steps(act.PAYOUT_SELLER) == [key(order, steps.PAYOUT.key)]
    assert_ledger(providers, order, [steps.CAPTURE.key, steps.RELEASE.key, steps.PAYOUT.key])


async def test_per_order_confirmation_window_of_two_days(env, worker, providers, now):
    order = make_order(now, confirmation_window=timedelta(days=2))
    handle = await start_order(env, order)
    delivered_at = await ship_and_deliver(env, handle, order)
    waiting = await state_of(handle)
    assert waiting.deadlines.confirm_by == window_opened(waiting) + timedelta(days=2) and window_opened(waiting) >= delivered_at

    await env.sleep(timedelta(days=1, hours=23))
    assert (await state_of(handle)).status == OrderStatus.AWAITING_CONFIRMATION

    await env.sleep(timedelta(hours=2))
    state = await wait_for_status(handle, OrderStatus.SETTLED)
    lapsed = timeline_entry(state, OrderStatus.PAYOUT_PENDING)
    assert lapsed.detail == "confirmation window lapsed; released automatically"
    assert delivered_at + timedelta(days=2) <= lapsed.at < delivered_at + timedelta(days=2, minutes=1)
    assert state.confirmation_window == timedelta(days=2)
    assert_ledger(providers, order, [steps.CAPTURE.key, steps.RELEASE.key, steps.PAYOUT.key])


async def test_delivery_reported_long_ago_still_gets_the_whole_window(env, worker, providers, now):
    """A backdated `delivered` event cannot shorten the buyer's window: it counts from when the engine learns."""
    order = make_order(now, confirmation_window=timedelta(days=2))
    handle = await start_order(env, order)
    await ship(env, handle, order)
    reported = now - timedelta(days=3)  # the carrier's event arrives late (or lies)
    await send_event(handle, order, "delivered", "ev-late", reported)

    waiting = await wait_for_status(handle, OrderStatus.AWAITING_CONFIRMATION)
    assert waiting.delivered_at == reported
    assert waiting.deadlines.confirm_by == window_opened(waiting) + timedelta(days=2)
    assert window_opened(waiting) >= now
    await env.sleep(timedelta(days=1, hours=23))
    assert (await state_of(handle)).status == OrderStatus.AWAITING_CONFIRMATION
    assert providers.steps(act.PAYOUT_SELLER) == []

    await env.sleep(timedelta(hours=2))
    state = await wait_for_status(handle, OrderStatus.SETTLED)
    assert timeline_entry(state, OrderStatus.PAYOUT_PENDING).detail == "confirmation window lapsed; released automatically"
    assert providers.steps(act.PAYOUT_SELLER) == [key(order, steps.PAYOUT.key)]


async def test_delivery_time_in_the_future_is_clamped_to_now(env, worker, providers, now):
    order = make_order(now)
    handle = await start_order(env, order)
    await ship(env, handle, order)
    await send_event(handle, order, "delivered", "ev-future", now + timedelta(days=3))  # carrier clock skew
    state = await wait_for_status(handle, OrderStatus.AWAITING_CONFIRMATION)
    opened = timeline_entry(state, OrderStatus.AWAITING_CONFIRMATION).at
    assert state.deadlines.confirm_by == opened + timedelta(days=7)
    assert state.deadlines.confirm_by < now + timedelta(days=7, minutes=1)


async def test_confirm_receipt_is_rejected_unless_awaiting_confirmation(env, worker, providers, now):
    order = make_order(now)
    handle = await start_order(env, order)
    await wait_for_status(handle, OrderStatus.AWAITING_SHIPMENT)
    await assert_rejected(confirm(handle), "awaiting_shipment, not awaiting confirmation")
    await ship(env, handle, order)
    await assert_rejected(confirm(handle), "in_transit, not awaiting confirmation")
    await deliver(env, handle, order)

    await confirm(handle)
    await assert_rejected(confirm(handle), "not awaiting confirmation")

    result = await handle.result()
    assert result.status == OrderStatus.SETTLED
    assert [t.detail for t in result.timeline].count("buyer confirmed receipt") == 1
    assert providers.steps(act.PAYOUT_SELLER) == [key(order, steps.PAYOUT.key)]
    assert_ledger(providers, order, [steps.CAPTURE.key, steps.RELEASE.key, steps.PAYOUT.key])


async def test_fees_taking_the_whole_total_settle_without_a_payout(env, worker, providers, now):
    fees = Fees(referral=0, fulfillment=250)
    order = make_order(now, items=[Item(sku="sticker", quantity=1, unit_price=250)], shipping_fee=0, fees=fees)
    handle = await start_order(env, order)
    await ship_and_deliver(env, handle, order)
    await confirm(handle)

    result = await handle.result()
    assert result.status == OrderStatus.SETTLED
    assert result.amounts.captured == 250 and result.amounts.fees == 250 and result.amounts.paid_out == 0
    assert result.payout_id is None
    assert providers.steps(act.PAYOUT_SELLER) == []
    assert_ledger(providers, order, [steps.CAPTURE.key, steps.RELEASE.key])
    release = providers.entries[key(order, steps.RELEASE.key)]
    assert sorted((p.account.code, p.amount) for p in release.postings) == [
        (f"escrow:{order.order_id}:USD", -250),
        ("fulfillment:fees_payable:USD", 250),
    ]
    assert timeline_entry(result, OrderStatus.SETTLED).detail == "fees took the whole amount; nothing to pay out"
