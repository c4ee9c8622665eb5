"""The engine's processes are started with only what they may know."""

import sys

from runtime.services import ServiceProcesses

PRINT_OWNER_URL = [sys.executable, "-c", "import os; print(os.environ.get('SETTLEMENT_SIM_DATABASE_URL'))"]


def test_only_the_simulators_see_the_owner_database_address(tmp_path):
    processes = ServiceProcesses(env={"SETTLEMENT_SIM_DATABASE_URL": "postgresql://owner@/db"}, api_port=1, sim_port=2, log_dir=tmp_path)
    for name in ("simulators", "worker", "api"):
        processes._spawn(name, PRINT_OWNER_URL)
        processes.processes[name].wait(30)
    assert (tmp_path / "simulators.log").read_text().strip() == "postgresql://owner@/db"
    assert (tmp_path / "worker.log").read_text().strip() == "None"
    assert (tmp_path / "api.log").read_text().strip() == "None"
