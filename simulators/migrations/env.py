"""Alembic environment of the simulators' schema: plain SQL over asyncpg, versions kept in sim.alembic_version."""

import asyncio

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine

from simulators.migrate import SCHEMA, sqlalchemy_url


def _run(connection) -> None:
    connection.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")  # the version table lives in it
    context.configure(connection=connection, target_metadata=None, transaction_per_migration=True, version_table_schema=SCHEMA)
    with context.begin_transaction():
        context.run_migrations()


async def _main() -> None:
    engine = create_async_engine(sqlalchemy_url(context.config.attributes["database_url"]))
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


asyncio.run(_main())
