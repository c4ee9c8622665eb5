"""The payout cut against a real ledger: reserves come due, debts are recovered or written off, one payout per
seller and currency takes the whole available balance with the entries it settles as its lines, and a cut made
again moves nothing twice. The invariants hold after every scenario."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from db.balances import seller_balance
from db.invariants import check_invariants
from db.ledger import post_entry
from db.read_model import record_order
from db.seller_payouts import cut, finish_payout, placement_terms, put_payout_settings, return_payout
from db.settlements import seller_settlements, settlement_report
from domain import seller_ledger as books
from domain.fees import compute_fees
from domain.ledger import ReserveHold, capture_entry, payout_disbursement, release_entry
from domain.order_state import workflow_id_for
from domain.payouts import PayoutSchedule, PayoutSettings, PayoutTerms
from tests.db.factories import order_state

TOTAL = 3500
FEES = compute_fees(TOTAL, 2, "USD")
SHARE = TOTAL - FEES.total  # 2720
T0 = datetime(2026, 6, 1, tzinfo=UTC)


def ids() -> tuple[str, str]:
    tag = uuid.uuid4().hex[:8]
    return f"sp-{tag}", f"seller-{tag}"


async def release(pool, order: str, seller: str, hold: int = 0, until: datetime = T0, pooled: bool = True) -> None:
    """An order captured and released to the seller's balance (its reserve `hold` kept until `until`)."""
    wf = workflow_id_for(order)
    state = order_state(order, seller_id=seller, steps=2)
    state.payout = PayoutTerms(schedule=PayoutSchedule.WEEKLY if pooled else PayoutSchedule.PER_ORDER)
    await record_order(pool, state)
    await post_entry(pool, capture_entry(wf, order, TOTAL, "USD", seller_id=seller))
    held = ReserveHold(amount=hold, currency="USD", until=until) if hold else None
    await post_entry(pool, release_entry(wf, order, seller, TOTAL, FEES, "USD", hold=held))


async def balance(pool, seller: str) -> dict:
    (row,) = await seller_balance(pool, seller)
    return row


async def test_a_cut_pays_the_available_balance_holds_the_reserve_until_its_time_and_reports_its_lines(fresh_pool):
    order, seller = ids()
    await release(fresh_pool, order, seller, hold=272, until=T0 + timedelta(days=7))
    first = await cut(fresh_pool, seller, T0 + timedelta(days=1), pay=True)
    (payout,) = first.payouts
    assert (payout.amount, payout.currency) == (SHARE - 272, "USD")
    assert await balance(fresh_pool, seller) == {
        "currency": "USD",
        "in_escrow": 0,
        "available": 0,
        "reserved": 272,
        "owed": 0,
        "paid_out": SHARE - 272,
    }
    report = await settlement_report(fresh_pool, seller, payout.payout_id)
    assert report is not None and report.total == payout.amount and report.status == "pending"
    assert [(line.transaction_type, line.amount) for line in report.lines] == [
        ("sale", TOTAL),
        ("referral_fee", -FEES.referral),
        ("fulfillment_fee", -FEES.fulfillment),
        ("reserve_held", -272),
    ]
    assert sum(line.amount for line in report.lines) == report.total

    await finish_payout(fresh_pool, payout.payout_id, "po_ref_1")
    again = await cut(fresh_pool, seller, T0 + timedelta(days=1), pay=True)
    assert again.payouts == [] and again.holds_money  # the reserve is still held

    due = await cut(fresh_pool, seller, T0 + timedelta(days=8), pay=True)
    (second,) = due.payouts
    assert second.amount == 272
    lines = (await settlement_report(fresh_pool, seller, second.payout_id)).lines
    assert [(line.transaction_type, line.amount, line.order_id) for line in lines] == [("reserve_released", 272, order)]
    assert (await settlement_report(fresh_pool, seller, payout.payout_id)).deposit_date is not None
    assert [s.settlement_id for s in await seller_settlements(fresh_pool, seller, None, 10)] == [second.payout_id, payout.payout_id]
    assert [s.settlement_id for s in await seller_settlements(fresh_pool, seller, second.payout_id, 10)] == [payout.payout_id]
    assert await check_invariants(fresh_pool) == []


