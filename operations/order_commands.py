"""Operator commands about orders in Temporal: find stuck ones, retry, refresh the read model, export and replay histories."""

import getpass
from pathlib import Path

import typer

from operations.local import engine_database_url, on_own_runtime, payload_keys, with_temporal

app = typer.Typer()
PANEL = "Orders"


@app.command(rich_help_panel=PANEL)
def find(
    query: str = typer.Argument('OrderStatus = "needs_attention"', help="a Temporal visibility query"), limit: int = typer.Option(100)
) -> None:
    """List the orders whose workflows match a visibility query (default: the stuck ones)."""
    from operations.tools import find_orders

    for workflow_id, status in with_temporal(lambda client: find_orders(client, query, limit)):
        typer.echo(f"{workflow_id}\t{status}")


@app.command(rich_help_panel=PANEL)
def retry(order_id: str, operator: str = typer.Option(getpass.getuser(), help="who is retrying, for the record")) -> None:
    """Resume the failed money step of an order in needs_attention (same idempotency keys: nothing moves twice)."""
    from temporalio.client import WorkflowUpdateFailedError

    from operations.tools import retry_order

    try:
        state = with_temporal(lambda client: retry_order(client, order_id, f"cli:{operator}"))
    except WorkflowUpdateFailedError as err:
        typer.echo(f"refused: {err.cause}", err=True)
        raise typer.Exit(1) from err
    typer.echo(f"{order_id}: {state.status}")


@app.command(rich_help_panel=PANEL)
def refresh(order_id: str) -> None:
    """Write an order's current workflow state to the read model, e.g. right after a reset."""
    from db.pool import create_pool
    from operations.tools import refresh_read_model

    async def refresh_with(client):
        pool = await create_pool(engine_database_url())
        try:
            return await refresh_read_model(client, pool, order_id)
        finally:
            await pool.close()

    typer.echo(f"{order_id}: {with_temporal(refresh_with).status}")


@app.command("export-history", rich_help_panel=PANEL)
def export_history(
    workflow_id: list[str] = typer.Option([], "--workflow-id", help="repeatable"),
    query: str | None = typer.Option(None, help="a visibility query, e.g. 'OrderStatus = \"settled\"'"),
    out: Path = typer.Option(Path("histories"), help="directory to write <workflow id>.json into"),
) -> None:
    """Save workflow histories as JSON (the Temporal CLI's format), e.g. to commit under tests/histories."""
    from operations.tools import export_history as export
    from operations.tools import fetch_histories

    out.mkdir(parents=True, exist_ok=True)

    for history in with_temporal(lambda client: fetch_histories(client, workflow_id, query)):
        typer.echo(str(export(history, out)))


@app.command(rich_help_panel=PANEL)
def replay(
    workflow_id: list[str] = typer.Option([], "--workflow-id", help="repeatable"),
    query: str | None = typer.Option(None, help="a visibility query selecting the histories to replay"),
    path: list[Path] = typer.Option([], "--file", help="history JSON files (repeatable)"),
) -> None:
    """Replay histories from the server (or files) against the current code; exits 1 on any nondeterminism."""
    from operations.tools import fetch_histories, load_history
    from operations.tools import replay as replay_histories
    from runtime.codec import data_converter

    histories = [load_history(p) for p in path]
    if workflow_id or query:
        histories += with_temporal(lambda client: fetch_histories(client, workflow_id, query))
    converter = data_converter(payload_keys())
    results = on_own_runtime(lambda core: replay_histories(histories, converter, core))
    failures = [(wid, failure) for wid, failure in results if failure]
    for wid, failure in results:
        typer.echo(f"{'FAIL' if failure else 'ok  '} {wid}{': ' + failure if failure else ''}")
    typer.echo(f"{len(results)} replayed, {len(failures)} nondeterministic")
    raise typer.Exit(1 if failures or not results else 0)
