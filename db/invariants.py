"""The ledger invariants (DESIGN §5), checked by one function that tests and operators both use.

Each check returns human-readable violations; an empty list means the books are sound.
"""

import asyncpg

from domain.ledger import SETTLED_SUFFIX
from domain.statuses import TERMINAL_STATUSES

TERMINAL = sorted(s.value for s in TERMINAL_STATUSES)


async def check_invariants(pool: asyncpg.Pool, reconcile_with_simulator: bool = True) -> list[str]:
    """All invariants; the reconciliation (of open and finished orders alike) reads the simulated provider's
    records (a real provider's reconciliation would read its settlement reports instead, so it can be left out)."""
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
    """The payment provider's records agree with the ledger for every order, open or closed.

    One authorization and at most one capture per order (one operation per step is the provider's
    idempotency key). Money in: the ledger never holds more than the provider captured. Money out is
    reserved in the ledger before the provider is called and settled after, so at any moment
    settled <= what the provider paid out, refunded or credited <= reserved; a finished order has
    nothing pending, so the three are equal. Anything else (a refund the ledger never reserved, a payout
    made twice) is a drift, caught while the order is still open."""
    violations = []
    dupes = await pool.fetch(
        "SELECT order_id, operation, count(*) AS n FROM sim.psp_operations WHERE outcome = 'succeeded' "
        "AND operation IN ('authorize', 'capture') GROUP BY order_id, operation HAVING count(*) > 1"
    )
    violations += [f"order {r['order_id']}: {r['n']} successful {r['operation']} operations at the provider" for r in dupes]
    rows = await pool.fetch(
        """
        WITH provider AS (
            SELECT order_id, operation, sum(amount) AS amount FROM sim.psp_operations
            WHERE outcome = 'succeeded' AND operation IN ('capture', 'payout', 'refund', 'credit') GROUP BY order_id, operation
        ), ledger AS (
            SELECT e.order_id, e.kind,
                   coalesce(sum(p.amount) FILTER (WHERE e.kind = 'capture' AND p.account LIKE 'escrow:%'), 0) AS captured,
                   coalesce(sum(p.amount) FILTER (WHERE p.account LIKE 'external:%' AND p.amount > 0), 0) AS settled,
                   coalesce(sum(p.amount) FILTER (WHERE (p.account LIKE 'external:%' OR p.account LIKE 'pending:%') AND p.amount > 0
                                                  AND e.idempotency_key NOT LIKE '%' || $2), 0) AS reserved
            FROM ledger_entries e JOIN ledger_postings p ON p.entry_id = e.id
            WHERE e.kind IN ('capture', 'payout', 'refund', 'compensation') GROUP BY e.order_id, e.kind
        ), kinds(operation, kind) AS (VALUES ('capture', 'capture'), ('payout', 'payout'), ('refund', 'refund'), ('credit', 'compensation'))
        SELECT o.order_id, o.status = ANY($1::text[]) AS finished, k.kind, coalesce(pr.amount, 0) AS provider,
               coalesce(l.captured, 0) AS captured, coalesce(l.settled, 0) AS settled, coalesce(l.reserved, 0) AS reserved
        FROM orders o CROSS JOIN kinds k
        LEFT JOIN provider pr ON pr.order_id = o.order_id AND pr.operation = k.operation
        LEFT JOIN ledger l ON l.order_id = o.order_id AND l.kind = k.kind
        """,
        list(TERMINAL),
        SETTLED_SUFFIX,
    )
    for r in rows:
        order, kind, provider, finished = r["order_id"], r["kind"], r["provider"], r["finished"]
        if kind == "capture":
            if r["captured"] > provider or (finished and r["captured"] != provider):
                violations.append(f"order {order}: provider captured {provider} but the ledger holds {r['captured']} as captured")
        elif not r["settled"] <= provider <= r["reserved"] or (finished and not r["settled"] == provider == r["reserved"]):
            violations.append(
                f"order {order}: provider {kind} {provider} but the ledger reserved {r['reserved']} and settled {r['settled']}"
            )
    return violations
