"""B3: `POST /v1/orders` requests/s on one API process, against `GET /healthz` on the same process.

A whole engine (tests.reliability.cluster) with the carrier in manual mode: each created order authorizes, creates its
fulfillment order and parks in awaiting_shipment, so nothing moves after that. The worker parks orders far more slowly
than the API creates them, so after a POST warm-up it is busy with their backlog throughout, beside every window alike
(the backlog when measuring begins and ends is reported). Each window keeps CONCURRENCY clients busy for a fixed time
(one httpx connection each); every POST has its own order id and Idempotency-Key. Windows of the two kinds
alternate, healthz first in even rounds and POST first in odd ones. Figure: the median over rounds of each; the ratio
POST / healthz."""

import asyncio
import statistics
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

from bench.report import Figure
from tests.integration.stack import new_order, token
from tests.reliability.cluster import Cluster, running_cluster

CONCURRENCY = 16
GOAL = 0.3


@dataclass(frozen=True)
class Plan:
    rounds: int
    window: float  # seconds per measured window
    warmup: float  # seconds of each kind before the first round


FULL = Plan(rounds=8, window=3.0, warmup=3.0)
QUICK = Plan(rounds=2, window=1.5, warmup=1.5)


@dataclass
class Window:
    requests_per_second: float
    answers: Counter[int]  # by HTTP status; 0: no answer


async def run(quick: bool) -> list[Figure]:
    plan = QUICK if quick else FULL
    with tempfile.TemporaryDirectory(prefix="bench-b3-") as log_dir:
        async with running_cluster(Path(log_dir), {"SETTLEMENT_SIM_CARRIER": "manual"}) as cluster:
            limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
            async with httpx.AsyncClient(base_url=cluster.services.api_url, timeout=30, limits=limits) as api:
                healthz, orders, backlog = await _measure(cluster, api, plan)
    post, health = statistics.median(w.requests_per_second for w in orders), statistics.median(w.requests_per_second for w in healthz)
    details: dict[str, float | int | str] = {
        "concurrency": CONCURRENCY,
        "rounds": plan.rounds,
        "window seconds": plan.window,
        "POST rounds (req/s)": ", ".join(f"{w.requests_per_second:.1f}" for w in orders),
        "healthz rounds (req/s)": ", ".join(f"{w.requests_per_second:.1f}" for w in healthz),
        "POST answers": _statuses(orders),
        "healthz answers": _statuses(healthz),
        **backlog,
    }
    return [
        Figure(
            id="B3",
            name="POST /v1/orders on one API process",
            value=post,
            unit="req/s",
            baseline_name="GET /healthz, same process",
            baseline=health,
            goal=f"≥ {GOAL}×",
            goal_value=GOAL,
            details=details,
        )
    ]


async def _measure(cluster: Cluster, api: httpx.AsyncClient, plan: Plan) -> tuple[list[Window], list[Window], dict[str, int]]:
    """Alternating windows of healthz and POST, after a POST warm-up that gives the worker its backlog: (healthz
    windows, POST windows, the backlog of orders not yet parked by the worker when measuring began and ended)."""
    marketplace = token("marketplace", "market_a")

    def create() -> tuple[str, dict]:
        order = new_order(order_id=f"b3-{uuid.uuid4().hex[:16]}")
        return "/v1/orders", {"json": order, "headers": {**marketplace, "Idempotency-Key": uuid.uuid4().hex}}

    def health() -> tuple[str, dict]:
        return "/healthz", {}

    healthz: list[Window] = []
    orders: list[Window] = []
    connection = await asyncpg.connect(cluster.database_url)
    try:
        await _window(api, health, "GET", 200, plan.warmup)
        created = (await _window(api, create, "POST", 201, plan.warmup)).answers[201]
        backlog = {"backlog at start": created - await _parked(connection)}
        for round_ in range(plan.rounds):
            for kind in ("healthz", "post") if round_ % 2 == 0 else ("post", "healthz"):
                if kind == "healthz":
                    healthz.append(await _window(api, health, "GET", 200, plan.window))
                else:
                    orders.append(await _window(api, create, "POST", 201, plan.window))
                    created += orders[-1].answers[201]
        backlog["backlog at end"] = created - await _parked(connection)
        return healthz, orders, backlog
    finally:
        await connection.close()


async def _window(api: httpx.AsyncClient, request: Callable[[], tuple[str, dict]], method: str, expected: int, seconds: float) -> Window:
    """CONCURRENCY clients sending requests back to back for `seconds`; requests/s of the expected answer."""
    answers: Counter[int] = Counter()
    started = time.monotonic()
    deadline = started + seconds

    async def client() -> None:
        while time.monotonic() < deadline:
            url, kwargs = request()
            try:
                answers[(await api.request(method, url, **kwargs)).status_code] += 1
            except httpx.TransportError:
                answers[0] += 1

    await asyncio.gather(*(client() for _ in range(CONCURRENCY)))
    return Window(answers[expected] / (time.monotonic() - started), answers)


async def _parked(connection: asyncpg.Connection) -> int:
    """Orders the worker has parked (awaiting_shipment) or ended."""
    parked: int = await connection.fetchval("SELECT count(*) FROM orders WHERE status <> 'payment_pending'")
    return parked


def _statuses(windows: list[Window]) -> str:
    total = sum((w.answers for w in windows), Counter())
    return ", ".join(f"{status or 'no answer'}: {count}" for status, count in sorted(total.items()))
