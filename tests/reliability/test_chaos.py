"""The chaos battery in small, for make test: two orders along every path while the providers fail
(transiently and ambiguously), the worker is killed with SIGKILL now and then, and the Temporal dev server
and PostgreSQL are each restarted once. `make chaos` runs the full one."""

import asyncio

from tests.reliability.chaos import SETUP_AND_CHECKS_SECONDS, run
from tests.reliability.config import ChaosConfig
from tests.reliability.paths import PATHS
from tests.reliability.summary import render


async def test_a_small_chaos_run_ends_every_order_as_its_path_says_and_moves_no_money_twice(tmp_path):
    # A kill every 4 s on average: these orders are over in under 20 s without kills, and the run must see some.
    config = ChaosConfig(orders=2 * len(PATHS), concurrency=2 * len(PATHS), time_limit=240, kill_every=4, log_dir=str(tmp_path))
    outcome = await asyncio.wait_for(run(config), config.time_limit + SETUP_AND_CHECKS_SECONDS)
    print(render(outcome))
    assert outcome.passed, render(outcome)
    assert outcome.disruptions.worker_kills >= 1
    assert outcome.injected["transient"] + outcome.injected["performed_then_503"] + outcome.injected["performed_then_dropped"] > 0
