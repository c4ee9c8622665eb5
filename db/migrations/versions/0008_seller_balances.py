"""A seller's escrow and paid-out totals kept as the ledger moves, so their balance is one row per currency.

- `ledger_accounts.seller_id`: the seller whose money an account holds (their own account; an order's escrow,
  given by its capture). Backfilled for the accounts that exist; an account written without it (by a worker of the
  version before, still running while this one rolls out) gets it from its owner, or for an escrow from its order.
- `seller_balances`: per seller and currency, what their orders hold in escrow and what has been paid out to them.
  A trigger on ledger_entries moves it once per entry, from the entry's postings. The ledger writes an entry and
  its postings in one statement (db/ledger.py), whose AFTER triggers fire in the order its rows were inserted: the
  entry's first, then the postings' balance moves. So an entry locks its seller's row before any account row,
  entries of one seller queue on that row without deadlocking, and the shared accounts' rows (fees, boundary
  accounts) are held no longer than before.
- `seller_balances_from_postings`: the same totals computed from the postings; the invariants compare the two.

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

ENGINE_ROLE = "settlement_engine"

# What counts: postings to a seller's escrow accounts, and payout postings out of the seller's own account. The
# postings are filtered by account before any account row is read, so an entry never reads the shared accounts'
# rows it has just locked (fees, boundary accounts).
TOTALS = """
    SELECT a.seller_id, a.currency,
           coalesce(sum(p.amount) FILTER (WHERE a.code LIKE 'escrow:%'), 0) AS in_escrow,
           coalesce(-sum(p.amount) FILTER (WHERE a.code LIKE 'seller:%' AND e.kind = 'payout'), 0) AS paid_out
    FROM {postings} p JOIN ledger_accounts a ON a.code = p.account JOIN ledger_entries e ON e.id = p.entry_id
    WHERE (p.account LIKE 'escrow:%' OR p.account LIKE 'seller:%') AND a.seller_id IS NOT NULL
      AND (a.code LIKE 'escrow:%' OR e.kind = 'payout')
    GROUP BY a.seller_id, a.currency
"""

STATEMENTS = [
    "ALTER TABLE ledger_accounts ADD COLUMN seller_id text",
    "UPDATE ledger_accounts a SET seller_id = o.seller_id FROM orders o WHERE a.code LIKE 'escrow:%' AND a.owner = 'order:' || o.order_id",
    "UPDATE ledger_accounts SET seller_id = substr(owner, length('seller:') + 1) WHERE owner LIKE 'seller:%'",
    """CREATE TABLE seller_balances (
        seller_id  text NOT NULL,
        currency   char(3) NOT NULL,
        in_escrow  bigint NOT NULL DEFAULT 0,
        paid_out   bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (seller_id, currency)
    )""",
    "CREATE VIEW seller_balances_from_postings AS" + TOTALS.format(postings="ledger_postings"),
    """CREATE FUNCTION ledger_account_seller() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
        SET search_path = public, pg_temp AS $$
    BEGIN
        IF NEW.seller_id IS NULL AND NEW.owner LIKE 'seller:%' THEN
            NEW.seller_id := substr(NEW.owner, length('seller:') + 1);
        ELSIF NEW.seller_id IS NULL AND NEW.code LIKE 'escrow:%' THEN
            NEW.seller_id := (SELECT seller_id FROM orders WHERE 'order:' || order_id = NEW.owner);
        END IF;
        RETURN NEW;
    END $$""",
    "REVOKE ALL ON FUNCTION ledger_account_seller() FROM PUBLIC",
    """CREATE TRIGGER ledger_accounts_seller BEFORE INSERT ON ledger_accounts
        FOR EACH ROW EXECUTE FUNCTION ledger_account_seller()""",
    "INSERT INTO seller_balances (seller_id, currency, in_escrow, paid_out) SELECT * FROM seller_balances_from_postings",
    f"""CREATE FUNCTION ledger_move_seller_balances() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
        SET search_path = public, pg_temp AS $$
    BEGIN
        INSERT INTO seller_balances AS b (seller_id, currency, in_escrow, paid_out)
        SELECT * FROM ({TOTALS.format(postings="(SELECT * FROM ledger_postings WHERE entry_id = NEW.id)")}) moved
        ORDER BY seller_id, currency
        ON CONFLICT (seller_id, currency)
        DO UPDATE SET in_escrow = b.in_escrow + EXCLUDED.in_escrow, paid_out = b.paid_out + EXCLUDED.paid_out;
        RETURN NULL;
    END $$""",
    "REVOKE ALL ON FUNCTION ledger_move_seller_balances() FROM PUBLIC",
    """CREATE TRIGGER ledger_entries_move_seller_balances AFTER INSERT ON ledger_entries
        FOR EACH ROW EXECUTE FUNCTION ledger_move_seller_balances()""",
    f"GRANT INSERT (seller_id) ON ledger_accounts TO {ENGINE_ROLE}",
    f"GRANT SELECT ON seller_balances, seller_balances_from_postings TO {ENGINE_ROLE}",
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TRIGGER ledger_entries_move_seller_balances ON ledger_entries")
    op.execute("DROP TRIGGER ledger_accounts_seller ON ledger_accounts")
    op.execute("DROP FUNCTION ledger_account_seller()")
    op.execute("DROP FUNCTION ledger_move_seller_balances()")
    op.execute("DROP VIEW seller_balances_from_postings")
    op.execute("DROP TABLE seller_balances")
    op.execute("ALTER TABLE ledger_accounts DROP COLUMN seller_id")
