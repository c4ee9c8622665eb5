"""B1: orders from creation to `settled` per second through the API (the simulated carrier ships after 0.2 s and
delivers at 0.4 s, a 1 s confirmation window lapses by itself, 32 orders in flight), against a settlement-shaped
skeleton (6 no-op activities, 2 signals, a 1 s timer) and a no-op one-activity workflow at the same concurrency on
the same Temporal server. Rounds interleave the three; the figures are their medians."""

import uuid
from collections import Counter
from collections.abc import Awaitable

from temporalio.client import Client

from bench.driver import DELIVER_AFTER, IN_FLIGHT, SHIP_AFTER, cpu_seconds, engine, orders_of
from bench.report import Figure, median
from bench.skeleton import SkeletonInput, skeleton_worker, workflows_per_second
from tests.reliability.cluster import Cluster

CONFIRMATION_WINDOW = 1  # seconds
WARM_UP = 8  # orders and workflows of each kind before a full run's rounds: imports, connections, caches


def _rounds(quick: bool) -> tuple[int, int]:
    """(rounds, orders per round)"""
    return (1, 16) if quick else (3, 64)


async def run(quick: bool) -> list[Figure]:
    rounds, count = _rounds(quick)
    engine_rates, skeleton_rates, noop_rates = [], [], []
    engine_cpu, skeleton_cpu = Counter[str](), Counter[str]()
    async with engine("b1") as cluster, orders_of(cluster) as orders:
        client = await Client.connect(cluster.temporal.address)
        async with skeleton_worker(client, SHIP_AFTER, DELIVER_AFTER):
            skeleton = SkeletonInput(confirmation_window=CONFIRMATION_WINDOW)
            run_id = uuid.uuid4().hex[:6]
            if not quick:
                await orders.settled_per_second(f"b1-{run_id}-warm", WARM_UP, CONFIRMATION_WINDOW)
                await workflows_per_second(client, "BenchSkeleton", WARM_UP, IN_FLIGHT, skeleton)
                await workflows_per_second(client, "BenchNoop", WARM_UP, IN_FLIGHT)
            for r in range(rounds):
                workflows = workflows_per_second(client, "BenchSkeleton", count, IN_FLIGHT, skeleton)
                skeleton_rates.append(await _with_cpu(cluster, workflows, skeleton_cpu))
                settled = orders.settled_per_second(f"b1-{run_id}-{r}", count, CONFIRMATION_WINDOW)
                engine_rates.append(await _with_cpu(cluster, settled, engine_cpu))
                noop_rates.append(await workflows_per_second(client, "BenchNoop", count, IN_FLIGHT))
    per_order = {f"cpu_ms_per_order_{part}": round(1000 * s / (rounds * count), 1) for part, s in engine_cpu.items()}
    per_skeleton = {f"cpu_ms_per_skeleton_{part}": round(1000 * s / (rounds * count), 1) for part, s in skeleton_cpu.items() if s}
    return figures(engine_rates, skeleton_rates, noop_rates, count, per_order | per_skeleton)


async def _with_cpu(cluster: Cluster, work: Awaitable[float], used: Counter[str]) -> float:
    """The work's result; the CPU seconds each part of the engine spent meanwhile added to `used`."""
    before = cpu_seconds(cluster)
    result = await work
    used.update({part: seconds - before[part] for part, seconds in cpu_seconds(cluster).items()})
    return result


def figures(
    engine_rates: list[float], skeleton_rates: list[float], noop_rates: list[float], count: int, cpu: dict[str, float]
) -> list[Figure]:
    rate, skeleton, noop = median(engine_rates), median(skeleton_rates), median(noop_rates)
    details: dict[str, float | int | str] = {
        "rounds": len(engine_rates),
        "orders_per_round": count,
        "in_flight": IN_FLIGHT,
        "engine_rounds": ", ".join(f"{r:.2f}" for r in engine_rates),
        "skeleton_rounds": ", ".join(f"{r:.2f}" for r in skeleton_rates),
        "noop_rounds": ", ".join(f"{r:.2f}" for r in noop_rates),
        "noop_per_second": round(noop, 2),
        **cpu,
    }
    name = "orders created → settled per second"
    return [
        Figure("B1", name, rate, "/s", "skeleton workflows/s", skeleton, "≥ 0.8×", 0.8, details=details),
        Figure("B1", name, rate, "/s", "no-op workflows/s", noop, "reported", details=details),
    ]
