"""Orders of sellers paid on a pooled schedule (patch pooled-payouts): the release credits the seller's balance,
less the reserve it holds until its time, and the order is settled without a payout of its own; the seller's
payouts workflow pays the balance (tests/db/test_seller_payouts_workflow.py)."""

import json
from datetime import datetime, timedelta

from domain import activity_names as act
from domain import order_steps as steps
from domain.payouts import PayoutSchedule, PayoutTerms
from domain.statuses import OrderStatus
from tests.workflow.conftest import (
    SELLER_SHARE,
    TOTAL,
    confirm,
    env_now,
    key,
    make_order,
    send_event,
    ship,
    ship_and_deliver,
    start_order,
    statuses,
    timeline_entry,
)

WEEKLY_WITH_RESERVE = PayoutTerms(schedule=PayoutSchedule.WEEKLY, reserve_percent=10, reserve_days=7)
HOLD = SELLER_SHARE * 10 // 100


async def test_a_pooled_order_releases_to_the_sellers_balance_and_holds_its_reserve(env, worker, providers, now):
    order = make_order(now, payout=WEEKLY_WITH_RESERVE)
    handle = await start_order(env, order)
    await ship_and_deliver(env, handle, order)
    confirmed_at = await env_now(env)
    await confirm(handle)
    result = await handle.result()

    assert result.status == OrderStatus.SETTLED and result.payout == WEEKLY_WITH_RESERVE
    assert statuses(result)[-2:] == [OrderStatus.PAYOUT_PENDING, OrderStatus.SETTLED]
    assert timeline_entry(result, OrderStatus.SETTLED).detail == "released to the seller's balance, paid out weekly"
    assert result.amounts.paid_out == SELLER_SHARE and result.amounts.captured == TOTAL
    assert providers.steps(act.PAYOUT_SELLER) == []
    release = providers.entries[key(order, steps.RELEASE.key)]
    postings = {p.account.code: p.amount for p in release.postings}
    assert postings["seller:seller_1:USD"] == SELLER_SHARE - HOLD and postings["reserve:seller_1:USD"] == HOLD
    hold = release.memo["reserve"]
    assert hold["amount"] == HOLD and hold["currency"] == "USD"
    assert timedelta(days=7) <= datetime.fromisoformat(hold["until"]) - confirmed_at < timedelta(days=7, minutes=1)
    assert providers.recorded[-1].status == OrderStatus.SETTLED
    assert await patch_markers(handle) == ["books-ride-with-steps", "pooled-payouts"]


async def test_a_pooled_sellers_reimbursement_stays_in_their_balance(env, worker, providers, now):
    order = make_order(now, payout=PayoutTerms(schedule=PayoutSchedule.DAILY))
    handle = await start_order(env, order)
    await ship(env, handle, order)
    await send_event(handle, order, "lost", "ev-lost", await env_now(env))
    result = await handle.result()
    assert result.status == OrderStatus.REFUNDED and result.amounts.reimbursed == SELLER_SHARE
    assert providers.steps(act.PAYOUT_SELLER) == []
    assert providers.balances()["seller:seller_1:USD"] == SELLER_SHARE


async def test_a_per_order_seller_is_still_paid_by_the_order_without_the_patch_marker(env, worker, providers, now):
    order = make_order(now)
    handle = await start_order(env, order)
    await ship_and_deliver(env, handle, order)
    await confirm(handle)
    assert (await handle.result()).status == OrderStatus.SETTLED
    assert len(providers.steps(act.PAYOUT_SELLER)) == 1
    assert await patch_markers(handle) == ["books-ride-with-steps"]


async def patch_markers(handle) -> list[str]:
    history = await handle.fetch_history()
    markers = [e.marker_recorded_event_attributes for e in history.events if e.HasField("marker_recorded_event_attributes")]
    return [json.loads(p.data)["id"] for m in markers for p in m.details["patch-data"].payloads]
