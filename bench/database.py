"""A benchmark's own database on an embedded PostgreSQL server: migrated, with a statement timeout so that a query
gone wrong is cancelled rather than left to stall the run."""

import asyncio

import asyncpg

from db.migrate import upgrade


async def bench_database(server, name: str, timeout_s: int) -> str:
    """The new database's address."""
    admin = await asyncpg.connect(server.get_uri())
    try:
        await admin.execute(f"CREATE DATABASE {name}")
        await admin.execute(f"ALTER DATABASE {name} SET statement_timeout = '{timeout_s}s'")
    finally:
        await admin.close()
    uri = server.get_uri(name)
    await asyncio.to_thread(upgrade, uri)
    return uri
