"""Retired: it created the simulated FX source's table (sim.fx_quotes), which the simulators' own migrations
now create (simulators/migrations). Kept, empty, so that the revision chain of existing databases holds.

Revision ID: 0004
Revises: 0003
"""

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
