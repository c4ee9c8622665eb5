"""Operator commands: tokens for the API, and the ledger's invariants."""

import asyncio
from datetime import timedelta

import typer

from domain.order_actions import Role
from operations.local import engine_database_url, local_settings
from runtime.tokens import TokenRefused, mint_token

app = typer.Typer()
PANEL = "Tokens and books"


@app.command(rich_help_panel=PANEL)
def token(
    role: Role = typer.Option(..., help="buyer, seller, operator or marketplace"),
    sub: str = typer.Option(..., help="the buyer, seller or service id"),
    ttl_seconds: int | None = typer.Option(
        None, help="lifetime of the token; default: SETTLEMENT_OPERATOR_TOKEN_MAX_TTL for operators, 24 h for the others"
    ),
    allow_long_lived: bool = typer.Option(False, help="allow an operator token longer than SETTLEMENT_OPERATOR_TOKEN_MAX_TTL"),
) -> None:
    """Mint a JWT signed with SETTLEMENT_JWT_SECRET (make run's, under .data, when unset)."""
    ttl = timedelta(seconds=ttl_seconds) if ttl_seconds is not None else None
    try:
        typer.echo(mint_token(local_settings(), sub, role, ttl, allow_long_lived=allow_long_lived))
    except TokenRefused as err:
        typer.echo(f"refused: {err}", err=True)
        raise typer.Exit(2) from err


@app.command("check-invariants", rich_help_panel=PANEL)
def check_invariants(
    simulator: bool = typer.Option(
        True,
        help="also reconcile the ledger with the payment provider's records, as the simulated provider at SETTLEMENT_SIM_URL lists them",
    ),
) -> None:
    """Check the ledger invariants against DATABASE_URL; exits 1 when any is violated."""
    from operations.reconciliation import check_books_at

    provider_url = local_settings().settlement_sim_url if simulator else None
    violations = asyncio.run(check_books_at(engine_database_url(), provider_url))
    for v in violations:
        typer.echo(f"VIOLATION: {v}")
    typer.echo("ledger invariants hold" if not violations else f"{len(violations)} violation(s)")
    raise typer.Exit(1 if violations else 0)
