"""The payment provider's disputes (chargebacks) and the outbox of its webhooks to the engine.

An outbox row holds the whole signed body, written when the dispute changes, so a delivery repeated after a
failure sends the same event.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

STATEMENTS = [
    """CREATE TABLE sim.psp_disputes (
        dispute_id  text PRIMARY KEY,
        order_id    text NOT NULL,
        capture_id  text NOT NULL,
        amount      bigint NOT NULL CHECK (amount > 0),
        currency    text NOT NULL,
        status      text NOT NULL CHECK (status IN ('open', 'won', 'lost')),
        created_at  timestamptz NOT NULL DEFAULT now(),
        closed_at   timestamptz,
        CHECK ((status = 'open') = (closed_at IS NULL))
    )""",
    "CREATE INDEX psp_disputes_capture ON sim.psp_disputes (capture_id)",
    """CREATE TABLE sim.payment_webhook_outbox (
        event_id      text PRIMARY KEY,
        body          jsonb NOT NULL,
        due_at        timestamptz NOT NULL DEFAULT now(),
        delivered_at  timestamptz,
        attempts      integer NOT NULL DEFAULT 0,
        last_error    text
    )""",
    "CREATE INDEX payment_webhook_outbox_due ON sim.payment_webhook_outbox (due_at) WHERE delivered_at IS NULL",
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE sim.payment_webhook_outbox, sim.psp_disputes")
