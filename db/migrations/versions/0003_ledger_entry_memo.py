"""Ledger entries carry a memo: the context of a movement, such as the locked FX quote.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE ledger_entries ADD COLUMN memo jsonb")


def downgrade() -> None:
    op.execute("ALTER TABLE ledger_entries DROP COLUMN memo")
