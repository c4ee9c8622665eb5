"""A large, valid ledger generated with set-based SQL: orders of one seller among many others, fast enough for B7.

Every order is captured; one in ten stays in escrow, one in ten is released and waits for its payout, the rest are
paid out (reserve, then settle): the entries `domain.ledger` writes, keyed as the workflow keys them. The rows are
inserted as the database owner with the ledger's triggers off (`session_replication_role = replica`: the per-posting
balance trigger, the deferred balance check and the foreign keys), so each account's balance is then set once, to
the sum of its postings. The result satisfies `db.invariants.check_invariants`; it needs an empty ledger.
"""

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from domain import order_steps as steps
from domain.ledger import SETTLED_SUFFIX

# Per order: 1 escrow account, a pending payout account for the 8 in 10 paid out, and 1 seller per OTHER_SELLER_ORDERS
ACCOUNTS_PER_ORDER = 2.0
OTHER_SELLER_ORDERS = 5
SPREAD_SECONDS = 365 * 86400  # orders are placed over the year before `now`
UNITS = 2
FULFILLMENT_FEE_PER_UNIT = 250

# One generated order: its seller, amounts and how far it went (0 captured, 1 released, 3 paid out and settled).
ORDERS = """
SELECT i, order_id, seller_id, total, referral, fulfillment, total - referral - fulfillment AS share, last_step, placed_at,
       CASE last_step WHEN 0 THEN 'awaiting_confirmation' WHEN 1 THEN 'payout_pending' ELSE 'settled' END AS status
FROM (
    SELECT i, 'b7-' || i AS order_id,
           CASE WHEN i % $2 = 0 THEN $3 ELSE 'b7-seller-' || (i % $4) END AS seller_id,
           2000 + (i % 97) * 100 AS total,
           greatest(30, ((2000 + (i % 97) * 100) * 8 + 50) / 100) AS referral,
           $5::bigint AS fulfillment,
           CASE (CASE WHEN i % $2 = 0 THEN i / $2 ELSE i END) % 10 WHEN 0 THEN 0 WHEN 1 THEN 1 ELSE 3 END AS last_step,
           $6::timestamptz - interval '4 hours' - make_interval(secs => (i::bigint * 7919) % $7) AS placed_at
    FROM generate_series(1, $1) AS i
) o
"""

# The postings of each order's entries; entry ids are i * 4 + step.
POSTINGS = """
SELECT o.i * 4 + p.step AS entry_id, p.step, o.order_id, p.account, p.amount, o.placed_at FROM orders_gen o
CROSS JOIN LATERAL (VALUES
    (0, 'external:buyers:' || $1, -o.total),
    (0, 'escrow:' || o.order_id || ':' || $1, o.total),
    (1, 'escrow:' || o.order_id || ':' || $1, -o.total),
    (1, 'platform:marketplace_fees:' || $1, o.referral),
    (1, 'fulfillment:fees_payable:' || $1, o.fulfillment),
    (1, 'seller:' || o.seller_id || ':' || $1, o.share),
    (2, 'seller:' || o.seller_id || ':' || $1, -o.share),
    (2, 'pending:payout:' || o.order_id || ':' || $1, o.share),
    (3, 'pending:payout:' || o.order_id || ':' || $1, -o.share),
    (3, 'external:payouts:' || $1, o.share)
) AS p(step, account, amount)
WHERE p.step <= o.last_step
"""

# The owner each account spec of domain.ledger gives, from the account's code.
OWNER = """
CASE split_part(account, ':', 1)
    WHEN 'escrow' THEN 'order:' || split_part(account, ':', 2)
    WHEN 'pending' THEN 'order:' || split_part(account, ':', 3)
    WHEN 'seller' THEN 'seller:' || split_part(account, ':', 2)
    WHEN 'platform' THEN 'platform'
    WHEN 'fulfillment' THEN 'fulfillment_network'
    ELSE 'external'
END
"""


@dataclass(frozen=True)
class LedgerShape:
    orders: int
    seller_orders: int
    accounts: int
    entries: int
    postings: int


def orders_for(accounts: int, seller_orders: int) -> int:
    """The number of orders (a multiple of seller_orders) that makes about `accounts` ledger accounts."""
    return max(1, round(accounts / ACCOUNTS_PER_ORDER / seller_orders)) * seller_orders


