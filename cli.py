"""Operator commands: `settlement --help`."""

import asyncio
import os

import typer

from api.auth import Role, mint_token
from settings import get_settings

app = typer.Typer(help="Marketplace settlement engine: operator commands.", no_args_is_help=True)


@app.command()
def token(role: Role = typer.Option(..., help="buyer, seller, operator or marketplace"),
          sub: str = typer.Option(..., help="the buyer, seller or service id"),
          ttl_seconds: int = typer.Option(30 * 24 * 3600, help="lifetime of the token")) -> None:
    """Mint a JWT for local use, signed with SETTLEMENT_JWT_SECRET."""
    typer.echo(mint_token(get_settings().settlement_jwt_secret, sub, role, ttl_seconds))


@app.command("check-invariants")
def check_invariants() -> None:
    """Check the ledger invariants against DATABASE_URL; exits 1 when any is violated."""
    from db.invariants import check_invariants as check
    from db.pool import create_pool

    async def run() -> list[str]:
        pool = await create_pool(os.environ.get("DATABASE_URL") or get_settings().database_url or "")
        try:
            return await check(pool)
        finally:
            await pool.close()

    violations = asyncio.run(run())
    for v in violations:
        typer.echo(f"VIOLATION: {v}")
    typer.echo("ledger invariants hold" if not violations else f"{len(violations)} violation(s)")
    raise typer.Exit(1 if violations else 0)


if __name__ == "__main__":
    app()
