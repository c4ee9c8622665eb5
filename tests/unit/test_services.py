"""The engine's processes: `settlement` commands, started with only what they may know."""

import secrets
import sys
from pathlib import Path

import pytest
import uvicorn
from typer.testing import CliRunner

from operations.cli import app
from runtime import launcher, logs, tracing, worker_process
from runtime.services import ServiceProcesses
from runtime.settings import Settings

PRINT_OWNER_URL = [sys.executable, "-c", "import os; print(os.environ.get('SETTLEMENT_SIM_DATABASE_URL'))"]


def test_only_the_simulators_see_the_owner_database_address(tmp_path):
    processes = ServiceProcesses(env={"SETTLEMENT_SIM_DATABASE_URL": "postgresql://owner@/db"}, api_port=1, sim_port=2, log_dir=tmp_path)
    for name in ("simulators", "worker", "api"):
        processes._spawn(name, PRINT_OWNER_URL)
        processes.processes[name].wait(30)
    assert (tmp_path / "simulators.log").read_text().strip() == "postgresql://owner@/db"
    assert (tmp_path / "worker.log").read_text().strip() == "None"
    assert (tmp_path / "api.log").read_text().strip() == "None"


def test_the_children_are_the_settlement_commands_of_this_installation(tmp_path, monkeypatch):
    started = {}
    processes = ServiceProcesses(env={}, api_port=18000, sim_port=18100, log_dir=tmp_path)
    monkeypatch.setattr(processes, "_spawn", lambda name, command: started.setdefault(name, command))
    monkeypatch.setattr(processes, "wait_ready", lambda: None)
    processes.start()
    cli = [sys.executable, "-P", "-m", "operations.cli"]  # -P: nothing imported from the current directory
    assert started == {
        "simulators": [*cli, "simulators", "--host", "127.0.0.1", "--port", "18100"],
        "worker": [*cli, "worker"],
        "api": [*cli, "api", "--host", "127.0.0.1", "--port", "18000"],
    }


@pytest.fixture
def served(monkeypatch) -> list[dict]:
    """What `settlement api` and `settlement simulators` ask uvicorn to run."""
    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.append({"app": app, **options}))
    return calls


@pytest.mark.parametrize(
    ("command", "asgi_app", "port_variable", "default_port"),
    [
        ("api", "api.main:app", "SETTLEMENT_API_PORT", 8000),
        ("simulators", "simulators.main:app", "SETTLEMENT_SIM_PORT", 8100),
    ],
)
def test_the_http_processes_are_uvicorn_with_the_installed_logging(served, monkeypatch, command, asgi_app, port_variable, default_port):
    monkeypatch.delenv(port_variable, raising=False)
    assert CliRunner().invoke(app, [command]).exit_code == 0
    monkeypatch.setenv(port_variable, "18555")
    assert CliRunner().invoke(app, [command]).exit_code == 0
    assert CliRunner().invoke(app, [command, "--host", "0.0.0.0", "--port", "9999"]).exit_code == 0
    options = {"log_config": str(logs.CONFIG_FILE), "access_log": False, "timeout_graceful_shutdown": 10}
    assert served == [
        {"app": asgi_app, "host": "127.0.0.1", "port": default_port, **options},
        {"app": asgi_app, "host": "127.0.0.1", "port": 18555, **options},
        {"app": asgi_app, "host": "0.0.0.0", "port": 9999, **options},
    ]
    assert Path(served[0]["log_config"]).is_file()
    assert Path(served[0]["log_config"]).parent == Path(logs.__file__).parent, "the logging.json of the installed runtime package"


def test_the_worker_command_runs_the_worker_process(monkeypatch):
    ran = []
    monkeypatch.setattr(worker_process, "main", lambda: ran.append(True))
    assert CliRunner().invoke(app, ["worker"]).exit_code == 0
    assert ran == [True]


async def test_a_worker_that_fails_to_start_still_closes_its_pool_and_stops_tracing(monkeypatch):
    provider, closed, stopped, built = object(), [], [], []

    class Pool:
        async def close(self) -> None:
            closed.append(True)

    async def connect(settings, runtime, interceptors):
        return object()

    async def create_pool(url):
        return Pool()

    def worker(client, **options):
        built.append(options)
        raise RuntimeError("the worker could not start")

    monkeypatch.setattr(worker_process, "runtime_with_prometheus", lambda address: object())
    monkeypatch.setattr(tracing, "start", lambda service_name: provider)
    monkeypatch.setattr(tracing, "temporal_interceptors", lambda given: [])
    monkeypatch.setattr(tracing, "stop", stopped.append)
    monkeypatch.setattr(worker_process, "connect", connect)
    monkeypatch.setattr(worker_process, "database_url", lambda: "postgresql://engine@/settlement")
    monkeypatch.setattr(worker_process, "create_pool", create_pool)
    monkeypatch.setattr(worker_process, "Worker", worker)
    settings = Settings(settlement_jwt_secret=secrets.token_hex(32), settlement_webhook_secret=secrets.token_hex(32))
    with pytest.raises(RuntimeError, match="could not start"):
        await worker_process.run_worker(settings)
    assert [options["graceful_shutdown_timeout"] for options in built] == [worker_process.GRACEFUL_SHUTDOWN]
    assert closed == [True]
    assert stopped == [provider]


def test_the_run_command_runs_the_launcher_on_the_settings_ports(monkeypatch):
    ports = []

    async def main(api_port: int, sim_port: int) -> None:
        ports.append((api_port, sim_port))

    monkeypatch.setattr(launcher, "main", main)
    monkeypatch.delenv("SETTLEMENT_API_PORT", raising=False)
    monkeypatch.setenv("SETTLEMENT_SIM_PORT", "18101")
    assert CliRunner().invoke(app, ["run"]).exit_code == 0
    assert CliRunner().invoke(app, ["run", "--api-port", "18001"]).exit_code == 0
    assert ports == [(8000, 18101), (18001, 18101)]
