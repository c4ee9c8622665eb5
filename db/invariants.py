"""The ledger invariants, checked by one function that tests and operators both use.

Each check returns human-readable violations; an empty list means the books are sound. The reconciliation
compares the ledger with the payment provider's own records, given by the caller (fetched through the
payment adapter: operations/reconciliation.py); this module reads the engine's tables only.

The listing and the ledger cannot be read in one snapshot, and on a live system money moves between the two
reads. Both are therefore compared as of one moment, `until`, taken before either is read: the provider's
records created before it, the ledger entries created before it, and an order counts as finished only if its
read model said so before it. Each side stamps a record when its transaction starts, and a provider call comes
after the entry that reserves its money and before the entry that records its result (capture, settle): a
provider record that the listing missed by committing late has its recording entry after `until` too, and no
reservation is younger than the provider record it allowed. What moved after `until` waits for the next check;
a drift before it is reported. This needs one clock on both sides (the simulated provider stamps its records on
the ledger's PostgreSQL server).
"""

from collections import Counter, defaultdict
from datetime import datetime
from typing import NamedTuple

import asyncpg

from domain.ledger import RETURNED_SUFFIX, SETTLED_SUFFIX, EntryKind
from domain.payouts import PAYOUT_ID_PREFIX
from domain.providers import ProviderListing, ProviderOperation, ProviderOutcome
from domain.statuses import TERMINAL_STATUSES

TERMINAL = sorted(s.value for s in TERMINAL_STATUSES)
ONCE_PER_ORDER = (ProviderOperation.AUTHORIZE, ProviderOperation.CAPTURE)
# The ledger entries that record each money movement at the provider, by the provider's operation.
LEDGER_KIND = {
    ProviderOperation.CAPTURE: EntryKind.CAPTURE,
    ProviderOperation.PAYOUT: EntryKind.PAYOUT,
    ProviderOperation.REFUND: EntryKind.REFUND,
    ProviderOperation.CREDIT: EntryKind.COMPENSATION,
}


class Difference(NamedTuple):
    text: str
    order_id: str | None = None  # the order it is found on, when it is one order's


async def check_invariants(pool: asyncpg.Pool, provider: ProviderListing | None = None) -> list[str]:
    """All invariants; given the payment provider's listing, also the reconciliation of the ledger with it as of
    the listing's `until`, for open and finished orders alike."""
    return [d.text for d in await find_differences(pool, provider)]


async def find_differences(pool: asyncpg.Pool, provider: ProviderListing | None = None) -> list[Difference]:
    """check_invariants, each violation with the order it is found on."""
    differences: list[Difference] = []
    for check in (_entries_balance, _balances_match_postings, _seller_balances_match_postings, _books_balance, _no_forbidden_negatives):
        differences.extend(Difference(text) for text in await check(pool))
    differences.extend(await _terminal_orders_hold_nothing(pool))
    if provider is not None:
        differences.extend(await _reconciles_with_provider(pool, provider))
    return differences


async def database_now(pool: asyncpg.Pool) -> datetime:
    """The ledger's clock, which stamps its entries: where a reconciliation cuts both sides."""
    now: datetime = await pool.fetchval("SELECT statement_timestamp()")
    return now


async def _entries_balance(pool: asyncpg.Pool) -> list[str]:
    rows = await pool.fetch(
        "SELECT e.idempotency_key, p.currency, sum(p.amount) AS s FROM ledger_entries e JOIN ledger_postings p ON p.entry_id = e.id "
        "GROUP BY e.idempotency_key, p.currency HAVING sum(p.amount) <> 0"
    )
    empty = await pool.fetch(
        "SELECT idempotency_key FROM ledger_entries e WHERE NOT EXISTS (SELECT 1 FROM ledger_postings p WHERE p.entry_id = e.id)"
    )
    return [f"entry {r['idempotency_key']} sums to {r['s']} {r['currency']}" for r in rows] + [
        f"entry {r['idempotency_key']} has no postings" for r in empty
    ]


async def _balances_match_postings(pool: asyncpg.Pool) -> list[str]:
    rows = await pool.fetch(
        "SELECT a.code, a.balance, coalesce(sum(p.amount), 0) AS posted FROM ledger_accounts a LEFT JOIN ledger_postings p ON p.account = a.code "
        "GROUP BY a.code, a.balance HAVING a.balance <> coalesce(sum(p.amount), 0)"
    )
    return [f"account {r['code']} balance {r['balance']} differs from its postings {r['posted']}" for r in rows]


