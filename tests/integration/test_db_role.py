"""The engine's database role (migration 0006 and its wiring): the API and the worker log in as a restricted member
of `settlement_engine`, which cannot rewrite the ledger, set a balance or take the immutability triggers away."""

import asyncpg
import pytest

from db.dsn import with_login
from db.invariants import check_invariants
from db.migrate import ENGINE_GROUP, ENGINE_LOGIN, ensure_engine_login
from db.pool import create_pool

REFUSED = (asyncpg.InsufficientPrivilegeError,)

FORBIDDEN = [
    "UPDATE ledger_entries SET kind = 'x'",
    "DELETE FROM ledger_entries",
    "UPDATE ledger_postings SET amount = amount * 2",
    "DELETE FROM ledger_postings",
    "TRUNCATE ledger_postings, ledger_entries",
    "UPDATE ledger_accounts SET balance = balance + 100",
    "DELETE FROM ledger_accounts",
    "INSERT INTO ledger_accounts (code, owner, currency, may_go_negative, balance) VALUES ('seller:x:USD', 'x', 'USD', false, 1000000)",
    "DROP TRIGGER ledger_entries_immutable ON ledger_entries",
    "DROP TRIGGER ledger_postings_immutable ON ledger_postings",
    "ALTER TABLE ledger_postings DISABLE TRIGGER ALL",
    "ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_immutable",
    "ALTER TABLE ledger_accounts DROP CONSTRAINT balance_not_negative",
    "DROP FUNCTION ledger_immutable() CASCADE",
    "SET session_replication_role = replica",
]


@pytest.fixture
async def as_engine(engine_url):
    conn = await asyncpg.connect(engine_url)
    yield conn
    await conn.close()


async def test_the_engine_logs_in_as_a_plain_member_of_the_group(as_engine):
    role = await as_engine.fetchrow(
        "SELECT current_user AS name, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, pg_has_role(current_user, $1, 'MEMBER') AS member "
        "FROM pg_roles WHERE rolname = current_user",
        ENGINE_GROUP,
    )
    assert dict(role) == {
        "name": ENGINE_LOGIN,
        "rolsuper": False,
        "rolcreaterole": False,
        "rolcreatedb": False,
        "rolbypassrls": False,
        "member": True,
    }
    owner = await as_engine.fetchval("SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'ledger_entries'::regclass")
    assert not await as_engine.fetchval("SELECT pg_has_role(current_user, $1, 'MEMBER')", owner)


@pytest.mark.parametrize("statement", FORBIDDEN)
async def test_the_engine_cannot_rewrite_the_ledger(as_engine, statement):
    with pytest.raises(REFUSED):
        async with as_engine.transaction():
            await as_engine.execute(statement)


async def test_the_engine_reads_the_ledger_and_opens_accounts_at_zero(as_engine):
    transaction = as_engine.transaction()
    await transaction.start()
    try:
        await as_engine.execute("INSERT INTO ledger_accounts (code, owner, currency) VALUES ('seller:role-test:USD', 'role-test', 'USD')")
        assert await as_engine.fetchval("SELECT balance FROM ledger_accounts WHERE code = 'seller:role-test:USD'") == 0
    finally:
        await transaction.rollback()


async def test_the_api_and_the_worker_connect_as_the_engine(services, pool):
    assert services.env["DATABASE_URL"].startswith(f"postgresql://{ENGINE_LOGIN}:")
    engine_connections = await pool.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE usename = $1 AND datname = current_database()", ENGINE_LOGIN
    )
    assert engine_connections >= 2, "the API's and the worker's pools"


async def test_the_ledger_checks_run_with_the_engines_role(engine_url):
    """`docker compose exec api settlement check-invariants --no-simulator` (no simulator there to reconcile with)."""
    pool = await create_pool(engine_url, max_size=2)
    try:
        assert await check_invariants(pool) == []
    finally:
        await pool.close()


async def test_creating_the_login_is_idempotent_and_refuses_a_privileged_role(database_url, engine_url):
    await ensure_engine_login(database_url, engine_url)
    await ensure_engine_login(database_url, engine_url)
    with pytest.raises(ValueError, match="superuser or owns the ledger"):
        await ensure_engine_login(database_url, with_login(database_url, "postgres", "whatever"))
