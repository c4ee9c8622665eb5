"""The centre each simulated fulfillment order ships from, chosen by where it goes.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE sim.fulfillment_orders ADD COLUMN fulfillment_center text")


def downgrade() -> None:
    op.execute("ALTER TABLE sim.fulfillment_orders DROP COLUMN fulfillment_center")
