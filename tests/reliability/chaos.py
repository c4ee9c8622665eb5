"""`make chaos`: orders along every path that completes in real time, through the HTTP API, while the
providers fail (transiently, and ambiguously: performed but answered 503 or cut off), the worker is killed
with SIGKILL every few seconds, and the Temporal dev server and PostgreSQL are each restarted once. Exits 1
unless every order ends as its path says, no provider operation happened twice, the books balance, and the
marketplace's webhook endpoint was told every step of every order.

    python -m tests.reliability.chaos            # settings from CHAOS_* environment variables (see ChaosConfig)
"""

import asyncio
import random
import sys
import tempfile
import time
from pathlib import Path

import httpx

from tests.reliability.amazon_check import amazon_problems
from tests.reliability.cluster import running_cluster
from tests.reliability.config import ChaosConfig, engine_settings
from tests.reliability.disruptions import Disruptions
from tests.reliability.driver import Endpoints, OrderRun, drive
from tests.reliability.paths import assign, order_body
from tests.reliability.pooled import PooledSeller
from tests.reliability.pooled import set_up as set_up_pooled
from tests.reliability.summary import Outcome, render
from tests.reliability.totals_check import totals_problems
from tests.reliability.verify import verify
from tests.reliability.webhook_watch import WebhookWatch

SETUP_AND_CHECKS_SECONDS = 300
PROGRESS_EVERY = 30.0


async def _drive_all(endpoints: Endpoints, runs: list[OrderRun], config: ChaosConfig, rng: random.Random) -> bool:
    """Drive every order to its end; False when the time limit came first."""
    slots = asyncio.Semaphore(config.concurrency)

    async def one(run: OrderRun) -> None:
        async with slots:
            await drive(endpoints, run, rng)

    async def progress() -> None:
        while True:
            await asyncio.sleep(PROGRESS_EVERY)
            print(f"  {time.monotonic() - runs[0].started:7.1f}s {sum(r.done for r in runs)} of {len(runs)} orders over", flush=True)

    reporter = asyncio.create_task(progress())
    try:
        async with asyncio.timeout(config.time_limit), asyncio.TaskGroup() as group:
            for run in runs:
                group.create_task(one(run))
    except TimeoutError:
        return False
    finally:
        reporter.cancel()
    return True


async def run(config: ChaosConfig) -> Outcome:
    rng = random.Random(config.seed)
    log_dir = Path(config.log_dir or tempfile.mkdtemp(prefix="settlement-chaos-"))
    print(f"chaos: {config}\n  logs in {log_dir}", flush=True)
    began = time.monotonic()
    async with running_cluster(log_dir, engine_settings(config)) as cluster:
        async with (
            httpx.AsyncClient(base_url=cluster.services.api_url, timeout=30) as api,
            httpx.AsyncClient(base_url=cluster.services.sim_url, timeout=30) as sim,
            WebhookWatch(api) as webhooks,
        ):
            started = time.monotonic()
            prefix = f"chaos{config.seed}"
            runs = [
                OrderRun(n, f"{prefix}-{n:04d}-{path.name}", path, order_body(f"{prefix}-{n:04d}-{path.name}", n, path, rng), started)
                for n, path in enumerate(assign(config.orders, rng))
            ]
            disruptions = Disruptions(
                cluster, config.kill_every, config.temporal_restarts, config.postgres_restarts, config.downtime, rng, started
            )
            pooled = PooledSeller(api, sim, runs)
            await set_up_pooled(api)
            disruptions.start(lambda: sum(r.done for r in runs) / len(runs))
            paying = asyncio.create_task(pooled.during_the_run())
            finished = await _drive_all(Endpoints(api, sim, config.fulfillment == "amazon"), runs, config, rng)
            await disruptions.finish(complete_restarts=finished)
            elapsed = time.monotonic() - started
            if not finished:
                paying.cancel()
            await asyncio.gather(paying, return_exceptions=not finished)
            await pooled.at_the_end()
            injected = (await sim.get("/sim/faults/injected")).json()
            problems, violations, operations = await verify(cluster.database_url, sim, runs, pooled)
            if told := await webhooks.problems(cluster.database_url, runs):
                problems["webhooks to the marketplace"] = told
            if totals := await totals_problems(cluster.database_url):
                problems["the business's running totals"] = totals
            if config.fulfillment == "amazon":
                for order_id, found in (await amazon_problems(cluster.database_url, runs)).items():
                    problems.setdefault(order_id, []).extend(found)
    return Outcome(
        config,
        runs,
        finished,
        elapsed,
        time.monotonic() - began,
        disruptions,
        injected,
        problems,
        violations,
        operations,
        log_dir,
        pooled.summary,
        webhooks.summary,
    )


def main() -> int:
    config = ChaosConfig.from_env()
    hard_limit = config.time_limit + SETUP_AND_CHECKS_SECONDS
    try:
        outcome = asyncio.run(asyncio.wait_for(run(config), hard_limit))
    except TimeoutError:
        print(
            f"chaos: FAILED: not over within {hard_limit:.0f} s (the time limit and {SETUP_AND_CHECKS_SECONDS} s to start, check and stop)"
        )
        return 1
    print(render(outcome), flush=True)
    return 0 if outcome.passed else 1


if __name__ == "__main__":
    sys.exit(main())
