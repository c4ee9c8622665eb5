"""Reading the ledger back in tests: an order's entries with their postings, an account's balance."""

import asyncpg


async def entries_for_order(pool: asyncpg.Pool, order_id: str) -> list[dict]:
    rows = await pool.fetch(
        "SELECT e.id, e.idempotency_key, e.kind, e.created_at, e.memo, p.account, p.amount, p.currency "
        "FROM ledger_entries e JOIN ledger_postings p ON p.entry_id = e.id WHERE e.order_id = $1 ORDER BY e.id, p.id",
        order_id,
    )
    entries: dict[int, dict] = {}
    for r in rows:
        e = entries.setdefault(
            r["id"],
            {
                "id": r["id"],
                "idempotency_key": r["idempotency_key"],
                "kind": r["kind"],
                "created_at": r["created_at"],
                "memo": r["memo"],
                "postings": [],
            },
        )
        e["postings"].append({"account": r["account"], "amount": r["amount"], "currency": r["currency"].strip()})
    return list(entries.values())


async def account_balance(pool: asyncpg.Pool, code: str) -> int:
    return await pool.fetchval("SELECT coalesce((SELECT balance FROM ledger_accounts WHERE code = $1), 0)", code)
