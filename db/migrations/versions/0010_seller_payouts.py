"""Money after the sale: sellers' payout settings, their pooled payouts, and which ledger entries each payout settles.

- `seller_payout_settings`: a seller's schedule, minimum payout, reserve and write-off period (domain/payouts.py).
  A seller without a row is paid per order.
- `seller_payouts`: one row per pooled payout, keyed by the payout's own id (also its idempotency key at the
  provider): seller, currency, the period it closes, the amount, and whether it is pending, paid or returned.
- `settlement_lines`: the ledger entries of the seller's accounts each payout settles, each entry in one payout of
  its seller and currency: the settlement report's lines.
- `reconciliation_runs`: each daily reconciliation of the ledger with the payment provider's records, and the
  differences it found.

Revision ID: 0010
Revises: 0009
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

ENGINE_ROLE = "settlement_engine"

STATEMENTS = [
    """CREATE TABLE seller_payout_settings (
        seller_id            text PRIMARY KEY,
        schedule             text NOT NULL CHECK (schedule IN ('per_order', 'daily', 'weekly', 'every_14_days', 'on_demand')),
        minimum_payout       bigint NOT NULL DEFAULT 0 CHECK (minimum_payout >= 0),
        reserve_percent      integer NOT NULL DEFAULT 0 CHECK (reserve_percent BETWEEN 0 AND 100),
        reserve_days         integer NOT NULL DEFAULT 0 CHECK (reserve_days >= 0),
        write_off_after_days integer NOT NULL DEFAULT 90 CHECK (write_off_after_days > 0),
        updated_at           timestamptz NOT NULL DEFAULT now()
    )""",
    """CREATE TABLE seller_payouts (
        payout_id          text PRIMARY KEY,
        seller_id          text NOT NULL,
        currency           char(3) NOT NULL,
        period_start       timestamptz,
        period_end         timestamptz NOT NULL,
        amount             bigint NOT NULL CHECK (amount > 0),
        status             text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'paid', 'returned')),
        provider_reference text,
        failure            text,
        created_at         timestamptz NOT NULL DEFAULT statement_timestamp(),
        updated_at         timestamptz NOT NULL DEFAULT statement_timestamp()
    )""",
    "CREATE INDEX seller_payouts_seller ON seller_payouts (seller_id, currency, period_end)",
    "CREATE INDEX seller_payouts_pending ON seller_payouts (seller_id) WHERE status = 'pending'",
    """CREATE TABLE settlement_lines (
        entry_id  bigint NOT NULL REFERENCES ledger_entries (id),
        payout_id text NOT NULL REFERENCES seller_payouts (payout_id),
        PRIMARY KEY (entry_id, payout_id)
    )""",
    "CREATE INDEX settlement_lines_payout ON settlement_lines (payout_id)",
    """CREATE TABLE reconciliation_runs (
        run_id      text PRIMARY KEY,
        until       timestamptz NOT NULL,
        finished_at timestamptz NOT NULL DEFAULT statement_timestamp(),
        checked     integer NOT NULL,
        differences jsonb NOT NULL
    )""",
    "CREATE INDEX reconciliation_runs_finished ON reconciliation_runs (finished_at DESC)",
    # On a large ledger, build this one with CREATE INDEX CONCURRENTLY before deploying (docs/deployment.md).
    "CREATE INDEX IF NOT EXISTS ledger_accounts_seller ON ledger_accounts (seller_id, currency) WHERE seller_id IS NOT NULL",
    f"GRANT SELECT, INSERT, UPDATE ON seller_payout_settings, seller_payouts TO {ENGINE_ROLE}",
    f"GRANT SELECT, INSERT ON settlement_lines TO {ENGINE_ROLE}",
    f"GRANT SELECT, INSERT, UPDATE ON reconciliation_runs TO {ENGINE_ROLE}",
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ledger_accounts_seller")
    op.execute("DROP TABLE reconciliation_runs, settlement_lines, seller_payouts, seller_payout_settings")
