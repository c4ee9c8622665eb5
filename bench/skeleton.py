"""The floors B1 measures the engine against, on the engine's own Temporal server: a no-op one-activity workflow, and a
settlement-shaped skeleton (6 no-op activities, 2 signals, a 1 s timer) whose carrier signals `shipped` and
`delivered` after the simulated carrier's delays. Both run on a worker in the benchmark's process, on a task queue of
their own, driven at the same concurrency as the engine's orders."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker

TASK_QUEUE = "bench-skeleton"
SHIPPED, DELIVERED = "shipped", "delivered"
# The skeleton's activities, in the order the settlement's money and fulfillment steps run.
STEPS = ("authorize", "create_fulfillment", "capture", "release", "payout", "payout_settled")
_TIMEOUT = timedelta(seconds=30)


@dataclass(frozen=True)
class SkeletonInput:
    confirmation_window: float = 1.0  # seconds, a durable timer like the order's confirm_by


@activity.defn(name="noop")
async def noop(step: str) -> str:
    return step


class Carrier:
    """The `create_fulfillment` activity: like the simulated network, it signals `shipped` and then `delivered` to the
    workflow after the given delays (from the moment the fulfillment order is created)."""

    def __init__(self, client: Client, ship_after: float, deliver_after: float):
        self.client, self.ship_after, self.deliver_after = client, ship_after, deliver_after
        self.deliveries: set[asyncio.Task] = set()

    @activity.defn(name="create_fulfillment")
    async def create_fulfillment(self) -> None:
        task = asyncio.create_task(self._ship_and_deliver(activity.info().workflow_id))
        self.deliveries.add(task)
        task.add_done_callback(self.deliveries.discard)

    async def _ship_and_deliver(self, workflow_id: str) -> None:
        handle = self.client.get_workflow_handle(workflow_id)
        await asyncio.sleep(self.ship_after)
        await handle.signal(SHIPPED)
        await asyncio.sleep(max(self.deliver_after - self.ship_after, 0.0))
        await handle.signal(DELIVERED)


@workflow.defn(name="BenchNoop")
class NoopWorkflow:
    @workflow.run
    async def run(self) -> None:
        await workflow.execute_activity(noop, "noop", start_to_close_timeout=_TIMEOUT)


@workflow.defn(name="BenchSkeleton")
class SkeletonWorkflow:
    def __init__(self) -> None:
        self.shipped = self.delivered = False

    @workflow.signal(name=SHIPPED)
    def on_shipped(self) -> None:
        self.shipped = True

    @workflow.signal(name=DELIVERED)
    def on_delivered(self) -> None:
        self.delivered = True

    @workflow.run
    async def run(self, params: SkeletonInput) -> None:
        authorize, create_fulfillment, capture, *settle = STEPS
        await self._step(authorize)
        await workflow.execute_activity(create_fulfillment, start_to_close_timeout=_TIMEOUT)
        await workflow.wait_condition(lambda: self.shipped)
        await self._step(capture)
        await workflow.wait_condition(lambda: self.delivered)
        await workflow.sleep(params.confirmation_window)
        for step in settle:
            await self._step(step)

    async def _step(self, step: str) -> None:
        await workflow.execute_activity(noop, step, start_to_close_timeout=_TIMEOUT)


@asynccontextmanager
async def skeleton_worker(client: Client, ship_after: float, deliver_after: float) -> AsyncIterator[None]:
    """A worker for both baselines on their own task queue, as long as the context lasts."""
    carrier = Carrier(client, ship_after, deliver_after)
    async with Worker(
        client, task_queue=TASK_QUEUE, workflows=[NoopWorkflow, SkeletonWorkflow], activities=[noop, carrier.create_fulfillment]
    ):
        yield


async def workflows_per_second(client: Client, workflow: str, count: int, in_flight: int, *args: object) -> float:
    """Run `count` workflows of the given name, `in_flight` at a time, each to its end: their number over the time taken."""
    slots = asyncio.Semaphore(in_flight)
    prefix = f"bench-{workflow}-{uuid.uuid4().hex[:8]}"

    async def one(n: int) -> None:
        async with slots:
            await client.execute_workflow(workflow, args=args, id=f"{prefix}-{n}", task_queue=TASK_QUEUE)

    started = time.monotonic()
    async with asyncio.TaskGroup() as group:
        for n in range(count):
            group.create_task(one(n))
    return count / (time.monotonic() - started)
