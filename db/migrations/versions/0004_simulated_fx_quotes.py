"""The simulated FX source keeps its quotes, so a quote is locked once per key.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE sim.fx_quotes (
            idempotency_key text PRIMARY KEY,
            base            char(3) NOT NULL,
            quote           char(3) NOT NULL,
            mid_rate        numeric NOT NULL,
            rate            numeric NOT NULL,
            spread_bps      integer NOT NULL,
            locked_at       timestamptz NOT NULL DEFAULT now()
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE sim.fx_quotes")
