"""db/balances.py seller_balance: escrow, available and paid out per currency, derived from the ledger."""

from db.balances import seller_balance
from db.ledger import post_entry
from db.read_model import record_order
from domain.fees import compute_fees
from domain.ledger import capture_entry, payout_entry, release_entry
from domain.order_state import workflow_id_for
from tests.db.factories import order_state


def row(currency: str, in_escrow: int = 0, available: int = 0, paid_out: int = 0) -> dict:
    return {"currency": currency, "in_escrow": in_escrow, "available": available, "reserved": 0, "owed": 0, "paid_out": paid_out}


async def test_unknown_seller_has_no_balance(db_pool, uid):
    assert await seller_balance(db_pool, f"nobody{uid}") == []


async def test_balance_through_capture_release_and_payout(db_pool, uid):
    order, seller = f"o{uid}", f"s{uid}"
    wf = workflow_id_for(order)
    state = order_state(order, seller_id=seller, steps=2)
    await record_order(db_pool, state)
    fees = compute_fees(3500, 2, "USD")
    share = 3500 - fees.total
    assert share == 2720

    await post_entry(db_pool, capture_entry(wf, order, 3500, "USD", seller_id=seller))
    assert await seller_balance(db_pool, seller) == [row("USD", in_escrow=3500)]

    await post_entry(db_pool, release_entry(wf, order, seller, 3500, fees, "USD"))
    assert await seller_balance(db_pool, seller) == [row("USD", available=share)]

    await post_entry(db_pool, payout_entry(wf, order, seller, share, "USD"))
    assert await seller_balance(db_pool, seller) == [row("USD", paid_out=share)]

    # replaying the steps (same keys) moves nothing
    await post_entry(db_pool, capture_entry(wf, order, 3500, "USD", seller_id=seller))
    await post_entry(db_pool, payout_entry(wf, order, seller, share, "USD"))
    assert await seller_balance(db_pool, seller) == [row("USD", paid_out=share)]


async def test_balance_adds_up_across_orders_and_currencies(db_pool, uid):
    seller = f"s{uid}"
    orders = [(f"o{uid}-a", "USD"), (f"o{uid}-b", "USD"), (f"o{uid}-c", "JPY"), (f"o{uid}-d", "KWD")]
    for order, currency in orders:
        await record_order(db_pool, order_state(order, seller_id=seller, currency=currency, steps=2))
        await post_entry(db_pool, capture_entry(workflow_id_for(order), order, 3500, currency, seller_id=seller))
    # release one USD order; release and pay out the JPY order; the KWD order stays in escrow
    usd_fees = compute_fees(3500, 2, "USD")
    jpy_fees = compute_fees(3500, 2, "JPY")
    await post_entry(db_pool, release_entry(workflow_id_for(f"o{uid}-a"), f"o{uid}-a", seller, 3500, usd_fees, "USD"))
    await post_entry(db_pool, release_entry(workflow_id_for(f"o{uid}-c"), f"o{uid}-c", seller, 3500, jpy_fees, "JPY"))
    await post_entry(db_pool, payout_entry(workflow_id_for(f"o{uid}-c"), f"o{uid}-c", seller, 3500 - jpy_fees.total, "JPY"))
    assert await seller_balance(db_pool, seller) == [
        row("JPY", paid_out=3500 - jpy_fees.total),
        row("KWD", in_escrow=3500),
        row("USD", in_escrow=3500, available=3500 - usd_fees.total),
    ]


async def test_other_sellers_money_is_not_counted(db_pool, uid):
    mine, theirs = f"s{uid}", f"t{uid}"
    for order, seller in ((f"o{uid}-1", mine), (f"o{uid}-2", theirs)):
        await record_order(db_pool, order_state(order, seller_id=seller, steps=2))
        await post_entry(db_pool, capture_entry(workflow_id_for(order), order, 3500, "USD"))
        await post_entry(db_pool, release_entry(workflow_id_for(order), order, seller, 3500, compute_fees(3500, 2, "USD"), "USD"))
    await post_entry(db_pool, payout_entry(workflow_id_for(f"o{uid}-2"), f"o{uid}-2", theirs, 2720, "USD"))
    assert await seller_balance(db_pool, mine) == [row("USD", available=2720)]
    assert await seller_balance(db_pool, theirs) == [row("USD", paid_out=2720)]
