"""The per-seller totals the ledger keeps (migration 0008, `seller_balances`): moved by every entry, deadlock-free under
concurrent entries of one seller, backfilled for the ledger that existed before, and held to the postings by the
invariants."""

import asyncio

import pytest

from db.balances import seller_balance
from db.invariants import check_invariants
from db.ledger import post_entry
from db.migrate import upgrade
from db.pool import create_pool
from db.read_model import record_order
from domain.fees import compute_fees
from domain.ledger import capture_entry, payout_disbursement, release_entry
from domain.order_state import workflow_id_for
from tests.db.conftest import create_migrated_database
from tests.db.factories import order_state

TOTAL = 3500
FEES = compute_fees(TOTAL, 2, "USD")
SHARE = TOTAL - FEES.total


async def settle(pool, order: str, seller: str) -> None:
    """An order's entries as the workflow writes them: capture, release, then the payout reserved and settled."""
    wf = workflow_id_for(order)
    await record_order(pool, order_state(order, seller_id=seller, steps=2))
    await post_entry(pool, capture_entry(wf, order, TOTAL, "USD", seller_id=seller))
    await post_entry(pool, release_entry(wf, order, seller, TOTAL, FEES, "USD"))
    payout = payout_disbursement(wf, order, seller, SHARE, "USD")
    await post_entry(pool, payout.reserve)
    await post_entry(pool, payout.settle)


async def test_concurrent_orders_of_one_seller_move_its_totals_without_deadlock(fresh_pool):
    seller = "busy-seller"
    orders = [f"busy-{i}" for i in range(16)]
    await asyncio.gather(*(settle(fresh_pool, order, seller) for order in orders[:12]))
    for order in orders[12:]:  # captured only: still in escrow
        await record_order(fresh_pool, order_state(order, seller_id=seller, steps=2))
        await post_entry(fresh_pool, capture_entry(workflow_id_for(order), order, TOTAL, "USD", seller_id=seller))
    assert await seller_balance(fresh_pool, seller) == [
        {"currency": "USD", "in_escrow": 4 * TOTAL, "available": 0, "reserved": 0, "owed": 0, "paid_out": 12 * SHARE}
    ]
    assert await check_invariants(fresh_pool) == []


async def test_totals_that_drift_from_the_postings_are_reported(fresh_pool):
    await settle(fresh_pool, "drift-1", "drift-seller")
    await fresh_pool.execute("UPDATE seller_balances SET paid_out = paid_out + 1 WHERE seller_id = 'drift-seller'")
    try:
        assert await check_invariants(fresh_pool) == [
            f"seller drift-seller USD: kept in escrow 0, paid out {SHARE + 1}; postings say 0 and {SHARE}"
        ]
    finally:
        await fresh_pool.execute("UPDATE seller_balances SET paid_out = paid_out - 1 WHERE seller_id = 'drift-seller'")


async def test_accounts_written_without_their_seller_take_it_from_their_owner_or_order(fresh_pool):
    """As a worker of the version before 0008 writes them, while this one rolls out."""
    order, seller = "anonymous-1", "known-seller"
    wf = workflow_id_for(order)
    await record_order(fresh_pool, order_state(order, seller_id=seller, steps=2))
    await post_entry(fresh_pool, capture_entry(wf, order, TOTAL, "USD"))
    release = release_entry(wf, order, seller, TOTAL, FEES, "USD")
    anonymous = [p.model_copy(update={"account": p.account.model_copy(update={"seller_id": None})}) for p in release.postings]
    await post_entry(fresh_pool, release.model_copy(update={"postings": anonymous}))
    held = await fresh_pool.fetch(
        "SELECT code, seller_id FROM ledger_accounts WHERE code IN ($1, $2)", f"escrow:{order}:USD", f"seller:{seller}:USD"
    )
    assert {r["code"]: r["seller_id"] for r in held} == {f"escrow:{order}:USD": seller, f"seller:{seller}:USD": seller}
    assert await seller_balance(fresh_pool, seller) == [
        {"currency": "USD", "in_escrow": 0, "available": SHARE, "reserved": 0, "owed": 0, "paid_out": 0}
    ]
    assert await check_invariants(fresh_pool) == []


