"""Apply the schema migrations (alembic) to a database, and give the engine its restricted login role.

Both run as the owner. The migrations create the group role `settlement_engine` and grant it what the engine
needs; the API and the worker log in as a member of it (make run: `settlement_app`).
"""

from pathlib import Path
from urllib.parse import unquote, urlsplit

import asyncpg
from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
ENGINE_GROUP = "settlement_engine"
ENGINE_LOGIN = "settlement_app"  # the member make run and the tests log the engine in as (compose: the same name)


def upgrade(database_url: str, revision: str = "head") -> None:
    """Works from a checkout and from the installed package alike (db/alembic.ini is only for the alembic CLI: `alembic -c db/alembic.ini revision -m ...`)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = database_url
    command.upgrade(config, revision)


async def ensure_engine_login(owner_url: str, engine_url: str) -> None:
    """Make engine_url's user a login role with engine_url's password, member of settlement_engine, allowed to
    connect. Idempotent (the password is set again each time); refuses a superuser or a member of the ledger's owner."""
    login = urlsplit(engine_url)
    role, password = unquote(login.username or ""), unquote(login.password or "")
    if not role or not password:
        raise ValueError("the engine's database URL must name its role and password")
    conn = await asyncpg.connect(owner_url)
    try:
        async with conn.transaction():
            existing = await conn.fetchrow(
                "SELECT r.rolsuper OR pg_has_role(r.oid, c.relowner, 'MEMBER') AS privileged "
                "FROM pg_roles r, pg_class c WHERE r.rolname = $1 AND c.oid = 'public.ledger_entries'::regclass",
                role,
            )
            if existing and existing["privileged"]:
                raise ValueError(f"database role {role!r} is a superuser or owns the ledger: the engine needs a restricted role")
            verb = "ALTER" if existing else "CREATE"
            for statement in (f"{verb} ROLE %I LOGIN PASSWORD %L", "GRANT %3$I TO %1$I", "GRANT CONNECT ON DATABASE %4$I TO %1$I"):
                await conn.execute(
                    await conn.fetchval(
                        "SELECT format($1, $2::text, $3::text, $4::text, current_database())", statement, role, password, ENGINE_GROUP
                    )
                )
    finally:
        await conn.close()
