"""The application as an installed wheel, away from the checkout: the wheel pip builds from the sources is installed
into a fresh virtual environment, whose `settlement` command then migrates a new database and runs the simulators, the
worker and the API from a temporary directory, against the session's Temporal dev server and PostgreSQL.

The fresh environment borrows the project's third-party packages (a .pth line naming the project's site-packages, whose
own .pth files, among them the editable install's, are not processed) but imports the engine only from the wheel."""

import asyncio
import json
import os
import shutil
import site
import subprocess
import sys
import time
import tomllib
import uuid
import zipfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

from runtime.services import terminate
from tests.integration.stack import (
    JWT_SECRET,
    PAYLOAD_KEYS,
    WEBHOOK_SECRET,
    engine_database_url,
    free_port,
    new_order,
    token,
)

ROOT = Path(__file__).resolve().parents[2]
COMMAND_TIMEOUT = 120
START_TIMEOUT = 60


def engine_packages() -> set[str]:
    """The top-level packages pyproject.toml names (`[tool.setuptools.packages.find] include`)."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    return {pattern.removesuffix("*") for pattern in setuptools["packages"]["find"]["include"]}


def build_wheel(directory: Path) -> Path:
    """pip's wheel of the sources pyproject.toml names, copied out first: a build writes build/ and egg-info beside them."""
    source = directory / "source"
    source.mkdir()
    (source / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    (source / "worker.py").write_text((ROOT / "worker.py").read_text())  # the checkout's entry point, to be left out
    for package in engine_packages():
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(directory / "dist"), str(source)], cwd=directory)
    [wheel] = (directory / "dist").glob("settlement_engine-*.whl")
    return wheel


def fresh_environment(directory: Path, wheel: Path) -> Path:
    """A new virtual environment with the wheel installed; its interpreter."""
    venv = directory / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=directory)
    python = venv / "bin" / "python"
    [purelib] = (venv / "lib").glob("python3.*/site-packages")
    (purelib / "project-dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", "--no-index", str(wheel)], cwd=directory)
    return python


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=False)
    assert done.returncode == 0, f"{command} exited with {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def isolated_environment(**settings: str) -> dict[str, str]:
    """The test's environment without anything that could put the checkout on sys.path."""
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    return {**env, "PYTHONUNBUFFERED": "1", **settings}


def in_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


class Processes:
    """Children started in their own sessions, stopped by pid: SIGTERM, then SIGKILL after a grace period."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.started: dict[str, subprocess.Popen] = {}

    def start(self, name: str, command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.Popen:
        with open(self.log_dir / f"{name}.log", "wb") as log:
            self.started[name] = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        return self.started[name]

    def log(self, name: str) -> str:
        return (self.log_dir / f"{name}.log").read_text(errors="replace")

    def check_alive(self) -> None:
        for name, process in self.started.items():
            assert process.poll() is None, f"{name} exited with {process.returncode}:\n{self.log(name)}"

    def stop(self, grace: float = 25.0) -> None:
        terminate(self.started.values(), grace)


async def eventually(check, what: str, processes: Processes, timeout: float = START_TIMEOUT):
    """check()'s first truthy result, polled until the timeout; fails early when a child exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        processes.check_alive()
        try:
            if result := await check():
                return result
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.3)
    raise AssertionError(f"{what} not within {timeout} s; logs: {processes.log_dir}")


