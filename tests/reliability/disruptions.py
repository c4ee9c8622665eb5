"""What the chaos run does to the engine while orders flow: the worker killed with SIGKILL and started again
every few seconds, one restart of the Temporal dev server and one of PostgreSQL while orders are in flight,
and any process that dies by itself started again."""

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.reliability.cluster import Cluster


@dataclass
class Disruptions:
    cluster: Cluster
    kill_every: float  # mean seconds between two worker kills; 0: none
    temporal_restarts: int
    postgres_restarts: int
    downtime: float  # seconds a restarted server stays down
    rng: random.Random
    started: float = field(default_factory=time.monotonic)
    worker_kills: int = 0
    restarts: dict[str, int] = field(default_factory=dict)
    unplanned_exits: dict[str, int] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)
    _tasks: list[asyncio.Task] = field(default_factory=list)
    _restarts_task: asyncio.Task | None = None

    def _log(self, text: str) -> None:
        line = f"{time.monotonic() - self.started:7.1f}s {text}"
        self.events.append(line)
        print(f"  {line}", flush=True)

    def start(self, progress: Callable[[], float]) -> None:
        """Kill the worker now and then; restart Temporal and PostgreSQL as the orders progress: with one of
        each, at a quarter and at half of the orders over."""
        self._restarts_task = asyncio.create_task(self._restarts(progress))
        self._tasks = [asyncio.create_task(self._supervise())]
        if self.kill_every > 0:
            self._tasks.append(asyncio.create_task(self._kill_workers()))

    async def finish(self, complete_restarts: bool) -> None:
        """Stop killing; let the planned restarts happen first (unless the run gave up), and leave every
        process running."""
        if complete_restarts:
            await self._restarts_task
        for task in (*self._tasks, self._restarts_task):
            task.cancel()
        await asyncio.gather(*self._tasks, self._restarts_task, return_exceptions=True)
        self._respawn()

    async def _kill_workers(self) -> None:
        while True:
            await asyncio.sleep(self.rng.uniform(0.5, 1.5) * self.kill_every)
            self.cluster.kill_worker()
            self.worker_kills += 1

    def _respawn(self) -> None:
        for name in self.cluster.respawn_exited():
            self.unplanned_exits[name] = self.unplanned_exits.get(name, 0) + 1
            self._log(f"{name} exited by itself; started again")

    async def _supervise(self) -> None:
        while True:
            self._respawn()
            await asyncio.sleep(0.5)

    async def _restarts(self, progress: Callable[[], float]) -> None:
        plan = [("Temporal", self.cluster.restart_temporal)] * self.temporal_restarts + [
            ("PostgreSQL", self.cluster.restart_postgres)
        ] * self.postgres_restarts
        for i, (name, restart) in enumerate(plan):
            at = (i + 1) / (len(plan) + 2)
            while progress() < at:
                await asyncio.sleep(0.5)
            self._log(f"restarting {name} ({progress():.0%} of the orders over)")
            begun = time.monotonic()
            await restart(self.downtime)
            self.restarts[name] = self.restarts.get(name, 0) + 1
            self._log(f"{name} back after {time.monotonic() - begun:.1f}s")
