"""The benchmark's bulk-generated ledger is a valid ledger: the invariants hold, the accounts and keys are the engine's."""

from datetime import UTC, datetime

from bench.ledger_data import load_ledger, orders_for
from db.balances import seller_balance
from db.invariants import check_invariants
from db.ledger import post_entry
from domain import ledger
from domain.fees import compute_fees

SELLER = "b7-target"


async def test_generated_ledger_satisfies_the_invariants_and_accepts_new_entries(fresh_pool):
    async with fresh_pool.acquire() as conn:
        shape = await load_ledger(conn, orders=orders_for(200, 10), seller_id=SELLER, seller_orders=10, now=datetime.now(UTC))
    assert (shape.orders, shape.seller_orders) == (100, 10)
    assert 150 <= shape.accounts <= 250
    assert await check_invariants(fresh_pool) == []

    # one seller order in ten stays in escrow, one waits for its payout, eight are paid out
    [balance] = await seller_balance(fresh_pool, SELLER)
    assert balance["in_escrow"] > 0 and balance["available"] > 0 and balance["paid_out"] > 0
    assert await fresh_pool.fetchval("SELECT count(*) FROM orders WHERE seller_id = $1", SELLER) == 10

    # the accounts and entry keys are the ones domain.ledger makes, so the engine's writes meet them
    order_id = await fresh_pool.fetchval("SELECT order_id FROM orders WHERE seller_id = $1 AND status = 'settled' LIMIT 1", SELLER)
    for spec in (
        ledger.escrow(order_id, "USD"),
        ledger.pending(order_id, ledger.EntryKind.PAYOUT, "USD"),
        ledger.seller_available(SELLER, "USD"),
    ):
        row = await fresh_pool.fetchrow("SELECT owner, may_go_negative FROM ledger_accounts WHERE code = $1", spec.code)
        assert (row["owner"], row["may_go_negative"]) == (spec.owner, spec.may_go_negative)
    keys = {
        r["idempotency_key"] for r in await fresh_pool.fetch("SELECT idempotency_key FROM ledger_entries WHERE order_id = $1", order_id)
    }
    payout = ledger.payout_disbursement(f"order-{order_id}", order_id, SELLER, 1, "USD")
    assert keys == {
        ledger.capture_entry(f"order-{order_id}", order_id, 1, "USD").idempotency_key,
        payout.reserve.idempotency_key,
        payout.settle.idempotency_key,
        ledger.release_entry(f"order-{order_id}", order_id, SELLER, 3000, compute_fees(3000, 2, "USD"), "USD").idempotency_key,
    }

    # the triggers are back: a new entry moves balances and the books still balance
    await post_entry(fresh_pool, ledger.capture_entry("order-after-load", "after-load", 1234, "USD"))
    assert await fresh_pool.fetchval("SELECT balance FROM ledger_accounts WHERE code = 'escrow:after-load:USD'") == 1234
    assert await check_invariants(fresh_pool) == []
