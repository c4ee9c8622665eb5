"""Chargebacks as sellers and operators see them, the seller's evidence, and which orders a reconciliation found at fault.

- `chargebacks`: one row per dispute the payment provider reported: its order, seller, amount, whether it is
  still open or was won or lost, and the evidence the seller gave (pending until the provider has it, then
  submitted, or refused with the provider's reason). Written with the chargeback's ledger entries; filled here
  from the ledger for the chargebacks recorded before it existed (open, or won where the reversal is booked).
- `reconciliation_runs.orders_at_fault`: each order a run found a difference on, with the differences naming it;
  `orders_parked`: those of them still open, which the run parked.

Revision ID: 0011
Revises: 0010
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

ENGINE_ROLE = "settlement_engine"

STATEMENTS = [
    """CREATE TABLE chargebacks (
        dispute_id        text PRIMARY KEY,
        order_id          text NOT NULL,
        seller_id         text NOT NULL,
        amount            bigint NOT NULL CHECK (amount > 0),
        currency          char(3) NOT NULL,
        status            text NOT NULL CHECK (status IN ('opened', 'won', 'lost')),
        opened_at         timestamptz NOT NULL,
        closed_at         timestamptz,
        evidence          jsonb,
        evidence_status   text CHECK (evidence_status IN ('pending', 'submitted', 'refused')),
        evidence_at       timestamptz,
        evidence_failure  text,
        CHECK ((evidence IS NULL) = (evidence_status IS NULL))
    )""",
    "CREATE INDEX chargebacks_seller ON chargebacks (seller_id, opened_at DESC, dispute_id DESC)",
    "CREATE INDEX chargebacks_order ON chargebacks (order_id)",
    """INSERT INTO chargebacks (dispute_id, order_id, seller_id, amount, currency, status, opened_at, closed_at)
       SELECT e.memo->>'dispute_id', e.order_id, a.seller_id, p.amount, p.currency,
              CASE WHEN won.id IS NULL THEN 'opened' ELSE 'won' END, e.created_at, won.created_at
       FROM ledger_entries e
       JOIN ledger_postings p ON p.entry_id = e.id AND p.account LIKE 'external:buyers:%'
       JOIN ledger_postings s ON s.entry_id = e.id AND s.amount < 0
       JOIN ledger_accounts a ON a.code = s.account
       LEFT JOIN ledger_entries won ON won.kind = 'chargeback_reversal' AND won.order_id = e.order_id
                                   AND won.memo->>'dispute_id' = e.memo->>'dispute_id'
       WHERE e.kind = 'chargeback'
       ON CONFLICT (dispute_id) DO NOTHING""",
    "ALTER TABLE reconciliation_runs ADD COLUMN orders_at_fault jsonb NOT NULL DEFAULT '{}', ADD COLUMN orders_parked jsonb NOT NULL DEFAULT '[]'",
    f"GRANT SELECT, INSERT, UPDATE ON chargebacks TO {ENGINE_ROLE}",
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("ALTER TABLE reconciliation_runs DROP COLUMN orders_at_fault, DROP COLUMN orders_parked")
    op.execute("DROP TABLE chargebacks")
