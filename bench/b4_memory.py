"""B4: the worker's memory per cached open order; then many open orders parked on one worker whose sticky cache is
smaller than that (evicted orders replay on demand): its memory and the time to wake them all.

Baseline: a trivial sandboxed workflow parked on a timer (bench/parked_worker.py), the same counts and cache size on
the same Temporal dev server, each measured in a worker child process of its own, interleaved with the engine's.
Orders are started with the Temporal client exactly as the API starts them and woken by a `shipped` signal; the
cluster's simulators answer the activities, the carrier in manual mode, so orders park in awaiting_shipment."""

import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from temporalio.client import Client

from api.order_workflows import OrderWorkflows
from api.placement import order_input
from bench.parked_worker import PARKED, TRIVIAL_TYPE, WAKE_SIGNAL, WOKEN
from bench.report import Figure
from domain.order_request import DEFAULT_POLICY, OrderRequest
from domain.order_state import FulfillmentEvent
from domain.statuses import FulfillmentEventType, OrderStatus
from runtime import codec
from runtime.services import terminate
from tests.integration.stack import PAYLOAD_KEYS, free_port, new_order
from tests.reliability.cluster import Cluster, running_cluster

ROOT = Path(__file__).resolve().parent.parent
IN_FLIGHT = 32  # client calls (starts, signals) in flight at once
WAIT_LIMIT = 900.0  # seconds for workflows to park or wake before the benchmark gives up


