"""db/ledger_summary.py: what went into each kind of account for orders of one prefix, and no other order's."""

from db.ledger import post_entry
from db.ledger_summary import credited_by_account_kind
from domain import seller_ledger as books


async def test_credits_are_summed_by_account_kind_for_the_prefix_only(db_pool, uid):
    await post_entry(db_pool, books.chargeback_entry(f"dp-{uid}-1", f"sum_{uid}-1", f"seller-{uid}", 700, "USD"))
    await post_entry(db_pool, books.chargeback_entry(f"dp-{uid}-2", f"sum_{uid}-2", f"seller-{uid}", 300, "USD"))
    await post_entry(db_pool, books.chargeback_entry(f"dp-{uid}-3", f"sumX{uid}-3", f"seller-{uid}", 5000, "USD"))  # `_` is no wildcard

    rows = await credited_by_account_kind(db_pool, f"sum_{uid}-")

    assert rows and {r["currency"].strip() for r in rows} == {"USD"}
    assert sum(r["credited"] or 0 for r in rows) == 1000  # each entry credits its amount, whatever the accounts
