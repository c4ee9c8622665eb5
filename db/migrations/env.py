"""Alembic environment: plain SQL migrations run over asyncpg (SQLAlchemy is used for nothing else)."""

import asyncio

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine

from db.dsn import sqlalchemy_url


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=None, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()


async def _main() -> None:
    url = context.config.attributes.get("database_url")
    engine = create_async_engine(sqlalchemy_url(url))
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


asyncio.run(_main())
