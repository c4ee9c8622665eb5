"""The evidence a merchant submitted for a dispute: the latest submission, under its idempotency key.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE sim.psp_disputes ADD COLUMN evidence jsonb, ADD COLUMN evidence_key text, ADD COLUMN evidence_at timestamptz")


def downgrade() -> None:
    op.execute("ALTER TABLE sim.psp_disputes DROP COLUMN evidence, DROP COLUMN evidence_key, DROP COLUMN evidence_at")
