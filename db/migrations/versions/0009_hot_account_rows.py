"""Room on every page of ledger_accounts for its rows' next versions, so a balance update stays a heap-only (HOT)
update: the shared accounts (fees, boundary accounts) are updated by every entry in their currency, and once their
pages were full each update wrote a new row version on another page and new entries in every index of the table,
which slowed every later update of the same rows (B5 measured entries/s falling by half over one run).

Only pages written from now on keep the room; on a large existing ledger, `VACUUM FULL ledger_accounts` (which
locks the table) or pg_repack applies it to the rest.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE ledger_accounts SET (fillfactor = 50)")
    op.execute("ALTER TABLE seller_balances SET (fillfactor = 50)")


def downgrade() -> None:
    op.execute("ALTER TABLE seller_balances RESET (fillfactor)")
    op.execute("ALTER TABLE ledger_accounts RESET (fillfactor)")