async def test_the_installed_wheel_runs_the_engine_from_anywhere(tmp_path, database_url, temporal):
    wheel = build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        top_level = archive.read(next(n for n in names if n.endswith(".dist-info/top_level.txt"))).decode().split()
    # Only the engine's named packages at the top level: no loose module (a `worker`, a `settings`) to collide with another.
    assert set(top_level) == engine_packages()
    assert {name.split("/", 1)[0] for name in names if not name.split("/", 1)[0].endswith(".dist-info")} == engine_packages()
    python = fresh_environment(tmp_path, wheel)
    settlement = str(python.parent / "settlement")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    # Every top-level name of the engine comes from the fresh environment, with the data files it reads at run time.
    probe = (
        "import importlib.util, json, sys; from runtime.logs import CONFIG_FILE; from db.migrate import MIGRATIONS; "
        "print(json.dumps({'prefix': sys.prefix, 'config': str(CONFIG_FILE), 'migrations': str(MIGRATIONS), "
        f"'origins': {{name: importlib.util.find_spec(name).origin for name in {top_level!r}}}}}))"
    )
    found = json.loads(run([str(python), "-c", probe], cwd=elsewhere, env=isolated_environment()))
    prefix = Path(found["prefix"]).resolve()
    assert prefix == (tmp_path / "venv").resolve()
    for name, origin in found["origins"].items():
        assert Path(origin).resolve().is_relative_to(prefix), f"{name} imported from {origin}, not from the installed wheel"
    assert Path(found["config"]).is_file() and Path(found["config"]).resolve().is_relative_to(prefix)
    assert sorted(Path(found["migrations"]).glob("versions/*.py")), "the wheel lacks the migrations"

    # A database of its own, migrated by the installed command as the owner; the engine logs in as its restricted role.
    database = f"wheel_{uuid.uuid4().hex[:8]}"
    owner = await asyncpg.connect(database_url)
    try:
        await owner.execute(f'CREATE DATABASE "{database}"')
    finally:
        await owner.close()
    owner_url = in_database(database_url, database)
    assert "migrations applied" in run([settlement, "migrate"], cwd=elsewhere, env=isolated_environment(DATABASE_OWNER_URL=owner_url))
    engine_url = await engine_database_url(owner_url)

    api_port, sim_port, queue = free_port(), free_port(), f"installed-wheel-{uuid.uuid4().hex[:8]}"
    env = isolated_environment(
        DATABASE_URL=engine_url,
        TEMPORAL_ADDRESS=temporal.client.service_client.config.target_host,
        TEMPORAL_TASK_QUEUE=queue,
        SETTLEMENT_JWT_SECRET=JWT_SECRET,
        SETTLEMENT_WEBHOOK_SECRET=WEBHOOK_SECRET,
        SETTLEMENT_PAYLOAD_KEYS=PAYLOAD_KEYS,
        SETTLEMENT_SIM_URL=f"http://127.0.0.1:{sim_port}",
        SETTLEMENT_API_URL=f"http://127.0.0.1:{api_port}",
        SETTLEMENT_SIM_CARRIER="manual",
        SETTLEMENT_WORKER_METRICS_PORT=str(free_port()),
    )
    processes = Processes(tmp_path)
    try:
        processes.start(
            "simulators", [settlement, "simulators", "--port", str(sim_port)], elsewhere, {**env, "SETTLEMENT_SIM_DATABASE_URL": owner_url}
        )
        worker = processes.start("worker", [settlement, "worker"], elsewhere, env)
        processes.start("api", [settlement, "api", "--port", str(api_port)], elsewhere, env)

        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}", timeout=10) as api:

            async def ready():
                return (await api.get("/readyz")).status_code == 200 and (await api.get("/healthz")).status_code == 200

            await eventually(ready, "the API's /readyz and /healthz", processes)

            async def polling():
                described = await temporal.client.workflow_service.describe_task_queue(
                    DescribeTaskQueueRequest(
                        namespace="default", task_queue=TaskQueue(name=queue), task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW
                    )
                )
                return [p.identity for p in described.pollers if p.identity.startswith(f"{worker.pid}@")]

            await eventually(polling, "the installed worker polling its task queue", processes)

            # The worker runs an order's workflow and activities: authorized, fulfillment order created.
            order = new_order()
            created = await api.post("/v1/orders", json=order, headers=token("marketplace", order["marketplace"]))
            assert created.status_code == 201, created.text

            async def awaiting_shipment():
                response = await api.get(f"/v1/orders/{order['order_id']}", headers=token("operator", "ops"))
                return response.status_code == 200 and response.json()["status"] == "awaiting_shipment"

            await eventually(awaiting_shipment, "the order awaiting shipment", processes)
    finally:
        processes.stop()

    # Their logs are the JSON lines of the installed logging.json.
    for name in ("api", "worker"):
        lines = [json.loads(line) for line in processes.log(name).splitlines() if line.startswith("{")]
        assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines), processes.log(name)
    assert worker.returncode == 0, processes.log("worker")
