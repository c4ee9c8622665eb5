"""Ledger and read model.

The simulators' tables (schema `sim`) were created here too until the simulators got their own migrations
(simulators/migrations): the schema is development-only, so this revision was edited rather than followed
by one that drops it. A database made before keeps its `sim` tables, which the simulators' migrations adopt.

Revision ID: 0001
Revises:
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

LEDGER = """
CREATE TABLE ledger_accounts (
    code            text PRIMARY KEY,
    owner           text NOT NULL,
    currency        char(3) NOT NULL,
    may_go_negative boolean NOT NULL DEFAULT false,
    balance         bigint NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (code, currency),
    CONSTRAINT balance_not_negative CHECK (may_go_negative OR balance >= 0)
);
COMMENT ON TABLE ledger_accounts IS
  'One row per account. balance always equals the sum of the account''s postings.';

CREATE TABLE ledger_entries (
    id              bigserial PRIMARY KEY,
    idempotency_key text NOT NULL UNIQUE,
    order_id        text NOT NULL,
    kind            text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ledger_entries_order ON ledger_entries (order_id);

CREATE TABLE ledger_postings (
    id          bigserial PRIMARY KEY,
    entry_id    bigint NOT NULL REFERENCES ledger_entries (id),
    account     text NOT NULL,
    amount      bigint NOT NULL CHECK (amount <> 0),
    currency    char(3) NOT NULL,
    FOREIGN KEY (account, currency) REFERENCES ledger_accounts (code, currency)
);
CREATE INDEX ledger_postings_entry ON ledger_postings (entry_id);
CREATE INDEX ledger_postings_account ON ledger_postings (account);
COMMENT ON COLUMN ledger_postings.amount IS
  'Sign convention: minor units flowing INTO the account (positive) or OUT of it (negative). '
  'The postings of an entry sum to zero in each currency.';

-- Entries and postings are immutable: a correction is a new entry.
CREATE FUNCTION ledger_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger rows are immutable (% on %)', TG_OP, TG_TABLE_NAME;
END $$;
CREATE TRIGGER ledger_entries_immutable BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_immutable();
CREATE TRIGGER ledger_postings_immutable BEFORE UPDATE OR DELETE ON ledger_postings
    FOR EACH ROW EXECUTE FUNCTION ledger_immutable();

-- At commit, every entry touched must balance in each currency.
CREATE FUNCTION ledger_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM ledger_postings WHERE entry_id = NEW.entry_id
        GROUP BY currency HAVING sum(amount) <> 0
    ) THEN
        RAISE EXCEPTION 'ledger entry % does not balance', NEW.entry_id;
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER ledger_postings_balanced AFTER INSERT ON ledger_postings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_entry_balanced();
"""

READ_MODEL = """
CREATE TABLE orders (
    order_id     text PRIMARY KEY,
    workflow_id  text NOT NULL,
    status       text NOT NULL,
    buyer_id     text NOT NULL,
    seller_id    text NOT NULL,
    marketplace  text NOT NULL,
    currency     char(3) NOT NULL,
    total        bigint NOT NULL,
    version      integer NOT NULL,
    placed_at    timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    state        jsonb NOT NULL
);
CREATE INDEX orders_status ON orders (status, placed_at, order_id);
CREATE INDEX orders_seller ON orders (seller_id, placed_at, order_id);
CREATE INDEX orders_buyer ON orders (buyer_id, placed_at, order_id);
CREATE INDEX orders_placed ON orders (placed_at, order_id);

CREATE TABLE order_events (
    order_id  text NOT NULL,
    seq       integer NOT NULL,
    status    text NOT NULL,
    detail    text NOT NULL,
    at        timestamptz NOT NULL,
    PRIMARY KEY (order_id, seq)
);
"""


def _statements(script: str) -> list[str]:
    """Split on statement ends outside $$-quoted function bodies (asyncpg runs one statement at a time)."""
    statements, current, in_body = [], [], False
    for line in script.splitlines():
        if line.strip().startswith("--") and not in_body:
            continue
        current.append(line)
        in_body ^= line.count("$$") % 2 == 1
        if not in_body and line.rstrip().endswith(";"):
            statements.append("\n".join(current).strip())
            current = []
    return [s for s in statements if s]


def upgrade() -> None:
    for script in (LEDGER, READ_MODEL):
        for statement in _statements(script):
            op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE order_events, orders, ledger_postings, ledger_entries, ledger_accounts")
    op.execute("DROP FUNCTION ledger_entry_balanced, ledger_immutable")