async def load_ledger(
    conn: asyncpg.Connection, *, orders: int, seller_id: str, seller_orders: int, now: datetime, currency: str = "USD"
) -> LedgerShape:
    """Generate `orders` orders, `seller_orders` of them `seller_id`'s, spread evenly among the others; as the owner."""
    if orders % seller_orders:
        raise ValueError("orders must be a multiple of seller_orders")
    if await conn.fetchval("SELECT EXISTS (SELECT 1 FROM ledger_entries)"):
        raise ValueError("load_ledger needs an empty ledger")
    keys = [steps.RECORD_CAPTURE.key, steps.RELEASE.key, steps.PAYOUT.key, steps.PAYOUT.key + SETTLED_SUFFIX]
    kinds = ["capture", "release", "payout", "payout"]
    args = (
        orders,
        orders // seller_orders,
        seller_id,
        max(1, orders // OTHER_SELLER_ORDERS),
        UNITS * FULFILLMENT_FEE_PER_UNIT,
        now,
        SPREAD_SECONDS,
    )
    async with conn.transaction():
        await conn.execute("SET LOCAL session_replication_role = replica")
        await conn.execute(
            "CREATE TEMP TABLE orders_gen (i bigint, order_id text, seller_id text, total bigint, referral bigint, fulfillment bigint, "
            "share bigint, last_step int, placed_at timestamptz, status text) ON COMMIT DROP"
        )
        await conn.execute(f"INSERT INTO orders_gen {ORDERS}", *args)
        await conn.execute(
            "INSERT INTO ledger_entries (id, idempotency_key, order_id, kind, created_at) "
            "SELECT o.i * 4 + s, 'order-' || o.order_id || ':' || ($1::text[])[s + 1], o.order_id, ($2::text[])[s + 1], "
            "o.placed_at + make_interval(hours => s + 1) FROM orders_gen o CROSS JOIN generate_series(0, o.last_step) AS s",
            keys,
            kinds,
        )
        await conn.execute(
            f"INSERT INTO ledger_postings (entry_id, account, amount, currency) SELECT entry_id, account, amount, $1 FROM ({POSTINGS}) p",
            currency,
        )
        await conn.execute(
            f"INSERT INTO ledger_accounts (code, owner, currency, may_go_negative, balance) "
            f"SELECT account, {OWNER}, currency, account LIKE 'external:%', sum(amount) FROM ledger_postings GROUP BY account, currency"
        )
        await conn.execute(
            "INSERT INTO orders (order_id, workflow_id, status, buyer_id, seller_id, marketplace, currency, total, version, placed_at, state) "
            "SELECT order_id, 'order-' || order_id, status, 'b7-buyer-' || (i % 1000), seller_id, 'b7-market', $1, total, 4 + last_step, "
            "placed_at, jsonb_build_object('amounts', jsonb_build_object('total', total, 'authorized', total, 'captured', total, "
            "'fees', CASE WHEN last_step > 0 THEN referral + fulfillment ELSE 0 END, 'paid_out', CASE WHEN last_step = 3 THEN share ELSE 0 END, "
            "'refunded', 0)) FROM orders_gen",
            currency,
        )
        # whose money each escrow and seller account holds, and the per-seller totals the ledger keeps (migration 0008)
        await conn.execute(
            "UPDATE ledger_accounts a SET seller_id = o.seller_id FROM orders_gen o WHERE a.owner = 'order:' || o.order_id AND a.code LIKE 'escrow:%'"
        )
        await conn.execute("UPDATE ledger_accounts SET seller_id = substr(owner, length('seller:') + 1) WHERE owner LIKE 'seller:%'")
        await conn.execute("INSERT INTO seller_balances SELECT * FROM seller_balances_from_postings")
        await conn.execute("SELECT setval('ledger_entries_id_seq', (SELECT max(id) FROM ledger_entries))")
    await conn.execute("ANALYZE")
    counts = await conn.fetchrow(
        "SELECT (SELECT count(*) FROM ledger_accounts) AS accounts, (SELECT count(*) FROM ledger_entries) AS entries, "
        "(SELECT count(*) FROM ledger_postings) AS postings"
    )
    return LedgerShape(orders, seller_orders, counts["accounts"], counts["entries"], counts["postings"])