async def _seller_balances_match_postings(pool: asyncpg.Pool) -> list[str]:
    """The per-seller totals the ledger keeps equal the postings; every escrow is its order's seller's."""
    rows = await pool.fetch(
        """
        SELECT coalesce(k.seller_id, f.seller_id) AS seller_id, trim(coalesce(k.currency, f.currency)) AS currency,
               coalesce(k.in_escrow, 0) AS kept_escrow, coalesce(f.in_escrow, 0) AS escrow,
               coalesce(k.paid_out, 0) AS kept_paid_out, coalesce(f.paid_out, 0) AS paid_out
        FROM seller_balances k FULL JOIN seller_balances_from_postings f ON f.seller_id = k.seller_id AND f.currency = k.currency
        WHERE coalesce(k.in_escrow, 0) <> coalesce(f.in_escrow, 0) OR coalesce(k.paid_out, 0) <> coalesce(f.paid_out, 0)
        """
    )
    misattributed = await pool.fetch(
        "SELECT a.code, a.seller_id, o.seller_id AS order_seller FROM ledger_accounts a JOIN orders o ON a.owner = 'order:' || o.order_id "
        "WHERE a.code LIKE 'escrow:%' AND a.seller_id IS DISTINCT FROM o.seller_id "
        "UNION ALL SELECT code, seller_id, substr(owner, length('seller:') + 1) FROM ledger_accounts "
        "WHERE owner LIKE 'seller:%' AND seller_id IS DISTINCT FROM substr(owner, length('seller:') + 1)"
    )
    return [
        f"seller {r['seller_id']} {r['currency']}: kept in escrow {r['kept_escrow']}, paid out {r['kept_paid_out']}; "
        f"postings say {r['escrow']} and {r['paid_out']}"
        for r in rows
    ] + [f"account {r['code']} is held for seller {r['seller_id']}, its seller is {r['order_seller']}" for r in misattributed]


async def _books_balance(pool: asyncpg.Pool) -> list[str]:
    rows = await pool.fetch("SELECT currency, sum(balance) AS s FROM ledger_accounts GROUP BY currency HAVING sum(balance) <> 0")
    return [f"balances in {r['currency']} sum to {r['s']}" for r in rows]


async def _no_forbidden_negatives(pool: asyncpg.Pool) -> list[str]:
    rows = await pool.fetch("SELECT code, balance FROM ledger_accounts WHERE NOT may_go_negative AND balance < 0")
    return [f"account {r['code']} is negative ({r['balance']})" for r in rows]


async def _terminal_orders_hold_nothing(pool: asyncpg.Pool) -> list[Difference]:
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
        a, order = r["amounts"], r["order_id"]
        if r["escrow"] != 0:
            violations.append(Difference(f"order {order} is {r['status']} but holds {r['escrow']} in escrow", order))
        if r["captured"] != a["captured"]:
            violations.append(Difference(f"order {order} captured {a['captured']} but the ledger captured {r['captured']}", order))
        if a["captured"] != a["paid_out"] + a["fees"] + a["refunded"]:
            out = a["paid_out"] + a["fees"] + a["refunded"]
            violations.append(Difference(f"order {order} captured {a['captured']} but paid out, took as fees and refunded {out}", order))
    return violations


