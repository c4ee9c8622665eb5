"""db/ledger.py post_entry against a real PostgreSQL: idempotent, balanced, never overdrawn, immutable."""

import asyncio

import asyncpg
import pytest

from db.ledger import LedgerConflict, LedgerOverdrawn, LedgerUnbalanced, post_entry
from domain import order_steps as steps
from domain.fees import Fees
from domain.ledger import (
    EntryKind,
    EntryRequest,
    Posting,
    capture_entry,
    entry_key,
    escrow,
    external_buyers,
    payout_entry,
    release_entry,
)
from domain.order_state import workflow_id_for
from tests.ledger_reads import account_balance, entries_for_order


async def count_entries(pool, key: str) -> int:
    return await pool.fetchval("SELECT count(*) FROM ledger_entries WHERE idempotency_key = $1", key)


async def count_postings_for_order(pool, order_id: str) -> int:
    return await pool.fetchval(
        "SELECT count(*) FROM ledger_postings p JOIN ledger_entries e ON e.id = p.entry_id WHERE e.order_id = $1", order_id
    )


async def test_capture_writes_one_entry_and_moves_balances(db_pool, uid):
    order = f"o{uid}"
    entry_id = await post_entry(db_pool, capture_entry(workflow_id_for(order), order, 3500, "USD"))
    assert isinstance(entry_id, int)
    assert await account_balance(db_pool, f"escrow:{order}:USD") == 3500
    [entry] = await entries_for_order(db_pool, order)
    assert entry["id"] == entry_id
    assert entry["idempotency_key"] == entry_key(workflow_id_for(order), steps.CAPTURE.key)
    assert entry["kind"] == "capture"
    assert sorted((p["account"], p["amount"], p["currency"]) for p in entry["postings"]) == [
        (f"escrow:{order}:USD", 3500, "USD"),
        ("external:buyers:USD", -3500, "USD"),
    ]


async def test_same_key_twice_returns_the_same_entry_and_moves_money_once(db_pool, uid):
    order = f"o{uid}"
    entry = capture_entry(workflow_id_for(order), order, 1999, "EUR")
    buyers_before = await account_balance(db_pool, "external:buyers:EUR")
    first = await post_entry(db_pool, entry)
    second = await post_entry(db_pool, entry)
    assert first == second
    assert await count_entries(db_pool, entry.idempotency_key) == 1
    assert await count_postings_for_order(db_pool, order) == 2
    assert await account_balance(db_pool, f"escrow:{order}:EUR") == 1999
    assert await account_balance(db_pool, "external:buyers:EUR") == buyers_before - 1999


async def test_same_key_with_postings_in_another_order_is_the_same_entry(db_pool, uid):
    order = f"o{uid}"
    entry = capture_entry(workflow_id_for(order), order, 500, "USD")
    reordered = entry.model_copy(update={"postings": list(reversed(entry.postings))})
    assert await post_entry(db_pool, entry) == await post_entry(db_pool, reordered)
    assert await account_balance(db_pool, f"escrow:{order}:USD") == 500


async def test_same_key_with_different_postings_is_a_conflict(db_pool, uid):
    order = f"o{uid}"
    wf = workflow_id_for(order)
    await post_entry(db_pool, capture_entry(wf, order, 1000, "USD"))
    with pytest.raises(LedgerConflict):
        await post_entry(db_pool, capture_entry(wf, order, 1001, "USD"))
    with pytest.raises(LedgerConflict):
        await post_entry(db_pool, capture_entry(wf, order, 1000, "EUR"))
    assert await account_balance(db_pool, f"escrow:{order}:USD") == 1000
    assert await account_balance(db_pool, f"escrow:{order}:EUR") == 0
    assert await count_postings_for_order(db_pool, order) == 2


async def test_same_key_for_another_order_or_kind_is_a_conflict(db_pool, uid):
    order = f"o{uid}"
    entry = capture_entry(workflow_id_for(order), order, 1000, "USD")
    await post_entry(db_pool, entry)
    with pytest.raises(LedgerConflict):
        await post_entry(db_pool, entry.model_copy(update={"kind": EntryKind.PAYOUT}))
    with pytest.raises(LedgerConflict):
        await post_entry(db_pool, entry.model_copy(update={"order_id": f"other{uid}"}))


async def test_unbalanced_entry_is_refused_and_writes_nothing(db_pool, uid):
    order = f"o{uid}"
    entry = EntryRequest(
        idempotency_key=entry_key(workflow_id_for(order), steps.CAPTURE.key),
        order_id=order,
        kind=EntryKind.CAPTURE,
        postings=[Posting(account=external_buyers("USD"), amount=-100), Posting(account=escrow(order, "USD"), amount=99)],
    )
    with pytest.raises(LedgerUnbalanced):
        await post_entry(db_pool, entry)
    assert await count_entries(db_pool, entry.idempotency_key) == 0
    assert await db_pool.fetchval("SELECT count(*) FROM ledger_accounts WHERE code = $1", f"escrow:{order}:USD") == 0


