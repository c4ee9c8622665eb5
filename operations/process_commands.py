"""The engine's processes as commands: everything at once (`run`), or one process each (`worker`, `api`,
`simulators`), and the migrations."""

import asyncio

import typer

from runtime.settings import Settings

app = typer.Typer()
PANEL = "Processes"
LOOPBACK = "127.0.0.1"
GRACEFUL_SHUTDOWN_SECONDS = 10


def port_option(setting: str, what: str):
    """A port whose default is the setting's (its environment variable, else its default value)."""
    return typer.Option(Settings.model_fields[setting].default, envvar=setting.upper(), help=f"port of {what}")


def host_option():
    return typer.Option(LOOPBACK, help="address to listen on (a container passes 0.0.0.0)")


def serve(asgi_app: str, host: str, port: int) -> None:
    """uvicorn with the engine's JSON logging (the installed runtime/logging.json), no access log, and a graceful
    shutdown: on SIGTERM it stops accepting and finishes the requests in flight for up to 10 s."""
    import uvicorn

    from runtime.logs import CONFIG_FILE

    uvicorn.run(
        asgi_app, host=host, port=port, log_config=str(CONFIG_FILE), access_log=False, timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS
    )


@app.command(rich_help_panel=PANEL)
def run(
    api_port: int = port_option("settlement_api_port", "the API"), sim_port: int = port_option("settlement_sim_port", "the simulators")
) -> None:
    """Everything on this machine (what `make run` does): embedded PostgreSQL unless DATABASE_OWNER_URL or DATABASE_URL
    is set, the Temporal dev server unless TEMPORAL_ADDRESS is set, the migrations, then the simulators, the worker and
    the API on 127.0.0.1, until Ctrl-C stops them all."""
    from runtime.launcher import main

    asyncio.run(main(api_port=api_port, sim_port=sim_port))


@app.command(rich_help_panel=PANEL)
def worker() -> None:
    """The worker: runs the order workflows and their activities until SIGTERM, then drains."""
    from runtime.worker_process import main

    main()


@app.command(rich_help_panel=PANEL)
def api(host: str = host_option(), port: int = port_option("settlement_api_port", "the API")) -> None:
    """The HTTP API."""
    serve("api.main:app", host, port)


@app.command(rich_help_panel=PANEL)
def simulators(host: str = host_option(), port: int = port_option("settlement_sim_port", "the simulators")) -> None:
    """The simulated payment provider and fulfillment network (development and tests only)."""
    serve("simulators.main:app", host, port)


@app.command(rich_help_panel=PANEL)
def migrate() -> None:
    """Apply the database migrations as the owner: DATABASE_OWNER_URL, else DATABASE_URL (idempotent)."""
    from db.dsn import owner_database_url
    from db.migrate import upgrade
    from operations.local import local_database_url

    url = owner_database_url() or local_database_url()
    if not url:
        raise SystemExit("settlement: set DATABASE_OWNER_URL (or DATABASE_URL) to the database owner's address")
    upgrade(url)
    typer.echo("migrations applied")
