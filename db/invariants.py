"""The ledger invariants (DESIGN §5), checked by one function that tests and operators both use.

Each check returns human-readable violations; an empty list means the books are sound.
"""

import asyncpg

from domain.statuses import TERMINAL_STATUSES

TERMINAL = sorted(s.value for s in TERMINAL_STATUSES)


async def check_invariants(pool: asyncpg.Pool, reconcile_with_simulator: bool = True) -> list[str]:
    """All invariants; the reconciliation reads the simulated provider's records (a real provider's
    reconciliation would read its settlement reports instead, so it can be left out)."""
    checks = [_entries_balance, _balances_match_postings, _books_balance, _no_forbidden_negatives, _terminal_orders_hold_nothing]
    if reconcile_with_simulator:
        checks.append(_reconciles_with_provider)
    violations: list[str] = []
    for check in checks:
        violations.extend(await check(pool))
    return violations


async def _entries_balance(pool: asyncpg.Pool) -> list[str]:
    rows = await pool.fetch(
        "SELECT e.idempotency_key, p.currency, sum(p.amount) AS s FROM ledger_entries e JOIN ledger_postings p ON p.entry_id = e.id "
        "GROUP BY e.idempotency_key, p.currency HAVING sum(p.amount) <> 0"
    )
    empty = await pool.fetch("SELECT idempotency_key FROM ledger_entries e WHERE NOT EXISTS (SELECT 1 FROM ledger_postings p WHERE p.entry_id = e.id)")
    return [f"entry {r['idempotency_key']} sums to {r['s']} {r['currency']}" for r in rows] + [f"entry {r['idempotency_key']} has no postings" for r in empty]


async def _balances_match_postings(pool: asyncpg.Pool) -> list[str]:
    rows = await pool.fetch(
        "SELECT a.code, a.balance, coalesce(sum(p.amount), 0) AS posted FROM ledger_accounts a LEFT JOIN ledger_postings p ON p.account = a.code "
        "GROUP BY a.code, a.balance HAVING a.balance <> coalesce(sum(p.amount), 0)"
    )
    return [f"account {r['code']} balance {r['balance']} differs from its postings {r['posted']}" for r in rows]


async def _books_balance(pool: asyncpg.Pool) -> list[str]:
    rows = await pool.fetch("SELECT currency, sum(balance) AS s FROM ledger_accounts GROUP BY currency HAVING sum(balance) <> 0")
    return [f"balances in {r['currency']} sum to {r['s']}" for r in rows]


async def _no_forbidden_negatives(pool: asyncpg.Pool) -> list[str]:
    rows = await pool.fetch("SELECT code, balance FROM ledger_accounts WHERE NOT may_go_negative AND balance < 0")
    return [f"account {r['code']} is negative ({r['balance']})" for r in rows]


async def _terminal_orders_hold_nothing(pool: asyncpg.Pool) -> list[str]:
    violations = []
    rows = await pool.fetch(
        """
        SELECT o.order_id, o.status, (o.state->'amounts') AS amounts,
               coalesce((SELECT sum(a.balance) FROM ledger_accounts a WHERE a.owner = 'order:' || o.order_id), 0) AS escrow,
               coalesce((SELECT sum(p.amount) FROM ledger_postings p JOIN ledger_entries e ON e.id = p.entry_id
                         WHERE e.order_id = o.order_id AND e.kind = 'capture' AND p.account LIKE 'escrow:%'), 0) AS captured
        FROM orders o WHERE o.status = ANY($1::text[])
        """,
        list(TERMINAL),
    )
    for r in rows:
        a = r["amounts"]
        if r["escrow"] != 0:
            violations.append(f"order {r['order_id']} is {r['status']} but holds {r['escrow']} in escrow")
        if r["captured"] != a["captured"]:
            violations.append(f"order {r['order_id']} captured {a['captured']} but the ledger captured {r['captured']}")
        if a["captured"] != a["paid_out"] + a["fees"] + a["refunded"]:
            violations.append(f"order {r['order_id']} captured {a['captured']} but paid out, took as fees and refunded {a['paid_out'] + a['fees'] + a['refunded']}")
    return violations


async def _reconciles_with_provider(pool: asyncpg.Pool) -> list[str]:
    """The payment provider's records agree with the ledger: one authorization and at most one capture per
    order (one operation per step is the provider's idempotency key), and the same amounts moved."""
    violations = []
    dupes = await pool.fetch(
        "SELECT order_id, operation, count(*) AS n FROM sim.psp_operations WHERE outcome = 'succeeded' "
        "AND operation IN ('authorize', 'capture') GROUP BY order_id, operation HAVING count(*) > 1"
    )
    violations += [f"order {r['order_id']}: {r['n']} successful {r['operation']} operations at the provider" for r in dupes]
    rows = await pool.fetch(
        """
        SELECT o.order_id, k.kind,
               coalesce((SELECT sum(s.amount) FROM sim.psp_operations s WHERE s.order_id = o.order_id AND s.operation = k.operation AND s.outcome = 'succeeded'), 0) AS provider,
               coalesce((SELECT sum(p.amount) FROM ledger_postings p JOIN ledger_entries e ON e.id = p.entry_id
                         WHERE e.order_id = o.order_id AND e.kind = k.kind AND p.amount > 0), 0) AS ledger
        FROM orders o CROSS JOIN (VALUES ('capture', 'capture'), ('payout', 'payout'), ('refund', 'refund'), ('credit', 'compensation')) AS k(operation, kind)
        WHERE o.status = ANY($1::text[])
        """,
        list(TERMINAL),
    )
    for r in rows:
        if r["provider"] != r["ledger"]:
            violations.append(f"order {r['order_id']}: provider {r['kind']} {r['provider']} but ledger {r['kind']} {r['ledger']}")
    return violations