async def test_balanced_in_total_but_not_per_currency_is_refused(db_pool, uid):
    order = f"o{uid}"
    entry = EntryRequest(
        idempotency_key=entry_key(workflow_id_for(order), steps.CAPTURE.key),
        order_id=order,
        kind=EntryKind.CAPTURE,
        postings=[Posting(account=external_buyers("USD"), amount=-100), Posting(account=escrow(order, "EUR"), amount=100)],
    )
    with pytest.raises(LedgerUnbalanced):
        await post_entry(db_pool, entry)
    assert await count_entries(db_pool, entry.idempotency_key) == 0


async def test_overdrawing_a_non_negative_account_is_refused_and_writes_nothing(db_pool, uid):
    order, seller = f"o{uid}", f"s{uid}"
    wf = workflow_id_for(order)
    payouts_before = await account_balance(db_pool, "external:payouts:USD")
    with pytest.raises(LedgerOverdrawn):
        await post_entry(db_pool, payout_entry(wf, order, seller, 100, "USD"))
    assert await count_entries(db_pool, entry_key(wf, steps.PAYOUT.key)) == 0
    assert await count_postings_for_order(db_pool, order) == 0
    assert await db_pool.fetchval("SELECT count(*) FROM ledger_accounts WHERE owner = $1", f"seller:{seller}") == 0
    assert await account_balance(db_pool, "external:payouts:USD") == payouts_before


async def test_overdraw_after_a_partial_release_leaves_balances_untouched(db_pool, uid):
    order, seller = f"o{uid}", f"s{uid}"
    wf = workflow_id_for(order)
    await post_entry(db_pool, capture_entry(wf, order, 1000, "USD"))
    await post_entry(db_pool, release_entry(wf, order, seller, 1000, Fees(referral=80, fulfillment=250), "USD"))
    with pytest.raises(LedgerOverdrawn):
        await post_entry(db_pool, payout_entry(wf, order, seller, 671, "USD"))
    assert await account_balance(db_pool, f"seller:{seller}:USD") == 670
    assert await count_entries(db_pool, entry_key(wf, steps.PAYOUT.key)) == 0
    # the refused key is still free: the right amount goes through afterwards
    await post_entry(db_pool, payout_entry(wf, order, seller, 670, "USD"))
    assert await account_balance(db_pool, f"seller:{seller}:USD") == 0


async def test_concurrent_posts_of_the_same_key_write_one_entry(db_pool, uid):
    order = f"o{uid}"
    entry = capture_entry(workflow_id_for(order), order, 4242, "JPY")
    ids = await asyncio.gather(*(post_entry(db_pool, entry) for _ in range(5)))
    assert len(set(ids)) == 1
    assert await count_entries(db_pool, entry.idempotency_key) == 1
    assert await count_postings_for_order(db_pool, order) == 2
    assert await account_balance(db_pool, f"escrow:{order}:JPY") == 4242


async def test_concurrent_conflicting_posts_of_the_same_key_write_one_entry(db_pool, uid):
    order = f"o{uid}"
    wf = workflow_id_for(order)
    entries = [capture_entry(wf, order, 100 + i, "USD") for i in range(5)]
    results = await asyncio.gather(*(post_entry(db_pool, e) for e in entries), return_exceptions=True)
    ok = [r for r in results if isinstance(r, int)]
    assert len(ok) == 1
    assert all(isinstance(r, LedgerConflict) for r in results if not isinstance(r, int))
    winner = entries[results.index(ok[0])]
    assert await account_balance(db_pool, f"escrow:{order}:USD") == winner.postings[1].amount
    assert await count_postings_for_order(db_pool, order) == 2


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_entries SET kind = 'payout' WHERE order_id = $1",
        "DELETE FROM ledger_entries WHERE order_id = $1",
        "UPDATE ledger_postings SET amount = amount * 2 WHERE entry_id IN (SELECT id FROM ledger_entries WHERE order_id = $1)",
        "DELETE FROM ledger_postings WHERE entry_id IN (SELECT id FROM ledger_entries WHERE order_id = $1)",
    ],
)
async def test_entries_and_postings_are_immutable(db_pool, uid, statement):
    order = f"o{uid}"
    await post_entry(db_pool, capture_entry(workflow_id_for(order), order, 700, "USD"))
    before = await entries_for_order(db_pool, order)
    with pytest.raises(asyncpg.RaiseError, match="immutable"):
        await db_pool.execute(statement, order)
    assert await entries_for_order(db_pool, order) == before


async def test_postings_must_balance_at_commit_even_when_written_by_hand(db_pool, uid):
    order = f"o{uid}"
    await post_entry(db_pool, capture_entry(workflow_id_for(order), order, 300, "USD"))
    with pytest.raises(asyncpg.RaiseError, match="does not balance"):
        async with db_pool.acquire() as conn:
            async with conn.transaction():
                entry_id = await conn.fetchval(
                    "INSERT INTO ledger_entries (idempotency_key, order_id, kind) VALUES ($1, $2, 'capture') RETURNING id",
                    f"hand-{uid}",
                    order,
                )
                await conn.execute(
                    "INSERT INTO ledger_postings (entry_id, account, amount, currency) VALUES ($1, $2, 5, 'USD')",
                    entry_id,
                    f"escrow:{order}:USD",
                )
    assert await count_entries(db_pool, f"hand-{uid}") == 0
