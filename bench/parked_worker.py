"""B4's worker processes, each started as a child so its resident memory can be read.

`python -m bench.parked_worker engine CACHE`: the engine's worker exactly as `settlement worker` runs it (settings from
the environment), with a sticky cache of CACHE workflows (runtime/worker_process.py does not let one set it).
`python -m bench.parked_worker trivial CACHE`: the baseline, a trivial sandboxed workflow that parks on a timer and
wakes on a signal, on a worker connected the same way (same data converter, same task queue setting)."""

import asyncio
import functools
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


def run_engine(cache: int) -> None:
    from runtime import worker_process

    worker_process.Worker = functools.partial(Worker, max_cached_workflows=cache)  # type: ignore[misc]
    worker_process.main()


async def run_trivial(cache: int) -> None:
    from runtime.settings import get_settings
    from runtime.temporal_connection import connect

    settings = get_settings()
    client = await connect(settings)
    worker = Worker(
        client,
        task_queue=settings.temporal_task_queue,
        workflows=[ParkedWorkflow],
        activities=[woken],
        max_cached_workflows=cache,
    )
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    async with worker:
        await stop.wait()


def main(argv: list[str]) -> None:
    kind, cache = argv[1], int(argv[2])
    if kind == "engine":
        run_engine(cache)
    elif kind == "trivial":
        asyncio.run(run_trivial(cache))
    else:
        raise SystemExit(f"usage: python -m bench.parked_worker engine|trivial CACHE (not {kind!r})")


if __name__ == "__main__":
    main(sys.argv)
