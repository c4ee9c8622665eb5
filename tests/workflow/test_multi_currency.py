"""A seller settled in another currency: the rate is locked once, at capture, and applied at release,
after a partial refund, and to a reimbursement."""

from datetime import timedelta

from domain import activity_names as act
from domain import order_steps as steps
from domain.fees import compute_fees
from domain.statuses import OrderStatus
from tests.workflow.conftest import (
    confirm,
    key,
    make_order,
    open_dispute,
    resolve,
    send_event,
    ship,
    ship_and_deliver,
    start_order,
    wait_for_status,
)

EUR_TO_USD = dict(currency="EUR", settlement_currency="USD", fees=compute_fees(3500, 2, "EUR"))


def _balanced(entry) -> bool:
    sums: dict[str, int] = {}
    for p in entry.postings:
        sums[p.account.currency] = sums.get(p.account.currency, 0) + p.amount
    return all(v == 0 for v in sums.values())


async def test_rate_is_locked_at_capture_and_the_seller_is_paid_in_usd(env, worker, providers, now):
    order = make_order(now, **EUR_TO_USD)
    handle = await start_order(env, order)
    await ship_and_deliver(env, handle, order)
    await confirm(handle)
    result = await handle.result()
    assert result.status == OrderStatus.SETTLED
    assert providers.steps(act.LOCK_FX_RATE) == [order.order_id]
    share = 3500 - order.fees.total  # 3500 - (280 + 500) = 2720 EUR cents
    assert result.amounts.paid_out == share
    assert result.settlement.paid_out == 2965  # 2720 x 1.09 = 2964.8, rounded half up
    payout = providers.request(act.PAYOUT_SELLER)
    assert (payout.amount, payout.currency) == (2965, "USD")
    capture = providers.entries[key(order, steps.CAPTURE.key)]
    assert capture.memo["fx"]["rate"] == "1.09"
    release = providers.entries[key(order, steps.RELEASE.key)]
    assert _balanced(release)
    gain = [p.amount for p in release.postings if p.account.code == "platform:fx_gain_loss:USD"]
    assert gain == [2992 - 2965]  # at mid 2720 x 1.10 = 2992; the spread is the platform's
    assert providers.entries[key(order, steps.PAYOUT.key)].postings[0].account.currency == "USD"


async def test_partial_refund_in_eur_then_the_remainder_converted(env, worker, providers, now):
    order = make_order(now, **EUR_TO_USD)
    handle = await start_order(env, order)
    await ship_and_deliver(env, handle, order)
    await open_dispute(handle)
    await resolve(handle, "partial_refund", refund_amount=1000)
    result = await handle.result()
    assert result.status == OrderStatus.SETTLED
    refund = providers.request(act.REFUND_PAYMENT)
    assert (refund.amount, refund.currency) == (1000, "EUR")
    assert result.amounts.paid_out == 2500 - compute_fees(2500, 2, "EUR").total == 1800
    assert result.settlement.paid_out == 1962  # 1800 x 1.09
    assert providers.steps(act.LOCK_FX_RATE) == [order.order_id]


async def test_a_lost_parcel_reimburses_the_seller_in_usd(env, worker, providers, now):
    order = make_order(now, **EUR_TO_USD)
    handle = await start_order(env, order)
    await ship(env, handle, order)
    await wait_for_status(handle, OrderStatus.IN_TRANSIT)
    await send_event(handle, order, "lost", "ev-lost", now + timedelta(days=1))
    result = await handle.result()
    assert result.status == OrderStatus.REFUNDED
    assert result.amounts.refunded == 3500 and result.amounts.reimbursed == 2720
    assert result.settlement.reimbursed == 2965
    reimbursement = providers.entries[key(order, steps.REIMBURSEMENT.key)]
    assert _balanced(reimbursement)
    assert providers.request(act.PAYOUT_SELLER).currency == "USD"