@dataclass(frozen=True)
class Plan:
    """Each kind gets one worker with a sticky cache of `cache`. Workflows are started (and woken) a window at a time:
    a window is a fifth of the cache, so the ones on their way never evict each other. The first window warms the
    worker up; each round then parks one more window and reads the memory again (the engine's and the baseline's
    rounds alternate), all well within the cache; then the rest are parked, up to `orders` (more than the cache
    holds), and all are woken."""

    orders: int
    cache: int
    rounds: int = 3

    @property
    def window(self) -> int:
        return max(1, self.cache // 5)

    @classmethod
    def from_env(cls, quick: bool, env: Mapping[str, str] = os.environ) -> "Plan":
        """B4_ORDERS and B4_CACHE override the size (the issue's 10,000 orders on a 1,000 cache take most of an hour)."""
        orders = int(env.get("B4_ORDERS", 60 if quick else 400))
        plan = cls(orders=orders, cache=int(env.get("B4_CACHE", orders // 2)), rounds=1 if quick else 3)
        if plan.window < 4 or plan.orders <= plan.cache:
            raise ValueError(f"B4 needs a cache of at least 20 and more orders than it holds, not {plan}")
        return plan


# ---- reading a process's memory -------------------------------------------------------------------


def status_kib(status_text: str, field: str) -> int:
    """A `kB` field of /proc/<pid>/status (VmRSS: resident now; VmHWM: resident at its peak)."""
    for line in status_text.splitlines():
        name, _, value = line.partition(":")
        if name == field:
            number, unit = value.split()
            if unit != "kB":
                raise ValueError(f"{field} in {unit}, not kB")
            return int(number)
    raise ValueError(f"no {field} in the process status")


def process_kib(pid: int, field: str = "VmRSS") -> int:
    return status_kib(Path(f"/proc/{pid}/status").read_text(), field)


def growth_per_item(before_kib: float, after_kib: float, items: int) -> float:
    if items <= 0:
        raise ValueError("growth needs at least one item")
    return (after_kib - before_kib) / items


async def steady_rss_kib(pid: int, settle: float = 1.0, samples: int = 3) -> float:
    """The median of a few readings once the worker has finished what it was doing."""
    await asyncio.sleep(settle)
    readings = []
    for _ in range(samples):
        readings.append(process_kib(pid))
        await asyncio.sleep(0.2)
    return statistics.median(readings)


# ---- the two kinds of parked workflow ---------------------------------------------------------------


class EngineOrders:
    name = "engine"
    parked = OrderStatus.AWAITING_SHIPMENT.value
    woken = OrderStatus.IN_TRANSIT.value

    async def start(self, client: Client, task_queue: str, key: str) -> None:
        request = OrderRequest.model_validate(new_order(order_id=key, buyer_id="buyer_b4", seller_id="seller_b4"))
        await OrderWorkflows(client, task_queue).start(order_input(request, datetime.now(UTC), DEFAULT_POLICY, ""), "")

    async def wake(self, client: Client, task_queue: str, key: str) -> None:
        shipped = FulfillmentEvent(
            event_id=f"b4-{key}", order_id=key, type=FulfillmentEventType.SHIPPED, occurred_at=datetime.now(UTC), tracking="B4"
        )
        await OrderWorkflows(client, task_queue).deliver_event(shipped)


class TrivialWorkflows:
    name = "trivial"
    parked = PARKED
    woken = WOKEN

    async def start(self, client: Client, task_queue: str, key: str) -> None:
        await client.start_workflow(TRIVIAL_TYPE, id=key, task_queue=task_queue)

    async def wake(self, client: Client, task_queue: str, key: str) -> None:
        await client.get_workflow_handle(key).signal(WAKE_SIGNAL)


Kind = EngineOrders | TrivialWorkflows


async def each(keys: Iterable[str], call: Callable[[str], Awaitable[None]]) -> None:
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def one(key: str) -> None:
        async with gate:
            await call(key)

    await asyncio.gather(*(one(key) for key in keys))


# ---- a worker child process -------------------------------------------------------------------------


@dataclass
class Subject:
    """One kind of workflow on a worker of its own, on a task queue of its own."""

    kind: Kind
    client: Client
    task_queue: str
    process: subprocess.Popen
    window: int
    keys: list[str] = field(default_factory=list)

    async def park(self, count: int) -> None:
        new = [f"b4-{self.kind.name}-{uuid.uuid4().hex[:12]}" for _ in range(count)]
        for batch in windows(new, self.window):
            await each(batch, lambda key: self.kind.start(self.client, self.task_queue, key))
            self.keys += batch
            await self.wait_count(self.kind.parked, len(self.keys))

    async def wake_all(self) -> None:
        for done, batch in enumerate(windows(self.keys, self.window), start=1):
            await each(batch, lambda key: self.kind.wake(self.client, self.task_queue, key))
            await self.wait_count(self.kind.woken, min(done * self.window, len(self.keys)))

    async def wait_count(self, status: str, expected: int) -> None:
        query = f'TaskQueue = "{self.task_queue}" AND OrderStatus = "{status}"'
        deadline = time.monotonic() + WAIT_LIMIT
        while (count := (await self.client.count_workflows(query)).count) < expected:
            if self.process.poll() is not None:
                raise RuntimeError(f"the {self.kind.name} worker exited with {self.process.returncode}; see {self.task_queue}.log")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{count} of {expected} workflows on {self.task_queue} reached {status} in {WAIT_LIMIT:.0f} s")
            await asyncio.sleep(0.25)


def windows(keys: list[str], size: int) -> list[list[str]]:
    return [keys[i : i + size] for i in range(0, len(keys), size)]


def spawn(command: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen:
    with open(log_path, "ab") as log:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


@asynccontextmanager
async def subject(cluster: Cluster, client: Client, kind: Kind, plan: Plan):
    task_queue = f"b4-{kind.name}-{uuid.uuid4().hex[:8]}"
    env = {
        **cluster.services.child_env(),
        "TEMPORAL_TASK_QUEUE": task_queue,
        "SETTLEMENT_WORKER_METRICS_PORT": str(free_port()),  # the cluster's own worker holds its port
        "SETTLEMENT_WORKER_MAX_CACHED_WORKFLOWS": str(plan.cache),
    }
    env.pop("SETTLEMENT_SIM_DATABASE_URL", None)
    command = [sys.executable, "-m", "bench.parked_worker", kind.name]
    process = await asyncio.to_thread(spawn, command, env, cluster.log_dir / f"{task_queue}.log")
    try:
        yield Subject(kind, client, task_queue, process, plan.window)
    finally:
        await asyncio.to_thread(terminate, [process])


# ---- the measurements --------------------------------------------------------------------------------


@dataclass
class Measured:
    growth_kib: list[float] = field(default_factory=list)  # per parked workflow, one figure per round
    park_seconds: float = 0.0  # from the end of the rounds to all `orders` parked
    parked_rss_kib: float = 0.0
    wake_seconds: float = 0.0
    peak_kib: int = 0


async def measure(subjects: list[Subject], plan: Plan) -> dict[str, Measured]:
    results = {s.kind.name: Measured() for s in subjects}
    readings = {}
    for s in subjects:
        await s.park(plan.window)
        readings[s.kind.name] = await steady_rss_kib(s.process.pid)
    for _ in range(plan.rounds):
        for s in subjects:
            await s.park(plan.window)
            after = await steady_rss_kib(s.process.pid)
            results[s.kind.name].growth_kib.append(growth_per_item(readings[s.kind.name], after, plan.window))
            readings[s.kind.name] = after
    for s in subjects:
        result = results[s.kind.name]
        started = time.monotonic()
        await s.park(plan.orders - len(s.keys))
        result.park_seconds = time.monotonic() - started
        result.parked_rss_kib = await steady_rss_kib(s.process.pid)
        started = time.monotonic()
        await s.wake_all()
        result.wake_seconds = time.monotonic() - started
        result.peak_kib = process_kib(s.process.pid, "VmHWM")
    return results


def figures(plan: Plan, results: dict[str, Measured]) -> list[Figure]:
    engine, trivial = results["engine"], results["trivial"]
    many = f"{plan.orders:,} parked, cache {plan.cache:,}"
    baseline = "trivial parked workflow"
    return [
        Figure(
            "B4",
            "worker memory per cached open order",
            statistics.median(engine.growth_kib),
            "KiB",
            baseline,
            statistics.median(trivial.growth_kib),
            "≤ 1.5×",
            goal_value=1.5,
            higher_is_better=False,
            details={
                "orders_per_round": plan.window,
                "cache": plan.cache,
                "engine_kib_rounds": ", ".join(f"{g:.0f}" for g in engine.growth_kib),
                "trivial_kib_rounds": ", ".join(f"{g:.0f}" for g in trivial.growth_kib),
            },
        ),
        Figure(
            "B4",
            f"worker peak memory, {many}",
            engine.peak_kib / 1024,
            "MiB",
            baseline,
            trivial.peak_kib / 1024,
            "reported",
            higher_is_better=False,
            details={
                "engine_rss_parked_mib": round(engine.parked_rss_kib / 1024, 1),
                "trivial_rss_parked_mib": round(trivial.parked_rss_kib / 1024, 1),
                "engine_parked_per_second": round((plan.orders - plan.window * (plan.rounds + 1)) / engine.park_seconds, 1),
                "trivial_parked_per_second": round((plan.orders - plan.window * (plan.rounds + 1)) / trivial.park_seconds, 1),
            },
        ),
        Figure(
            "B4",
            f"time to wake all, {many}",
            engine.wake_seconds,
            "s",
            baseline,
            trivial.wake_seconds,
            "reported",
            higher_is_better=False,
            details={
                "engine_woken_per_second": round(plan.orders / engine.wake_seconds, 1),
                "trivial_woken_per_second": round(plan.orders / trivial.wake_seconds, 1),
            },
        ),
    ]


async def run(quick: bool) -> list[Figure]:
    plan = Plan.from_env(quick)
    log_dir = Path(tempfile.mkdtemp(prefix="bench-b4-"))
    async with running_cluster(log_dir, {}) as cluster:
        client = await Client.connect(cluster.temporal.address, data_converter=codec.data_converter(PAYLOAD_KEYS))
        async with (
            subject(cluster, client, EngineOrders(), plan) as engine,
            subject(cluster, client, TrivialWorkflows(), plan) as trivial,
        ):
            results = await measure([engine, trivial], plan)
    shutil.rmtree(log_dir)  # kept when the run fails, for its logs
    return figures(plan, results)