async def _reconciles_with_provider(pool: asyncpg.Pool, provider: ProviderListing) -> list[Difference]:
    """The payment provider's records agree with the ledger for every order, open or closed, as of `until`.

    One authorization and at most one capture per order (one operation per step is the provider's
    idempotency key). Money in: the ledger never holds more than the provider captured. Money out is
    reserved in the ledger before the provider is called and settled after, so at any moment
    settled <= what the provider paid out, refunded or credited <= reserved; a finished order has
    nothing pending, so the three are equal. A seller's pooled payouts are held to the same rule, keyed by the
    payout's id; a payout the provider refused is reserved no more once its money is returned. An order with a
    claim after the sale under way (reserved, not yet settled or returned) counts as open until it is over. Anything else (a refund the ledger never reserved, a payout
    made twice) is a drift, caught while the order is still open."""
    performed = [
        r for r in provider.records if r.outcome == ProviderOutcome.SUCCEEDED and r.order_id is not None and r.created_at < provider.until
    ]
    counts = Counter((r.order_id, r.operation) for r in performed if r.operation in ONCE_PER_ORDER)
    violations = [
        Difference(f"order {order}: {n} successful {operation} operations at the provider", order)
        for (order, operation), n in counts.items()
        if n > 1
    ]
    moved: dict[tuple[str | None, EntryKind], int] = defaultdict(int)
    for r in performed:
        if r.operation in LEDGER_KIND:
            moved[(r.order_id, LEDGER_KIND[r.operation])] += r.amount or 0
    rows = await pool.fetch(
        """
        WITH provider AS (
            SELECT * FROM unnest($4::text[], $5::text[], $6::bigint[]) AS p(order_id, kind, amount)
        ), ledger AS (
            SELECT e.order_id, e.kind,
                   coalesce(sum(p.amount) FILTER (WHERE e.kind = $7 AND p.account LIKE 'escrow:%'), 0) AS captured,
                   coalesce(sum(p.amount) FILTER (WHERE p.account LIKE 'external:%' AND p.amount > 0), 0) AS settled,
                   coalesce(sum(p.amount) FILTER (WHERE (p.account LIKE 'external:%' OR p.account LIKE 'pending:%') AND p.amount > 0
                                                  AND e.idempotency_key NOT LIKE '%' || $2), 0)
                   - coalesce(-sum(p.amount) FILTER (WHERE p.account LIKE 'pending:%' AND e.idempotency_key LIKE '%' || $9), 0) AS reserved
            FROM ledger_entries e JOIN ledger_postings p ON p.entry_id = e.id
            WHERE e.kind = ANY($3::text[]) AND e.created_at < $8 GROUP BY e.order_id, e.kind
        )
        SELECT o.order_id, o.finished, k.kind, coalesce(pr.amount, 0) AS provider,
               coalesce(l.captured, 0) AS captured, coalesce(l.settled, 0) AS settled, coalesce(l.reserved, 0) AS reserved
        FROM (
            SELECT order_id, status = ANY($1::text[]) AND updated_at < $8 AND NOT EXISTS (
                       SELECT FROM ledger_entries c WHERE c.order_id = orders.order_id AND c.kind = 'refund' AND c.memo ? 'claim_id'
                         AND c.created_at < $8 AND NOT EXISTS (
                             SELECT FROM ledger_entries d WHERE d.idempotency_key IN (c.idempotency_key || $2, c.idempotency_key || $9)
                               AND d.created_at < $8)
                   ) AS finished
            FROM orders
            UNION ALL SELECT payout_id, status <> 'pending' AND updated_at < $8 FROM seller_payouts
        ) o CROSS JOIN unnest($3::text[]) AS k(kind)
        LEFT JOIN provider pr ON pr.order_id = o.order_id AND pr.kind = k.kind
        LEFT JOIN ledger l ON l.order_id = o.order_id AND l.kind = k.kind
        """,
        list(TERMINAL),
        SETTLED_SUFFIX,
        list(LEDGER_KIND.values()),
        [order for order, _ in moved],
        [kind for _, kind in moved],
        list(moved.values()),
        EntryKind.CAPTURE,
        provider.until,
        RETURNED_SUFFIX,
    )
    for r in rows:
        order, kind, amount, finished = r["order_id"], r["kind"], r["provider"], r["finished"]
        if kind == EntryKind.CAPTURE:
            if r["captured"] > amount or (finished and r["captured"] != amount):
                violations.append(_difference(order, f"provider captured {amount} but the ledger holds {r['captured']} as captured"))
        elif not r["settled"] <= amount <= r["reserved"] or (finished and not r["settled"] == amount == r["reserved"]):
            violations.append(
                _difference(order, f"provider {kind} {amount} but the ledger reserved {r['reserved']} and settled {r['settled']}")
            )
    return violations


def _difference(subject_id: str, what: str) -> Difference:
    """On an order, or on a seller's pooled payout (whose provider records carry the payout's id)."""
    if subject_id.startswith(PAYOUT_ID_PREFIX):
        return Difference(f"payout {subject_id}: {what}")
    return Difference(f"order {subject_id}: {what}", subject_id)
