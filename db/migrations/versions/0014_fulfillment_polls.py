"""When each order was last read from a fulfillment network that is polled (Amazon's), and which of its events the
order has been told of.

- `fulfillment_polls`: one row per order the poller has read; `next_poll_at` is both the schedule and the lease of
  the worker reading it (another worker skips it until then); `told_event_ids` keeps a repeated read from
  signalling the order again.

Revision ID: 0014
Revises: 0013
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

ENGINE_ROLE = "settlement_engine"

STATEMENTS = [
    """CREATE TABLE fulfillment_polls (
        order_id        text PRIMARY KEY,
        next_poll_at    timestamptz NOT NULL,
        told_event_ids  text[] NOT NULL DEFAULT '{}'
    )""",
    f"GRANT SELECT, INSERT, UPDATE, DELETE ON fulfillment_polls TO {ENGINE_ROLE}",
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE fulfillment_polls")
