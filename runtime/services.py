"""The engine's own processes (worker, API, simulators): started as children, stopped by process id."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

# The `settlement` command line of this interpreter's installation; -P: never from the current directory.
SETTLEMENT = [sys.executable, "-P", "-m", "operations.cli"]


@dataclass
class ServiceProcesses:
    env: dict[str, str]
    api_port: int
    sim_port: int
    log_dir: Path
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def sim_url(self) -> str:
        return f"http://127.0.0.1:{self.sim_port}"

    def child_env(self) -> dict[str, str]:
        return {**self.env, "SETTLEMENT_API_URL": self.api_url, "SETTLEMENT_SIM_URL": self.sim_url, "PYTHONUNBUFFERED": "1"}

    def start(self, simulators: bool = True) -> None:
        """The simulators (unless others already run at `sim_port`), the worker and the API; returns once they answer."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        if simulators:
            self._spawn("simulators", [*SETTLEMENT, "simulators", "--host", "127.0.0.1", "--port", str(self.sim_port)])
        self._spawn("worker", [*SETTLEMENT, "worker"])
        self._spawn("api", [*SETTLEMENT, "api", "--host", "127.0.0.1", "--port", str(self.api_port)])
        self.wait_ready()

    def _spawn(self, name: str, command: list[str]) -> None:
        env = self.child_env()
        if name != "simulators":
            env.pop("SETTLEMENT_SIM_DATABASE_URL", None)  # the owner's address: the API and worker never see it
        with open(self.log_dir / f"{name}.log", "ab") as log:
            self.processes[name] = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def restart(self, name: str) -> None:
        """Kill one child with SIGKILL (a crash: nothing drains) and start it again with the same command."""
        process = self.processes[name]
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait()
        self._spawn(name, process.args)

    def exited(self) -> list[str]:
        """The children that are no longer running."""
        return [name for name, process in self.processes.items() if process.poll() is not None]

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        for url in (f"{self.sim_url}/healthz", f"{self.api_url}/readyz"):
            while True:
                self._check_alive()
                try:
                    if httpx.get(url, timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{url} not ready after {timeout}s; see logs in {self.log_dir}")
                time.sleep(0.2)

    def _check_alive(self) -> None:
        for name in self.exited():
            raise RuntimeError(f"{name} exited with {self.processes[name].returncode}; see {self.log_dir / (name + '.log')}")

    def stop(self, timeout: float = 25.0) -> None:
        terminate(reversed(list(self.processes.values())), timeout)
        self.processes.clear()


def terminate(processes: Iterable[subprocess.Popen], timeout: float = 25.0) -> None:
    """SIGTERM each process by its pid (a worker drains, an API finishes its requests), then SIGKILL any that
    outlive the timeout; returns once every one has exited."""
    processes = list(processes)
    for process in processes:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for process in processes:
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
