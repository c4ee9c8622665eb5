"""B2: what an order costs on Temporal Cloud, per path: billable Actions (bench/history_costs.py), history events and
history bytes, from the histories of orders run live on a whole engine (tests.reliability.cluster), each driven along
its path through the HTTP API by the chaos runner's driver (tests/reliability/paths.py, actions.py), without faults.

Baseline, per path: the lifecycle's own count, what the path cannot do with fewer Actions:
  1 workflow start
  + each provider call the path makes (a payout refused then retried is two); the ledger entries around a provider
    call (capture; reserve and settle of refunds and payouts) ride in its Action, being keyed and idempotent like it
  + each ledger entry with no provider call to ride on (the release of escrow to fees and the seller)
  + each message from outside the path waits for (signals: shipped, delivered; updates: confirm, dispute, resolve,
    cancel, retry)
  + each deadline the path waits under (a durable timer: ship-by, deliver-by, confirmation window, the seller's
    response window of a dispute).
Read-model rows and the OrderStatus search attribute are taken to ride with the money step or message that changes the
status, so they add nothing to the floor (the confirmed path: 1 + 4 + 1 + 3 + 3 = 12).

Goal: the confirmed path at most 16 Actions, with OrderStatus still current (checked on every order: the attribute
equals the status the API shows once the order is over); every other path is reported.
"""

import asyncio
import random
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
from temporalio.client import Client

from bench.history_costs import HistoryCost, history_cost
from bench.report import Figure
from domain.order_state import workflow_id_for
from domain.search_attributes import ORDER_STATUS
from tests.reliability.cluster import running_cluster
from tests.reliability.config import ChaosConfig, engine_settings
from tests.reliability.driver import Endpoints, OrderRun, drive
from tests.reliability.paths import PATHS, order_body

DRIVE_LIMIT = 120.0  # seconds for every order to reach its end
HAPPY_GOAL = 16


@dataclass(frozen=True)
class Floor:
    provider_calls: int
    ledger_only: int
    messages: int
    deadlines: int

    @property
    def total(self) -> int:
        return 1 + self.provider_calls + self.ledger_only + self.messages + self.deadlines


# Reported name → (path in tests/reliability/paths.py, its floor)
MEASURED = {
    # authorize, fulfillment, capture, payout; release; shipped, delivered, confirm; ship-by, deliver-by, window
    "confirmed": ("confirm", Floor(4, 1, 3, 3)),
    # as confirmed, without the buyer's confirmation: the window lapses
    "auto-release": ("auto", Floor(4, 1, 2, 3)),
    # authorize, fulfillment, capture, refund; shipped, delivered, open, resolve; ship-by, deliver-by, window, response
    "dispute refund": ("disp-refund", Floor(4, 0, 4, 4)),
    # as dispute refund, and a payout of the rest after its release
    "partial refund": ("disp-partial", Floor(5, 1, 4, 4)),
    # authorize, fulfillment, void, cancel fulfillment; cancel; ship-by
    "cancel": ("cancel", Floor(4, 0, 1, 1)),
    # authorize, declined
    "declined": ("declined", Floor(1, 0, 0, 0)),
    # as confirmed, with a payout refused and made again; the operator's retry
    "payout retried": ("payout-retry", Floor(5, 1, 4, 3)),
}


@dataclass(frozen=True)
class Measured:
    cost: HistoryCost
    status_current: bool


async def run(quick: bool) -> list[Figure]:
    repeats = 1 if quick else 3
    settings = engine_settings(ChaosConfig(failure_rate=0.0, ambiguous_rate=0.0))
    with tempfile.TemporaryDirectory(prefix="bench-b2-") as log_dir:
        return await _run(Path(log_dir), settings, repeats)


async def _run(log_dir: Path, settings: dict[str, str], repeats: int) -> list[Figure]:
    async with running_cluster(log_dir, settings) as cluster:
        async with (
            httpx.AsyncClient(base_url=cluster.services.api_url, timeout=30) as api,
            httpx.AsyncClient(base_url=cluster.services.sim_url, timeout=30) as sim,
        ):
            runs = await _drive(Endpoints(api, sim), repeats)
        client = await Client.connect(cluster.temporal.address)
        measured = {name: [await _measure(client, run) for run in group] for name, group in runs.items()}
    return [_figure(name, results) for name, results in measured.items()]


async def _drive(endpoints: Endpoints, repeats: int) -> dict[str, list[OrderRun]]:
    rng, started, prefix = random.Random(10), time.monotonic(), f"b2-{uuid.uuid4().hex[:6]}"
    paths = {p.name: p for p in PATHS}
    runs: dict[str, list[OrderRun]] = {}
    for n, name in enumerate(name for name in MEASURED for _ in range(repeats)):
        path = paths[MEASURED[name][0]]
        order_id = f"{prefix}-{n:02d}-{path.name}"
        runs.setdefault(name, []).append(OrderRun(n, order_id, path, order_body(order_id, n, path, rng), started))
    async with asyncio.timeout(DRIVE_LIMIT), asyncio.TaskGroup() as group:
        for run in (run for group_runs in runs.values() for run in group_runs):
            group.create_task(drive(endpoints, run, rng))
    wrong = [f"{r.order_id}: {r.failure or r.status}" for rs in runs.values() for r in rs if r.failure or r.status != r.path.outcome]
    if wrong:
        raise RuntimeError(f"orders that did not end as their path says: {wrong}")
    return runs


async def _measure(client: Client, run: OrderRun) -> Measured:
    handle = client.get_workflow_handle(workflow_id_for(run.order_id))
    history = await handle.fetch_history()
    description = await handle.describe()
    return Measured(history_cost(history), description.typed_search_attributes.get(ORDER_STATUS) == run.status)


def _figure(name: str, results: list[Measured]) -> Figure:
    floor = MEASURED[name][1]
    typical = sorted(results, key=lambda m: m.cost.total)[len(results) // 2].cost
    details: dict[str, float | int | str] = {
        "orders": len(results),
        "history events (median)": statistics.median(m.cost.events for m in results),
        "history bytes (median)": statistics.median(m.cost.bytes for m in results),
        "OrderStatus current": f"{sum(m.status_current for m in results)} of {len(results)}",
        "floor": f"start 1, provider {floor.provider_calls}, ledger-only {floor.ledger_only}, messages {floor.messages}, "
        f"deadlines {floor.deadlines}",
        **{f"actions: {kind}": count for kind, count in sorted(typical.actions.items())},
        **{f"activity: {kind}": count for kind, count in sorted(typical.activities.items())},
    }
    happy = name == "confirmed"
    current = all(m.status_current for m in results)
    return Figure(
        id="B2",
        name=f"Temporal Actions per order, {name}",
        value=statistics.median(m.cost.total for m in results),
        unit="actions",
        baseline_name="the lifecycle's own count",
        baseline=floor.total,
        goal=(f"≤ {HAPPY_GOAL}, OrderStatus current" + ("" if current else " (it is NOT)")) if happy else "reported",
        goal_value=(HAPPY_GOAL if current else 0) if happy else None,  # a stale OrderStatus misses it whatever the count
        higher_is_better=False,
        goal_on_value=happy,
        details=details,
    )
