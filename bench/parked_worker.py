"""B4's worker processes, each started as a child so its resident memory can be read.

`python -m bench.parked_worker engine`: the engine's worker exactly as `settlement worker` runs it (settings from
the environment, the sticky cache from SETTLEMENT_WORKER_MAX_CACHED_WORKFLOWS).
`python -m bench.parked_worker trivial`: the baseline, a trivial sandboxed workflow that parks on a timer and wakes
on a signal, on a worker connected and configured the same way (data converter, task queue, cache size)."""

import asyncio
import signal
import sys
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.worker import Worker

with workflow.unsafe.imports_passed_through():
    from domain.search_attributes import ORDER_STATUS

TRIVIAL_TYPE = "BenchParked"
WAKE_SIGNAL = "wake"
PARKED = "parked"
WOKEN = "woken"


@activity.defn(name="bench_woken")
async def woken() -> None:
    return None


@workflow.defn(name=TRIVIAL_TYPE)
class ParkedWorkflow:
    """Marks itself parked (as the engine's search attribute upsert does), waits for a signal or a 5-day timer, then
    runs one no-op activity and marks itself woken."""

    def __init__(self) -> None:
        self.awake = False

    @workflow.run
    async def run(self) -> None:
        workflow.upsert_search_attributes([ORDER_STATUS.value_set(PARKED)])
        await workflow.wait_condition(lambda: self.awake, timeout=timedelta(days=5))
        await workflow.execute_activity(woken, start_to_close_timeout=timedelta(seconds=30))
        workflow.upsert_search_attributes([ORDER_STATUS.value_set(WOKEN)])

    @workflow.signal(name=WAKE_SIGNAL)
    def wake(self) -> None:
        self.awake = True


async def run_trivial() -> None:
    from runtime.settings import get_settings
    from runtime.temporal_connection import connect

    settings = get_settings()
    client = await connect(settings)
    worker = Worker(
        client,
        task_queue=settings.temporal_task_queue,
        workflows=[ParkedWorkflow],
        activities=[woken],
        max_cached_workflows=settings.settlement_worker_max_cached_workflows,
    )
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    async with worker:
        await stop.wait()


def main(argv: list[str]) -> None:
    kind = argv[1] if len(argv) == 2 else ""
    if kind == "engine":
        from runtime import worker_process

        worker_process.main()
    elif kind == "trivial":
        asyncio.run(run_trivial())
    else:
        raise SystemExit(f"usage: python -m bench.parked_worker engine|trivial (not {argv[1:]!r})")


if __name__ == "__main__":
    main(sys.argv)
