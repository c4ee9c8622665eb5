"""The simulators own their schema: the engine's migrations make no `sim` schema, the simulators' migrations
(simulators/migrate.py) make it, keep their version apart, run again harmlessly, and adopt the tables that a
database made by the engine's former migrations already has."""

import asyncio
import uuid

import asyncpg
from alembic.script import ScriptDirectory

from simulators import migrate
from tests.db.conftest import create_migrated_database

SIM_HEAD = ScriptDirectory(str(migrate.MIGRATIONS)).get_current_head()

SIM_TABLES = {
    "psp_disputes",
    "payment_webhook_outbox",
    "psp_operations",
    "payout_accounts",
    "fulfillment_orders",
    "webhook_outbox",
    "fx_quotes",
    "amazon_access_tokens",
    "amazon_fulfillment_orders",
    "amazon_carrier_events",
    "amazon_return_authorizations",
    "amazon_return_items",
    "alembic_version",
}


async def _sim_tables(conn: asyncpg.Connection) -> set[str]:
    return {r["tablename"] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'sim'")}


async def test_the_engine_s_migrations_make_no_sim_schema_and_the_simulators_make_theirs(pg_server):
    uri = await create_migrated_database(pg_server, f"sim_fresh_{uuid.uuid4().hex[:8]}")
    conn = await asyncpg.connect(uri)
    try:
        assert await conn.fetchval("SELECT to_regnamespace('sim')") is None
        engine_version = await conn.fetchval("SELECT version_num FROM public.alembic_version")
        for _ in range(2):  # at every start of the simulators: the second run finds nothing to do
            await asyncio.to_thread(migrate.upgrade, uri)
            assert await _sim_tables(conn) == SIM_TABLES
        assert await conn.fetchval("SELECT version_num FROM sim.alembic_version") == SIM_HEAD
        assert await conn.fetchval("SELECT version_num FROM public.alembic_version") == engine_version
    finally:
        await conn.close()


async def test_a_database_made_when_the_engine_created_the_sim_tables_is_adopted(pg_server):
    uri = await create_migrated_database(pg_server, f"sim_legacy_{uuid.uuid4().hex[:8]}")
    conn = await asyncpg.connect(uri)
    try:
        # what the engine's migrations 0001 and 0004 used to leave: the tables, with data, and no sim version table
        await conn.execute("CREATE SCHEMA sim")
        await conn.execute(
            "CREATE TABLE sim.psp_operations (idempotency_key text PRIMARY KEY, operation text NOT NULL, order_id text, request jsonb NOT NULL, "
            "outcome text NOT NULL, reference text, amount bigint, currency char(3), detail text, created_at timestamptz NOT NULL DEFAULT now())"
        )
        await conn.execute("CREATE INDEX psp_operations_order ON sim.psp_operations (order_id)")
        await conn.execute(
            "CREATE TABLE sim.fx_quotes (idempotency_key text PRIMARY KEY, base char(3) NOT NULL, quote char(3) NOT NULL, "
            "mid_rate numeric NOT NULL, rate numeric NOT NULL, spread_bps integer NOT NULL, locked_at timestamptz NOT NULL DEFAULT now())"
        )
        await conn.execute(
            "INSERT INTO sim.psp_operations (idempotency_key, operation, request, outcome) VALUES ('k1', 'authorize', '{}', 'succeeded')"
        )
        await asyncio.to_thread(migrate.upgrade, uri)
        assert await _sim_tables(conn) == SIM_TABLES
        assert await conn.fetchval("SELECT idempotency_key FROM sim.psp_operations") == "k1"
    finally:
        await conn.close()
