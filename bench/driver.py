"""Orders driven through a running engine from outside, the way a marketplace does: `POST /v1/orders` with an
`Idempotency-Key`, then the read model watched with one query for every order awaited (however many), so that the
watching costs the engine next to nothing."""

import asyncio
import shutil
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

import asyncpg
import httpx
import psutil

from domain.statuses import TERMINAL_STATUSES, OrderStatus
from tests.integration.stack import new_order, token
from tests.reliability.cluster import Cluster, running_cluster

# The measuring conditions: the simulated carrier ships 0.2 s after the fulfillment order is created and
# delivers 0.4 s after it; 32 orders in flight.
SHIP_AFTER, DELIVER_AFTER = 0.2, 0.4
FAST_CARRIER = {
    "SETTLEMENT_SIM_CARRIER": "auto",
    "SETTLEMENT_SIM_SHIP_AFTER_SECONDS": str(SHIP_AFTER),
    "SETTLEMENT_SIM_DELIVER_AFTER_SECONDS": str(DELIVER_AFTER),
}
IN_FLIGHT = 32
POLL_SECONDS = 0.1
SELLERS = 16  # orders spread over this many sellers of one marketplace, in one currency
MARKETPLACE = "market_bench"


class OrderWentWrong(Exception):
    """An order reached a status its benchmark never expects (parked, refused, cancelled)."""


@asynccontextmanager
async def engine(name: str) -> AsyncIterator[Cluster]:
    """A whole engine with the fast carrier; its logs are kept (and named) only when the benchmark failed."""
    log_dir = tempfile.mkdtemp(prefix=f"bench-{name}-")
    try:
        async with running_cluster(Path(log_dir), FAST_CARRIER) as cluster:
            yield cluster
    except BaseException:
        print(f"{name}: the engine's logs are in {log_dir}", flush=True)
        raise
    shutil.rmtree(log_dir, ignore_errors=True)


def order_body(order_id: str, n: int, confirmation_window_seconds: int) -> dict:
    return new_order(
        order_id=order_id,
        seller_id=f"seller_{n % SELLERS}",
        marketplace=MARKETPLACE,
        confirmation_window=f"PT{confirmation_window_seconds}S",
    )


class Orders:
    """Creates orders through the API and tells when each reaches a status (from the read model)."""

    def __init__(self, api: httpx.AsyncClient, pool: asyncpg.Pool):
        self.api, self.pool = api, pool
        self.awaited: dict[str, tuple[frozenset[str], asyncio.Future[float]]] = {}
        self.headers = token("marketplace", MARKETPLACE)

    async def create(self, body: dict) -> None:
        headers = {**self.headers, "Idempotency-Key": f"create-{body['order_id']}"}
        response = await self.api.post("/v1/orders", json=body, headers=headers)
        if response.status_code != 201:
            raise OrderWentWrong(f"POST /v1/orders answered {response.status_code}: {response.text[:300]}")

    async def reached(self, order_id: str, *statuses: OrderStatus) -> float:
        """Wait until the order shows one of the statuses; the time.time() at which the watcher saw it."""
        future = asyncio.get_running_loop().create_future()
        self.awaited[order_id] = (frozenset(statuses), future)
        return await future

    async def watch(self) -> None:
        try:
            while True:
                await self._look()
                await asyncio.sleep(POLL_SECONDS)
        except Exception as err:  # nobody waits forever on a watcher that died
            for _, future in self.awaited.values():
                future.set_exception(err)
            raise

    async def _look(self) -> None:
        if self.awaited:
            rows = await self.pool.fetch("SELECT order_id, status FROM orders WHERE order_id = ANY($1::text[])", list(self.awaited))
            seen = time.time()
            for order_id, status in rows:
                wanted, future = self.awaited[order_id]
                if status in wanted or status in TERMINAL_STATUSES or status == OrderStatus.NEEDS_ATTENTION:
                    del self.awaited[order_id]
                if future.done() or order_id in self.awaited:
                    continue
                if status in wanted:
                    future.set_result(seen)
                else:
                    future.set_exception(OrderWentWrong(f"order {order_id} is {status}"))

    async def settled_per_second(self, prefix: str, count: int, confirmation_window_seconds: int = 1) -> float:
        """Create `count` orders, IN_FLIGHT at a time, each left to be released when its window lapses: orders created
        → settled per second, from the first POST to the last order seen settled."""
        slots = asyncio.Semaphore(IN_FLIGHT)

        async def one(n: int) -> None:
            async with slots:
                order_id = f"{prefix}-{n}"
                await self.create(order_body(order_id, n, confirmation_window_seconds))
                await self.reached(order_id, OrderStatus.SETTLED)

        started = time.monotonic()
        async with asyncio.TaskGroup() as group:
            for n in range(count):
                group.create_task(one(n))
        return count / (time.monotonic() - started)

    async def confirm_by(self, order_ids: list[str]) -> list[datetime]:
        """Each order's confirmation deadline as the workflow set it (known once the order is awaiting confirmation)."""
        rows = await self.pool.fetch(
            "SELECT (state->'deadlines'->>'confirm_by')::timestamptz FROM orders WHERE order_id = ANY($1::text[])", order_ids
        )
        return [row[0] for row in rows]


@asynccontextmanager
async def orders_of(cluster: Cluster) -> AsyncIterator[Orders]:
    async with (
        httpx.AsyncClient(base_url=cluster.services.api_url, timeout=60) as api,
        asyncpg.create_pool(cluster.database_url, min_size=1, max_size=2) as pool,
    ):
        orders = Orders(api, pool)
        watcher = asyncio.create_task(orders.watch())
        try:
            yield orders
        finally:
            watcher.cancel()


def _cpu_seconds(process: psutil.Process) -> float:
    """CPU time of the process and of its children, those still running and those it has reaped."""
    with process.oneshot():
        times = process.cpu_times()
        children = process.children(recursive=True)
    live = 0.0
    for child in children:
        try:
            live += sum(child.cpu_times()[:2])
        except psutil.NoSuchProcess:  # reaped since: its time is in the parent's children_* by now, or soon
            pass
    return times.user + times.system + times.children_user + times.children_system + live


def cpu_seconds(cluster: Cluster) -> dict[str, float]:
    """CPU seconds used so far by each part of the engine: the worker, the API, the simulators, the Temporal dev server,
    PostgreSQL (its postmaster and every backend), and this process (the driver and any in-process worker)."""
    postmaster = int((Path(cluster.postgres.pgdata) / "postmaster.pid").read_text().split()[0])
    assert cluster.temporal.process is not None
    pids = {name: process.pid for name, process in cluster.services.processes.items()}
    pids |= {"temporal": cluster.temporal.process.pid, "postgres": postmaster}
    used = {name: _cpu_seconds(psutil.Process(pid)) for name, pid in pids.items()}
    return used | {"bench": sum(psutil.Process().cpu_times()[:2])}
