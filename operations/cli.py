"""Operator commands: `settlement --help`."""

import asyncio
import getpass
import os
from datetime import timedelta
from pathlib import Path

import typer

from api.auth import Role, TokenRefused, mint_token
from db.dsn import owner_database_url
from runtime.settings import LocalData, load_settings

app = typer.Typer(help="Marketplace settlement engine: operator commands.", no_args_is_help=True)


def _local_database_url() -> str | None:
    """make run's embedded PostgreSQL, as its owner, when it exists."""
    pg = LocalData().local_postgres_dir
    return f"postgresql://postgres:@/postgres?host={pg}" if (pg / "PG_VERSION").exists() else None


def _settings():
    """The settings, with `make run`'s (its secrets and payload key under .data, its database) where the environment
    sets none."""
    local = {name: value for name, value in LocalData().local_secrets().items() if not os.environ.get(name.upper())}
    if not os.environ.get("DATABASE_URL") and (url := _local_database_url()):
        local["database_url"] = url
    return load_settings(**local)


def _client():
    from runtime.temporal_connection import connect

    return connect(_settings())


@app.command()
def token(role: Role = typer.Option(..., help="buyer, seller, operator or marketplace"),
          sub: str = typer.Option(..., help="the buyer, seller or service id"),
          ttl_seconds: int | None = typer.Option(
              None, help="lifetime of the token; default: SETTLEMENT_OPERATOR_TOKEN_MAX_TTL for operators, 24 h for the others"),
          allow_long_lived: bool = typer.Option(False, help="allow an operator token longer than SETTLEMENT_OPERATOR_TOKEN_MAX_TTL")) -> None:
    """Mint a JWT signed with SETTLEMENT_JWT_SECRET (make run's, under .data, when unset)."""
    ttl = timedelta(seconds=ttl_seconds) if ttl_seconds is not None else None
    try:
        typer.echo(mint_token(_settings(), sub, role, ttl, allow_long_lived=allow_long_lived))
    except TokenRefused as err:
        typer.echo(f"refused: {err}", err=True)
        raise typer.Exit(2) from err


@app.command()
def migrate() -> None:
    """Apply the database migrations as the owner: DATABASE_OWNER_URL, else DATABASE_URL (idempotent)."""
    from db.migrate import upgrade

    url = owner_database_url() or _local_database_url()
    if not url:
        raise SystemExit("settlement: set DATABASE_OWNER_URL (or DATABASE_URL) to the database owner's address")
    upgrade(url)
    typer.echo("migrations applied")


@app.command("check-invariants")
def check_invariants(simulator: bool = typer.Option(True, help="also reconcile the ledger with the simulated provider's records")) -> None:
    """Check the ledger invariants against DATABASE_URL; exits 1 when any is violated."""
    from db.invariants import check_invariants as check
    from db.pool import create_pool

    async def run() -> list[str]:
        pool = await create_pool(os.environ.get("DATABASE_URL") or _settings().database_url or "")
        try:
            return await check(pool, reconcile_with_simulator=simulator)
        finally:
            await pool.close()

    violations = asyncio.run(run())
    for v in violations:
        typer.echo(f"VIOLATION: {v}")
    typer.echo("ledger invariants hold" if not violations else f"{len(violations)} violation(s)")
    raise typer.Exit(1 if violations else 0)


@app.command()
def find(query: str = typer.Argument('OrderStatus = "needs_attention"', help="a Temporal visibility query"),
         limit: int = typer.Option(100)) -> None:
    """List the orders whose workflows match a visibility query (default: the stuck ones)."""
    from operations.tools import find_orders

    async def run():
        return await find_orders(await _client(), query, limit)

    for workflow_id, status in asyncio.run(run()):
        typer.echo(f"{workflow_id}\t{status}")


@app.command()
def retry(order_id: str, operator: str = typer.Option(getpass.getuser(), help="who is retrying, for the record")) -> None:
    """Resume the failed money step of an order in needs_attention (same idempotency keys: nothing moves twice)."""
    from operations.tools import retry_order
    from temporalio.client import WorkflowUpdateFailedError

    async def run():
        return await retry_order(await _client(), order_id, f"cli:{operator}")

    try:
        state = asyncio.run(run())
    except WorkflowUpdateFailedError as err:
        typer.echo(f"refused: {err.cause}", err=True)
        raise typer.Exit(1) from err
    typer.echo(f"{order_id}: {state.status}")


@app.command()
def refresh(order_id: str) -> None:
    """Write an order's current workflow state to the read model, e.g. right after a reset."""
    from db.pool import create_pool
    from operations.tools import refresh_read_model

    async def run():
        pool = await create_pool(os.environ.get("DATABASE_URL") or _settings().database_url or "")
        try:
            return await refresh_read_model(await _client(), pool, order_id)
        finally:
            await pool.close()

    typer.echo(f"{order_id}: {asyncio.run(run()).status}")


@app.command("export-history")
def export_history(workflow_id: list[str] = typer.Option([], "--workflow-id", help="repeatable"),
                   query: str | None = typer.Option(None, help="a visibility query, e.g. 'OrderStatus = \"settled\"'"),
                   out: Path = typer.Option(Path("histories"), help="directory to write <workflow id>.json into")) -> None:
    """Save workflow histories as JSON (the Temporal CLI's format), e.g. to commit under tests/histories."""
    from operations.tools import export_history as export
    from operations.tools import fetch_histories

    out.mkdir(parents=True, exist_ok=True)

    async def run():
        return await fetch_histories(await _client(), workflow_id, query)

    for history in asyncio.run(run()):
        typer.echo(str(export(history, out)))


@app.command()
def replay(workflow_id: list[str] = typer.Option([], "--workflow-id", help="repeatable"),
           query: str | None = typer.Option(None, help="a visibility query selecting the histories to replay"),
           path: list[Path] = typer.Option([], "--file", help="history JSON files (repeatable)")) -> None:
    """Replay histories from the server (or files) against the current code; exits 1 on any nondeterminism."""
    from operations.tools import fetch_histories, load_history
    from operations.tools import replay as replay_histories
    from runtime.temporal_connection import data_converter

    async def run():
        histories = [load_history(p) for p in path]
        if workflow_id or query:
            histories += await fetch_histories(await _client(), workflow_id, query)
        return await replay_histories(histories, data_converter(_settings()))

    results = asyncio.run(run())
    failures = [(wid, failure) for wid, failure in results if failure]
    for wid, failure in results:
        typer.echo(f"{'FAIL' if failure else 'ok  '} {wid}{': ' + failure if failure else ''}")
    typer.echo(f"{len(results)} replayed, {len(failures)} nondeterministic")
    raise typer.Exit(1 if failures or not results else 0)


if __name__ == "__main__":
    app()
