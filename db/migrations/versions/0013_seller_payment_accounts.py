"""Where a seller is paid at a real payment provider, and finding an order by its capture.

- `seller_payment_accounts`: a seller's account at the provider (with Stripe Connect, their connected account
  `acct_…`), set by operators; the Stripe adapter pays a seller's payouts there.
- An index of the read model's orders by their capture's id, so a provider's notice that names only the payment
  (Stripe's disputes name the PaymentIntent) finds its order.

Revision ID: 0013
Revises: 0012
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

ENGINE_ROLE = "settlement_engine"

STATEMENTS = [
    """CREATE TABLE seller_payment_accounts (
        seller_id   text NOT NULL,
        provider    text NOT NULL CHECK (provider IN ('stripe')),
        account_id  text NOT NULL,
        updated_at  timestamptz NOT NULL DEFAULT statement_timestamp(),
        PRIMARY KEY (seller_id, provider)
    )""",
    # On a large read model, build it with CREATE INDEX CONCURRENTLY before deploying (docs/deployment.md).
    "CREATE INDEX IF NOT EXISTS orders_capture_id ON orders ((state->>'capture_id')) WHERE state->>'capture_id' IS NOT NULL",
    f"GRANT SELECT, INSERT, UPDATE ON seller_payment_accounts TO {ENGINE_ROLE}",
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS orders_capture_id")
    op.execute("DROP TABLE seller_payment_accounts")
