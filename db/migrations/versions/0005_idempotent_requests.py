"""Idempotency keys of API requests: the first answer to each caller's key, kept to answer its repeats.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE idempotent_requests (
            caller           text NOT NULL,
            key              text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
            fingerprint      text NOT NULL,
            status           smallint CHECK (status BETWEEN 100 AND 499),
            response_headers jsonb,
            response_body    bytea,
            created_at       timestamptz NOT NULL DEFAULT now(),
            claimed_at       timestamptz NOT NULL DEFAULT now(),
            completed_at     timestamptz,
            PRIMARY KEY (caller, key)
        )
        """
    )
    op.execute(
        "COMMENT ON TABLE idempotent_requests IS 'One row per (caller, Idempotency-Key). status is NULL while the "
        "first request runs (claimed_at identifies that run); answers of 500 and above are never kept.'"
    )


def downgrade() -> None:
    op.execute("DROP TABLE idempotent_requests")
