import asyncio
import os
from pathlib import Path

import httpx
import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from adapters.payments import SimulatedPaymentGateway
from db.migrate import upgrade
from db.pool import create_pool
from domain.order_state import workflow_id_for
from domain.search_attributes import ALL as SEARCH_ATTRIBUTES
from operations.reconciliation import check_books
from runtime.binaries import executable
from runtime.services import ServiceProcesses
from tests.embedded_pg import embedded_postgres_server
from tests.integration.stack import JWT_SECRET, PAYLOAD_KEYS, STRIPE_WEBHOOK_SECRET, WEBHOOK_SECRET, Engine, engine_database_url, free_port

WORKER_METRICS_PORT = free_port()


@pytest.fixture(scope="session")
def worker_metrics_url() -> str:
    return f"http://127.0.0.1:{WORKER_METRICS_PORT}/metrics"


@pytest.fixture(scope="session")
def database_url() -> str:
    """The owner's address: migrations, and the tests' own pool."""
    with embedded_postgres_server("settlement-e2e-") as server:
        url = server.get_uri()
        upgrade(url)
        yield url


@pytest.fixture(scope="session")
async def engine_url(database_url) -> str:
    """The worker's and API's address: the engine's restricted login role."""
    return await engine_database_url(database_url)


@pytest.fixture(scope="session")
async def temporal():
    async with await WorkflowEnvironment.start_local(
        ip="127.0.0.1",
        port=free_port(),
        data_converter=pydantic_data_converter,
        search_attributes=SEARCH_ATTRIBUTES,
        dev_server_existing_path=executable("temporal"),
    ) as env:
        yield env


@pytest.fixture(scope="session")
async def client(temporal):
    """A Temporal client like the engine's: it decrypts the payloads."""
    from temporalio.client import Client

    from runtime import codec

    return await Client.connect(temporal.client.service_client.config.target_host, data_converter=codec.data_converter(PAYLOAD_KEYS))


@pytest.fixture(scope="session")
async def services(database_url, engine_url, temporal, tmp_path_factory):
    env = {
        **os.environ,
        "DATABASE_URL": engine_url,
        "SETTLEMENT_SIM_DATABASE_URL": database_url,  # the simulators stand in for outside parties: their own access
        "TEMPORAL_ADDRESS": temporal.client.service_client.config.target_host,
        "TEMPORAL_TASK_QUEUE": "settlement-it",
        "SETTLEMENT_JWT_SECRET": JWT_SECRET,
        "SETTLEMENT_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "SETTLEMENT_SIM_CARRIER": "manual",
        "SETTLEMENT_WEBHOOK_PRIVATE_URLS": "true",  # the tests' webhook receivers listen on 127.0.0.1
        "SETTLEMENT_STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,  # Stripe's dispute webhook, signed by the tests
        "SETTLEMENT_PAYLOAD_KEYS": PAYLOAD_KEYS,
        "SETTLEMENT_CODEC_UI_ORIGIN": "http://127.0.0.1:8233",  # the codec endpoint is off until the UI's origin is set
        "SETTLEMENT_WORKER_METRICS_PORT": str(WORKER_METRICS_PORT),
        # After-sales deadlines short enough to lapse within a test (the defaults are days).
        "SETTLEMENT_SELLER_RESPONSE_WINDOW": "PT5S",
        "SETTLEMENT_RESOLUTION_WINDOW": "PT60S",
        "SETTLEMENT_RETURN_WINDOW": "PT5S",
        "SETTLEMENT_RETURN_TRANSIT_WINDOW": "PT60S",
        "SETTLEMENT_LOST_AFTER_LATE": "PT60S",
        # A provider outage exhausts the retry budget in seconds rather than minutes.
        "SETTLEMENT_PROVIDER_MAX_ATTEMPTS": "3",
        "SETTLEMENT_PROVIDER_MAX_BACKOFF": "PT1S",
    }
    processes = ServiceProcesses(env=env, api_port=free_port(), sim_port=free_port(), log_dir=tmp_path_factory.mktemp("logs"))
    await asyncio.to_thread(processes.start)
    yield processes
    await asyncio.to_thread(processes.stop)


@pytest.fixture(scope="session")
async def pool(database_url):
    pool = await create_pool(database_url)
    yield pool
    await pool.close()


@pytest.fixture(scope="session")
async def engine(services) -> Engine:
    async with (
        httpx.AsyncClient(base_url=services.api_url, timeout=30) as api,
        httpx.AsyncClient(base_url=services.sim_url, timeout=30) as sim,
    ):
        yield Engine(api=api, sim=sim)


@pytest.fixture(autouse=True)
async def record_histories(request, temporal):
    """With SETTLEMENT_RECORD_HISTORIES=<dir>, save the history of every order a scenario created, for
    tests/histories (replayed by tests/workflow/test_replay.py)."""
    yield
    directory = os.environ.get("SETTLEMENT_RECORD_HISTORIES")
    if not directory or "engine" not in request.fixturenames:
        return
    from operations.tools import export_history

    engine = request.getfixturevalue("engine")
    for order_id in engine.created:
        history = await temporal.client.get_workflow_handle(workflow_id_for(order_id)).fetch_history()
        export_history(history, Path(directory))
    engine.created.clear()


@pytest.fixture(autouse=True)
async def ledger_invariants_hold(request, pool):
    """After every end-to-end scenario, the books must be sound and agree with the payment provider's own records."""
    provider_url = request.getfixturevalue("services").sim_url if "services" in request.fixturenames else None
    yield
    if provider_url is None:
        assert await check_books(pool, None) == []
        return
    async with httpx.AsyncClient(base_url=provider_url, timeout=30) as provider:
        assert await check_books(pool, SimulatedPaymentGateway(provider)) == []
