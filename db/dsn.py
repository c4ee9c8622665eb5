"""The database addresses, and their spelling for SQLAlchemy (used only by the migration tool).

DATABASE_URL is the engine's address (API, worker): a restricted login role, member of `settlement_engine`.
DATABASE_OWNER_URL is the owner's, for migrations; unset, DATABASE_URL is used (a single-role setup).
"""

import os
from urllib.parse import quote, urlsplit, urlunsplit


def database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        raise RuntimeError("DATABASE_URL is not set (make run sets it for the embedded PostgreSQL)")
    return url


def owner_database_url() -> str | None:
    return os.environ.get("DATABASE_OWNER_URL") or os.environ.get("DATABASE_URL")


def with_login(url: str, user: str, password: str) -> str:
    """The same server and database, reached as another role."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{quote(user, safe='')}:{quote(password, safe='')}@{host}"))


def sqlalchemy_url(url: str | None = None) -> str:
    url = url or database_url()
    scheme, sep, rest = url.partition("://")
    if scheme not in ("postgres", "postgresql"):
        raise ValueError(f"unsupported database URL scheme {scheme!r}")
    return f"postgresql+asyncpg://{rest}"
