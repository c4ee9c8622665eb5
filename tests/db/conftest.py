"""A real embedded PostgreSQL for the database tests: one server per session, migrated databases on demand.

`db_pool` is shared by most tests (each uses its own order, seller and key ids so they do not interfere);
`fresh_pool` gives a module its own empty, migrated database (for checks that read the whole ledger); `sim_pool` a
module its own database of the simulators, as their app opens it.
"""

import asyncio
import json
import uuid

import asyncpg
import pytest

from db.migrate import upgrade
from db.pool import create_pool
from simulators import migrate as simulator_migrations
from tests.embedded_pg import embedded_postgres_server


@pytest.fixture(scope="session")
def pg_server():
    with embedded_postgres_server("settlement-db-tests-") as server:
        yield server


async def create_migrated_database(server, name: str | None = None, revision: str = "head") -> str:
    """A new database (named `name`, or made up), migrated to `revision`; its address."""
    name = name or f"settlement_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server.get_uri())
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    uri = server.get_uri(name)
    # alembic's env.py calls asyncio.run itself: run it in a thread, away from this loop
    await asyncio.to_thread(upgrade, uri, revision)
    return uri


@pytest.fixture(scope="session")
async def db_uri(pg_server) -> str:
    return await create_migrated_database(pg_server, "settlement_tests")


@pytest.fixture(scope="session")
async def db_pool(db_uri):
    pool = await create_pool(db_uri, min_size=1, max_size=8)
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture(scope="module")
async def fresh_pool(pg_server):
    uri = await create_migrated_database(pg_server)
    pool = await create_pool(uri, min_size=1, max_size=4)
    try:
        yield pool
    finally:
        await pool.close()


async def _jsonb(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


@pytest.fixture(scope="module")
async def sim_pool(pg_server):
    """The simulators' own database (beside the engine's tables), with the jsonb codec the simulator app gives its pool."""
    uri = await create_migrated_database(pg_server, f"sim_{uuid.uuid4().hex[:8]}")
    await asyncio.to_thread(simulator_migrations.upgrade, uri)
    pool = await asyncpg.create_pool(uri, min_size=1, max_size=4, init=_jsonb)
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
def uid() -> str:
    """A fresh suffix for order, seller and key ids."""
    return uuid.uuid4().hex[:10]
