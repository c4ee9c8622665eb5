"""The engine runs as a restricted role; balances move only through postings; the read model knows its run.

- `settlement_engine` (NOLOGIN; the API's and worker's login roles are its members) may read everything
  and insert ledger accounts, entries and postings, but not update or delete ledger rows, set a balance,
  or alter the tables and their triggers (only the owner, who runs migrations, may).
- An account's balance is moved by a trigger on each posting (SECURITY DEFINER, so the engine's role
  needs no UPDATE on ledger_accounts); the balance CHECK still refuses an overdraft.
- `orders.run_id`: the workflow run that wrote the row, so a reset's new run replaces the old run's
  status and timeline instead of being refused as older.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ENGINE_ROLE = "settlement_engine"

STATEMENTS = [
    f"""DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{ENGINE_ROLE}') THEN CREATE ROLE {ENGINE_ROLE} NOLOGIN; END IF;
    END $$""",
    """CREATE FUNCTION ledger_move_balance() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    BEGIN
        UPDATE ledger_accounts SET balance = balance + NEW.amount WHERE code = NEW.account;
        RETURN NEW;
    END $$""",
    "REVOKE ALL ON FUNCTION ledger_move_balance() FROM PUBLIC",
    "CREATE TRIGGER ledger_postings_move_balance AFTER INSERT ON ledger_postings FOR EACH ROW EXECUTE FUNCTION ledger_move_balance()",
    "ALTER TABLE orders ADD COLUMN run_id text",
    f"GRANT USAGE ON SCHEMA public TO {ENGINE_ROLE}",
    f"GRANT SELECT ON ledger_accounts, ledger_entries, ledger_postings TO {ENGINE_ROLE}",
    f"GRANT INSERT (code, owner, currency, may_go_negative) ON ledger_accounts TO {ENGINE_ROLE}",
    f"GRANT INSERT ON ledger_entries, ledger_postings TO {ENGINE_ROLE}",
    f"GRANT USAGE ON SEQUENCE ledger_entries_id_seq, ledger_postings_id_seq TO {ENGINE_ROLE}",
    f"GRANT SELECT, INSERT, UPDATE, DELETE ON orders, order_events TO {ENGINE_ROLE}",
    f"""DO $$ BEGIN
        IF to_regclass('public.idempotent_requests') IS NOT NULL THEN
            GRANT SELECT, INSERT, UPDATE, DELETE ON idempotent_requests TO {ENGINE_ROLE};
        END IF;
    END $$""",
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("ALTER TABLE orders DROP COLUMN run_id")
    op.execute("DROP TRIGGER ledger_postings_move_balance ON ledger_postings")
    op.execute("DROP FUNCTION ledger_move_balance()")
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {ENGINE_ROLE}")
