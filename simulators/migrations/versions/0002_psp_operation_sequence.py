"""The payment provider's records get a sequence number, the order its listing pages in.

Its creation time cannot be that order: it is stamped when the transaction starts, so a record committed
late can land before a page already read. Existing records are numbered in their former listing order.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

STATEMENTS = [
    "ALTER TABLE sim.psp_operations ADD COLUMN seq bigint",
    """UPDATE sim.psp_operations o SET seq = numbered.n
       FROM (SELECT idempotency_key, row_number() OVER (ORDER BY created_at, idempotency_key) AS n FROM sim.psp_operations) numbered
       WHERE numbered.idempotency_key = o.idempotency_key""",
    "ALTER TABLE sim.psp_operations ALTER COLUMN seq SET NOT NULL, ALTER COLUMN seq ADD GENERATED ALWAYS AS IDENTITY",
    "SELECT setval(pg_get_serial_sequence('sim.psp_operations', 'seq'), (SELECT coalesce(max(seq), 0) + 1 FROM sim.psp_operations), false)",
    "CREATE UNIQUE INDEX psp_operations_seq ON sim.psp_operations (seq)",
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("ALTER TABLE sim.psp_operations DROP COLUMN seq")
