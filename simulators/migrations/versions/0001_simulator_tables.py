"""The payment provider's operations and payout accounts, the fulfillment network's orders and webhook outbox,
and the FX source's locked quotes.

Every statement tolerates what exists: a development database made before the simulators had their own
migrations already has these tables (the engine's migrations 0001 and 0004 used to create them).

Revision ID: 0001
Revises:
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

STATEMENTS = [
    """CREATE TABLE IF NOT EXISTS sim.psp_operations (
        idempotency_key text PRIMARY KEY,
        operation       text NOT NULL,
        order_id        text,
        request         jsonb NOT NULL,
        outcome         text NOT NULL,
        reference       text,
        amount          bigint,
        currency        char(3),
        detail          text,
        created_at      timestamptz NOT NULL DEFAULT now()
    )""",
    "CREATE INDEX IF NOT EXISTS psp_operations_order ON sim.psp_operations (order_id)",
    "CREATE INDEX IF NOT EXISTS psp_operations_created ON sim.psp_operations (created_at, idempotency_key)",  # the listing's order
    """CREATE TABLE IF NOT EXISTS sim.payout_accounts (
        seller_id   text PRIMARY KEY,
        rejects     boolean NOT NULL,
        updated_at  timestamptz NOT NULL DEFAULT now()
    )""",
    """CREATE TABLE IF NOT EXISTS sim.fulfillment_orders (
        order_id        text PRIMARY KEY,
        idempotency_key text NOT NULL UNIQUE,
        seller_id       text NOT NULL,
        items           jsonb NOT NULL,
        status          text NOT NULL,
        created_at      timestamptz NOT NULL DEFAULT now()
    )""",
    """CREATE TABLE IF NOT EXISTS sim.webhook_outbox (
        event_id      text PRIMARY KEY,
        order_id      text NOT NULL,
        type          text NOT NULL,
        due_at        timestamptz NOT NULL,
        tracking      text,
        delivered_at  timestamptz,
        attempts      integer NOT NULL DEFAULT 0,
        last_error    text
    )""",
    "CREATE INDEX IF NOT EXISTS webhook_outbox_due ON sim.webhook_outbox (due_at) WHERE delivered_at IS NULL",
    """CREATE TABLE IF NOT EXISTS sim.fx_quotes (
        idempotency_key text PRIMARY KEY,
        base            char(3) NOT NULL,
        quote           char(3) NOT NULL,
        mid_rate        numeric NOT NULL,
        rate            numeric NOT NULL,
        spread_bps      integer NOT NULL,
        locked_at       timestamptz NOT NULL DEFAULT now()
    )""",
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE sim.fx_quotes, sim.webhook_outbox, sim.fulfillment_orders, sim.payout_accounts, sim.psp_operations")