async def test_a_chargeback_after_payout_is_owed_then_recovered_from_the_next_payout(fresh_pool):
    first_order, seller = ids()
    await release(fresh_pool, first_order, seller)
    (paid,) = (await cut(fresh_pool, seller, T0 + timedelta(days=1), pay=True)).payouts
    await finish_payout(fresh_pool, paid.payout_id, "po_ref")
    await post_entry(fresh_pool, books.chargeback_entry("dp-" + seller, first_order, seller, 1000, "USD"))
    assert (await balance(fresh_pool, seller))["owed"] == -1000

    second_order = first_order + "-b"
    await release(fresh_pool, second_order, seller)
    (recovering,) = (await cut(fresh_pool, seller, T0 + timedelta(days=2), pay=True)).payouts
    assert recovering.amount == SHARE - 1000
    assert (await balance(fresh_pool, seller))["owed"] == 0
    report = await settlement_report(fresh_pool, seller, recovering.payout_id)
    kinds = [(line.transaction_type, line.amount) for line in report.lines]
    assert ("chargeback", -1000) in kinds and ("sale", TOTAL) in kinds
    assert sum(line.amount for line in report.lines) == report.total
    assert await check_invariants(fresh_pool) == []


async def test_a_debt_nothing_recovers_is_written_off_after_its_period_and_a_won_chargeback_comes_back(fresh_pool):
    order, seller = ids()
    await put_payout_settings(fresh_pool, seller, PayoutSettings(schedule=PayoutSchedule.WEEKLY, write_off_after_days=1))
    await release(fresh_pool, order, seller)
    (paid,) = (await cut(fresh_pool, seller, T0, pay=True)).payouts
    await finish_payout(fresh_pool, paid.payout_id, "po_ref")
    await post_entry(fresh_pool, books.chargeback_entry("dp-a-" + seller, order, seller, 700, "USD"))
    assert (await cut(fresh_pool, seller, datetime.now(UTC), pay=True)).payouts == []
    assert (await balance(fresh_pool, seller))["owed"] == -700  # not yet a day old
    await cut(fresh_pool, seller, datetime.now(UTC) + timedelta(days=2), pay=True)
    assert (await balance(fresh_pool, seller))["owed"] == 0
    loss = await fresh_pool.fetchval("SELECT balance FROM ledger_accounts WHERE code = 'platform:losses:USD'")
    assert loss <= -700

    await post_entry(fresh_pool, books.chargeback_entry("dp-b-" + seller, order, seller, 300, "USD"))
    await post_entry(fresh_pool, books.chargeback_reversal_entry("dp-b-" + seller, order, seller, 300, "USD"))
    assert (await balance(fresh_pool, seller))["owed"] == 0
    assert await check_invariants(fresh_pool) == []


async def test_the_minimum_payout_waits_and_a_refused_payout_returns_to_the_balance(fresh_pool):
    order, seller = ids()
    await put_payout_settings(fresh_pool, seller, PayoutSettings(schedule=PayoutSchedule.DAILY, minimum_payout=SHARE + 1))
    await release(fresh_pool, order, seller)
    assert (await cut(fresh_pool, seller, T0, pay=True)).payouts == []
    await put_payout_settings(fresh_pool, seller, PayoutSettings(schedule=PayoutSchedule.DAILY))
    (payout,) = (await cut(fresh_pool, seller, T0 + timedelta(days=1), pay=True)).payouts
    await return_payout(fresh_pool, payout.payout_id, "the account rejects payouts")
    assert (await balance(fresh_pool, seller))["available"] == SHARE
    assert (await settlement_report(fresh_pool, seller, payout.payout_id)).status == "returned"
    (again,) = (await cut(fresh_pool, seller, T0 + timedelta(days=2), pay=True)).payouts
    assert again.amount == SHARE
    report = await settlement_report(fresh_pool, seller, again.payout_id)
    assert ("payout_returned", SHARE) in [(line.transaction_type, line.amount) for line in report.lines]
    assert sum(line.amount for line in report.lines) == report.total
    assert await check_invariants(fresh_pool) == []


async def test_a_cut_leaves_alone_what_per_order_orders_still_have_to_pay_out(fresh_pool):
    order, seller = ids()
    await release(fresh_pool, order, seller, pooled=False)
    assert (await cut(fresh_pool, seller, T0, pay=True)).payouts == []
    payout = payout_disbursement(workflow_id_for(order), order, seller, SHARE, "USD")
    await post_entry(fresh_pool, payout.reserve)  # the order's own payout still finds its money
    await post_entry(fresh_pool, payout.settle)
    assert await check_invariants(fresh_pool) == []


