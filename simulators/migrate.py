"""The simulators' own schema (`sim`) and its migrations (alembic, versions under simulators/migrations).

The simulators apply them at start with their own address (SETTLEMENT_SIM_DATABASE_URL); the engine's
migrations (db/migrations) know nothing of this schema. The version table is `sim.alembic_version`, apart
from the engine's.
"""

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SCHEMA = "sim"


def sqlalchemy_url(url: str) -> str:
    """The asyncpg address in SQLAlchemy's spelling (alembic runs over SQLAlchemy). The engine's db/dsn.py does the
    same; the simulators keep their own copy because they import nothing of the engine but domain."""
    scheme, _, rest = url.partition("://")
    if scheme not in ("postgres", "postgresql"):
        raise ValueError(f"unsupported database URL scheme {scheme!r}")
    return f"postgresql+asyncpg://{rest}"


def upgrade(database_url: str, revision: str = "head") -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = database_url
    command.upgrade(config, revision)
