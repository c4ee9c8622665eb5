"""Indexes that serve a seller's balance and statement: accounts by owner (an order's escrow and pending accounts,
a seller's own), and an order's entries by time.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain CREATE INDEX locks writes to the table while it builds: on a large production ledger, build these
    # with CREATE INDEX CONCURRENTLY before deploying (this migration then finds them and does nothing).
    op.execute("CREATE INDEX IF NOT EXISTS ledger_accounts_owner ON ledger_accounts (owner)")
    op.execute("CREATE INDEX IF NOT EXISTS ledger_entries_order_created ON ledger_entries (order_id, created_at)")
    op.execute("DROP INDEX IF EXISTS ledger_entries_order")  # a prefix of the one above


def downgrade() -> None:
    op.execute("CREATE INDEX IF NOT EXISTS ledger_entries_order ON ledger_entries (order_id)")
    op.execute("DROP INDEX IF EXISTS ledger_entries_order_created")
    op.execute("DROP INDEX IF EXISTS ledger_accounts_owner")
