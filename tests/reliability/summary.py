"""The chaos run's verdict and its printed summary: orders per path and outcome, faults injected, kills,
restarts, time, and the full story of every order that did not end as its path says."""

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from tests.reliability.config import ChaosConfig
from tests.reliability.disruptions import Disruptions
from tests.reliability.driver import OrderRun
from tests.reliability.paths import PATHS


@dataclass
class Outcome:
    config: ChaosConfig
    runs: list[OrderRun]
    finished: bool  # every order ended before the time limit
    elapsed: float  # seconds from the first order to the last
    wall: float  # seconds including starting and stopping the whole engine
    disruptions: Disruptions
    injected: dict[str, int]
    problems: dict[str, list[str]]  # by order id, or by what else was checked (the pooled seller, the webhooks)
    violations: list[str]  # db/invariants.check_invariants
    provider_operations: int
    log_dir: Path
    pooled: str  # what the pooled seller was paid (tests/reliability/pooled.py)
    webhooks: str  # what the marketplace's webhook endpoint was told (tests/reliability/webhook_watch.py)

    @property
    def missing_restarts(self) -> list[str]:
        planned = {"Temporal": self.config.temporal_restarts, "PostgreSQL": self.config.postgres_restarts}
        return [
            f"{name}: {self.disruptions.restarts.get(name, 0)} of {n} restarts done"
            for name, n in planned.items()
            if self.disruptions.restarts.get(name, 0) < n
        ]

    @property
    def passed(self) -> bool:
        return self.finished and not self.problems and not self.violations and not self.missing_restarts


def _paths_table(runs: list[OrderRun], problems: dict[str, list[str]]) -> list[str]:
    lines = [f"  {'path':<16}{'expected':<16}{'orders':>7}{'ok':>5}  ended"]
    for path in PATHS:
        mine = [r for r in runs if r.path is path]
        if not mine:
            continue
        ended = Counter(r.status or "never seen" for r in mine)
        ok = sum(r.order_id not in problems for r in mine)
        lines.append(
            f"  {path.name:<16}{path.outcome:<16}{len(mine):>7}{ok:>5}  " + ", ".join(f"{s} {n}" for s, n in sorted(ended.items()))
        )
    return lines


def _story(run: OrderRun, problems: list[str]) -> list[str]:
    v = run.view or {}
    lines = [f"  order {run.order_id} (path {run.path.name}, expected {run.path.outcome}, last seen {run.status}):"]
    lines += [f"    problem: {p}" for p in problems]
    if v.get("attention"):
        lines.append(f"    attention: {v['attention']}")
    lines += [f"    timeline: {t['at']} {t['status']}: {t['detail']}" for t in v.get("timeline", [])]
    lines += [f"    runner: {h}" for h in run.history[-40:]]
    return lines


def render(o: Outcome) -> str:
    d = o.disruptions
    lines = ["", f"chaos summary (seed {o.config.seed}, logs in {o.log_dir})"]
    lines.append(
        f"  {len(o.runs)} orders in {o.elapsed:.0f} s (time limit {o.config.time_limit:.0f} s; wall time with start and stop {o.wall:.0f} s)"
    )
    lines += _paths_table(o.runs, o.problems)
    lines.append("  faults injected: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in o.injected.items()))
    lines.append(
        f"  worker killed with SIGKILL {d.worker_kills} times; processes that exited by themselves and were started again "
        f"(a worker started while a server is down exits): {d.unplanned_exits or 'none'}"
    )
    lines.append(f"  restarts: {d.restarts or 'none'}")
    lines += [f"    {e}" for e in d.events if "restart" in e or " back after " in e]
    server_errors = sum((r.server_errors for r in o.runs), Counter())
    lines.append(
        f"  the runner: {sum(r.asked_again for r in o.runs)} actions asked again after an answer that did not say what happened; "
        f"5xx answers by status {dict(sorted(server_errors.items())) or 'none'}; "
        f"Idempotency-Keys stuck 'still running' for a minute: {sum(r.stuck_claims for r in o.runs)}"
    )
    lines.append(f"  provider: {o.provider_operations} successful operations checked against each order's path")
    lines.append(f"  pooled seller: {o.pooled}")
    lines.append(f"  webhooks to the marketplace: {o.webhooks}")
    lines.append(f"  invariants: {'hold' if not o.violations else f'{len(o.violations)} violations'}")
    lines += [f"    {v}" for v in o.violations[:50]]
    if not o.finished:
        lines.append(f"  TIME LIMIT: {sum(not r.done for r in o.runs)} orders unfinished after {o.config.time_limit:.0f} s")
    lines += [f"  MISSING: {m}" for m in o.missing_restarts]
    for run in o.runs:
        if run.order_id in o.problems:
            lines += _story(run, o.problems[run.order_id])
    orders = {run.order_id for run in o.runs}
    lines += [f"  {subject}: problem: {p}" for subject, found in o.problems.items() if subject not in orders for p in found]
    lines.append(f"chaos: {'PASSED' if o.passed else 'FAILED'}")
    return "\n".join(lines)