async def test_an_order_is_placed_under_its_sellers_terms_and_a_seller_who_owes_is_credited_daily(fresh_pool):
    order, seller = ids()
    assert await placement_terms(fresh_pool, seller) == PayoutTerms()
    await put_payout_settings(fresh_pool, seller, PayoutSettings(schedule=PayoutSchedule.WEEKLY, reserve_percent=10, reserve_days=7))
    assert await placement_terms(fresh_pool, seller) == PayoutTerms(schedule=PayoutSchedule.WEEKLY, reserve_percent=10, reserve_days=7)
    await put_payout_settings(fresh_pool, seller, PayoutSettings())
    await release(fresh_pool, order, seller, pooled=False)
    await post_entry(fresh_pool, books.chargeback_entry("dp-" + seller, order, seller, 500, "USD"))
    assert (await placement_terms(fresh_pool, seller)).schedule == PayoutSchedule.DAILY


async def test_a_chargeback_won_after_its_debt_was_written_off_repays_the_platform_first(fresh_pool):
    order, seller = ids()
    await put_payout_settings(fresh_pool, seller, PayoutSettings(schedule=PayoutSchedule.DAILY, write_off_after_days=1))
    await release(fresh_pool, order, seller)
    (paid,) = (await cut(fresh_pool, seller, T0, pay=True)).payouts
    await finish_payout(fresh_pool, paid.payout_id, "po_ref")
    dispute = "dp-w-" + seller
    await post_entry(fresh_pool, books.chargeback_entry(dispute, order, seller, 900, "USD"))
    await cut(fresh_pool, seller, datetime.now(UTC) + timedelta(days=2), pay=True)  # written off
    losses = "SELECT coalesce(sum(p.amount), 0) FROM ledger_postings p JOIN ledger_entries e ON e.id = p.entry_id WHERE e.order_id LIKE $1"
    assert await fresh_pool.fetchval(losses + " AND p.account = 'platform:losses:USD'", f"po:{seller}:%") == -900
    await post_entry(fresh_pool, books.chargeback_reversal_entry(dispute, order, seller, 900, "USD"))
    assert (await cut(fresh_pool, seller, datetime.now(UTC) + timedelta(days=3), pay=True)).payouts == []  # nothing for the seller
    assert await fresh_pool.fetchval(losses + " AND p.account = 'platform:losses:USD'", f"po:{seller}:%") == 0
    assert (await balance(fresh_pool, seller))["owed"] == 0 and (await balance(fresh_pool, seller))["available"] == 0
    assert await check_invariants(fresh_pool) == []


async def test_a_debt_is_recovered_from_new_money_before_anything_is_written_off(fresh_pool):
    order, seller = ids()
    await put_payout_settings(fresh_pool, seller, PayoutSettings(schedule=PayoutSchedule.DAILY, write_off_after_days=1))
    await release(fresh_pool, order, seller)
    (paid,) = (await cut(fresh_pool, seller, T0, pay=True)).payouts
    await finish_payout(fresh_pool, paid.payout_id, "po_ref")
    await post_entry(fresh_pool, books.chargeback_entry("dp-r-" + seller, order, seller, 600, "USD"))
    await release(fresh_pool, order + "-b", seller)
    (recovering,) = (await cut(fresh_pool, seller, datetime.now(UTC) + timedelta(days=2), pay=True)).payouts
    assert recovering.amount == SHARE - 600  # long overdue, yet recovered rather than written off
    assert await check_invariants(fresh_pool) == []


async def test_a_cut_made_again_after_new_money_arrived_moves_nothing_twice(fresh_pool):
    order, seller = ids()
    await put_payout_settings(fresh_pool, seller, PayoutSettings(schedule=PayoutSchedule.DAILY))
    await release(fresh_pool, order, seller)
    (first,) = (await cut(fresh_pool, seller, T0, pay=True)).payouts
    await release(fresh_pool, order + "-b", seller)
    again = await cut(fresh_pool, seller, T0, pay=True)  # a retry of the same cut, the activity's answer lost
    assert again.payouts == [first]  # still pending: the caller pays it; the new money waits for the next cut
    assert (await balance(fresh_pool, seller))["available"] == SHARE
    assert await check_invariants(fresh_pool) == []


def test_a_reserve_needs_a_pooled_schedule():
    with pytest.raises(ValueError, match="pooled"):
        PayoutSettings(schedule=PayoutSchedule.PER_ORDER, reserve_percent=10)
