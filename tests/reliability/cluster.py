"""A whole engine whose parts can crash and come back: embedded PostgreSQL (stopped and started again on
the same data directory), the Temporal dev server (its state in a SQLite file, so a restart keeps every
workflow), and the worker, API and simulators as child processes (runtime/services.py)."""

import asyncio
import os
import signal
import subprocess
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import Client

from db.migrate import upgrade
from domain.search_attributes import ALL as SEARCH_ATTRIBUTES
from runtime.binaries import executable
from runtime.services import ServiceProcesses
from tests.embedded_pg import embedded_postgres_server
from tests.integration.stack import JWT_SECRET, PAYLOAD_KEYS, WEBHOOK_SECRET, engine_database_url, free_port


class TemporalDevServer:
    """`temporal server start-dev` as a child process that can be stopped and started on the same state."""

    def __init__(self, db_file: Path, log_file: Path):
        self.port = free_port()
        self.db_file = db_file
        self.log_file = log_file
        self.process: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self, timeout: float = 60.0) -> None:
        attributes = [arg for key in SEARCH_ATTRIBUTES for arg in ("--search-attribute", f"{key.name}=Keyword")]
        command = [
            executable("temporal"),
            "server",
            "start-dev",
            "--ip",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--headless",
            "--db-filename",
            str(self.db_file),
            "--log-level",
            "warn",
            *attributes,
        ]
        with open(self.log_file, "ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        async with asyncio.timeout(timeout):
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"the Temporal dev server exited with {self.process.returncode}; see {self.log_file}")
                try:
                    await Client.connect(self.address)
                    return
                except RuntimeError:
                    await asyncio.sleep(0.3)

    async def stop(self, timeout: float = 20.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.kill(self.process.pid, signal.SIGTERM)
        try:
            await asyncio.to_thread(self.process.wait, timeout)
        except subprocess.TimeoutExpired:
            os.kill(self.process.pid, signal.SIGKILL)
            await asyncio.to_thread(self.process.wait)


def stop_postgres(server) -> None:
    """A fast shutdown of the embedded server: sessions are disconnected, open transactions roll back."""
    from embedded_postgres import pg_ctl

    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user, timeout=60)


def start_postgres(server, url: str) -> None:
    """Start it again on the same data directory; it comes back at the same address."""
    server.ensure_postgres_running()
    if server.get_uri() != url:
        raise RuntimeError(f"PostgreSQL came back at {server.get_uri()}, not {url}")


@dataclass
class Cluster:
    postgres: object
    database_url: str
    temporal: TemporalDevServer
    services: ServiceProcesses
    log_dir: Path

    def kill_worker(self) -> None:
        self.services.restart("worker")

    def respawn_exited(self) -> list[str]:
        """Start again any child that exited by itself (e.g. a worker that could not connect during a restart)."""
        exited = self.services.exited()
        for name in exited:
            self.services.restart(name)
        return exited

    async def restart_temporal(self, downtime: float) -> None:
        await self.temporal.stop()
        await asyncio.sleep(downtime)
        await self.temporal.start()

    async def restart_postgres(self, downtime: float) -> None:
        await asyncio.to_thread(stop_postgres, self.postgres)
        await asyncio.sleep(downtime)
        await asyncio.to_thread(start_postgres, self.postgres, self.database_url)


def engine_env(owner_url: str, engine_url: str, temporal_address: str, settings: dict[str, str]) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": engine_url,
        "SETTLEMENT_SIM_DATABASE_URL": owner_url,  # the simulators stand in for outside parties: their own access
        "TEMPORAL_ADDRESS": temporal_address,
        "TEMPORAL_TASK_QUEUE": "settlement-chaos",
        "SETTLEMENT_JWT_SECRET": JWT_SECRET,
        "SETTLEMENT_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "SETTLEMENT_PAYLOAD_KEYS": PAYLOAD_KEYS,
        "SETTLEMENT_SIM_CARRIER": "manual",
        "SETTLEMENT_WORKER_METRICS_PORT": str(free_port()),
        **settings,
    }


@asynccontextmanager
async def running_cluster(log_dir: Path, settings: dict[str, str]):
    """Start everything with the given engine and simulator settings (`{sim_url}` in a value: the simulators' address);
    stop everything on the way out."""
    log_dir.mkdir(parents=True, exist_ok=True)
    with embedded_postgres_server("settlement-chaos-") as postgres:
        database_url = postgres.get_uri()
        await asyncio.to_thread(upgrade, database_url)
        engine_url = await engine_database_url(database_url)
        temporal = TemporalDevServer(log_dir / "temporal.db", log_dir / "temporal.log")
        await temporal.start()
        try:
            sim_port = free_port()
            sim_url = f"http://127.0.0.1:{sim_port}"
            env = engine_env(database_url, engine_url, temporal.address, {k: v.replace("{sim_url}", sim_url) for k, v in settings.items()})
            services = ServiceProcesses(env=env, api_port=free_port(), sim_port=sim_port, log_dir=log_dir)
            await asyncio.to_thread(services.start)
            try:
                yield Cluster(postgres, database_url, temporal, services, log_dir)
            finally:
                await asyncio.to_thread(services.stop)
        finally:
            await temporal.stop()
