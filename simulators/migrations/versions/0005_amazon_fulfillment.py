"""The simulated Amazon fulfillment network (simulators/amazon.py): the access tokens it issued, its fulfillment
orders, the carrier's events for their parcels, and the returns it authorized.

An order's shipping and delivery are not columns: they follow, when the order is read, from the carrier events
due by then (queued by the test driver, or at creation in `auto` carrier mode).

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

STATEMENTS = [
    """CREATE TABLE sim.amazon_access_tokens (
        access_token  text PRIMARY KEY,
        client_id     text NOT NULL,
        expires_at    timestamptz NOT NULL
    )""",
    """CREATE TABLE sim.amazon_fulfillment_orders (
        seller_fulfillment_order_id  text PRIMARY KEY,
        request             jsonb NOT NULL,
        amazon_shipment_id  text NOT NULL UNIQUE,
        package_number      bigint GENERATED ALWAYS AS IDENTITY (START WITH 200000001) UNIQUE,
        tracking_number     text NOT NULL,
        received_at         timestamptz NOT NULL,
        cancelled_at        timestamptz
    )""",
    """CREATE TABLE sim.amazon_carrier_events (
        seq              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        seller_fulfillment_order_id  text NOT NULL REFERENCES sim.amazon_fulfillment_orders,
        type             text NOT NULL,
        tracking_number  text,
        due_at           timestamptz NOT NULL
    )""",
    "CREATE INDEX amazon_carrier_events_order ON sim.amazon_carrier_events (seller_fulfillment_order_id, due_at)",
    """CREATE TABLE sim.amazon_return_authorizations (
        return_authorization_id  text PRIMARY KEY,
        seller_fulfillment_order_id  text NOT NULL REFERENCES sim.amazon_fulfillment_orders,
        fulfillment_center_id    text NOT NULL,
        amazon_rma_id            text NOT NULL UNIQUE,
        created_at               timestamptz NOT NULL
    )""",
    "CREATE INDEX amazon_return_authorizations_order ON sim.amazon_return_authorizations (seller_fulfillment_order_id)",
    """CREATE TABLE sim.amazon_return_items (
        seller_fulfillment_order_id       text NOT NULL REFERENCES sim.amazon_fulfillment_orders,
        seller_return_item_id             text NOT NULL,
        seller_fulfillment_order_item_id  text NOT NULL,
        amazon_shipment_id                text NOT NULL,
        seller_return_reason_code         text NOT NULL,
        return_comment                    text,
        return_authorization_id           text NOT NULL REFERENCES sim.amazon_return_authorizations,
        created_at                        timestamptz NOT NULL,
        PRIMARY KEY (seller_fulfillment_order_id, seller_return_item_id)
    )""",
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute(
        "DROP TABLE sim.amazon_return_items, sim.amazon_return_authorizations, sim.amazon_carrier_events, "
        "sim.amazon_fulfillment_orders, sim.amazon_access_tokens"
    )
