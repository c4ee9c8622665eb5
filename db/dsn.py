"""The database address, and its spelling for SQLAlchemy (used only by the migration tool)."""

import os


def database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        raise RuntimeError("DATABASE_URL is not set (make run sets it for the embedded PostgreSQL)")
    return url


def sqlalchemy_url(url: str | None = None) -> str:
    url = url or database_url()
    scheme, sep, rest = url.partition("://")
    if scheme not in ("postgres", "postgresql"):
        raise ValueError(f"unsupported database URL scheme {scheme!r}")
    return f"postgresql+asyncpg://{rest}"
