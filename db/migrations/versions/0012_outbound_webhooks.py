"""Signed outbound webhooks: the endpoints marketplaces and sellers register, the events the engine publishes, and
each event's delivery to each endpoint (its durable outbox).

- `webhook_endpoints`: an owner (`marketplace:<id>` or `seller:<id>`), a URL, the Standard Webhooks secret that
  signs what is sent to it, the event types it takes (none listed: all), and when it was disabled.
- `webhook_events`: one row per event under its stable id, written in the transaction that made the change it
  tells of; `owners` are who hear of it.
- `webhook_deliveries`: per event and endpoint, pending until the endpoint answers 2xx, retried with backoff until
  delivered or given up (`failed`); an owner may replay an event.

Revision ID: 0012
Revises: 0011
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

ENGINE_ROLE = "settlement_engine"

STATEMENTS = [
    """CREATE TABLE webhook_endpoints (
        endpoint_id  text PRIMARY KEY,
        owner        text NOT NULL,
        url          text NOT NULL,
        secret       text NOT NULL,
        event_types  text[] NOT NULL DEFAULT '{}',
        created_at   timestamptz NOT NULL DEFAULT statement_timestamp(),
        disabled_at  timestamptz
    )""",
    "CREATE INDEX webhook_endpoints_owner ON webhook_endpoints (owner) WHERE disabled_at IS NULL",
    """CREATE TABLE webhook_events (
        event_id     text PRIMARY KEY,
        type         text NOT NULL,
        owners       text[] NOT NULL,
        data         jsonb NOT NULL,
        occurred_at  timestamptz NOT NULL,
        created_at   timestamptz NOT NULL DEFAULT statement_timestamp(),
        seq          bigint GENERATED ALWAYS AS IDENTITY UNIQUE
    )""",
    "CREATE INDEX webhook_events_owners ON webhook_events USING gin (owners)",
    """CREATE TABLE webhook_deliveries (
        event_id        text NOT NULL REFERENCES webhook_events (event_id),
        endpoint_id     text NOT NULL REFERENCES webhook_endpoints (endpoint_id),
        status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
        attempts        integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT statement_timestamp(),
        last_status     integer,
        last_error      text,
        delivered_at    timestamptz,
        PRIMARY KEY (event_id, endpoint_id)
    )""",
    "CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending'",
    f"GRANT SELECT, INSERT, UPDATE ON webhook_endpoints, webhook_events, webhook_deliveries TO {ENGINE_ROLE}",
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE webhook_deliveries, webhook_events, webhook_endpoints")
