"""Reference rates for reporting: the FX source's mid-market rate from each convertible currency to the reporting
currency, refreshed hourly by the worker, so that volumes in several currencies add up in one.

Revision ID: 0016
Revises: 0015
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

ENGINE_ROLE = "settlement_engine"


def upgrade() -> None:
    op.execute(
        """CREATE TABLE reference_rates (
            currency   char(3) NOT NULL,
            reporting  char(3) NOT NULL,
            mid_rate   numeric NOT NULL CHECK (mid_rate > 0),
            as_of      timestamptz NOT NULL,
            PRIMARY KEY (currency, reporting)
        )"""
    )
    op.execute(f"GRANT SELECT, INSERT, UPDATE ON reference_rates TO {ENGINE_ROLE}")


def downgrade() -> None:
    op.execute("DROP TABLE reference_rates")