async def test_an_account_held_for_another_seller_is_reported(fresh_pool):
    await settle(fresh_pool, "misheld-1", "right-seller")
    await fresh_pool.execute("ALTER TABLE ledger_accounts DISABLE TRIGGER USER")  # as only the owner could
    try:
        await fresh_pool.execute("UPDATE ledger_accounts SET seller_id = 'wrong-seller' WHERE code = 'escrow:misheld-1:USD'")
        assert await check_invariants(fresh_pool) == [
            "account escrow:misheld-1:USD is held for seller wrong-seller, its seller is right-seller"
        ]
    finally:
        await fresh_pool.execute("UPDATE ledger_accounts SET seller_id = 'right-seller' WHERE code = 'escrow:misheld-1:USD'")
        await fresh_pool.execute("ALTER TABLE ledger_accounts ENABLE TRIGGER USER")
    assert await check_invariants(fresh_pool) == []


@pytest.fixture
async def ledger_before_0008(pg_server):
    """A database at 0007 with one seller's orders already in the ledger, written as the engine wrote them then."""
    uri = await create_migrated_database(pg_server, revision="0007")
    pool = await create_pool(uri, min_size=1, max_size=2)
    try:
        yield uri, pool
    finally:
        await pool.close()


async def _record_as_before(pool, state) -> None:
    """The order's row as the read model of 0007 kept it (today's record_order also publishes to tables 0007 lacks)."""
    await pool.execute(
        "INSERT INTO orders (order_id, workflow_id, status, buyer_id, seller_id, marketplace, currency, total, version, placed_at, state) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        state.order_id,
        state.workflow_id,
        state.status.value,
        state.buyer_id,
        state.seller_id,
        state.marketplace,
        state.currency,
        state.amounts.total,
        len(state.timeline),
        state.placed_at,
        state.model_dump(mode="json"),
    )


async def _post_as_before(pool, entry) -> None:
    async with pool.acquire() as conn, conn.transaction():
        entry_id = await conn.fetchval(
            "INSERT INTO ledger_entries (idempotency_key, order_id, kind) VALUES ($1, $2, $3) RETURNING id",
            entry.idempotency_key,
            entry.order_id,
            entry.kind.value,
        )
        for p in sorted(entry.postings, key=lambda p: p.account.code):
            await conn.execute(
                "INSERT INTO ledger_accounts (code, owner, currency, may_go_negative) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                p.account.code,
                p.account.owner,
                p.account.currency,
                p.account.may_go_negative,
            )
            await conn.execute(
                "INSERT INTO ledger_postings (entry_id, account, amount, currency) VALUES ($1, $2, $3, $4)",
                entry_id,
                p.account.code,
                p.amount,
                p.account.currency,
            )


async def test_the_migration_backfills_the_totals_of_the_ledger_before_it(ledger_before_0008):
    uri, pool = ledger_before_0008
    for order, paid in (("old-1", True), ("old-2", False)):
        wf = workflow_id_for(order)
        await _record_as_before(pool, order_state(order, seller_id="old-seller", steps=2))
        await _post_as_before(pool, capture_entry(wf, order, TOTAL, "USD"))
        if paid:
            await _post_as_before(pool, release_entry(wf, order, "old-seller", TOTAL, FEES, "USD"))
            await _post_as_before(pool, payout_disbursement(wf, order, "old-seller", SHARE, "USD").reserve)
    await asyncio.to_thread(upgrade, uri)
    assert await seller_balance(pool, "old-seller") == [
        {"currency": "USD", "in_escrow": TOTAL, "available": 0, "reserved": 0, "owed": 0, "paid_out": SHARE}
    ]
    assert await check_invariants(pool) == []
